"""Revocable sign-in sessions and failed sign-ins counted in the store.

Revision ID: 0006_sessions_logins
Revises: 0005_accounts
Create Date: 2026-12-07

``users.session_token``: the secret every session cookie of a user carries next to the
user's id; NULL means no session is valid (signing out, deactivation and a password change
clear it).  ``login_attempts``: failed sign-ins per name, client address and device, shared
by every worker process and server (the old counters were in each process's memory).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sessions_logins"
down_revision: str | None = "0005_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of geoapp.store.schema.UTCDateTime's storage.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_token", sa.Text(), nullable=True))
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_attempts"),
    )


def downgrade() -> None:
    op.drop_table("login_attempts")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_token")
