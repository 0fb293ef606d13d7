"""The streaming XLSX writer (geoapp/io/xlsx_stream.py): what a spreadsheet reads back is
exactly what was written, cell by cell and type by type (read back with openpyxl, as a
spreadsheet program would, in both of its modes); texts never become formulas; memory does
not grow with the number of rows."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from geoapp.io.xlsx_stream import StreamWorkbook, Table, column_letter, write_frame, write_tables

#: One dangerous text per first character, as tests/io/test_sheets.py has them.
FORMULAS = ["=1+1", '=HYPERLINK("http://x/","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)"]


def _book(write) -> bytes:
    buf = io.BytesIO()
    with StreamWorkbook(buf) as book:
        write(book)
    return buf.getvalue()


def _fixture(book: StreamWorkbook) -> None:
    percent = book.number_format("0.0%")
    with book.sheet("问题清单", widths=[10, 30, 8, 8, 18, 12], formats={2: percent}) as sheet:
        sheet.header(["编号", "问题描述", "按期整改率", "扣分", "上报时间", "日期"])
        sheet.row(["P1", "垃圾落地", 0.5, 2, datetime(2024, 12, 30, 10, 0), date(2025, 1, 3)])
        sheet.row(["P2", "a & <b> \"c\" 'd'", None, 1.5, None, None])
        sheet.row([3, "", 1, np.float64(0.25), np.int64(7), True])
        sheet.row(["P4"])  # a short row
    with book.sheet("筛选条件") as sheet:
        sheet.header(["条件", "取值"])
        sheet.row(["片区", "第一片区（城关片区）"])


def test_a_small_workbook_reads_back_cell_by_cell():
    data = _book(_fixture)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["问题清单", "筛选条件"]
    ws = wb["问题清单"]
    got = [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]
    blank = (None, "n")
    assert got == [
        [("编号", "s"), ("问题描述", "s"), ("按期整改率", "s"), ("扣分", "s")]
        + [("上报时间", "s"), ("日期", "s")],
        [("P1", "s"), ("垃圾落地", "s"), (0.5, "n"), (2, "n")]
        + [(datetime(2024, 12, 30, 10, 0), "d"), (datetime(2025, 1, 3), "d")],
        [("P2", "s"), ("a & <b> \"c\" 'd'", "s"), blank, (1.5, "n"), blank, blank],
        [(3, "n"), ("", "s"), (1, "n"), (0.25, "n"), (7, "n"), (True, "b")],
        [("P4", "s"), blank, blank, blank, blank, blank],
    ]
    assert type(ws["D2"].value) is int and type(ws["D3"].value) is float
    # the header: bold, shaded, centred, wrapped; the rest plain
    for cell in ws[1]:
        assert cell.font.b and cell.fill.fgColor.rgb == "FFDDEBF7"
        assert cell.alignment.horizontal == "center" and cell.alignment.wrap_text
    assert not ws["A2"].font.b and ws["A2"].fill.fill_type is None
    # number formats: the column's own, else the date formats
    assert [ws.cell(row=r, column=3).number_format for r in (2, 3, 4)] == ["0.0%"] * 3
    assert ws["E2"].number_format == "yyyy-mm-dd hh:mm" and ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["D2"].number_format == "General"
    # widths as Excel stores them (the characters shown plus the cell's padding)
    assert ws.column_dimensions["A"].width == pytest.approx(10.71, abs=0.01)
    assert ws.column_dimensions["B"].width == pytest.approx(30.71, abs=0.01)
    assert ws.freeze_panes == "A2" and wb["筛选条件"].freeze_panes == "A2"
    assert [[c.value for c in r] for r in wb["筛选条件"].iter_rows()] == [
        ["条件", "取值"],
        ["片区", "第一片区（城关片区）"],
    ]
    # the read-only reader (a streaming one, as large files are read) sees the same
    fast = load_workbook(io.BytesIO(data), read_only=True)
    assert [list(r) for r in fast["问题清单"].iter_rows(values_only=True)] == [
        [v for v, _ in row] for row in got
    ]


def test_the_package_has_every_part_a_spreadsheet_needs():
    names = zipfile.ZipFile(io.BytesIO(_book(_fixture))).namelist()
    assert sorted(names) == sorted(
        [
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
        ]
    )


@pytest.mark.parametrize("text", FORMULAS + ["\t=1+1", "\r=1+1"])
def test_a_text_that_looks_like_a_formula_stays_text(text):
    def write(book):
        with book.sheet("s") as sheet:
            sheet.row([text, text.encode().decode()])

    data = _book(write)
    wb = load_workbook(io.BytesIO(data))  # not data_only: a formula would read as one
    cells = list(wb["s"].iter_rows())[0]
    assert [c.data_type for c in cells] == ["s", "s"]
    assert cells[0].value == text.replace("\r", "\n")  # XML reads CR back as LF
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


def test_texts_xml_cannot_hold_are_replaced_not_fatal():
    texts = [
        "a\x00b\x1fc",
        "line\r\nbreak\rend",
        "lone \ud800 surrogate",
        "\ufffe\uffff",
        "tab\tok",
    ]

    def write(book):
        with book.sheet("s") as sheet:
            sheet.rows([[t] for t in texts])

    wb = load_workbook(io.BytesIO(_book(write)))
    assert [r[0] for r in wb["s"].iter_rows(values_only=True)] == [
        "a\ufffdb\ufffdc",
        "line\nbreak\nend",
        "lone \ufffd surrogate",
        "\ufffd\ufffd",
        "tab\tok",
    ]


def test_a_text_spelling_excels_escape_is_escaped_for_excel():
    """Excel reads _x0041_ in a cell's XML as "A"; written as _x005F_x0041_ it shows the
    text as typed (openpyxl reads the XML as it is)."""

    def write(book):
        with book.sheet("s") as sheet:
            sheet.row(["_x0041_ and _x00e9_ but not _x12_ nor _xZZZZ_"])

    data = _book(write)
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "_x005F_x0041_ and _x005F_x00e9_ but not _x12_ nor _xZZZZ_" in xml


def test_numbers_that_are_no_number_are_empty_cells():
    def write(book):
        with book.sheet("s", formats={1: book.number_format("0.00")}) as sheet:
            sheet.row([float("nan"), float("inf"), -float("inf"), np.float64("nan"), 1e-05])

    wb = load_workbook(io.BytesIO(_book(write)))
    cells = list(wb["s"].iter_rows())[0]
    assert [c.value for c in cells] == [None, None, None, None, 1e-05]
    assert cells[1].number_format == "0.00"  # the empty cell keeps its column's format


def test_a_header_only_workbook_and_an_empty_one_are_valid():
    def header_only(book):
        with book.sheet("问题清单") as sheet:
            sheet.header(["编号", "问题描述"])

    wb = load_workbook(io.BytesIO(_book(header_only)))
    assert list(wb["问题清单"].iter_rows(values_only=True)) == [("编号", "问题描述")]
    empty = load_workbook(io.BytesIO(_book(lambda book: None)))
    assert empty.sheetnames == ["Sheet1"] and empty["Sheet1"].max_row == 1


@pytest.mark.parametrize(
    "title", ["", "a" * 32, "a/b", "a[1]", "a:b", "a*", "a?", "a\\b", "'a", "a'"]
)
def test_a_sheet_title_excel_refuses_is_refused(title):
    with StreamWorkbook(io.BytesIO()) as book, pytest.raises(ValueError, match="title"):
        book.sheet(title)


def test_titles_are_unique_and_sheets_are_written_one_at_a_time():
    with StreamWorkbook(io.BytesIO()) as book:
        with book.sheet("a"), pytest.raises(RuntimeError, match="still being written"):
            book.sheet("b")
        with pytest.raises(ValueError, match="title"):
            book.sheet("A")  # Excel's titles ignore case


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]


def _peak(rows: int, out) -> int:
    """The peak of Python allocations while writing ``rows`` rows of ten cells into the
    file ``out``, each row made when the writer asks for it (as the ledger's are, a batch at
    a time)."""

    def made():
        for i in range(rows):
            yield [f"P{i}", f"问题描述 {i} 垃圾落地", i, i * 0.5, "县城管局", None, "是"] + [i] * 3

    tracemalloc.start()
    try:
        with StreamWorkbook(str(out)) as book, book.sheet("s", widths=[10] * 10) as sheet:
            sheet.header([f"h{i}" for i in range(10)])
            tracemalloc.reset_peak()
            sheet.rows(made())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_rows(tmp_path):
    """Four times the rows, about the same peak; and the file is a whole workbook."""
    small = _peak(2_500, tmp_path / "small.xlsx")
    large = _peak(10_000, tmp_path / "large.xlsx")
    assert large < small * 1.3, (small, large)
    sheet = zipfile.ZipFile(tmp_path / "large.xlsx").read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:J10001"/>' in sheet and sheet.count(b"<row ") == 10_001


def test_tables_fit_their_widths_and_a_frame_keeps_its_types(tmp_path):
    rows = [["编号", "名称", "率"], ["P1", "第一片区（城关片区）", 0.5], ["P22", None, None]]
    write_tables(tmp_path / "t.xlsx", [Table("t", iter(rows), {2: 12}, {2: "0.0%"})])
    ws = load_workbook(tmp_path / "t.xlsx")["t"]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == rows
    # 8 at least; "第一片区（城关片区）" is 10 CJK characters: 20 + 2; the given 12
    widths = [round(ws.column_dimensions[c].width, 2) for c in "ABC"]
    assert widths == [8.71, 22.71, 12.71]
    assert ws["C2"].number_format == "0.0%" and ws["A1"].font.b and ws.freeze_panes == "A2"
    frame = pd.DataFrame(
        {
            "id": ["=1+1", "P2"],
            "n": np.array([3, 4], dtype=np.int64),
            "x": [1.5, float("nan")],
            "when": pd.to_datetime(["2024-04-01 08:00", None]),
            "flag": [True, False],
        }
    )
    write_frame(frame, tmp_path / "f.xlsx")
    ws = load_workbook(tmp_path / "f.xlsx")["Sheet1"]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [
        ["id", "n", "x", "when", "flag"],
        ["=1+1", 3, 1.5, "2024-04-01 08:00:00", True],
        ["P2", 4, None, None, False],
    ]
    assert ws["A2"].data_type == "s" and type(ws["B2"].value) is int


@pytest.mark.parametrize("good_rows", [2, 600])  # before and after the first sheet opens
def test_a_failure_while_writing_is_raised_as_it_is(good_rows):
    def rows():
        yield from ([f"row {i}"] for i in range(good_rows))
        raise LookupError("the store went away")

    buf = io.BytesIO()
    with pytest.raises(LookupError, match="went away"):
        write_tables(buf, [Table("a", [["x"]]), Table("b", rows())])
    names = zipfile.ZipFile(buf).namelist()  # finished as a zip, not as a workbook
    assert "xl/workbook.xml" not in names


def test_a_table_longer_than_a_sheet_goes_on_in_further_sheets():
    """Excel's sheets hold 1,048,576 rows; here a sheet holds 3 (the header and 2)."""
    buf = io.BytesIO()
    rows = [["编号", "n"]] + [[f"P{i}", i] for i in range(1, 6)]
    write_tables(buf, [Table("问题清单", iter(rows)), Table("筛选条件", [["a"]])], max_rows=3)
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == ["问题清单", "问题清单 (2)", "问题清单 (3)", "筛选条件"]
    got = [list(wb[t].iter_rows(values_only=True)) for t in wb.sheetnames[:3]]
    assert got == [
        [("编号", "n"), ("P1", 1), ("P2", 2)],
        [("编号", "n"), ("P3", 3), ("P4", 4)],
        [("编号", "n"), ("P5", 5)],
    ]
    assert all(wb[t]["A1"].font.b and wb[t].freeze_panes == "A2" for t in wb.sheetnames[:3])
    exact = io.BytesIO()  # exactly full: no empty further sheet
    write_tables(exact, [Table("t", iter(rows[:5]))], max_rows=5)
    assert load_workbook(exact).sheetnames == ["t"]
