"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/versions`` build the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (SQLite has no time zones), returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("prefix", String(40), nullable=False, unique=True),
    Column("key_hash", String(128), nullable=False),
    Column("name", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

prompts = Table(
    "prompts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("family_id", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("description", Text),
    Column("tags", JSON, nullable=False),
    Column("template", Text),
    Column("messages", JSON(none_as_null=True)),
    Column("source", String(20), nullable=False),
    Column("job_id", String(40)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("family_id", "version"),
    Index(None, "workspace_id", "name"),
    Index(None, "workspace_id", "is_latest", "created_at"),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("item_count", Integer, nullable=False),
    Column("common_keys", JSON(none_as_null=True)),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "workspace_id", "created_at"),
)

dataset_items = Table(
    "dataset_items",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("dataset_id", String(40), ForeignKey("datasets.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("input", JSON, nullable=False),
    Column("expected_output", JSON(none_as_null=True)),
    Column("metadata", JSON(none_as_null=True)),
    UniqueConstraint("dataset_id", "position"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("prompt_id", String(40), ForeignKey("prompts.id"), nullable=False),
    Column("dataset_id", String(40), ForeignKey("datasets.id"), nullable=False),
    Column("config", JSON, nullable=False),
    Column("current_iteration", Integer, nullable=False),
    Column("initial_score", Float),
    Column("current_score", Float),
    Column("best_score", Float),
    Column("result_prompt_id", String(40)),
    Column("last_event_id", Integer, nullable=False),
    Column("usage", JSON, nullable=False),
    Column("error", JSON(none_as_null=True)),
    Column("stop_reason", String(40)),
    Column("pending_action", String(20)),
    Column("pending_reason", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("lease_owner", String(100)),
    Column("lease_expires_at", UTCDateTime()),
    Column("running_ms", Integer, nullable=False),
    Index(None, "workspace_id", "created_at"),
    Index(None, "status", "created_at"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id"), primary_key=True),
    Column("step", Integer, nullable=False),
    Column("state", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("job_id", String(40), ForeignKey("jobs.id"), primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("event_type", String(40), nullable=False),
    Column("iteration", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
)

# Model responses by canonical request (see ``providers/cache.py``): a repeated call, in this
# job or a later one of the same workspace, is answered from here and not paid again.
llm_cache = Table(
    "llm_cache",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of workspace + canonical request
    Column("workspace_id", String(40), ForeignKey("workspaces.id"), nullable=False),
    Column("model", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "workspace_id"),
)
