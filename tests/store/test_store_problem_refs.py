"""The database itself keeps a problem's references (generation, district, area, units)
whole, whatever the store checks first: by its foreign keys, on SQLite and PostGIS alike.
Each test goes around the store's own check (straight SQL, or the bulk insert's
``COPY``/``executemany``) and finds the change refused and nothing of it written."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from geoapp.store import schema as S
from geoapp.store.errors import StoreError

NOW = datetime(2025, 1, 5, tzinfo=UTC)
#: a district, an area and a unit that no area version uses: only problems refer to them
OWN = {"district_id": "D-own", "area_id": "A-own", "unit_id": "U-own"}


def problem(problem_id: str, **refs) -> dict:
    return {
        "problem_id": problem_id,
        "deduction": 0.0,
        "reported_at": NOW,
        "status": "reported",
        "created_at": NOW,
        "updated_at": NOW,
        **refs,
    }


def add_own_rows(store) -> dict:
    """The rows of :data:`OWN` and a problem referring to each; returns the references of
    that problem."""
    gid = store.current_generation()["id"]
    refs = {
        "generation_id": gid,
        "district_id": OWN["district_id"],
        "area_id": OWN["area_id"],
        "responsible_unit_id": OWN["unit_id"],
        "lead_unit_id": OWN["unit_id"],
    }
    with store.transaction() as tx:
        tx._x(sa.insert(S.units).values(unit_id=OWN["unit_id"], name="own"))
        tx._x(sa.insert(S.districts).values(district_id=OWN["district_id"], name="own"))
        tx._x(sa.insert(S.areas).values(area_id=OWN["area_id"], created_at=NOW))
        tx._x(sa.insert(S.problems).values(**problem("OWN-1", **refs)))
    return refs


REFERENCES = [
    ("generation_id", 999_999),
    ("district_id", "D-none"),
    ("area_id", "A-none"),
    ("responsible_unit_id", "U-none"),
    ("lead_unit_id", "U-none"),
]


def refused(store, change) -> None:
    """``change(tx)`` in a transaction of its own is refused by the database."""
    with (
        pytest.raises(StoreError, match="^the database refused the change: "),
        store.transaction() as tx,
    ):
        change(tx)


@pytest.mark.parametrize("path", ["statement", "bulk"])
def test_a_problem_naming_a_missing_row_is_refused(tiny_county, path):
    """One good problem and one naming a row that does not exist (each reference in turn),
    in one statement: the database refuses the statement (the good one is not written
    either)."""
    store = tiny_county
    refs = add_own_rows(store)
    before = store.count_problems()
    for field, value in REFERENCES:
        rows = [problem("NEW-1", **refs), problem("NEW-2", **{**refs, field: value})]

        def insert(tx, rows=rows) -> None:
            if path == "statement":
                tx._x(sa.insert(S.problems), rows)
                return
            names = list(rows[0])
            values = [[row[name] for row in rows] for name in names]
            for name in ("reported_at", "created_at", "updated_at"):
                values[names.index(name)] = [NOW.isoformat()] * len(rows)
            tx._insert_columns(S.problems, names, values)

        refused(store, insert)
    assert store.count_problems() == before
    assert store.existing_problem_ids(["NEW-1", "NEW-2"]) == set()


def test_a_problem_changed_to_name_a_missing_row_is_refused(tiny_county):
    store = tiny_county
    refs = add_own_rows(store)
    own = S.problems.c.problem_id == "OWN-1"
    for field, value in REFERENCES:
        refused(
            store,
            lambda tx, field=field, value=value: tx._x(
                sa.update(S.problems).where(own).values({field: value})
            ),
        )
    with store.transaction() as tx:
        kept = tx._x(sa.select(*(S.problems.c[f] for f in refs)).where(own)).one()
    assert dict(kept._mapping) == refs


def test_a_row_a_problem_refers_to_cannot_be_deleted_or_renamed(tiny_county):
    """Deleting a unit, district or area or changing its key is refused while a problem
    refers to it; a change keeping its key is fine; once no problem refers to it, it can
    go."""
    store = tiny_county
    add_own_rows(store)
    tables = [(S.units, "unit_id"), (S.districts, "district_id"), (S.areas, "area_id")]
    for table, key in tables:
        column, value = table.c[key], OWN[key]
        for change in (sa.delete(table), sa.update(table).values({key: value + "-renamed"})):
            refused(
                store, lambda tx, change=change, where=column == value: tx._x(change.where(where))
            )
        if table is not S.areas:
            with store.transaction() as tx:
                tx._x(sa.update(table).where(column == value).values(name="renamed"))
    with store.transaction() as tx:
        tx._x(sa.delete(S.problems).where(S.problems.c.problem_id == "OWN-1"))
        for table, key in tables:
            tx._x(sa.delete(table).where(table.c[key] == OWN[key]))
    with store.transaction() as tx:
        for table, key in tables:
            count = sa.select(sa.func.count()).where(table.c[key] == OWN[key])
            assert tx._x(count).scalar_one() == 0


@pytest.mark.parametrize(
    "tiny_county", [pytest.param("postgis", marks=pytest.mark.postgis)], indirect=True
)
def test_postgis_an_insert_locks_the_rows_it_refers_to_until_it_ends(tiny_county):
    """As a foreign key does: while a transaction that added a problem naming a unit is
    open, another cannot delete that unit (it waits; here it gives up after 0.3 s); once
    the first commits, the delete is refused (the problem is there now)."""
    store = tiny_county
    refs = add_own_rows(store)
    outcome: dict = {}
    inserted, done = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as tx:
            tx._x(sa.insert(S.problems).values(**problem("NEW-1", **refs)))
            inserted.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inserted.wait(10)
        with pytest.raises(StoreError) as waited, store.transaction() as tx:
            tx._x(sa.text("SET LOCAL lock_timeout = '300ms'"))
            tx._x(sa.delete(S.problems).where(S.problems.c.problem_id == "OWN-1"))
            tx._x(sa.delete(S.units).where(S.units.c.unit_id == OWN["unit_id"]))
        outcome["waited"] = str(waited.value)
    finally:
        done.set()
        thread.join()
    assert "lock timeout" in outcome["waited"]
    with (
        pytest.raises(StoreError, match="violates foreign key constraint"),
        store.transaction() as tx,
    ):
        tx._x(sa.delete(S.problems).where(S.problems.c.problem_id == "OWN-1"))
        tx._x(sa.delete(S.units).where(S.units.c.unit_id == OWN["unit_id"]))
