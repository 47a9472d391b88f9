"""``create_app``: the FastAPI application, built from explicit parts."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from whetstone import __version__, redaction
from whetstone.bus.base import EventBus
from whetstone.bus.memory import InProcessEventBus
from whetstone.clock import Clock, SystemClock
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.engine.pricing import PriceTable
from whetstone.providers.registry import ProviderPool
from whetstone.runner.runner import JobRunner
from whetstone.security import KeyHasher
from whetstone.server import errors, ratelimit
from whetstone.server.limits import BodySizeLimit
from whetstone.server.login_links import LoginLinks
from whetstone.server.routes import (
    auth,
    catalog,
    datasets,
    health,
    optimizations,
    prompts,
    stream,
    web,
)
from whetstone.server.services import Services
from whetstone.server.ws.session import WebSocketRoute
from whetstone.settings import Settings
from whetstone.store.base import Store
from whetstone.store.sql import SQLStore

log = logging.getLogger(__name__)


def build_services(
    settings: Settings,
    *,
    store: Store | None = None,
    bus: EventBus | None = None,
    clock: Clock | None = None,
    engine_factory: EngineFactory | None = None,
    run_jobs: bool | None = None,
) -> Services:
    clock = clock or SystemClock()
    if store is None:
        settings.ensure_data_dir()
        store = SQLStore(settings.resolved_database_url, KeyHasher(settings.server_secret()), clock)
    bus = bus or InProcessEventBus(
        max_events=settings.subscriber_max_events, max_bytes=settings.subscriber_max_bytes
    )
    pool = ProviderPool(settings)
    prices = PriceTable.with_overrides(settings.prices)
    if engine_factory is None:
        cache = store.cache if settings.response_cache else None
        engine_factory = OptimizerFactory(pool=pool, prices=prices, cache=cache)
    runner = None
    if settings.run_jobs if run_jobs is None else run_jobs:
        runner = JobRunner(
            store,
            bus,
            engine_factory,
            clock=clock,
            node_id=settings.node_id(),
            lease_seconds=settings.lease_seconds,
            poll_seconds=settings.poll_seconds,
            max_jobs=settings.max_concurrent_jobs,
        )
    return Services(
        settings=settings,
        store=store,
        bus=bus,
        clock=clock,
        runner=runner,
        providers=pool,
        prices=prices,
    )


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The app. Give ``services`` to choose the store, bus, clock or engine; otherwise they
    are built from ``settings``. The lifespan starts and stops them."""
    settings = settings or (services.settings if services else Settings())
    services = services or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services:
            yield

    app = FastAPI(
        title="Whetstone",
        version=__version__,
        description="Self-hosted prompt optimization with every step streamed live.",
        lifespan=lifespan,
        strict_content_type=False,  # a JSON body without a Content-Type is still JSON
    )
    app.state.services = services
    app.state.login_links = LoginLinks(services.clock)
    errors.install(app)
    ratelimit.install(app, services)  # per-key and per-address limits (429)
    redaction.install()  # keys never reach a log record (docs/security.md)
    for module in (health, prompts, datasets, optimizations, stream, catalog, auth, web):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(WebSocketRoute, services=services)  # outermost: ahead of the routing
    return app
