"""The ledger's SQL reads the covering indexes of migration 0009 on SQLite.

SQLite has no statistics on a fresh store, so without ``INDEXED BY`` its planner takes a
one-column index and looks every row up in the table (the closed-per-hour count went through
``ix_problems_status``: 400,000 table lookups at a million problems).  SQLAlchemy's SQLite
compiler dropped every ``with_hint`` silently; the store's compiler writes them.  Each test
runs the ledger's real statements on the demo county and asks SQLite for their plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from query_plans import problem_selects

from geoapp.store import schema as S

NOW = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)
FILTERS = [
    {},
    {"status": ["rectified", "verified"]},
    {"status": ["reported", "assigned"], "date_from": "2024-04-10T00:00:00+08:00"},
    {"date_from": "2024-04-10T00:00:00+08:00", "date_to": "2024-04-30T00:00:00+08:00"},
    {"responsible_unit_id": ["U08"], "category": ["litter"]},
    {"district_id": ["D1"], "round": ["市级评估"]},
]
LEDGER_INDEXES = ("ix_problems_ledger", "ix_problems_ledger_days", "ix_problems_ledger_closed")


def _plans(store, run) -> list[tuple[str, str]]:
    """(statement, its query plan) of every SELECT on problems that ``run(tx)`` executes."""

    def inside() -> None:
        with store.transaction() as tx:
            run(tx)

    seen = problem_selects(store.engine, inside)
    out = []
    with store.engine.connect() as conn:
        for statement, parameters in seen:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            out.append((statement, "\n".join(r[-1] for r in rows)))
    return out


def _deadlines(store) -> dict[str, int]:
    return {
        c["category"]: int(c["deadline_hours"] * 3_600_000_000)
        for c in store.list_categories()
        if c.get("deadline_hours")
    }


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_ledger_queries_read_a_covering_index_only(demo_store, filters):
    deadlines = _deadlines(demo_store)
    plans = _plans(
        demo_store,
        lambda tx: (tx.ledger_counts(filters, deadlines, NOW), tx.ledger_days(filters)),
    )
    assert len(plans) == 3  # the counts, new per hour, closed per hour
    for (statement, plan), index in zip(plans, LEDGER_INDEXES, strict=True):
        assert f"INDEXED BY {index}" in statement
        assert f"COVERING INDEX {index}" in plan, plan
        # no other index, no lookups in the table
        assert "USING INDEX" not in plan.replace("COVERING INDEX", ""), plan
        # every read of problems goes through the covering index
        reads = [line for line in plan.splitlines() if "problems" in line]
        assert all(f"COVERING INDEX {index}" in line for line in reads), plan
    # per hour: ranges of the time index (seeks), never every matching row sorted by hour
    for _statement, plan in plans[1:]:
        assert "TEMP B-TREE FOR GROUP BY" not in plan, plan
        assert "SCAN problems" not in plan, plan
    # closed per hour: a range of the problems with a rectification time, not every row
    assert "SEARCH problems USING COVERING INDEX ix_problems_ledger_closed" in plans[2][1]


def test_sqlite_writes_table_hints_for_sqlite_only(demo_store):
    """Any ``with_hint`` for SQLite reaches SQLite (an unknown index is SQLite's error, not
    silently ignored); a hint for another database is left out."""
    p = S.problems
    stmt = sa.select(sa.func.count()).select_from(p)
    with demo_store.engine.connect() as conn:
        hinted = stmt.with_hint(p, "INDEXED BY ix_problems_ledger_days", "sqlite")
        assert conn.execute(hinted).scalar_one() == demo_store.count_problems()
        other = stmt.with_hint(p, "INDEXED BY no_such_index", "postgresql")
        assert conn.execute(other).scalar_one() == demo_store.count_problems()
        with pytest.raises(sa.exc.OperationalError, match="no such index"):
            conn.execute(stmt.with_hint(p, "INDEXED BY no_such_index", "sqlite"))


CST = timezone(timedelta(hours=8))
#: (reported_at, rectified_at or None, status): times on and near hour and day boundaries,
#: in UTC and Beijing time
HOURS_ROWS = [
    (datetime(2024, 4, 1, 15, 59, 59, 999999, tzinfo=UTC), None, "reported"),
    (datetime(2024, 4, 1, 16, 0, tzinfo=UTC), None, "reported"),
    (
        datetime(2024, 4, 2, 0, 30, tzinfo=CST),
        datetime(2024, 4, 2, 23, 59, tzinfo=UTC),
        "rectified",
    ),
    (datetime(2024, 4, 2, 7, 59, tzinfo=CST), datetime(2024, 4, 3, 8, 0, tzinfo=CST), "verified"),
    (
        datetime(2024, 12, 31, 23, 0, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
        "rectifying",
    ),
]


def test_ledger_days_count_per_utc_hour(seeded, backend):
    """New problems per UTC hour reported, closed ones per UTC hour rectified, whatever the
    PostgreSQL session's time zone (counted by hand from HOURS_ROWS; the reopened one, still
    rectifying, is not closed)."""
    with seeded.transaction() as tx:
        rows = [
            {"problem_id": f"H{i}", "category": "bins", "reported_at": at, "status": status}
            for i, (at, _rect, status) in enumerate(HOURS_ROWS)
        ]
        ids = tx.add_problems(rows, actor="t")
        for pk, (_at, rect, _status) in zip(ids, HOURS_ROWS, strict=True):
            if rect is not None:
                detail = {"before": "rectifying", "after": "rectified"}
                tx.add_event(pk, "status", "t", detail, at=rect)
    zones = [None] if backend == "sqlite" else [None, "Asia/Shanghai", "America/New_York"]
    for zone in zones:
        with seeded.transaction() as tx:
            if zone:
                tx._x(sa.text(f"SET LOCAL TIME ZONE '{zone}'"))
            days = tx.ledger_days({})
            verified = tx.ledger_days({"status": ["verified"]})
            none = tx.ledger_days({"category": ["no-such-category"]})
            mid_hours = tx.ledger_days(
                {"date_from": "2024-04-01T15:30:00+00:00", "date_to": "2024-04-01T16:00:01+00:00"}
            )
            one_hour = tx.ledger_days(
                {"date_from": "2024-04-01T16:00:00+00:00", "date_to": "2024-04-01T17:00:00+00:00"}
            )
        assert days["new"] == [
            ("2024-04-01T15", 1),
            ("2024-04-01T16", 2),  # 16:00 UTC and 00:30 Beijing
            ("2024-04-01T23", 1),  # 07:59 Beijing
            ("2024-12-31T23", 1),
        ], zone
        assert days["closed"] == [("2024-04-02T23", 1), ("2024-04-03T00", 1)], zone
        assert verified == {"new": [("2024-04-01T23", 1)], "closed": [("2024-04-03T00", 1)]}
        assert none == {"new": [], "closed": []}
        # bounds inside an hour: H0 (15:59:59.999999) and H1 (16:00) only
        assert mid_hours == {"new": [("2024-04-01T15", 1), ("2024-04-01T16", 1)], "closed": []}
        # H1 and H2, reported in that hour; H2 rectified the next day
        assert one_hour == {"new": [("2024-04-01T16", 2)], "closed": [("2024-04-02T23", 1)]}


def test_ledger_aggregates_are_not_jit_compiled(seeded, backend):
    """PostgreSQL compiles a costly plan to machine code (JIT) on every run, which cost the
    ledger more than it saved at a million problems: its reads turn JIT off for their
    transaction, even where the server would JIT every plan (``jit_above_cost = 0``)."""
    with seeded.transaction() as tx:
        if backend == "postgis":
            tx._x(sa.text("SET LOCAL jit = on"))
            tx._x(sa.text("SET LOCAL jit_above_cost = 0"))
        counts = tx.ledger_counts({}, {"bins": 3_600_000_000}, NOW)
        if backend == "postgis":
            assert tx._x(sa.text("SHOW jit")).scalar_one() == "off"
            tx._x(sa.text("SET LOCAL jit = on"))
        days = tx.ledger_days({})
        if backend == "postgis":
            assert tx._x(sa.text("SHOW jit")).scalar_one() == "off"
    assert sum(row[5] for row in counts) == sum(n for _hour, n in days["new"])
