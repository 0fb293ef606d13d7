"""The ledger aggregated in SQL: each problem's rectification time kept on the problem, and
the indexes the ledger's filters and groupings read.

Revision ID: 0009_ledger_indexes
Revises: 0008_coverage
Create Date: 2026-12-07

``problems.rectified_at``: when the latest ``status`` event to ``rectified`` was recorded
for the problem (the rule of :mod:`geoapp.core.ledger`), NULL when there is none.  The
database keeps it: a trigger on ``problem_events`` sets it for every such event, however it
is written (one event, a bulk insert, ``COPY``), and this migration fills it from the events
already stored.  The store never writes it and it is not part of ``geoapp.store.schema``'s
tables (:data:`geoapp.store.schema.HIDDEN_COLUMNS`): the ledger's queries read it.  Whether
it counts is decided at read time (only while the problem is closed), as before.

Indexes (each holds every column the ledger filters on, so a query reads the index alone, a
narrow copy of the table): ``ix_problems_ledger`` in the order of the ledger's ``GROUP BY``
(unit, district, category, round, status: SQLite reads the groups in order instead of
sorting a million rows), ``ix_problems_ledger_days`` led by ``reported_at`` (date ranges, new
problems per day) and ``ix_problems_ledger_closed`` led by ``rectified_at`` (closed per day).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_ledger_indexes"
down_revision: str | None = "0008_coverage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: name -> columns of problems
INDEXES = {
    # in the order of the ledger's GROUP BY: read in order, no sorting
    "ix_problems_ledger": [
        "responsible_unit_id",
        "district_id",
        "category",
        "round",
        "status",
        "reported_at",
        "deduction",
        "duplicate_of",
        "rectified_at",
    ],
    # the date filters, and the problems per day
    "ix_problems_ledger_days": [
        "reported_at",
        "status",
        "category",
        "round",
        "responsible_unit_id",
        "district_id",
    ],
    "ix_problems_ledger_closed": [
        "rectified_at",
        "status",
        "reported_at",
        "category",
        "round",
        "responsible_unit_id",
        "district_id",
    ],
}

_SQLITE_TRIGGER = """
CREATE TRIGGER problem_events_rectified AFTER INSERT ON problem_events
WHEN NEW.kind = 'status'
 AND CASE WHEN json_valid(NEW.detail) THEN json_extract(NEW.detail, '$.after') END = 'rectified'
BEGIN
  UPDATE problems SET rectified_at = NEW.at WHERE id = NEW.problem_pk;
END
"""
_POSTGRES_FUNCTION = """
CREATE FUNCTION problem_events_rectified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    IF (NEW.detail::jsonb ->> 'after') = 'rectified' THEN
      UPDATE problems SET rectified_at = NEW.at WHERE id = NEW.problem_pk;
    END IF;
  EXCEPTION WHEN invalid_text_representation THEN
    NULL;  -- not JSON: not a rectification (as the Python reader skipped it)
  END;
  RETURN NEW;
END
$$
"""
_POSTGRES_TRIGGER = """
CREATE TRIGGER problem_events_rectified AFTER INSERT ON problem_events
FOR EACH ROW WHEN (NEW.kind = 'status' AND NEW.detail LIKE '%rectified%')
EXECUTE FUNCTION problem_events_rectified()
"""
# the latest (highest id) status event to "rectified" of each problem
_SQLITE_AFTER = "CASE WHEN json_valid(e.detail) THEN json_extract(e.detail, '$.after') END"
_POSTGRES_AFTER = (
    "CASE WHEN e.detail ~ '^\\s*\\{' AND e.detail LIKE '%rectified%' "
    "THEN e.detail::jsonb ->> 'after' END"
)
_BACKFILL = """
UPDATE problems SET rectified_at = (
  SELECT e.at FROM problem_events e
  WHERE e.problem_pk = problems.id AND e.kind = 'status' AND {after} = 'rectified'
  ORDER BY e.id DESC LIMIT 1
)
WHERE id IN (
  SELECT e.problem_pk FROM problem_events e WHERE e.kind = 'status' AND {after} = 'rectified'
)
"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    kind = sa.String(32) if sqlite else sa.DateTime(timezone=True)
    op.add_column("problems", sa.Column("rectified_at", kind, nullable=True))
    after = _SQLITE_AFTER if sqlite else _POSTGRES_AFTER
    op.execute(_BACKFILL.format(after=after))
    if sqlite:
        op.execute(_SQLITE_TRIGGER)
    else:
        op.execute(_POSTGRES_FUNCTION)
        op.execute(_POSTGRES_TRIGGER)
    for name, columns in INDEXES.items():
        op.create_index(name, "problems", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="problems")
    op.execute(
        "DROP TRIGGER problem_events_rectified" + ("" if _sqlite() else " ON problem_events")
    )
    if not _sqlite():
        op.execute("DROP FUNCTION problem_events_rectified()")
    op.drop_column("problems", "rectified_at")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"
