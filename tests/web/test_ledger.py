"""The ledger (台账): pure rules, sums against raw SQL and pandas on both backends, filters,
duplicates, rectification times, the API, exports (XLSX, CSV) and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import load_workbook

from geoapp.cli import main
from geoapp.core import ledger
from geoapp.services import ledger as services_ledger
from geoapp.services import ledger_files as ledger_export
from geoapp.services import problem_reads, query_params
from geoapp.store import open_store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
T0 = datetime(2024, 4, 15, 0, 30, tzinfo=UTC)


# --- pure rules -------------------------------------------------------------------------------
def _row(pk, **kw):
    base = {
        "id": pk,
        "problem_id": f"P{pk}",
        "status": "reported",
        "deduction": 1.0,
        "category": "litter",
        "district_id": "D1",
        "responsible_unit_id": "U1",
        "lead_unit_id": "U9",
        "reported_at": T0,
        "duplicate_of": None,
    }
    return base | kw


def test_duplicates_count_as_problems_but_not_as_points():
    rows = [_row(1, deduction=2.0), _row(2, deduction=2.0, duplicate_of=1), _row(3)]
    table = ledger.problem_table(rows, {"litter": 24}, {}, NOW)
    t = ledger.totals(table)
    assert t["problems"] == 3 and t["duplicates"] == 1 and t["deduction"] == 3.0


def test_overdue_on_time_late_and_unknown():
    hours = {"litter": 24, "nolimit": None}
    rows = [
        _row(1),  # open, past 24 h at NOW: overdue
        _row(2, reported_at=NOW - timedelta(hours=1)),  # open, within its deadline
        _row(3, status="rectified"),  # rectified at T0 + 2 h: on time
        _row(4, status="verified"),  # rectified at T0 + 30 h: late
        _row(5, status="verified"),  # closed, no recorded rectification
        _row(6, category="nolimit"),  # no deadline: never overdue
        _row(7, status="rectifying"),  # rectified once, then reopened: open, overdue
    ]
    rect = {3: T0 + timedelta(hours=2), 4: T0 + timedelta(hours=30), 7: T0}
    table = ledger.problem_table(rows, hours, rect, NOW)
    assert table["overdue"].tolist() == [True, False, False, False, False, False, True]
    assert table["on_time"].tolist() == [None, None, True, False, None, None, None]
    assert table["rectified_at"].isna().tolist() == [True, True, False, False, True, True, True]
    t = ledger.totals(table)
    assert (t["open"], t["overdue"], t["closed"]) == (4, 2, 3)
    assert (t["on_time"], t["late"], t["closed_unknown"], t["on_time_rate"]) == (1, 1, 1, 0.5)


def test_deadline_boundary_counts_as_on_time():
    table = ledger.problem_table(
        [_row(1, status="rectified")], {"litter": 24}, {1: T0 + timedelta(hours=24)}, NOW
    )
    assert table["on_time"].tolist() == [True]


def test_group_totals_keys_and_unassigned():
    rows = [_row(1), _row(2, responsible_unit_id=None, district_id=None), _row(3, deduction=5)]
    table = ledger.problem_table(rows, {"litter": 24}, {}, NOW)
    by_unit = ledger.group_totals(table, "unit", ["U1", "U2"])
    assert [(r["id"], r["problems"], r["deduction"]) for r in by_unit] == [
        ("U1", 2, 6.0),
        (None, 1, 1.0),
        ("U2", 0, 0.0),
    ]


def test_daily_counts_days_in_beijing_time_with_gaps():
    rows = [
        _row(1, reported_at=datetime(2024, 4, 14, 16, 30, tzinfo=UTC)),  # 04-15 in Beijing
        _row(2, reported_at=datetime(2024, 4, 17, 1, 0, tzinfo=UTC), status="rectified"),
    ]
    rect = {2: datetime(2024, 4, 17, 3, 0, tzinfo=UTC)}
    days = ledger.daily(ledger.problem_table(rows, {"litter": 24}, rect, NOW))
    assert days == [
        {"date": "2024-04-15", "new": 1, "closed": 0},
        {"date": "2024-04-16", "new": 0, "closed": 0},
        {"date": "2024-04-17", "new": 1, "closed": 1},
    ]


def _unit(uid, deduction, overdue=0, problems=1, rate=None, on_time=0):
    return {
        "id": uid,
        "deduction": deduction,
        "overdue": overdue,
        "problems": problems,
        "on_time": on_time,
        "on_time_rate": rate,
    }


def test_ranking_groups_with_ties():
    rows = [
        _unit("A", 10),
        _unit("B", 8),
        _unit("C", 5),
        _unit("D", 5, overdue=1),
        _unit("E", 1, rate=1.0, on_time=1),  # all on time
        _unit("F", 1, problems=2, rate=1.0, on_time=2),  # all on time, more problems
        _unit("I", 1, problems=2, rate=0.5, on_time=1),  # one late: not commendable
        _unit("J", 2, problems=3, rate=1.0, on_time=3),  # all on time, more points
        _unit("K", 1, rate=1.0, on_time=1),  # tied with E at the boundary
        _unit("G", 0, problems=0),  # no problems: unranked, never commended
        _unit("H", 0, problems=0),
        {**_unit(None, 99)},
    ]
    r = ledger.rank_units(rows, size=3)
    assert [u["id"] for u in r.rows] == ["A", "B", "D", "C", "J", "F", "I", "E", "K", "G", "H"]
    assert [u["rank"] for u in r.rows] == [1, 2, 3, 3, 5, 6, 6, 6, 6, None, None]
    assert r.ranked == 9
    # top three by points, C tied with D at the boundary
    assert [u["id"] for u in r.accountability] == ["A", "B", "D", "C"]
    # all on time only (not I, not G/H); fewest points, then most problems; K ties E
    assert [u["id"] for u in r.commendation] == ["F", "E", "K"]
    assert all(u["group"] == "commendation" for u in r.commendation)


def test_ranking_never_blames_zero_points_nor_praises_no_problems():
    r = ledger.rank_units([_unit("A", 0, on_time=1), _unit("B", 0, problems=0)], size=3)
    assert r.accountability == [] and [u["id"] for u in r.commendation] == ["A"]
    assert [(u["id"], u["rank"], u["group"]) for u in r.rows] == [
        ("A", 1, "commendation"),
        ("B", None, None),
    ]


def test_restricted_ranking_keeps_the_whole_rankings_places():
    r = ledger.rank_units([_unit("A", 3), _unit("B", 2), _unit("C", 1, on_time=1)], size=1)
    shown = ledger.restrict(r, ["B", "C"])
    assert [(u["id"], u["rank"], u["group"]) for u in shown.rows] == [
        ("B", 2, None),
        ("C", 3, "commendation"),
    ]
    assert (shown.ranked, shown.shown, shown.accountability) == (3, ("B", "C"), [])


# --- against the demo county, both backends -----------------------------------------------------
@pytest.fixture
def store(demo_url):
    s = open_store(demo_url)
    yield s
    s.close()


def _raw(store, sql, **params) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(sa.text(sql), params).mappings().all())


GROUP_SQL = """
SELECT {col} AS id, COUNT(*) AS problems,
       SUM(CASE WHEN duplicate_of IS NULL THEN deduction ELSE 0 END) AS deduction,
       SUM(CASE WHEN status IN ('rectified', 'verified') THEN 0 ELSE 1 END) AS open
FROM problems {where} GROUP BY {col}
"""


def _by_id(rows):
    return {r["id"]: r for r in rows if r["problems"]}


def test_demo_county_has_an_on_time_rate_and_closures_by_day(read_store):
    # the demo's closed problems carry the file's 整改完成时间, as a county's would: the
    # rate and the daily closed line must not be empty (they were "—" and all 0)
    led = services_ledger.build(read_store, {}, now=NOW)
    t = led.totals
    assert t["on_time"] > 0 and t["late"] > 0 and 0 < t["on_time_rate"] < 1
    assert t["closed_unknown"] == 0
    # every timed closure is on the daily line, on its Beijing day
    assert sum(d["closed"] for d in led.daily) == t["on_time"] + t["late"] == t["closed"]
    with read_store.transaction() as tx:
        closed = tx.problem_frame({"status": ["rectified", "verified"]}, ["id"])
    assert len(closed) == t["closed"]


@pytest.mark.parametrize(
    ("group", "col"),
    [("unit", "responsible_unit_id"), ("district", "district_id"), ("category", "category")],
)
def test_sums_match_raw_sql(read_store, group, col):
    led = services_ledger.build(read_store, {}, now=NOW)
    expected = _raw(read_store, GROUP_SQL.format(col=col, where=""))
    got = _by_id(led.rows(group))
    assert len(got) == len(expected)
    for r in expected.to_dict(orient="records"):
        g = got[r["id"] if isinstance(r["id"], str) else None]  # NULL: outside every area
        assert g["problems"] == r["problems"]
        assert g["deduction"] == pytest.approx(float(r["deduction"]), abs=1e-6)
        assert g["open"] == r["open"]
    total = _raw(read_store, "SELECT COUNT(*) AS n, SUM(deduction) AS d FROM problems").iloc[0]
    assert led.totals["problems"] == total["n"]
    assert led.totals["deduction"] == pytest.approx(float(total["d"]), abs=1e-6)


def test_overdue_matches_pandas_over_raw_rows(read_store):
    led = services_ledger.build(read_store, {}, now=NOW)
    p = _raw(read_store, "SELECT responsible_unit_id, category, status, reported_at FROM problems")
    c = _raw(read_store, "SELECT category, deadline_hours FROM categories")
    p = p.merge(c, on="category", how="left")
    reported = pd.to_datetime(p["reported_at"], utc=True, format="ISO8601")
    due = reported + pd.to_timedelta(p["deadline_hours"], unit="h")
    p["overdue"] = ~p["status"].isin(["rectified", "verified"]) & (due < pd.Timestamp(NOW))
    expected = p.groupby("responsible_unit_id")["overdue"].sum().to_dict()
    got = {r["id"]: r["overdue"] for r in led.by_unit if r["id"] is not None}
    assert {k: v for k, v in got.items() if v} == {k: int(v) for k, v in expected.items() if v}
    assert led.totals["overdue"] == int(p["overdue"].sum()) > 0


def test_vectorised_rules_agree_with_deadlines_module(read_store):
    """The ledger computes deadlines column-wise; geoapp.core.deadlines is the rule per row."""
    from geoapp.core import deadlines

    hours = {c["category"]: c["deadline_hours"] for c in read_store.list_categories()}
    rows = read_store.problems()
    closed = [r["id"] for r in rows if r["status"] in ("rectified", "verified")]
    rect = {pk: T0 + timedelta(hours=(pk % 100)) for pk in closed}
    table = ledger.problem_table(
        read_store.problem_frame(columns=ledger.INPUT_COLUMNS), hours, rect, NOW
    )
    assert table["id"].tolist() == [r["id"] for r in rows]
    for r, due, on_time, overdue in zip(
        rows, table["due"], table["on_time"], table["overdue"], strict=True
    ):
        expected = deadlines.deadline(r["reported_at"], hours.get(r["category"]))
        assert due.to_pydatetime() == expected
        assert on_time == deadlines.rectified_on_time(rect.get(r["id"]), expected)
        assert overdue == deadlines.is_overdue(r["status"], expected, NOW)
    assert table["on_time"].map(lambda v: v is True).sum() > 0
    assert table["on_time"].map(lambda v: v is False).sum() > 0


def test_filters_agree_with_the_map_and_raw_sql(read_store):
    round_ = read_store.distinct_problem_values("round")[0]
    args = {
        "round": [round_],
        "district": ["D1,D2"],
        "status": ["reported", "assigned", "rectifying"],
        "date_from": ["2024-04-15"],
        "date_to": ["2024-04-16"],
    }
    led = services_ledger.build(read_store, args, now=NOW)
    summary = problem_reads.summary(read_store, args)
    assert led.totals["problems"] == summary["problems"] > 0
    assert led.totals["deduction"] == pytest.approx(summary["deduction"])
    raw = _raw(
        read_store,
        GROUP_SQL.format(
            col="district_id",
            where="WHERE round = :r AND district_id IN ('D1', 'D2') "
            "AND status IN ('reported', 'assigned', 'rectifying') "
            "AND reported_at >= :a AND reported_at < :b",
        ),
        r=round_,
        a=datetime(2024, 4, 14, 16, tzinfo=UTC)
        if read_store.backend == "postgis"
        else "2024-04-14T16",
        b=datetime(2024, 4, 16, 16, tzinfo=UTC)
        if read_store.backend == "postgis"
        else "2024-04-16T16",
    )
    got = _by_id(led.by_district)
    assert {k: v["problems"] for k, v in got.items()} == dict(
        zip(raw["id"], raw["problems"], strict=True)
    )
    assert {r["id"] for r in led.by_district} == {"D1", "D2"}
    with pytest.raises(query_params.BadParameter):
        services_ledger.build(read_store, {"unit": ["NOPE"]})


def test_duplicates_are_not_counted_twice(store):
    before = services_ledger.build(store, {}, now=NOW)
    with store.engine.begin() as conn:
        rows = conn.execute(
            sa.text("SELECT id, deduction, responsible_unit_id FROM problems ORDER BY id LIMIT 3")
        ).all()
        for pk, _, _ in rows[1:]:
            conn.execute(
                sa.text("UPDATE problems SET duplicate_of = :d WHERE id = :pk"),
                {"d": rows[0][0], "pk": pk},
            )
    after = services_ledger.build(store, {}, now=NOW)
    lost = sum(d for _, d, _ in rows[1:])
    assert after.totals["problems"] == before.totals["problems"]
    assert after.totals["duplicates"] == 2
    assert after.totals["deduction"] == pytest.approx(before.totals["deduction"] - lost)
    summed = sum(r["deduction"] for r in after.by_unit)
    assert summed == pytest.approx(after.totals["deduction"])
    recs = {r["id"]: r for r in services_ledger.problem_records(store, after)}
    assert recs[rows[1][0]]["duplicate_of"] == recs[rows[0][0]]["problem_id"]
    assert recs[rows[1][0]]["counted_deduction"] == 0.0


def test_rectification_times_come_from_status_events(store):
    pks = [p["id"] for p in store.problems({"status": ["reported"]}, limit=3)]
    earlier = services_ledger.build(store, {}, now=datetime.now(UTC))
    before = earlier.totals
    with store.transaction() as tx:
        on_time, late, reopened = (tx.get_problem(pk) for pk in pks)
        tx.set_problem_status(on_time["id"], "rectifying", "t")
        tx.set_problem_status(on_time["id"], "rectified", "t")  # now: late...
        at = on_time["reported_at"] + timedelta(hours=1)  # ...but a later event says on time
        tx.add_event(on_time["id"], "status", "t", {"before": "x", "after": "rectified"}, at=at)
        tx.set_problem_status(late["id"], "rectified", "t")
        tx.set_problem_status(late["id"], "verified", "t")
        tx.set_problem_status(reopened["id"], "rectified", "t")
        tx.set_problem_status(reopened["id"], "rectifying", "t")
        times = tx.rectified_times({"status": ["rectified", "verified", "rectifying"]})
    assert times[on_time["id"]] == at
    assert set(pks) <= set(times)
    led = services_ledger.build(store, {}, now=datetime.now(UTC))
    recs = {r["id"]: r for r in services_ledger.problem_records(store, led)}
    assert recs[on_time["id"]]["on_time"] is True
    assert recs[late["id"]]["on_time"] is False
    assert recs[reopened["id"]]["rectified_at"] is None
    # the demo's imported rectifications, plus one on time and one late
    assert (led.totals["on_time"], led.totals["late"]) == (
        before["on_time"] + 1,
        before["late"] + 1,
    )
    assert sum(d["closed"] for d in led.daily) == sum(d["closed"] for d in earlier.daily) + 2


# --- API, page, exports, CLI ------------------------------------------------------------------
def test_api_ledger(reader):
    d = reader.get("/api/ledger?group=district&district=D3").get_json()
    assert d["group"] == "district" and d["filters"] == {"district": ["D3"]}
    assert [r["id"] for r in d["rows"]] == ["D3"]
    assert d["rows"][0]["problems"] == d["totals"]["problems"] > 0
    assert d["rows"][0]["lead_unit_name"]
    u = reader.get("/api/ledger").get_json()
    assert u["group"] == "unit" and len(u["ranking"]["accountability"]) >= 3
    r = reader.get("/api/ledger?group=area")
    assert r.status_code == 400 and r.get_json()["error"] == "bad_parameter"
    assert reader.get("/api/ledger?status=nope").status_code == 400


def test_ledger_page_tables_links_and_filters(reader):
    r = reader.get("/ledger?district=D2")
    text = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "扣分台账" in text and "按责任单位统计" in text and "通报批评" in text
    assert 'href="/districts/D2"' in text and 'href="/units/' in text
    assert "/ledger/export.xlsx?district=D2" in text
    assert "<svg" in text and "<polyline" in text
    assert reader.get("/ledger?district=NOPE").status_code == 400
    assert 'href="/ledger"' in reader.get("/").get_data(as_text=True)


def test_a_unit_account_sees_its_place_in_the_county_ranking_and_no_other_unit(reader, reader_as):
    unit = reader_as("unit")
    county = reader.get("/api/ledger").get_json()["ranking"]
    own = unit.get("/api/ledger").get_json()["ranking"]
    # the same place as in the county-wide ranking the coordinator sees, and only its own
    assert own["ranks"] == {unit.unit_id: county["ranks"][unit.unit_id]}
    assert (
        own["ranked_units"]
        == county["ranked_units"]
        == sum(1 for rank in county["ranks"].values() if rank is not None)
    )
    assert own["shown_units"] == [unit.unit_id] and county["shown_units"] is None
    for group in ("accountability", "commendation"):
        assert own[group] == [u for u in county[group] if u == unit.unit_id]
    page = unit.get("/ledger").get_data(as_text=True)
    standing = page.split('id="ranking-standing"')[1].split("</ul>")[0]
    rank = county["ranks"][unit.unit_id]
    assert f"第 {rank} 名（共 {county['ranked_units']} 个单位）" in standing
    ranking = page.split('id="ranking-accountability"')[1].split('id="ranking-rules"')[0]
    others = [u for u in county["accountability"] + county["commendation"] if u != unit.unit_id]
    assert others and not any(f"/units/{u}" in ranking for u in others)


def _workbook(data: bytes):
    return load_workbook(io.BytesIO(data), read_only=False)


def test_xlsx_export_matches_the_filtered_ledger(reader, shared_app):
    r = reader.get("/ledger/export.xlsx?district=D1&status=reported")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    wb = _workbook(r.data)
    assert wb.sheetnames == ["按责任单位", "按片区", "按问题类别", "问题清单", "筛选条件"]
    store = shared_app.extensions["geoapp.store"]
    led = services_ledger.build(store, {"district": ["D1"], "status": ["reported"]})
    for title, group in (
        ("按责任单位", "unit"),
        ("按片区", "district"),
        ("按问题类别", "category"),
    ):
        ws = wb[title]
        assert ws.freeze_panes == "A2"
        rows = [list(row) for row in ws.iter_rows(values_only=True)]
        assert rows == ledger_export.group_table(led, group)
        assert rows[0][0] in ("单位编号", "片区编号", "类别代码")
        assert ws.column_dimensions["B"].width >= 8
    problems = list(wb["问题清单"].iter_rows(values_only=True))
    assert problems[0][:3] == ("编号", "检查轮次", "问题类别")
    assert len(problems) - 1 == led.totals["problems"] > 0
    assert {p[9] for p in problems[1:]} == {"已上报"}
    filters = dict(list(wb["筛选条件"].iter_rows(values_only=True))[1:])
    assert filters["片区"] == "第一片区（城关片区）" and filters["状态"] == "已上报"


def test_xlsx_filter_sheet_names_what_people_read_not_codes(reader):
    """The filter sheet says 已交办、已上报 and a unit's name, as the print view does, never
    the codes a URL carries (it said 'assigned、reported', 'U11', 'litter')."""
    r = reader.get(
        "/ledger/export.xlsx?status=reported,assigned&unit=U11&category=litter,overflowing_bin"
        "&district=D1&round=市级评估"
    )
    assert r.status_code == 200
    filters = dict(list(_workbook(r.data)["筛选条件"].iter_rows(values_only=True))[1:])
    assert filters["状态"] == "已交办、已上报"
    assert filters["责任单位"] == "县交警大队"
    assert filters["问题类别"] == "垃圾落地、垃圾桶满溢"
    assert filters["片区"] == "第一片区（城关片区）"
    assert filters["检查轮次"] == "市级评估"


def test_csv_export_has_a_bom_and_round_trips(reader, shared_app):
    r = reader.get("/ledger/export.csv?group=category&round=市级评估")
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    led = services_ledger.build(shared_app.extensions["geoapp.store"], {"round": ["市级评估"]})
    expected = ledger_export.group_table(led, "category")
    assert rows == [["" if v is None else str(v) for v in row] for row in expected]
    assert rows[0][:3] == ["类别代码", "问题类别", "整改时限(小时)"]
    assert reader.get("/ledger/export.csv?group=nope").status_code == 400


def test_print_view(reader):
    r = reader.get("/ledger/print?unit=U08&round=市级评估")
    text = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "县城管局" in text and 'id="print-map"' in text and '<path class="area"' in text
    assert "检查轮次 = 市级评估" in text and "@page" not in text  # A4 rules live in print.css
    assert reader.get("/ledger/print?district=D4").status_code == 200
    assert reader.get("/ledger/print").status_code == 400
    both = reader.get("/ledger/print?unit=U08&district=D1").get_data(as_text=True)
    assert "县城管局" in both and "片区 = 第一片区" in both  # the unit, within the district
    assert reader.get("/ledger/print?unit=U08,U09").status_code == 400
    assert reader.get("/ledger/print?unit=NOPE").status_code == 400


def _cli(url, *args):
    return CliRunner().invoke(main, ["--database-url", url, *map(str, args)])


def test_cli_export_ledger(shared_demo_url, tmp_path):
    out = tmp_path / "ledger.xlsx"
    r = _cli(shared_demo_url, "export-ledger", "--district", "D1", "--status", "已上报", out)
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output
    with open_store(shared_demo_url) as store:
        led = services_ledger.build(store, {"district": ["D1"], "status": ["reported"]})
    wb = load_workbook(out)
    rows = [list(x) for x in wb["按片区"].iter_rows(values_only=True)]
    assert rows == ledger_export.group_table(led, "district")

    csv_out = tmp_path / "ledger.csv"
    r = _cli(shared_demo_url, "export-ledger", "--format", "csv", "--group", "district", csv_out)
    assert r.exit_code == 0, r.output
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "片区编号" in csv_out.read_text(encoding="utf-8-sig")

    r = _cli(shared_demo_url, "export-ledger", "--unit", "NOPE", tmp_path / "x.xlsx")
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "unit" in r.output
    assert not (tmp_path / "x.xlsx").exists()
    r = _cli(shared_demo_url, "export-ledger", "--from", "2024-13-01", tmp_path / "x.csv")
    assert r.exit_code == 2 and "date_from" in r.output
    r = _cli(shared_demo_url, "export-ledger", tmp_path / "x.txt")
    assert r.exit_code == 2 and "--format" in r.output


def test_problem_list_csv_is_streamed(reader, shared_app):
    r = reader.get("/ledger/export.csv?group=problems&district=D1", buffered=False)
    assert r.status_code == 200 and r.is_streamed
    assert 'filename="ledger-problems-' in r.headers["Content-Disposition"]
    data = b"".join(r.response)
    r.close()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    led = services_ledger.build(shared_app.extensions["geoapp.store"], {"district": ["D1"]})
    assert rows[0][0] == "编号" and len(rows) - 1 == led.totals["problems"] > 0
    assert {r[13] for r in rows[1:]} == {"第一片区（城关片区）"}


def test_api_ledger_per_round_adds_up_to_the_totals(reader):
    body = reader.get("/api/ledger?group=round").get_json()
    assert body["group"] == "round" and {r["id"] for r in body["rows"]} == {"市级评估", "省级评估"}
    for field in ("problems", "open", "overdue", "closed", "on_time", "late"):
        assert sum(r[field] for r in body["rows"]) == body["totals"][field]
