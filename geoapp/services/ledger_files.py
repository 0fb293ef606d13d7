"""The ledger as files: XLSX (one sheet per grouping and one of the problems) and CSV.

Headers are Chinese, as the county's staff file them.  Text is written as text, never as a
formula (:mod:`geoapp.io.sheets`).  CSV is UTF-8 with a byte-order mark so that Excel opens
it as UTF-8; it holds ONE table: a grouping (default: per unit) or the problem list
(``problems``) — the XLSX holds them all.

Flat memory at any size: the problems are read from the store a batch at a time
(:func:`~geoapp.services.ledger.iter_problem_frames`); the workbook is streamed into its
zip as it is written (:mod:`geoapp.io.xlsx_stream`) and the CSV is produced row by row (:func:`iter_csv`) for a streamed response.  No Flask here.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from geoapp.io.sheets import csv_row
from geoapp.io.xlsx_stream import Table, fitted_width, write_tables
from geoapp.services.ledger import Ledger, filter_label, iter_problem_columns
from geoapp.services.times import display_time

SHEET_TITLES = {"unit": "按责任单位", "district": "按片区", "category": "按问题类别"}
#: What a CSV can hold: one grouping (the XLSX's sheets, and per round) or the problems.
CSV_TABLES = ("unit", "district", "category", "round", "problems")
PROBLEMS_SHEET = "问题清单"
FILTERS_SHEET = "筛选条件"
FILTER_LABELS = {
    "round": "检查轮次",
    "category": "问题类别",
    "status": "状态",
    "district": "片区",
    "unit": "责任单位",
    "date_from": "起始日期",
    "date_to": "截止日期",
}
GROUP_KEY_HEADERS = {
    "unit": [("id", "单位编号"), ("name", "责任单位")],
    "district": [
        ("id", "片区编号"),
        ("name", "片区"),
        ("lead_unit_name", "牵头单位"),
    ],
    "category": [("id", "类别代码"), ("name", "问题类别"), ("deadline_hours", "整改时限(小时)")],
    "round": [("id", "检查轮次")],
}
TOTAL_HEADERS = [
    ("problems", "问题数"),
    ("duplicates", "其中重复"),
    ("deduction", "扣分"),
    ("open", "未办结"),
    ("overdue", "超期未整改"),
    ("closed", "已办结"),
    ("on_time", "按期整改"),
    ("late", "逾期整改"),
    ("closed_unknown", "整改时间不详"),
    ("on_time_rate", "按期整改率"),
]
RANK_HEADERS = [("rank", "扣分排名"), ("group_label", "通报")]
GROUP_LABELS = {"accountability": "通报批评", "commendation": "通报表扬"}
PROBLEM_HEADERS = [
    ("problem_id", "编号"),
    ("round", "检查轮次"),
    ("category_label", "问题类别"),
    ("description", "问题描述"),
    ("deduction", "扣分"),
    ("counted_deduction", "计入扣分"),
    ("duplicate_of", "重复于"),
    ("reported_at", "上报时间"),
    ("due", "整改期限"),
    ("status_label", "状态"),
    ("rectified_at", "整改时间"),
    ("on_time_label", "按期"),
    ("overdue_label", "超期"),
    ("district_name", "片区"),
    ("area_name", "包干区"),
    ("responsible_unit_name", "责任单位"),
    ("lead_unit_name", "牵头单位"),
]
WIDE = {"description": 36, "name": 24, "responsible_unit_name": 24, "lead_unit_name": 24}


def headers(group: str) -> list[tuple[str, str]]:
    """(field, Chinese header) of one grouping's table."""
    extra = RANK_HEADERS if group == "unit" else []
    return [*GROUP_KEY_HEADERS[group], *TOTAL_HEADERS, *extra]


def group_table(led: Ledger, group: str) -> list[list[Any]]:
    """One grouping as rows of cells (header row first), as on the page."""
    cols = headers(group)
    ranks = {r["id"]: r for r in led.ranking.rows} if group == "unit" else {}
    out: list[list[Any]] = [[h for _, h in cols]]
    for row in led.rows(group):
        full = dict(row)
        if full.get("id") is None:
            full["name"] = "未分配"
        if group == "unit":
            ranked = ranks.get(row["id"], {})
            full["rank"] = ranked.get("rank")
            full["group_label"] = GROUP_LABELS.get(ranked.get("group"))
        out.append([_cell(full.get(f)) for f, _ in cols])
    return out


def problem_rows(store, led: Ledger) -> Iterator[list[Any]]:
    """The problems as rows of cells (no header), read from the store a batch at a time and
    made a column at a time."""
    on_time = {True: "是", False: "否"}
    for columns in iter_problem_columns(store, led, "zh"):
        columns["on_time_label"] = [on_time.get(v, "") for v in columns["on_time"]]
        columns["overdue_label"] = ["是" if v else "" for v in columns["overdue"]]
        for key in ("reported_at", "due", "rectified_at"):
            columns[key] = [_time(v) for v in columns[key]]
        cells = [_cells(columns[f]) for f, _ in PROBLEM_HEADERS]
        yield from map(list, zip(*cells, strict=True))


def problem_table(store, led: Ledger) -> list[list[Any]]:
    """The problems as rows of cells, header row first (for a page or a test; exports
    stream :func:`problem_rows`)."""
    return [[h for _, h in PROBLEM_HEADERS], *problem_rows(store, led)]


def _time(iso: str | None) -> str | None:
    return iso[:16].replace("T", " ") if iso else None


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def _cells(values: list[Any]) -> list[Any]:
    """A column's cells: NaN as None."""
    return [None if v != v else v for v in values]


def filter_lines(led: Ledger) -> list[list[str]]:
    rows = [["条件", "取值"]]
    ref = led.extra["ref"]
    for name, values in led.filters.items():
        shown = [filter_label(ref, name, value, "zh") for value in values]
        rows.append([FILTER_LABELS.get(name, name), "、".join(shown)])
    if len(rows) == 1:
        rows.append(["（无）", "全部问题"])
    rows.append(["生成时间（北京时间）", display_time(led.generated_at)])
    return rows


def write_xlsx(store, led: Ledger, out: BinaryIO | str) -> None:
    """The workbook: per unit, per district, per category, the problems, the filters.

    Streamed (:func:`geoapp.io.xlsx_stream.write_tables`): memory stays flat whatever the
    number of problems, which are read from the store a batch at a time."""
    tables = [_table(SHEET_TITLES[g], headers(g), group_table(led, g)) for g in SHEET_TITLES]
    problems = itertools.chain([[h for _, h in PROBLEM_HEADERS]], problem_rows(store, led))
    tables.append(_table(PROBLEMS_SHEET, PROBLEM_HEADERS, problems))
    tables.append(_table(FILTERS_SHEET, [("name", ""), ("value", "")], filter_lines(led)))
    write_tables(out, tables)


def _table(title: str, columns: list[tuple[str, str]], rows: Iterable[list[Any]]) -> Table:
    fields = [f for f, _ in columns]
    widths = {i: WIDE[f] for i, f in enumerate(fields) if f in WIDE}
    formats = {fields.index("on_time_rate"): "0.0%"} if "on_time_rate" in fields else {}
    return Table(title, rows, widths, formats)


def _width(name: str, rows: list[list[Any]], index: int) -> float:
    """A column's width, as the workbook has it (for the benchmark's baselines)."""
    return WIDE.get(name) or fitted_width(rows, index)


def csv_table(store, led: Ledger, table: str = "unit") -> Iterator[list[Any]]:
    """The rows (header first) of one CSV table: a grouping or ``problems``."""
    if table == "problems":
        yield [h for _, h in PROBLEM_HEADERS]
        yield from problem_rows(store, led)
    else:
        yield from group_table(led, table)


def iter_csv(store, led: Ledger, table: str = "unit", rows_per_chunk: int = 500) -> Iterator[bytes]:
    """One CSV table (:func:`csv_table`) as UTF-8 with a byte-order mark (Excel then reads
    UTF-8), in chunks of ``rows_per_chunk`` rows: what a streamed response sends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    yield "\ufeff".encode()
    for i, row in enumerate(csv_table(store, led, table), 1):
        writer.writerow(csv_row(row))
        if i % rows_per_chunk == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def csv_bytes(store, led: Ledger, table: str = "unit") -> bytes:
    """One CSV table as bytes (UTF-8 with a byte-order mark)."""
    return b"".join(iter_csv(store, led, table))


def xlsx_bytes(store, led: Ledger) -> bytes:
    buf = io.BytesIO()
    write_xlsx(store, led, buf)
    return buf.getvalue()
