"""The ledger workbook's problem list against a hand count on the tiny county
(tests/hand_county.py: its docstring gives the table), cell by cell and type by type, on
SQLite and PostGIS; an empty ledger's workbook; the problems' columns and records agree."""

from __future__ import annotations

import io

from hand_county import NOW
from openpyxl import load_workbook

from geoapp.services import ledger as services_ledger
from geoapp.services import ledger_files as ledger_export

# 编号 检查轮次 问题类别 问题描述 (none: empty text) 扣分 计入扣分 重复于 上报时间 整改期限 状态 整改时间 按期 超期
# 片区 包干区 责任单位 牵头单位 (times: Beijing; deadlines: litter 24 h, parking 48 h)
D1 = ("一片区", "单位1")
D2 = ("二片区", "单位4")
HAND_COUNT = [
    ("P1", "R1", "垃圾落地", "", 2.0, 2.0, None, "2024-12-30 10:00", "2024-12-31 10:00",
     "已核查销号", "2024-12-30 20:00", "是", "", D1[0], "包干区1", "单位1", D1[1]),
    ("P2", "R1", "垃圾落地", "", 1.0, 1.0, None, "2024-12-31 09:00", "2025-01-01 09:00",
     "已整改", "2025-01-01 12:00", "否", "", D1[0], "包干区1", "单位1", D1[1]),
    ("P3", "R1", "乱停放", "", 0.5, 0.5, None, "2025-01-02 10:00", "2025-01-04 10:00",
     "已上报", None, "", "", D1[0], "包干区1", "单位1", D1[1]),
    ("P4", "R1", "垃圾落地", "", 3.0, 3.0, None, "2024-12-31 10:00", "2025-01-01 10:00",
     "已交办", None, "", "是", D1[0], "包干区2", "单位2", D1[1]),
    ("P5", "R1", "乱停放", "", 1.0, 1.0, None, "2025-01-01 00:30", "2025-01-03 00:30",
     "已核查销号", None, "", "", D1[0], "包干区2", "单位2", D1[1]),
    ("P6", "R2", "垃圾落地", "", 0.5, 0.5, None, "2025-01-01 08:00", "2025-01-02 08:00",
     "已整改", "2025-01-01 09:00", "是", "", D1[0], "包干区3", "单位3", D1[1]),
    ("P7", "R2", "垃圾落地", "", 0.5, 0.5, None, "2025-01-02 08:00", "2025-01-03 08:00",
     "整改中", None, "", "是", None, None, None, None),
    ("P8", "R2", "乱停放", "", 0.5, 0.5, None, "2025-01-01 10:00", "2025-01-03 10:00",
     "已核查销号", "2025-01-02 10:00", "是", "", D2[0], "包干区4", "单位4", D2[1]),
    ("P9", "R2", "垃圾落地", "", 0.5, 0.5, None, "2025-01-01 11:00", "2025-01-02 11:00",
     "已核查销号", "2025-01-02 11:00", "是", "", D2[0], "包干区4", "单位4", D2[1]),
    ("P10", "R2", "垃圾落地", "", 0.5, 0.5, None, "2025-01-02 09:00", "2025-01-03 09:00",
     "整改中", None, "", "是", D2[0], "包干区5", "单位5", D2[1]),
]  # fmt: skip


def _book(store, args):
    led = services_ledger.build(store, args, "zh", NOW)
    return led, load_workbook(io.BytesIO(ledger_export.xlsx_bytes(store, led)))


def _groupings_as_on_the_page(led, wb) -> None:
    for group, title in ledger_export.SHEET_TITLES.items():
        got = [list(r) for r in wb[title].iter_rows(values_only=True)]
        assert got == ledger_export.group_table(led, group)
        assert got[0][0] in ("单位编号", "片区编号", "类别代码")


def test_problem_sheet_matches_the_hand_count_cell_by_cell(tiny_county):
    led, wb = _book(tiny_county, {})
    ws = wb["问题清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == tuple(h for _, h in ledger_export.PROBLEM_HEADERS)
    assert rows[1:] == HAND_COUNT
    # types: ids, names and times are text; points are numbers; nothing is a formula
    for row in ws.iter_rows(min_row=2):
        kinds = [(c.data_type, type(c.value)) for c in row]
        assert kinds[0] == ("s", str) and kinds[4] == kinds[5] == ("n", float)
        assert kinds[7] == kinds[8] == ("s", str)
        assert all(kind != "f" for kind, _ in kinds)
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    # the widths: as wide as the longest of the first rows (Chinese characters count
    # twice), the description column 36
    assert round(ws.column_dimensions["A"].width) == 9  # "编号" + 2, at least 8
    assert round(ws.column_dimensions["D"].width) == 37  # 36 and the padding
    assert round(ws.column_dimensions["H"].width) == 19  # "2024-12-30 10:00" + 2
    # the sheets read the same as the page's tables, and the same as the CSV
    _groupings_as_on_the_page(led, wb)
    csv_rows = ledger_export.csv_table(tiny_county, led, "problems")
    assert [tuple(r) for r in csv_rows] == rows


def test_an_empty_ledger_gives_a_workbook_with_headers_only(tiny_county):
    led, wb = _book(tiny_county, {"date_from": ["2030-01-01"]})
    assert led.totals["problems"] == 0
    assert wb.sheetnames == ["按责任单位", "按片区", "按问题类别", "问题清单", "筛选条件"]
    problems = list(wb["问题清单"].iter_rows(values_only=True))
    assert problems == [tuple(h for _, h in ledger_export.PROBLEM_HEADERS)]
    _groupings_as_on_the_page(led, wb)
    filters = dict(list(wb["筛选条件"].iter_rows(values_only=True))[1:])
    assert filters["起始日期"] == "2030-01-01"


def test_problem_columns_and_records_agree_in_both_languages(tiny_county):
    led = services_ledger.build(tiny_county, {}, "zh", NOW)
    for locale in ("zh", "en"):
        batches = list(services_ledger.iter_problem_columns(tiny_county, led, locale, batch=4))
        assert [len(b["id"]) for b in batches] == [4, 4, 2]
        assert all(sorted(b) == sorted(services_ledger.RECORD_FIELDS) for b in batches)
        records = services_ledger.problem_records(tiny_county, led, locale)
        assert [r["problem_id"] for r in records] == [f"P{i}" for i in range(1, 11)]
        flat = {f: [v for b in batches for v in b[f]] for f in services_ledger.RECORD_FIELDS}
        assert flat == {f: [r[f] for r in records] for f in services_ledger.RECORD_FIELDS}
    en = services_ledger.problem_records(tiny_county, led, "en")
    assert [r["category_label"] for r in en[:3]] == ["Litter", "Litter", "Parking"]
    assert [r["status_label"] for r in en[:3]] == ["verified", "rectified", "reported"]
    assert en[0]["reported_at"] == "2024-12-30T10:00:00+08:00" and en[2]["rectified_at"] is None
