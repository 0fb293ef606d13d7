"""Photos of problem points (intake).

Revision ID: 0002_intake
Revises: 0001
Create Date: 2026-11-29

The image files live under ``instance/photos/`` with server-chosen names; this table says
which problem each belongs to, its sniffed type, size and checksum.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_intake"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "problem_photos",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("problem_pk", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=True),
        sa.Column("uploaded_at", TIMESTAMP, nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["problem_pk"],
            ["problems.id"],
            name="fk_problem_photos_problem_pk_problems",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_problem_photos"),
        sa.UniqueConstraint("stored_name", name="uq_problem_photos_stored_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_problem_photos_problem_pk", "problem_photos", ["problem_pk"])


def downgrade() -> None:
    op.drop_index("ix_problem_photos_problem_pk", table_name="problem_photos")
    op.drop_table("problem_photos")
