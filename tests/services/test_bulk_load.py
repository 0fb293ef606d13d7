"""A first import into a young store (``loading_problems``): on SQLite the indexes of problems
and their events are dropped for the load and built once at its end, when the first batch is
at least as large as the table; the rows stored are the row-by-row import's, every index is
back exactly as it was (also after a refused import, whose rollback restores them), and a
small batch into a larger table keeps them.  PostgreSQL keeps its indexes throughout."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import sqlalchemy as sa

from geoapp.services.problem_import import import_problem_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import rowwise_import  # noqa: E402 - the old row-by-row import, kept in bench/
from test_bulk_import import (  # noqa: E402
    HEADER,
    fixture_rows,
    good_rows,
    set_cell,
    stored_import,
    write_csv,
)

TABLES = ("problems", "problem_events")


def _indexes_in(tx) -> list[tuple[str, str]]:
    if tx._store.url.get_backend_name() == "sqlite":
        query = (
            "SELECT name, coalesce(sql, 'constraint') FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name IN ('problems', 'problem_events') ORDER BY name"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('problems', 'problem_events') ORDER BY indexname"
        )
    return [tuple(r) for r in tx._x(sa.text(query))]


def index_definitions(store) -> list[tuple[str, str]]:
    """(name, definition) of every index of problems and problem_events, as the database
    holds them ("constraint" for SQLite's own of a UNIQUE or PRIMARY KEY)."""
    with store.transaction() as tx:
        return _indexes_in(tx)


def write_sheet(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([[*HEADER, "坐标系"], *rows])
    return path


def test_a_first_import_stores_the_row_by_row_rows_and_rebuilds_every_index(tiny_county, tmp_path):
    """The tiny county holds 10 problems: a 60-row sheet in batches of 16 is a first load
    (indexes left out on SQLite); what it stores equals the row-by-row import of the same
    sheet, each index is back with the same definition, and the database is sound."""
    store = tiny_county
    indexes = index_definitions(store)
    assert len(indexes) >= 3  # the unique problem_id, the events' problem_pk, ...
    new = write_sheet(tmp_path / "new.csv", fixture_rows(store, "NEW"))
    old = write_sheet(tmp_path / "old.csv", fixture_rows(store, "OLD"))
    before = store.count_problems()
    done = import_problem_file(store, new, "tester", allow_bad=True, batch_rows=16)
    assert done.imported == 57 and store.count_problems() == before + 57
    assert index_definitions(store) == indexes
    plan = rowwise_import.plan_problem_import(store, old)
    rowwise_import.commit_problem_import(store, plan, "tester", allow_bad=True)
    assert stored_import(store, "NEW") == stored_import(store, "OLD")
    if store.url.get_backend_name() == "sqlite":
        with store.transaction() as tx:
            assert tx._x(sa.text("PRAGMA integrity_check")).scalar() == "ok"


def problem_columns(prefix: str, n: int) -> dict:
    """``n`` unassigned problems, column by column, as an import hands them to the store."""
    return {
        "problem_id": [f"{prefix}-{i}" for i in range(n)],
        "round": ["第1轮"] * n,
        "category": ["c"] * n,
        "reported_s": [1_711_929_600 + 60 * i for i in range(n)],
        "lon": [114.9] * n,
        "lat": [28.2] * n,
    }


def test_the_indexes_are_left_out_only_while_a_load_outgrows_the_table(tiny_county):
    """Inside a load, after its first batch: SQLite has no secondary index of problems or
    events (the 40 rows outnumber the 10 stored) and builds them at the block's end; a load
    of 16 rows into the 50 then stored keeps them all; PostgreSQL never drops one."""
    store = tiny_county
    indexes = index_definitions(store)
    constraint_only = [i for i in indexes if i[1] == "constraint"]
    sqlite = store.url.get_backend_name() == "sqlite"
    for prefix, rows, dropped in (("A", 40, sqlite), ("B", 16, False)):
        with store.transaction() as tx:
            with tx.loading_problems():
                tx.add_problem_columns(problem_columns(prefix, rows), actor="t")
                assert _indexes_in(tx) == (constraint_only if dropped else indexes), prefix
                tx.add_problem_columns(problem_columns(prefix + "2", 5), actor="t")
            assert _indexes_in(tx) == indexes
        assert index_definitions(store) == indexes
    assert store.count_problems() == 10 + 45 + 21


def test_a_refused_first_load_leaves_every_index_and_no_row(tiny_county, tmp_path):
    """A bad row in the third batch: the first two were written with the indexes left out,
    then the import is refused; the rollback brings every index back and stores nothing."""
    store = tiny_county
    indexes = index_definitions(store)
    before = store.count_problems()
    rows = good_rows(store, 50, prefix="R")
    set_cell(rows, 45, "问题类别", "不存在的类别")
    plan = import_problem_file(store, write_csv(tmp_path / "r.csv", rows), "t", batch_rows=16)
    assert plan.imported is None and [b.where for b in plan.bad] == ["line 45"]
    assert store.count_problems() == before
    assert index_definitions(store) == indexes
