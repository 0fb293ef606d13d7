"""The ledger page, its downloads and its A4 print view in a real headless Chromium."""

import io
import re

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.browser
A4_POINTS = (595.28, 841.89)


@pytest.fixture
def served(shared_demo_any, page):
    """The demo county served for the module, once per backend (the tests only read it),
    and ``page`` signed in as the demo coordinator."""
    return shared_demo_any.sign_in(page, "coordinator")


def page_table(page, table_id):
    """(row id, cells' text) of a ledger table."""
    return page.evaluate(
        "(id) => Array.from(document.querySelectorAll('#' + id + ' tbody tr')).map(tr => "
        "[tr.dataset.id, Array.from(tr.cells).map(td => td.textContent.trim())])",
        table_id,
    )


def test_ledger_page_draws_tables_and_charts_and_filters(page, served, page_log):
    page.goto(f"{served}/ledger")
    units = page_table(page, "ledger-unit")
    assert len(units) > 20
    districts = [uid for uid, _ in page_table(page, "ledger-district")]
    assert sorted(districts) == ["", *(f"D{i}" for i in range(1, 8))]  # "": outside every area
    assert page.locator("#ledger-category tbody tr").count() > 5
    bars = page.locator("#chart-units svg rect")
    assert bars.count() == 15
    assert bars.first.bounding_box()["width"] > 100  # the biggest bar is drawn wide
    assert page.locator("#chart-daily polyline.new").count() == 1
    assert page.locator("#ranking-accountability li a").count() >= 3
    # a filter reloads the page with the filter in the URL
    page.select_option("#filters select[name=district]", "D3")
    page.wait_for_url(re.compile(r"district=D3"))
    assert page.locator("#ledger-district tbody tr").count() == 1
    first = page.locator("#ledger-district tbody tr a").first
    assert first.get_attribute("href") == "/districts/D3"
    assert all(u.startswith("http://127.0.0.1") for u in page_log.requests)


def test_xlsx_download_matches_the_page(page, served):
    page.goto(f"{served}/ledger?round=市级评估&status=reported,assigned")
    shown = page_table(page, "ledger-unit")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(download.path().read_bytes()))
    rows = list(wb["按责任单位"].iter_rows(values_only=True))
    assert rows[0][:3] == ("单位编号", "责任单位", "问题数")
    assert wb["按责任单位"].freeze_panes == "A2"
    assert len(rows) - 1 == len(shown)
    for (uid, cells), row in zip(shown, rows[1:], strict=True):
        assert (uid or None) == row[0]
        assert int(cells[2]) == row[2]  # problems
        assert float(cells[4]) == pytest.approx(row[4], abs=0.05)  # deduction points
    filters = dict(list(wb["筛选条件"].iter_rows(values_only=True))[1:])
    assert filters["状态"] == "已交办、已上报"


def test_print_view_is_a4(page, served):
    page.goto(f"{served}/ledger/print?unit=U08")
    assert page.locator("#print-map path.area").count() > 0
    assert page.locator("#print-map circle").count() > 10
    assert page.locator("#print-problems tbody tr").count() > 10
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes, "no page in the PDF"
    for width, height in boxes:
        assert float(width) == pytest.approx(A4_POINTS[0], abs=1)
        assert float(height) == pytest.approx(A4_POINTS[1], abs=1)
    assert len(boxes) > 1  # the problem list runs over several pages


@pytest.fixture
def tiny_served(shared_tiny, page):
    """The tiny county of tests/hand_county.py served for the module (read only), and
    ``page`` signed in as the demo coordinator."""
    return shared_tiny.sign_in(page, "coordinator")


def test_ledger_page_figures_match_the_hand_count(page, tiny_served):
    page.goto(f"{tiny_served}/ledger")
    cells = page.locator("#ledger-totals tr").nth(1).locator("td").all_inner_texts()
    # today every open problem (P3 P4 P7 P10) is past its deadline; closed P1 P2 P5 P6 P8
    # P9: on time P1 P6 P8 P9, late P2, P5 without a time: 4 / 5 = 80 %
    assert cells == ["10", "", "10.0", "4", "4", "6", "4", "1", "80%"]
    blamed = page.locator("#ranking-accountability li a").all_inner_texts()
    praised = page.locator("#ranking-commendation li a").all_inner_texts()
    assert blamed == ["单位2", "单位1", "单位4"] and praised == ["单位3"]
    rows = {uid: c for uid, c in page_table(page, "ledger-unit")}
    assert rows["U6"][0] == "" and "单位6" in rows["U6"][1]  # no problems: no rank, no tag
    ticks = page.locator("#chart-daily text.tick").all_text_contents()
    assert [t for t in ticks if "-" in t] == ["2024-12-30", "12-31", "2025-01-01", "01-02"]


def test_ranking_lines_read_as_chinese_and_an_empty_group_is_not_numbered(page, tiny_served):
    # hand count (tests/hand_county.py; every open problem is past its deadline today):
    # U2 P4 + P5 = 4.0 points, P4 overdue; U1 P1 + P2 + P3 = 3.5, P3 overdue; U4 P8 + P9 =
    # 1.0, none overdue; commended U3: P6, 0.5 points, rectified on time
    page.goto(f"{tiny_served}/ledger")
    blamed = page.locator("#ranking-accountability li").all_inner_texts()
    praised = page.locator("#ranking-commendation li").all_inner_texts()
    assert blamed == ["单位2 — 4.0 分，超期 1 个", "单位1 — 3.5 分，超期 1 个", "单位4 — 1.0 分"]
    assert praised == ["单位3 — 0.5 分，按期整改率 100%"]
    # round R1 holds only U1 and U2, both criticised: nobody is commended, and the page says
    # so without numbering the word as if it were a unit
    page.goto(f"{tiny_served}/ledger?round=R1")
    none = page.locator("#ranking-commendation li")
    assert none.all_inner_texts() == ["无"]
    assert none.evaluate("li => getComputedStyle(li).listStyleType") == "none"
    assert page.locator("#ranking-accountability li").all_inner_texts() == [
        "单位2 — 4.0 分，超期 1 个",
        "单位1 — 3.5 分，超期 1 个",
    ]
