"""The indexes of problems (migration 0010): none that another one already serves, the
partial ones hold only the rows their reads ask for, and the reads that lost an index of
their own still search an index (on SQLite as planned; on PostgreSQL with sequential scans
switched off, as its planner prefers a scan of a small table)."""

from __future__ import annotations

import pytest
from query_plans import problem_selects

from geoapp.store import Store


def _indexes(store: Store) -> dict[str, tuple[list[str], str]]:
    """name -> (columns in order, definition) of every index of problems, read from the
    database's catalogue (not from the models)."""
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT name, coalesce(sql, '') FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = 'problems'"
            ).all()
            return {
                name: (
                    [r[2] for r in conn.exec_driver_sql(f'PRAGMA index_info("{name}")')],
                    sql,
                )
                for name, sql in rows
            }
        rows = conn.exec_driver_sql(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid), "
            "array(SELECT pg_get_indexdef(x.indexrelid, k, true) "
            "      FROM generate_series(1, x.indnkeyatts) k) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = 'problems'::regclass"
        ).all()
        return {name: (list(columns), sql) for name, sql, columns in rows}


def test_no_index_of_problems_is_a_prefix_of_another(store: Store) -> None:
    """An index whose columns lead another index is served by that one for every read
    (equality and range on its columns, order by them) and only costs every insert."""
    indexes = _indexes(store)
    assert "ix_problems_ledger" in indexes and "ix_problems_ledger_days" in indexes
    for name, (columns, sql) in indexes.items():
        if "UNIQUE" in sql.upper() or name.startswith(("pk_", "sqlite_autoindex")):
            continue  # a constraint, not only a read path
        for other, (longer, _) in indexes.items():
            if other != name and len(longer) > len(columns):
                assert longer[: len(columns)] != columns, f"{name} is a prefix of {other}"


@pytest.mark.parametrize(
    ("index", "column"),
    [("ix_problems_client_id", "client_id"), ("ix_problems_ledger_closed", "rectified_at")],
)
def test_partial_indexes_hold_only_rows_with_a_value(store: Store, index, column) -> None:
    """An imported problem has neither a client id nor a rectification time: it adds no
    entry to these two indexes, whose reads ask for rows with a value only."""
    _, sql = _indexes(store)[index]
    assert f"WHERE {column} IS NOT NULL" in sql.replace("(", "").replace(")", ""), sql


def test_the_client_id_stays_unique_and_may_be_missing_many_times(seeded: Store) -> None:
    from geoapp.store import StoreError

    seeded.add_problems(
        [{"problem_id": f"N{i}", "lon": 110.1, "lat": 30.1} for i in range(3)]
        + [{"problem_id": "C1", "lon": 110.1, "lat": 30.1, "client_id": "phone-1"}]
    )
    with pytest.raises(StoreError):
        seeded.add_problems(
            [{"problem_id": "C2", "lon": 110.1, "lat": 30.1, "client_id": "phone-1"}]
        )
    assert seeded.count_problems() == 4
    assert seeded.problem_by_client_id("phone-1")["problem_id"] == "C1"


def _plans(store: Store, run) -> list[str]:
    """The plan of every SELECT on problems the store runs in ``run(store)``."""
    seen = problem_selects(store.engine, lambda: run(store))
    sqlite = store.engine.dialect.name == "sqlite"
    plans = []
    with store.engine.connect() as conn:
        if not sqlite:
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in seen:
            rows = conn.exec_driver_sql(
                ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters
            ).all()
            plans.append("\n".join(str(r[-1]) for r in rows))
        conn.rollback()
    return plans


#: the store's reads whose own index migration 0010 dropped or narrowed -> the index each
#: searches instead
READS = {
    "date range": (
        lambda s: s.count_problems({"date_from": "2024-04-10T00:00:00+08:00"}),
        "ix_problems_ledger_days",
    ),
    "totals per unit": (lambda s: s.problem_totals_by_unit(["U1"]), "ix_problems_ledger"),
    "by client id": (lambda s: s.problem_by_client_id("phone-1"), "ix_problems_client_id"),
    "unit filter": (
        lambda s: s.count_problems({"responsible_unit_id": "U1"}),
        "ix_problems_ledger",
    ),
}


@pytest.mark.parametrize("read", READS)
def test_reads_that_lost_their_own_index_search_another(store: Store, read: str) -> None:
    run, index = READS[read]
    for plan in _plans(store, run):
        assert index in plan, plan
        assert "SCAN problems\n" not in plan + "\n" and "Seq Scan" not in plan, plan


def test_a_bulk_load_leaves_the_same_indexes(seeded: Store) -> None:
    """An import into an empty store builds the indexes again at its end (SQLite): the
    same definitions, partial ones included, hold the rows they should (a look-up by
    client id through the partial index still finds a report stored beside the import)."""
    before = _indexes(seeded)
    seeded.add_problems([{"problem_id": "R1", "lon": 110.1, "lat": 30.1, "client_id": "ph-1"}])
    n = 50
    with seeded.transaction() as tx, tx.loading_problems():
        tx.add_problem_columns(
            {
                "problem_id": [f"B{i}" for i in range(n)],
                "reported_s": [1_711_929_600 + 60 * i for i in range(n)],
                "lon": [110.1] * n,
                "lat": [30.1] * n,
            },
            actor="t",
        )
    assert _indexes(seeded) == before
    assert seeded.problem_by_client_id("ph-1")["problem_id"] == "R1"
    window = {"date_from": "2024-04-01T00:00:00+00:00", "date_to": "2024-04-02T00:00:00+00:00"}
    assert seeded.count_problems(window) == n
