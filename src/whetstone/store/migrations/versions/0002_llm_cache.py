"""response cache: model answers by canonical request, per workspace

Revision ID: 0002_llm_cache
Revises: 0001_initial
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from whetstone.store.tables import UTCDateTime

revision = "0002_llm_cache"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_cache",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_llm_cache_workspace_id_workspaces"
        ),
    )
    op.create_index("ix_llm_cache_workspace_id", "llm_cache", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_llm_cache_workspace_id", "llm_cache")
    op.drop_table("llm_cache")
