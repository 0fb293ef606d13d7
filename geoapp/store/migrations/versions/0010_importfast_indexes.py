"""Fewer indexes on problems for the same reads: what a bulk import maintains row by row.

Revision ID: 0010_importfast_indexes
Revises: 0009_ledger_indexes
Create Date: 2026-12-07

Every index of ``problems`` is updated for every row an import adds (17 on PostGIS); each
one dropped or narrowed here is served as well by another for every query the store runs
(``tests/store/test_store_problem_indexes.py`` asks both databases for the plans of the
reads concerned).  At 400,000 problems on PostGIS this takes a sixth of the server's CPU
time off a 50,000-row import (6.3 s to 5.2 s under load):

- ``ix_problems_reported_at``: ``ix_problems_ledger_days`` leads with ``reported_at`` (the
  date filters read its prefix, and it also holds status, category, round, unit, district);
- ``ix_problems_responsible_unit_id``: ``ix_problems_ledger`` leads with
  ``responsible_unit_id`` (the unit filter, the totals per unit, the foreign key's checks);
- ``ix_problems_ledger_closed`` is kept only for the rows with a rectification time
  (``WHERE rectified_at IS NOT NULL``): the only query reading it (closed per day) asks
  for those rows alone, and an imported open problem no longer adds an entry to it;
- ``ix_problems_client_id`` (unique) is kept only for the rows with a client id (a phone's
  report): a lookup by client id implies one, uniqueness is unchanged (NULLs never
  clashed), and an imported problem (none) no longer adds an entry.

The others each serve a read of their own: ``round``, ``category``, ``status``,
``district_id``, ``area_id``, ``lead_unit_id`` (the filters of the problem lists, map and
OGC items; the foreign keys' checks when a district, area or unit is deleted),
``generation_id`` (deleting a draft generation), ``lon, lat`` (bbox filters),
``problem_id`` (unique; the import's look-up of ids stored), the GiST ``geom`` (spatial
filters on PostGIS) and the ledger's three.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_importfast_indexes"
down_revision: str | None = "0009_ledger_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: indexes another one serves: name -> columns (for the downgrade)
REDUNDANT = {
    "ix_problems_reported_at": ["reported_at"],
    "ix_problems_responsible_unit_id": ["responsible_unit_id"],
}
CLOSED_COLUMNS = [
    "rectified_at",
    "status",
    "reported_at",
    "category",
    "round",
    "responsible_unit_id",
    "district_id",
]


def upgrade() -> None:
    for name in REDUNDANT:
        op.drop_index(name, table_name="problems")
    op.drop_index("ix_problems_ledger_closed", table_name="problems")
    op.create_index(
        "ix_problems_ledger_closed",
        "problems",
        CLOSED_COLUMNS,
        sqlite_where=sa.text("rectified_at IS NOT NULL"),
        postgresql_where=sa.text("rectified_at IS NOT NULL"),
    )
    op.drop_index("ix_problems_client_id", table_name="problems")
    op.create_index(
        "ix_problems_client_id",
        "problems",
        ["client_id"],
        unique=True,
        sqlite_where=sa.text("client_id IS NOT NULL"),
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_problems_client_id", table_name="problems")
    op.create_index("ix_problems_client_id", "problems", ["client_id"], unique=True)
    op.drop_index("ix_problems_ledger_closed", table_name="problems")
    op.create_index("ix_problems_ledger_closed", "problems", CLOSED_COLUMNS)
    for name, columns in REDUNDANT.items():
        op.create_index(name, "problems", columns)
