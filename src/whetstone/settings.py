"""Server settings, from flags or WHETSTONE_* environment variables (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("whetstone", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHETSTONE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    secret_key: str | None = None
    default_model: str = "openai/gpt-4o-mini"
    max_request_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_items_per_request: int = Field(10_000, ge=1)
    control_wait_seconds: float = Field(5.0, ge=0)
    run_jobs: bool = True
    max_concurrent_jobs: int = Field(4, ge=1)
    lease_seconds: float = Field(30.0, gt=0)
    poll_seconds: float = Field(1.0, gt=0)
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    shutdown_grace_seconds: float = Field(5.0, gt=0)
    ws_heartbeat_seconds: float = Field(25.0, gt=0)
    ws_auth_timeout_seconds: float = Field(10.0, gt=0)
    ws_max_frame_bytes: int = Field(64 * 1024, ge=1024)
    ws_max_subscriptions: int = Field(100, ge=1)
    subscriber_max_events: int = Field(10_000, ge=1)  # live events queued for one subscriber
    subscriber_max_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    sse_heartbeat_seconds: float = Field(25.0, gt=0)
    # Security (docs/security.md): requests per minute per API key (and per client address
    # for requests without a valid key), bursts of up to rate_limit_burst; 0 turns it off.
    rate_limit_per_minute: int = Field(600, ge=0)
    rate_limit_burst: int = Field(120, ge=1)
    # Origins besides the server's own whose pages may open the WebSocket; comma-separated,
    # '*' allows any. A request without an Origin header (not a browser) is always allowed.
    allowed_origins: str = ""
    # Model providers (whetstone.providers). Unset URLs and keys fall back to the
    # providers' own OPENAI_BASE_URL, OPENAI_API_KEY, ANTHROPIC_* variables.
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    provider_timeout_seconds: float = Field(60.0, gt=0)  # one HTTP attempt
    provider_max_retries: int = Field(5, ge=0)
    provider_max_wait_seconds: float = Field(60.0, ge=0)  # backoff waits of one call, summed
    response_cache: bool = True  # answer a repeated paid request from the store
    # USD per million tokens, [input, output], by provider/model; added to or overriding
    # the built-in table, e.g. WHETSTONE_PRICES='{"openai/my-finetune": [0.3, 1.2]}'
    prices: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'whetstone.db'}"

    def server_secret(self) -> bytes:
        from whetstone.security import load_or_create_secret

        if self.secret_key:
            return self.secret_key.encode()
        return load_or_create_secret(self.data_dir / "secret.key")

    def ensure_data_dir(self) -> Path:
        """The data dir, made if missing, readable by its owner only (0700): it holds the
        database, the server secret and the local key."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.data_dir

    def node_id(self) -> str:
        """A stable id for this data dir's node, so a restart can free its own leases."""
        from whetstone.clock import new_id

        path = self.data_dir / "node.id"
        if path.exists():
            return path.read_text().strip()
        self.ensure_data_dir()
        value = new_id("node", 6)
        path.write_text(value)
        return value
