"""Every time a page, printout or export shows is Beijing time, written one way
(2024-04-15 08:30): the generations, audit, users and editor pages, the ledger and its
print view and workbook."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from openpyxl import load_workbook

from geoapp.services.times import display_time
from geoapp.web.maps import OVERDUE_COLOUR

# an ISO time with a T, seconds or an offset, or the word UTC: not how a page shows a time
RAW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d:\d\d|[+-]\d\d:\d\d\b|\bUTC\b")


def test_display_time_is_beijing_whatever_the_input():
    # 16:30 UTC on New Year's Eve is already 2025 in Beijing
    utc = datetime(2024, 12, 31, 16, 30, tzinfo=UTC)
    assert display_time(utc) == "2025-01-01 00:30"
    assert display_time("2024-12-31T16:30:00+00:00") == "2025-01-01 00:30"
    assert display_time("2025-01-01T00:30:00+08:00") == "2025-01-01 00:30"
    assert display_time(utc.replace(tzinfo=None)) == "2025-01-01 00:30"  # stored UTC, naive
    assert display_time(utc, "%Y-%m-%d") == "2025-01-01"
    assert display_time(None) == display_time("") == ""


def _section(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def test_generations_page_shows_beijing_time(client, app):
    store = app.extensions["geoapp.store"]
    published = [g["published_at"] for g in store.list_generations() if g["published_at"]]
    html = client.get("/generations").get_data(as_text=True)
    table = _section(html, "<tbody>", "</tbody>")
    assert published and all(display_time(p) in table for p in published)
    assert not RAW.search(table)


def test_audit_users_and_editor_pages_show_beijing_time(client, app):
    store = app.extensions["geoapp.store"]
    entries = store.audit_entries(limit=5)
    html = client.get("/audit").get_data(as_text=True)
    table = _section(html, "<tbody>", "</tbody>")
    assert display_time(entries[0]["at"]) in table
    assert not RAW.search(table)
    users = client.get("/users").get_data(as_text=True)
    created = store.list_users()[0]["created_at"]
    assert display_time(created, "%Y-%m-%d") in users


def test_ledger_print_and_workbook_show_beijing_time(client):
    html = client.get("/ledger/print?district=D1").get_data(as_text=True)
    body = _section(html, 'id="print-problems"', "</table>")
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", body) and not RAW.search(body)
    # overdue problems are printed in the overdue colour, named in the legend
    overdue_rows = body.count('class="overdue"')
    assert overdue_rows and html.count(f'fill="{OVERDUE_COLOUR}"') == overdue_rows
    legend = _section(html, 'class="legend-line"', "</p>")
    assert "已超期" in legend and "overdue" not in legend
    before = display_time(datetime.now(UTC))
    wb = load_workbook(io.BytesIO(client.get("/ledger/export.xlsx").data))
    after = display_time(datetime.now(UTC))
    cells = {r[0]: r[1] for r in wb["筛选条件"].iter_rows(values_only=True)}
    # made between the two moments, written in Beijing time (UTC would be 8 hours off)
    assert before <= cells["生成时间（北京时间）"] <= after


def test_an_imported_rectification_shows_in_the_history_in_beijing_time(client, app):
    store = app.extensions["geoapp.store"]
    # the demo's first problem arrived rectified, 整改完成时间 2024-04-15T15:31:00+08:00
    (p,) = [q for q in store.problems({"status": ["rectified"]}) if q["problem_id"] == "P00001"]
    html = client.get(f"/problems/{p['id']}").get_data(as_text=True)
    history = _section(html, 'class="history"', "</ol>")
    assert "2024-04-15 15:31" in history and "导入文件记载" in history
    assert "None" not in history and not RAW.search(history)
