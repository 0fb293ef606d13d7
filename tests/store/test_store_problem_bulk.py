"""``add_problem_columns`` (the import's bulk insert): a problem_id already stored (before the
transaction or by an earlier batch of it) is refused by name and nothing of the batch is
written, though the store no longer looks every id up before inserting; the transaction goes
on after the refusal (the insert ran under a savepoint)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from geoapp.store import schema as S
from geoapp.store.errors import StoreError


def problem_columns(ids: list[str]) -> dict:
    """Unassigned problems, column by column, as an import hands them to the store."""
    n = len(ids)
    return {
        "problem_id": ids,
        "round": ["第1轮"] * n,
        "category": ["c"] * n,
        "reported_s": [1_711_929_600 + 60 * i for i in range(n)],
        "lon": [114.9] * n,
        "lat": [28.2] * n,
    }


@pytest.mark.parametrize("load", [False, True], ids=["plain", "bulk-load"])
def test_a_stored_problem_id_is_refused_by_name_and_the_batch_left_out(tiny_county, load):
    store = tiny_county
    stored = sorted(p["problem_id"] for p in store.problems({}))[:2]
    before = store.count_problems()
    with store.transaction() as tx, tx.loading_problems() if load else nullcontext():
        first = tx.add_problem_columns(problem_columns([f"N-{i}" for i in range(30)]), actor="t")
        assert len(first) == 30
        for clash in (["N-x", stored[1], "N-y", stored[0]], ["N-z", "N-7"]):
            with pytest.raises(StoreError) as refused:
                tx.add_problem_columns(problem_columns(clash), actor="t")
            named = sorted(set(clash) - {"N-x", "N-y", "N-z"})
            assert str(refused.value) == "problem_id already stored: " + ", ".join(
                repr(i) for i in named
            )
        # the transaction is still usable: a good batch after the refusals goes in
        assert len(tx.add_problem_columns(problem_columns(["N-last"]), actor="t")) == 1
    assert store.count_problems() == before + 31
    assert store.existing_problem_ids(["N-x", "N-y", "N-z", "N-last"]) == {"N-last"}


@pytest.mark.parametrize("load", [False, True], ids=["plain", "bulk-load"])
def test_a_batch_naming_one_id_twice_is_refused_whole(tiny_county, load):
    """An id repeated inside one batch (none of them stored) is refused and none of the
    batch's rows stays behind, not even those before the repeat (SQLite inserts without a
    savepoint); the transaction goes on."""
    store = tiny_county
    before = store.count_problems()
    with store.transaction() as tx, tx.loading_problems() if load else nullcontext():
        with pytest.raises(StoreError):
            tx.add_problem_columns(problem_columns(["R-1", "R-2", "R-3", "R-2", "R-4"]), actor="t")
        assert len(tx.add_problem_columns(problem_columns(["R-last"]), actor="t")) == 1
    assert store.count_problems() == before + 1
    assert store.existing_problem_ids(["R-1", "R-2", "R-3", "R-4", "R-last"]) == {"R-last"}


def _rows_updated(tx) -> int:
    """Rows the transaction's connection has changed (SQLite: inserts and updates, those of
    triggers included) or updated (PostgreSQL) in ``problems`` so far."""
    if tx._conn.dialect.name == "sqlite":
        return tx._conn.exec_driver_sql("SELECT total_changes()").scalar_one()
    return tx._conn.exec_driver_sql(
        "SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_xact_user_tables "
        "WHERE relname = 'problems'"
    ).scalar_one()


def test_an_imported_rectification_time_is_stored_with_the_problem_not_rewritten(tiny_county):
    """A problem arriving rectified is inserted with its rectification time: the trigger on
    its "status" event (which sets the time for every other writer) finds it there and
    leaves the row alone, instead of writing a second version of every such row."""
    store = tiny_county
    columns = problem_columns(["R-open", "R-rectified", "R-verified"])
    columns["status"] = ["reported", "rectified", "verified"]
    columns["rectified_s"] = [-1, 1_711_933_200, 1_712_000_000]  # +1 h; 2024-04-01T19:33:20
    with store.transaction() as tx:
        before = _rows_updated(tx)
        pks = tx.add_problem_columns(columns, actor="t")
        changed = _rows_updated(tx) - before
        e = S.problem_events
        count = sa.select(sa.func.count()).where(e.c.problem_pk.in_(pks))
        events = tx._conn.execute(count).scalar_one()
    assert events == 5  # created x 3 (unassigned: none assigned) + status x 2
    # SQLite: 3 problems + 5 events inserted, no update; PostgreSQL: no update
    assert changed == (3 + 5 if store.engine.dialect.name == "sqlite" else 0)
    with store.engine.connect() as conn:
        p = S.problems
        read = sa.select(p.c.problem_id, S.problems_rectified_at).where(p.c.id.in_(pks))
        stored = dict(conn.execute(read).all())
    as_time = {k: None if v is None else v.astimezone(UTC) for k, v in stored.items()}
    assert as_time == {
        "R-open": None,
        "R-rectified": datetime(2024, 4, 1, 1, 0, tzinfo=UTC),
        "R-verified": datetime(2024, 4, 1, 19, 33, 20, tzinfo=UTC),
    }
    assert {k: v for k, v in store.rectified_times().items() if k in pks} == {
        pks[1]: datetime(2024, 4, 1, 1, 0, tzinfo=UTC),
        pks[2]: datetime(2024, 4, 1, 19, 33, 20, tzinfo=UTC),
    }


def test_a_batch_goes_in_under_a_savepoint_on_postgresql_only(tiny_county):
    """SQLite: no savepoint around a batch (the stored ids are looked up first instead;
    PostgreSQL: one, around its ``COPY``, sent on the driver's connection, unseen here).
    A savepoint that changed more than 64 KiB of pages left SQLite's statement journal in
    a temporary file for the rest of the transaction, where every later row of an
    ``executemany`` into a table with foreign keys or triggers (the events) wrote two
    pages: 750 MB for a 50,000-row batch into 300,000 problems.  Each SQL statement the
    transaction sends is watched."""
    store = tiny_county
    sent: list[str] = []

    def watch(conn, cursor, statement, *args) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    sa.event.listen(store.engine, "before_cursor_execute", watch)
    try:
        with store.transaction() as tx, tx.loading_problems():
            for batch in range(2):
                ids = [f"S-{batch}-{i}" for i in range(20)]
                assert len(tx.add_problem_columns(problem_columns(ids), actor="t")) == 20
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", watch)
    sqlite = store.engine.dialect.name == "sqlite"
    assert ("INSERT" in sent) == sqlite
    savepoints = [s for s in sent if s in ("SAVEPOINT", "RELEASE", "ROLLBACK")]
    assert savepoints == (
        [] if store.engine.dialect.name == "sqlite" else ["SAVEPOINT", "RELEASE"] * 2
    )
    assert store.existing_problem_ids([f"S-{b}-{i}" for b in range(2) for i in range(20)]) == {
        f"S-{b}-{i}" for b in range(2) for i in range(20)
    }


#: the assignments of the tiny county a batch may carry (generation set by the test)
_AREA = {"district_id": "D1", "area_id": "A2", "responsible_unit_id": "U2", "lead_unit_id": "U1"}
_OTHER = {"district_id": "D2", "area_id": "A5", "responsible_unit_id": "U5", "lead_unit_id": "U4"}


@pytest.mark.parametrize(
    ("field", "what"),
    [
        ("generation_id", "generation"),
        ("district_id", "district"),
        ("area_id", "area"),
        ("responsible_unit_id", "responsible unit"),
        ("lead_unit_id", "lead unit"),
    ],
)
def test_an_unknown_reference_is_refused_naming_its_first_row(tiny_county, field, what):
    """The references of a batch are checked once per distinct assignment; an unknown one
    is named with the first problem of the batch that carries it (not a later one with the
    same assignment, nor one with another), and nothing of the batch is written."""
    store = tiny_county
    gid = store.current_generation()["id"]
    before = store.count_problems()
    bad_value = 999_999 if field == "generation_id" else "NOPE"
    ids = [f"R-{i}" for i in range(12)]
    # rows 0-3 the one assignment, 4-5 unassigned, 6 and 9 the unknown one, the rest another
    rows = [_AREA] * 4 + [{}] * 2 + [{**_OTHER, field: bad_value}] + [_OTHER] * 2
    rows += [{**_OTHER, field: bad_value}] + [_OTHER] * 2
    columns = problem_columns(ids)
    for name in ("district_id", "area_id", "responsible_unit_id", "lead_unit_id"):
        columns[name] = [row.get(name) for row in rows]
    if field == "generation_id":
        columns["generation_id"] = bad_value
    else:
        columns["generation_id"] = gid
    first = "R-0" if field == "generation_id" else "R-6"
    with pytest.raises(StoreError) as refused, store.transaction() as tx:
        tx.add_problem_columns(columns, actor="t")
    assert str(refused.value) == (
        f"unknown {what} {bad_value!r} (first referenced by problem {first!r})"
    )
    assert store.count_problems() == before
