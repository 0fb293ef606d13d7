"""Undo/redo history of draft generations edited in the boundary editor.

Revision ID: 0004_editor
Revises: 0002_intake
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_editor"
down_revision: str | None = "0002_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of geoapp.store.schema.UTCDateTime's storage.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "draft_edits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("generation_id", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("undone", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name="fk_draft_edits_generation_id_generations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_draft_edits"),
    )
    op.create_index("ix_draft_edits_generation_id", "draft_edits", ["generation_id"])


def downgrade() -> None:
    op.drop_table("draft_edits")
