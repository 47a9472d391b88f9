"""Durable state: SQLAlchemy + Alembic; SQLite by default."""

from whetstone.store.base import Checkpoint, JobUpdate, Page, Store
from whetstone.store.sql import SQLStore

__all__ = ["Checkpoint", "JobUpdate", "Page", "SQLStore", "Store"]
