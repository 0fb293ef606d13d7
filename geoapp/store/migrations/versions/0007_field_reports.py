"""Reports from phones: the client's id of a report, the accuracy of its position, and the
stage of a photo.

Revision ID: 0007_field_reports
Revises: 0006_sessions_logins
Create Date: 2026-12-07

``problems.client_id``: the id a phone generates for a report before sending it (unique
when given; a retry carrying it gets the problem already stored instead of a second one).
``problems.location_accuracy_m``: the radius in metres of the phone's position fix.
``problem_photos.stage``: ``"after"`` for a photo taken when the place was rectified.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_field_reports"
down_revision: str | None = "0006_sessions_logins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("problems") as batch:
        batch.add_column(sa.Column("client_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("location_accuracy_m", sa.Double(), nullable=True))
    op.create_index("ix_problems_client_id", "problems", ["client_id"], unique=True)
    with op.batch_alter_table("problem_photos") as batch:
        batch.add_column(sa.Column("stage", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problem_photos") as batch:
        batch.drop_column("stage")
    op.drop_index("ix_problems_client_id", table_name="problems")
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("location_accuracy_m")
        batch.drop_column("client_id")
