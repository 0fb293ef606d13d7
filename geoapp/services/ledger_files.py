"""The ledger as files: XLSX (one sheet per grouping and one of the problems) and CSV.

Headers are Chinese, as the county's staff file them.  Text is written as text, never as a
formula (:mod:`geoapp.io.sheets`).  CSV is UTF-8 with a byte-order
mark so that Excel opens it as UTF-8; it holds ONE grouping (default: per unit) — the
XLSX holds them all.  No Flask here.
"""

from __future__ import annotations

import csv
import io
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from geoapp.io.sheets import csv_row, xlsx_cells
from geoapp.services.ledger import Ledger, filter_label, problem_records
from geoapp.services.times import display_time

SHEET_TITLES = {"unit": "按责任单位", "district": "按片区", "category": "按问题类别"}
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


def problem_table(led: Ledger) -> list[list[Any]]:
    out: list[list[Any]] = [[h for _, h in PROBLEM_HEADERS]]
    for r in problem_records(led, "zh"):
        r["on_time_label"] = {True: "是", False: "否"}.get(r["on_time"], "")
        r["overdue_label"] = "是" if r["overdue"] else ""
        for key in ("reported_at", "due", "rectified_at"):
            r[key] = _time(r[key])
        out.append([_cell(r.get(f)) for f, _ in PROBLEM_HEADERS])
    return out


def _time(iso: str | None) -> str | None:
    return iso[:16].replace("T", " ") if iso else None


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


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


def write_xlsx(led: Ledger, out: BinaryIO | str) -> None:
    """The workbook: per unit, per district, per category, the problems, the filters.

    Written in openpyxl's streaming (write-only) mode: 100,000 problems take seconds."""
    wb = Workbook(write_only=True)
    sheets = [
        (SHEET_TITLES[g], group_table(led, g), [f for f, _ in headers(g)]) for g in SHEET_TITLES
    ]
    sheets.append((PROBLEMS_SHEET, problem_table(led), [f for f, _ in PROBLEM_HEADERS]))
    sheets.append((FILTERS_SHEET, filter_lines(led), ["name", "value"]))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for title, rows, fields in sheets:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        for i, name in enumerate(fields, 1):
            ws.column_dimensions[get_column_letter(i)].width = _width(name, rows, i - 1)
        header = xlsx_cells(ws, rows[0])
        for cell in header:
            cell.font, cell.fill, cell.alignment = bold, fill, centred
        ws.append(header)
        rate = fields.index("on_time_rate") if "on_time_rate" in fields else None
        for row in rows[1:]:
            if rate is not None and row[rate] is not None:
                row = list(row)
                cell = WriteOnlyCell(ws, value=row[rate])
                cell.number_format = "0.0%"
                row[rate] = cell
            ws.append(xlsx_cells(ws, row))
    wb.save(out)


def _width(name: str, rows: list[list[Any]], index: int) -> float:
    if name in WIDE:
        return WIDE[name]

    def size(v: Any) -> int:
        text = "" if v is None else str(v)
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    longest = max((size(r[index]) for r in rows[:500] if index < len(r)), default=8)
    return float(min(max(longest + 2, 8), 40))


def csv_text(led: Ledger, group: str = "unit") -> str:
    """One grouping as CSV text (no BOM; see :func:`csv_bytes`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in group_table(led, group):
        writer.writerow(csv_row(row))
    return buf.getvalue()


def csv_bytes(led: Ledger, group: str = "unit") -> bytes:
    """One grouping as CSV in UTF-8 with a byte-order mark (Excel then reads UTF-8)."""
    return csv_text(led, group).encode("utf-8-sig")


def xlsx_bytes(led: Ledger) -> bytes:
    buf = io.BytesIO()
    write_xlsx(led, buf)
    return buf.getvalue()
