"""initial schema: workspaces, api keys, prompts, datasets, jobs, checkpoints, events

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from whetstone.store.tables import UTCDateTime

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", name="uq_workspaces_name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("prefix", sa.String(40), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_api_keys_workspace_id_workspaces"
        ),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_table(
        "prompts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("family_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("is_latest", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("template", sa.Text),
        sa.Column("messages", sa.JSON),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("job_id", sa.String(40)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_prompts_workspace_id_workspaces"
        ),
        sa.UniqueConstraint("family_id", "version", name="uq_prompts_family_id_version"),
    )
    op.create_index("ix_prompts_workspace_id_name", "prompts", ["workspace_id", "name"])
    op.create_index(
        "ix_prompts_workspace_id_is_latest_created_at",
        "prompts",
        ["workspace_id", "is_latest", "created_at"],
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("common_keys", sa.JSON),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_datasets_workspace_id_workspaces"
        ),
    )
    op.create_index(
        "ix_datasets_workspace_id_created_at", "datasets", ["workspace_id", "created_at"]
    )
    op.create_table(
        "dataset_items",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("input", sa.JSON, nullable=False),
        sa.Column("expected_output", sa.JSON),
        sa.Column("metadata", sa.JSON),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_dataset_items_dataset_id_datasets"
        ),
        sa.UniqueConstraint("dataset_id", "position", name="uq_dataset_items_dataset_id_position"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("prompt_id", sa.String(40), nullable=False),
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("current_iteration", sa.Integer, nullable=False),
        sa.Column("initial_score", sa.Float),
        sa.Column("current_score", sa.Float),
        sa.Column("best_score", sa.Float),
        sa.Column("result_prompt_id", sa.String(40)),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("usage", sa.JSON, nullable=False),
        sa.Column("error", sa.JSON),
        sa.Column("stop_reason", sa.String(40)),
        sa.Column("pending_action", sa.String(20)),
        sa.Column("pending_reason", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires_at", UTCDateTime()),
        sa.Column("running_ms", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name="fk_jobs_workspace_id_workspaces"
        ),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name="fk_jobs_prompt_id_prompts"),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_jobs_dataset_id_datasets"
        ),
    )
    op.create_index("ix_jobs_workspace_id_created_at", "jobs", ["workspace_id", "created_at"])
    op.create_index("ix_jobs_status_created_at", "jobs", ["status", "created_at"])
    op.create_table(
        "checkpoints",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_checkpoints_job_id_jobs"),
    )
    op.create_table(
        "events",
        sa.Column("job_id", sa.String(40), primary_key=True),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("iteration", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_events_job_id_jobs"),
    )


def downgrade() -> None:
    for table in (
        "events",
        "checkpoints",
        "jobs",
        "dataset_items",
        "datasets",
        "prompts",
        "api_keys",
        "workspaces",
    ):
        op.drop_table(table)
