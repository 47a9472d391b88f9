"""What this server can run: ``GET /api/models`` and ``GET /api/metrics``."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter

from whetstone.metrics.registry import BUILTIN as BUILTIN_METRICS
from whetstone.metrics.registry import available_metrics
from whetstone.providers.registry import provider_status
from whetstone.server import serialize
from whetstone.server.deps import Key, Svc

router = APIRouter(prefix="/api", tags=["catalog"])


@router.get("/models", summary="Providers, whether their keys are set, and known prices")
async def models(svc: Svc, key: Key) -> dict[str, Any]:
    settings = svc.settings
    prices = svc.prices.entries()
    return serialize.one(
        {
            "defaultModel": settings.default_model,
            "providers": [status.to_wire() for status in provider_status(settings)],
            "prices": {
                model: {"inputPerMtok": p.input_per_mtok, "outputPerMtok": p.output_per_mtok}
                for model, p in sorted(prices.items())
            },
        }
    )


@router.get("/metrics", summary="Metrics usable in evaluationMetrics, plugins included")
async def metrics(svc: Svc, key: Key) -> dict[str, Any]:
    found = available_metrics()
    rows = [
        {
            "name": name,
            "builtin": BUILTIN_METRICS.get(name) is factory,
            "needsExpectedOutput": getattr(factory, "needs_expected", None),
            "description": (inspect.getdoc(factory) or "").split("\n\n")[0].replace("\n", " "),
        }
        for name, factory in sorted(found.items())
    ]
    meta = {"total": len(rows), "limit": len(rows), "offset": 0, "hasMore": False}
    return {"data": rows, "meta": meta}
