"""The ledger as it was computed before the store counted it: the named baseline of
``bench_ledger.py`` and the reference of ``tests/services/test_ledger_sql_reference.py``.

``python_ledger``: every problem of the filter read into a DataFrame (``problem_frame``),
every rectification event into a dict (``rectified_times``), then counted in pandas by the
per-problem rules of :mod:`geoapp.core.ledger` (``problem_table``, ``totals``,
``group_totals``, ``daily``) — what ``services.ledger.build`` did.  ``write_openpyxl``: the
workbook written by openpyxl's write-only mode from lists of every row, as
``ledger_files.write_xlsx`` did first; ``write_xlsxwriter``: written by XlsxWriter in its
constant-memory mode from the problems' rows, as it did next.  Kept here, not in the
application.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from geoapp.core import ledger
from geoapp.services import ledger_files as files
from geoapp.services import query_params, reading


def python_ledger(store, args, now: datetime | None = None) -> dict[str, Any]:
    """The ledger's figures (totals, per unit / district / category / round, the ranking,
    the daily chart) computed per problem in Python, as before."""
    now = now or datetime.now(UTC)
    with reading._reading(store) as read:
        flt = query_params.parse_problem_filter(args, read.ref)
        rows = read.tx.problem_frame(flt.store, ledger.INPUT_COLUMNS)
        rectified = read.tx.rectified_times(flt.store)
        areas = reading._areas(read, read.tx.current_generation())
        ref = read.ref
        all_units = {k: v for k, v in flt.store.items() if k != "responsible_unit_id"}
        if all_units != flt.store:
            all_rows = read.tx.problem_frame(all_units, ledger.INPUT_COLUMNS)
            all_rectified = read.tx.rectified_times(all_units)
    hours = {c: v.get("deadline_hours") for c, v in ref.categories.items()}
    table = ledger.problem_table(rows, hours, rectified, now)
    wanted_units = flt.store.get("responsible_unit_id")
    wanted_districts = flt.store.get("district_id")
    area_units = areas
    if wanted_districts:
        area_units = area_units[area_units["district_id"].isin(wanted_districts)]
    county_keys = sorted(set(area_units["responsible_unit_id"].dropna()))
    unit_keys = [u for u in wanted_units if u in ref.units] if wanted_units else county_keys
    by_unit = ledger.group_totals(table, "unit", unit_keys)
    if wanted_units:
        all_table = ledger.problem_table(all_rows, hours, all_rectified, now)
        all_keys = sorted({*county_keys, *unit_keys})
        county = ledger.group_totals(all_table, "unit", all_keys)
        ranking = ledger.restrict(ledger.rank_units(county), unit_keys)
    else:
        ranking = ledger.rank_units(by_unit)
    return {
        "totals": ledger.totals(table),
        "by_unit": by_unit,
        "by_district": ledger.group_totals(
            table, "district", list(wanted_districts or ref.districts)
        ),
        "by_category": ledger.group_totals(table, "category"),
        "by_round": ledger.group_totals(table, "round"),
        "ranking": ranking_summary(ranking),
        "daily": ledger.daily(table),
    }


def ranking_summary(ranking: ledger.Ranking) -> dict[str, Any]:
    """What a ranking says: (id, rank, group) in order, how many ranked, who is shown."""
    return {
        "rows": [(r["id"], r["rank"], r["group"]) for r in ranking.rows],
        "ranked": ranking.ranked,
        "shown": ranking.shown,
    }


def figures_of(led) -> dict[str, Any]:
    """The same figures from a :class:`geoapp.services.ledger.Ledger` (names dropped)."""
    fields = ("id", *ledger.TOTAL_FIELDS)
    return {
        "totals": led.totals,
        **{
            f"by_{g}": [{k: r[k] for k in fields} for r in led.rows(g)]
            for g in ("unit", "district", "category", "round")
        },
        "ranking": ranking_summary(led.ranking),
        "daily": led.daily,
    }


def strip(figures: dict[str, Any]) -> dict[str, Any]:
    fields = ("id", *ledger.TOTAL_FIELDS)
    return {
        k: [{f: r[f] for f in fields} for r in v] if k.startswith("by_") else v
        for k, v in figures.items()
    }


def write_openpyxl(store, led, out) -> None:
    """The workbook as before: openpyxl write-only, every problem row in a list first."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from geoapp.io.sheets import xlsx_cells

    wb = Workbook(write_only=True)
    sheets = [
        (files.SHEET_TITLES[g], files.group_table(led, g), [f for f, _ in files.headers(g)])
        for g in files.SHEET_TITLES
    ]
    problems = files.problem_table(store, led)
    sheets.append((files.PROBLEMS_SHEET, problems, [f for f, _ in files.PROBLEM_HEADERS]))
    sheets.append((files.FILTERS_SHEET, files.filter_lines(led), ["name", "value"]))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for title, rows, fields in sheets:
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        for i, name in enumerate(fields, 1):
            ws.column_dimensions[get_column_letter(i)].width = files._width(name, rows, i - 1)
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


def write_xlsxwriter(store, led, out) -> None:
    """The workbook as before the streaming writer: XlsxWriter in constant-memory mode, a
    call per cell, the problems' rows made a record at a time."""
    import itertools

    import xlsxwriter

    wb = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header_format = wb.add_format(
        {
            "bold": True,
            "bg_color": "#DDEBF7",
            "pattern": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    rate_format = wb.add_format({"num_format": "0.0%"})
    sheets = [
        (files.SHEET_TITLES[g], [f for f, _ in files.headers(g)], files.group_table(led, g))
        for g in files.SHEET_TITLES
    ]
    problems = itertools.chain([[h for _, h in files.PROBLEM_HEADERS]], _record_rows(store, led))
    sheets.append((files.PROBLEMS_SHEET, [f for f, _ in files.PROBLEM_HEADERS], problems))
    sheets.append((files.FILTERS_SHEET, ["name", "value"], files.filter_lines(led)))
    try:
        for title, fields, rows in sheets:
            ws = wb.add_worksheet(title)
            ws.freeze_panes(1, 0)
            rows = iter(rows)
            first = list(itertools.islice(rows, 501))
            for i, name in enumerate(fields):
                ws.set_column(i, i, files._width(name, first, i))
            rate = fields.index("on_time_rate") if "on_time_rate" in fields else None
            for n, row in enumerate(itertools.chain(first, rows)):
                for col, value in enumerate(row):
                    fmt = header_format if n == 0 else (rate_format if col == rate else None)
                    _write_xlsxwriter_cell(ws, n, col, value, fmt)
    finally:
        wb.close()


def _record_rows(store, led):
    """The problems' rows made a record (a dict) at a time, as before."""
    from geoapp.services.ledger import iter_problem_records

    for r in iter_problem_records(store, led, "zh"):
        r["on_time_label"] = {True: "是", False: "否"}.get(r["on_time"], "")
        r["overdue_label"] = "是" if r["overdue"] else ""
        for key in ("reported_at", "due", "rectified_at"):
            r[key] = files._time(r[key])
        yield [files._cell(r.get(f)) for f, _ in files.PROBLEM_HEADERS]


def _write_xlsxwriter_cell(ws, row, col, value, fmt) -> None:
    import numbers

    from geoapp.io.sheets import xlsx_text

    if value is None or (isinstance(value, float) and value != value):
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        ws.write_string(row, col, xlsx_text(text), fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, numbers.Real):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, xlsx_text(str(value)), fmt)
