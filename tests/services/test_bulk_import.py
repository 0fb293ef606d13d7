"""Importing inspection sheets batch by batch (``problem_import``): bad rows scattered through
a large sheet are named by exactly their lines, across batch edges; the batch import stores
what the row-by-row import stored (rows, assignments, events) on both backends; GBK CSV and
XLSX give the same plan as UTF-8 CSV."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from geoapp.cli import main
from geoapp.services import mapping
from geoapp.services.problem_import import import_problem_file, plan_problem_import
from geoapp.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import rowwise_import  # noqa: E402 - the old row-by-row import, kept in bench/
from make_problems import SHEET_HEADER  # noqa: E402

HEADER = [*SHEET_HEADER[:8], "整改完成时间", *SHEET_HEADER[8:]]
COLUMN = {name: k for k, name in enumerate(HEADER)}


def good_rows(store, n: int, seed: int = 3, prefix: str = "B") -> list[list[str]]:
    """``n`` valid rows over the county's bounding box (some outside every area), every
    status, a rectification time on some of the rectified ones."""
    rng = np.random.default_rng(seed)
    zoning = mapping.zoning_for(store)
    minx, miny, maxx, maxy = store.areas(zoning.generation).total_bounds
    names = [c["name_zh"] for c in store.list_categories()]
    statuses = ["已上报", "已交办", "整改中", "已整改", "已核查销号", ""]
    rows = []
    for i in range(n):
        status = statuses[i % len(statuses)]
        day = 1 + i % 28
        rectified = f"2024-05-{day:02d} 17:00" if status == "已整改" and i % 4 == 3 else ""
        rows.append(
            [
                f"{prefix}-{i + 1:06d}",
                f"第{1 + i % 10}轮",
                names[int(rng.integers(len(names)))],
                f"{prefix} 描述 {i}",
                ["0.5", "1", "2", ""][i % 4],
                f"2024-04-{day:02d} {8 + i % 10:02d}:{i % 60:02d}",
                status,
                "王磊",
                rectified,
                f"{minx + rng.random() * (maxx - minx):.7f}",
                f"{miny + rng.random() * (maxy - miny):.7f}",
            ]
        )
    return rows


def write_csv(path: Path, rows, encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def set_cell(rows, line: int, column: str, value: str) -> None:
    rows[line - 2][COLUMN[column]] = value


#: What the tests build from the demo county (rows over its bounds and categories, the files
#: made of them), built once per module: every backend's copy of the demo holds the same
#: county, and the tests only read them (each writes the file into its own folder).
_BUILT: dict[str, object] = {}


def once(key: str, build):
    """``build()``, called once per module and key."""
    if key not in _BUILT:
        _BUILT[key] = build()
    return _BUILT[key]


def big_sheet(store) -> tuple[list[list[str]], bytes]:
    """20,000 rows with bad rows at known lines (on batch edges too, a repeated id across
    batches and within one), and the UTF-8 CSV of them."""

    def build():
        rows = good_rows(store, 20_000)
        set_cell(rows, 3, "问题类别", "不存在的类别")
        set_cell(rows, 1000, "扣分", "abc")
        set_cell(rows, 6001, "上报时间", "2024-02-30 10:00")  # last row of the first batch
        set_cell(rows, 6002, "经度", "东经")  # first row of the second batch
        set_cell(rows, 9000, "状态", "不知道")
        set_cell(rows, 12000, "状态", "已整改")
        set_cell(rows, 12000, "整改完成时间", "2024-03-01 09:00")  # before its report
        set_cell(rows, 14000, "整改完成时间", "2024-05-01 09:00")
        set_cell(rows, 14000, "状态", "已上报")  # a rectified time on an open problem
        set_cell(rows, 15000, "编号", rows[10 - 2][0])  # repeats line 10 (another batch)
        set_cell(rows, 16000, "编号", rows[15990 - 2][0])  # repeats line 15990 (same batch)
        set_cell(rows, 19999, "检查轮次", "")
        set_cell(rows, 20001, "上报时间", "")
        data = io.StringIO(newline="")
        csv.writer(data).writerows([HEADER, *rows])
        return rows, data.getvalue().encode("utf-8")

    return once("big", build)


def test_bad_rows_at_scale_are_named_by_exactly_their_lines(demo_url, tmp_path):
    """20,000 rows in batches of 6,000 with bad rows at known lines (on batch edges too, a
    repeated id across batches and within one): the plan names exactly those lines, in the
    order the row-by-row import did (repeats last); --commit refuses and writes nothing;
    --skip-bad writes all the others."""
    with open_store(demo_url) as store:
        rows, data = big_sheet(store)
        before = store.count_problems()
    src = tmp_path / "big.csv"
    src.write_bytes(data)
    checked = [3, 1000, 6001, 6002, 9000, 12000, 14000, 19999, 20001]
    expected = [f"line {n}" for n in checked] + ["line 15000", "line 16000"]
    with open_store(demo_url) as store:
        plan = plan_problem_import(store, src, keep_rows=False, batch_rows=6000)
    assert [b.where for b in plan.bad] == expected
    reasons = {b.where: b.reason for b in plan.bad}
    assert reasons["line 3"] == "unknown category '不存在的类别'"
    assert reasons["line 6001"] == "reported time '2024-02-30 10:00' is not a date and time"
    assert reasons["line 6002"].startswith("经度/纬度 is not a pair of numbers")
    assert reasons["line 12000"].startswith("rectified time '2024-03-01 09:00' is before")
    assert reasons["line 15000"] == f"problem id {rows[8][0]} appears twice in the file"
    assert plan.new == 20_000 - len(expected)
    # the command line, with its own batches, names the same lines
    r = CliRunner().invoke(main, ["--database-url", demo_url, "import-problems", str(src)])
    assert r.exit_code == 0, r.output
    named = [
        line.removeprefix("bad row: ").split(": ")[0]
        for line in r.output.splitlines()
        if line.startswith("bad row: ")
    ]
    assert named == expected
    r = CliRunner().invoke(
        main, ["--database-url", demo_url, "import-problems", str(src), "--commit"]
    )
    assert r.exit_code == 2 and "11 bad row(s)" in r.output and "nothing was imported" in r.output
    with open_store(demo_url) as store:
        assert store.count_problems() == before
        plan = import_problem_file(store, src, "test", allow_bad=True, batch_rows=6000)
        assert plan.imported == 20_000 - len(expected)
        assert store.count_problems() == before + plan.imported
        stored = store.existing_problem_ids([rows[n - 2][0] for n in (3, 10, 15000, 15990, 20000)])
    assert stored == {rows[8][0], rows[15988][0], rows[19998][0]}


def fixture_rows(store, prefix: str) -> list[list[str]]:
    """A small sheet with every case: unassigned points, category rules, rectified times,
    rows without an id, a repeated id, bad rows, GCJ-02 and BD-09 rows (a CRS column)."""
    rows = good_rows(store, 60, seed=5, prefix=prefix)
    for i, row in enumerate(rows):
        row.append(["", "gcj02", "bd09", "wgs84"][i % 4])
    rows[4][0] = rows[7][0] = ""  # no id: one is made up
    rows[11][0] = rows[2][0]  # repeated
    rows[20][COLUMN["扣分"]] = "200"
    rows[21][COLUMN["上报时间"]] = "2024年4月5日 10:30"  # read by the fallback
    rows[22][COLUMN["上报时间"]] = "2024-04-05T10:30:00+09:00"
    rows[23][-1] = "EPSG:0"
    rows[24][COLUMN["纬度"]] = "28°"
    return rows


def stored_import(store, prefix: str) -> dict:
    """The problems a sheet of ``prefix`` added (by description) with their events, the
    prefix taken out of ids, descriptions and details."""
    out = {}
    for p in store.problems({}):
        if not (p["description"] or "").startswith(f"{prefix} 描述"):
            continue
        events = []
        for e in store.problem_events(p["id"]):
            detail = dict(e["detail"] or {})
            if "problem_id" in detail:
                detail["problem_id"] = _plain(detail["problem_id"])
            at = e["at"] if e["kind"] == "status" else None
            events.append((e["kind"], e["actor"], detail, at))
        row = {k: v for k, v in p.items() if k not in ("id", "created_at", "updated_at")}
        row["problem_id"] = _plain(row["problem_id"])
        row["description"] = _strip(row["description"])
        out[row["description"]] = (row, events)
    return out


def _plain(problem_id: str) -> str:
    return "made-up" if problem_id.startswith("P-") else _strip(problem_id)


def _strip(text):
    """An id or description without the OLD/NEW before its first "-" or space."""
    return None if text is None else text.replace("OLD", "", 1).replace("NEW", "", 1)


def _plain_row(row: dict) -> dict:
    return {
        **row,
        "problem_id": _strip(row["problem_id"]),
        "description": _strip(row["description"]),
    }


def test_batches_store_what_the_row_by_row_import_stored(demo_url, tmp_path):
    """The same sheet (ids prefixed OLD- and NEW-) through the row-by-row import and the
    batch import: the same bad rows and reasons, the same stored fields and assignments,
    the same events; importing it again skips the same ids."""
    with open_store(demo_url) as store:
        old_rows = fixture_rows(store, "OLD")
        new_rows = fixture_rows(store, "NEW")
    header = [*HEADER, "坐标系"]
    for name, rows in (("old.csv", old_rows), ("new.csv", new_rows)):
        with open(tmp_path / name, "w", encoding="gbk", newline="") as out:
            csv.writer(out).writerows([header, *rows])
    with open_store(demo_url) as store:
        old = rowwise_import.plan_problem_import(store, tmp_path / "old.csv")
        new = plan_problem_import(store, tmp_path / "new.csv", batch_rows=16)
        assert [(b.where, b.reason.replace("OLD", "NEW")) for b in old.bad] == [
            (b.where, b.reason) for b in new.bad
        ]
        assert len(old.bad) == 3
        assert [_plain_row(r) for r in old.rows] == [_plain_row(r) for r in new.rows]
        rowwise_import.commit_problem_import(store, old, "tester", allow_bad=True)
        done = import_problem_file(
            store, tmp_path / "new.csv", "tester", allow_bad=True, batch_rows=16
        )
        assert done.imported == len(old.rows) == 57
        by_old = stored_import(store, "OLD")
        by_new = stored_import(store, "NEW")
        assert len(by_new) == 57 and by_new == by_old
        assert sum(r["area_id"] is None for r, _ in by_new.values()) > 0
        assert any(r["rule_id"] for r, _ in by_new.values())
        assert any(e[0] == "status" for _, events in by_new.values() for e in events)
        again_old = rowwise_import.plan_problem_import(store, tmp_path / "old.csv")
        again_new = plan_problem_import(store, tmp_path / "new.csv", batch_rows=16)
    assert [_strip(i) for i in again_old.skipped_existing] == [
        _strip(i) for i in again_new.skipped_existing
    ]
    assert len(again_new.skipped_existing) == 56 and again_new.new == 2


def test_xlsx_and_gbk_sheets_plan_as_utf8_csv(demo_url, tmp_path):
    """The same rows as UTF-8 CSV, GBK CSV and XLSX: the same new rows and assignments; the
    same bad rows, named "line N" in a CSV and "row N" in a sheet."""
    from openpyxl import Workbook

    with open_store(demo_url) as store:
        rows = good_rows(store, 300, seed=9)
        set_cell(rows, 50, "扣分", "x")
        set_cell(rows, 250, "问题类别", "")
        write_csv(tmp_path / "u.csv", rows)
        write_csv(tmp_path / "g.csv", rows, encoding="gbk")
        book = Workbook()
        sheet = book.active
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        book.save(tmp_path / "s.xlsx")
        plans = [
            plan_problem_import(store, tmp_path / name, batch_rows=128)
            for name in ("u.csv", "g.csv", "s.xlsx")
        ]
    utf8, gbk, xlsx = plans
    assert [b.where for b in utf8.bad] == ["line 50", "line 250"]
    assert [(b.where, b.reason) for b in gbk.bad] == [(b.where, b.reason) for b in utf8.bad]
    assert [(b.where.replace("row", "line"), b.reason) for b in xlsx.bad] == [
        (b.where, b.reason) for b in utf8.bad
    ]
    for plan in (gbk, xlsx):
        assert plan.summary() | {"source": None} == utf8.summary() | {"source": None}
        assert [{**r, "_where": None} for r in plan.rows] == [
            {**r, "_where": None} for r in utf8.rows
        ]


def test_a_sheet_neither_utf8_nor_gbk_is_named_by_its_first_bad_line(demo_url, tmp_path):
    """The encoding is chosen reading the whole file in blocks: a bad byte far down (past the
    first block) is still found, and named by its line."""

    def build() -> bytes:
        rows = good_rows(store, 12_000, seed=2)
        data = io.StringIO()
        csv.writer(data).writerows([HEADER, *rows])
        raw = bytearray(data.getvalue().encode("utf-8"))
        line_start = [i + 1 for i, b in enumerate(raw) if b == 10]
        at = line_start[11_001 - 2] + 2  # inside line 11,001 (line_start[k]: line k + 2)
        raw[at : at + 2] = b"\xff\xff"
        return bytes(raw)

    with open_store(demo_url) as store:
        (tmp_path / "bad.csv").write_bytes(once("bad-byte", build))
    r = CliRunner().invoke(
        main, ["--database-url", demo_url, "import-problems", str(tmp_path / "bad.csv")]
    )
    assert r.exit_code == 2
    assert "line 11001 is neither UTF-8 nor GBK text" in r.output


@pytest.mark.parametrize("batch_rows", [1, 7, 10_000])
def test_batch_size_does_not_change_the_plan(demo_url, tmp_path, batch_rows):
    with open_store(demo_url) as store:
        rows = good_rows(store, 40, seed=4)
        rows[30][0] = rows[3][0]
        set_cell(rows, 20, "扣分", "-1")
        src = write_csv(tmp_path / "s.csv", rows)
        one = plan_problem_import(store, src, batch_rows=10_000)
        plan = plan_problem_import(store, src, batch_rows=batch_rows)
    assert (
        [str(b) for b in plan.bad]
        == [str(b) for b in one.bad]
        == [
            "line 20: deduction '-1' is not a number between 0 and 100",
            f"line 32: problem id {rows[3][0]} appears twice in the file",
        ]
    )
    assert plan.rows == one.rows and plan.summary() == one.summary()


def test_text_that_cannot_be_stored_is_named_by_line_and_field(demo_url, tmp_path):
    """A NUL in any field of a sheet's row makes the row bad, naming each such field, in
    whichever batch it falls; a NUL in a column the import does not read is no fault.  (The
    NULs come after the first 8 KiB, where a file's kind is sniffed: a NUL there makes it
    no text file.)"""
    with open_store(demo_url) as store:
        rows = once("small", lambda: good_rows(store, 200, seed=11, prefix="T"))
    rows = [[*row, "备注"] for row in rows]
    faults = {150: ["问题描述"], 170: ["上报人", "编号"], 201: ["检查轮次"]}
    for line, columns in faults.items():
        for column in columns:
            set_cell(rows, line, column, rows[line - 2][COLUMN[column]] + "\x00x")
    rows[180 - 2][-1] = "a\x00b"  # the extra column: not read
    src = tmp_path / "nul.csv"
    with open(src, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([[*HEADER, "备注"], *rows])
    field = {"问题描述": "description", "上报人": "reporter", "编号": "problem_id"}
    field["检查轮次"] = "round"
    expected = {
        f"line {line}": sorted(field[c] for c in columns) for line, columns in faults.items()
    }
    with open_store(demo_url) as store:
        for batch_rows in (30, 1000):
            plan = plan_problem_import(store, src, keep_rows=False, batch_rows=batch_rows)
            named = {b.where: sorted(values["field"] for _, values in b.messages) for b in plan.bad}
            assert named == expected
            assert plan.new == 200 - len(faults)
