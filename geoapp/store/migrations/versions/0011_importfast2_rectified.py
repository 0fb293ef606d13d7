"""The trigger keeping ``problems.rectified_at`` leaves a problem alone when it already holds
the time: a bulk import writes it with the problem.

Revision ID: 0011_importfast2_rectified
Revises: 0010_importfast_indexes
Create Date: 2026-12-07

Each imported problem that arrives rectified gets a "status" event to ``rectified``; the
trigger of migration 0009 then updated the row just inserted to set its ``rectified_at``:
on PostgreSQL a second version of the row (its generated point, an entry in each of the
fifteen indexes, the write-ahead log for all of it, a dead row for VACUUM), on SQLite the
row rewritten and two ledger indexes updated.  A sheet of 100,000 rows, two in five
rectified, measured under load: on PostGIS into the demo county the server's CPU time went
from 10.4 s to 6.3 s; on SQLite into 300,000 problems the insert of the events from 2.5 s
to 1.5 s of CPU (8.2 s to 7.0 s for the whole import).  Now
:meth:`~geoapp.store.problem_bulk.ProblemBulk.add_problem_columns` inserts the problem with
the time its event carries, and the trigger updates only a problem whose ``rectified_at``
differs from the event's time (every other writer's events, as before).  The value kept is
the same: the latest status event to ``rectified``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_importfast2_rectified"
down_revision: str | None = "0010_importfast_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TRIGGER = """
CREATE TRIGGER problem_events_rectified AFTER INSERT ON problem_events
WHEN NEW.kind = 'status'
 AND CASE WHEN json_valid(NEW.detail) THEN json_extract(NEW.detail, '$.after') END = 'rectified'
BEGIN
  UPDATE problems SET rectified_at = NEW.at
  WHERE id = NEW.problem_pk{unchanged};
END
"""
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION problem_events_rectified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    IF (NEW.detail::jsonb ->> 'after') = 'rectified' THEN
      UPDATE problems SET rectified_at = NEW.at
      WHERE id = NEW.problem_pk{unchanged};
    END IF;
  EXCEPTION WHEN invalid_text_representation THEN
    NULL;  -- not JSON: not a rectification (as the Python reader skipped it)
  END;
  RETURN NEW;
END
$$
"""
_SQLITE_UNCHANGED = " AND rectified_at IS NOT NEW.at"
_POSTGRES_UNCHANGED = " AND rectified_at IS DISTINCT FROM NEW.at"


def _replace(skip_unchanged: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER problem_events_rectified")
        op.execute(_SQLITE_TRIGGER.format(unchanged=_SQLITE_UNCHANGED if skip_unchanged else ""))
    else:
        op.execute(
            _POSTGRES_FUNCTION.format(unchanged=_POSTGRES_UNCHANGED if skip_unchanged else "")
        )


def upgrade() -> None:
    _replace(skip_unchanged=True)


def downgrade() -> None:
    _replace(skip_unchanged=False)
