"""Every figure of the ledger against a hand count on a tiny county (tests/hand_county.py,
whose docstring gives the table of problems), on SQLite and PostGIS."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pandas as pd
import pytest
from hand_county import LAT0, LON0, NOW, write_collection
from openpyxl import load_workbook

from geoapp.core import charts, ledger
from geoapp.services import ledger as services_ledger
from geoapp.services import ledger_files as ledger_export
from geoapp.services.problem_import import commit_problem_import, plan_problem_import
from geoapp.store.errors import StoreError

FIELDS = ledger.TOTAL_FIELDS  # problems, duplicates, deduction, open, overdue, closed,
# on_time, late, closed_unknown, on_time_rate


@pytest.fixture
def county(tiny_county):
    return tiny_county


def _figures(row: dict) -> tuple:
    return tuple(row[f] for f in FIELDS)


def test_totals_and_groupings_match_the_hand_count(county):
    led = services_ledger.build(county, {}, "zh", NOW)
    # problems 10; points 2+1+0.5+3+1+0.5+0.5+0.5+0.5+0.5 = 10.0;
    # open P3 P4 P7 P10 = 4, overdue P4 P7 P10 = 3 (P3 due 01-04); closed P1 P2 P5 P6 P8 P9
    # = 6: on time P1 P6 P8 P9 = 4, late P2 = 1, unknown P5 = 1; rate 4 / (4 + 1) = 0.8
    assert _figures(led.totals) == (10, 0, 10.0, 4, 3, 6, 4, 1, 1, 0.8)

    by_unit = {r["id"]: _figures(r) for r in led.by_unit}
    assert by_unit == {
        "U1": (3, 0, 3.5, 1, 0, 2, 1, 1, 0, 0.5),  # P1 on time, P2 late, P3 open
        "U2": (2, 0, 4.0, 1, 1, 1, 0, 0, 1, None),  # P4 overdue, P5 unknown
        "U3": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),  # P6 on time
        "U4": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),  # P8, P9 on time
        "U5": (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),  # P10 overdue
        "U6": (0, 0, 0.0, 0, 0, 0, 0, 0, 0, None),  # nothing
        None: (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),  # P7, outside every area
    }
    # listed by points, most first
    assert [r["id"] for r in led.by_unit][:3] == ["U2", "U1", "U4"]

    by_district = {r["id"]: _figures(r) for r in led.by_district}
    assert by_district == {
        # P1..P6: 2+1+0.5+3+1+0.5 = 8.0; open P3 P4, overdue P4; closed P1 P2 P5 P6:
        # on time P1 P6, late P2, unknown P5: 2 / 3
        "D1": (6, 0, 8.0, 2, 1, 4, 2, 1, 1, 0.6667),
        # P8 P9 P10: 1.5; open P10 (overdue); on time P8 P9
        "D2": (3, 0, 1.5, 1, 1, 2, 2, 0, 0, 1.0),
        None: (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),  # P7
    }
    assert {r["id"]: r["lead_unit_id"] for r in led.by_district if r["id"]} == {
        "D1": "U1",
        "D2": "U4",
    }

    by_category = {r["id"]: _figures(r) for r in led.by_category}
    assert by_category == {
        # P1 P2 P4 P6 P7 P9 P10: 2+1+3+0.5+0.5+0.5+0.5 = 8.0; open P4 P7 P10, all overdue;
        # closed P1 P2 P6 P9: on time P1 P6 P9, late P2: 3 / 4
        "litter": (7, 0, 8.0, 3, 3, 4, 3, 1, 0, 0.75),
        # P3 P5 P8: 2.0; open P3 (not due); closed P5 (unknown), P8 (on time)
        "parking": (3, 0, 2.0, 1, 0, 2, 1, 0, 1, 1.0),
    }


def test_daily_new_and_closed_in_beijing_days_across_the_year_end(county):
    led = services_ledger.build(county, {}, "zh", NOW)
    # new by Beijing day reported: 12-30 P1; 12-31 P2 P4; 01-01 P5 (00:30) P6 P8 P9;
    # 01-02 P3 P7 P10.  Closed by Beijing day rectified: 12-30 P1; 01-01 P2 P6;
    # 01-02 P8 P9 (P5 has no time).
    assert led.daily == [
        {"date": "2024-12-30", "new": 1, "closed": 1},
        {"date": "2024-12-31", "new": 2, "closed": 0},
        {"date": "2025-01-01", "new": 4, "closed": 2},
        {"date": "2025-01-02", "new": 3, "closed": 2},
    ]


def test_ranking_matches_the_hand_count(county):
    led = services_ledger.build(county, {}, "zh", NOW)
    r = led.ranking
    # with problems: U2 4.0, U1 3.5, U4 1.0, then U5 and U3 at 0.5 (U5 has an overdue
    # problem, listed first; same rank); U6 has none: unranked
    assert [(u["id"], u["rank"]) for u in r.rows] == [
        ("U2", 1),
        ("U1", 2),
        ("U4", 3),
        ("U5", 4),
        ("U3", 4),
        ("U6", None),
    ]
    assert r.ranked == 5
    assert [u["id"] for u in r.accountability] == ["U2", "U1", "U4"]
    # of U5, U3 (not criticised) only U3 rectified everything on time; U6 had nothing
    assert [u["id"] for u in r.commendation] == ["U3"]


def test_a_filter_never_commends_units_without_problems(county):
    led = services_ledger.build(county, {"round": ["R1"]}, "zh", NOW)
    # R1 = P1..P5: U1 (3.5: P2 late, P3 open) and U2 (4.0: P4 overdue); U3..U6 have none
    assert _figures(led.totals) == (5, 0, 7.5, 2, 1, 3, 1, 1, 1, 0.5)
    assert [(u["id"], u["rank"]) for u in led.ranking.rows] == [
        ("U2", 1),
        ("U1", 2),
        ("U3", None),
        ("U4", None),
        ("U5", None),
        ("U6", None),
    ]
    assert [u["id"] for u in led.ranking.accountability] == ["U2", "U1"]
    assert led.ranking.commendation == []
    # R2 = P6..P10: U4 1.0, U5 0.5 (overdue), U3 0.5 -> all three criticised, none left
    led2 = services_ledger.build(county, {"round": ["R2"]}, "zh", NOW)
    assert _figures(led2.totals) == (5, 0, 2.5, 2, 2, 3, 3, 0, 0, 1.0)
    assert [u["id"] for u in led2.ranking.accountability] == ["U4", "U5", "U3"]
    assert led2.ranking.commendation == []


def test_a_unit_filter_shows_the_units_place_in_the_whole_ranking(county):
    led = services_ledger.build(county, {"unit": ["U1"]}, "zh", NOW)
    assert _figures(led.totals) == (3, 0, 3.5, 1, 0, 2, 1, 1, 0, 0.5)
    # U1 is 2nd of the 5 units with problems, and criticised among them
    assert [(u["id"], u["rank"], u["group"]) for u in led.ranking.rows] == [
        ("U1", 2, "accountability")
    ]
    assert (led.ranking.ranked, led.ranking.shown) == (5, ("U1",))
    assert [u["id"] for u in led.ranking.accountability] == ["U1"]
    u3 = services_ledger.build(county, {"unit": ["U3"]}, "zh", NOW)
    assert [(u["id"], u["rank"], u["group"]) for u in u3.ranking.rows] == [
        ("U3", 4, "commendation")
    ]
    u6 = services_ledger.build(county, {"unit": ["U6"]}, "zh", NOW)
    assert [(u["id"], u["rank"], u["group"]) for u in u6.ranking.rows] == [("U6", None, None)]
    assert u6.ranking.accountability == u6.ranking.commendation == []
    # the export carries the same place
    table = ledger_export.group_table(led, "unit")
    header = table[0]
    assert [dict(zip(header, row, strict=True)).get("扣分排名") for row in table[1:]] == [2]


def test_problem_list_times_are_beijing(county):
    led = services_ledger.build(county, {"unit": ["U1"]}, "zh", NOW)
    rows = {r["problem_id"]: r for r in services_ledger.problem_records(county, led)}
    assert rows["P2"]["reported_at"] == "2024-12-31T09:00:00+08:00"
    assert rows["P2"]["due"] == "2025-01-01T09:00:00+08:00"
    assert rows["P2"]["rectified_at"] == "2025-01-01T12:00:00+08:00"
    assert rows["P2"]["on_time"] is False


def test_import_rejects_a_bad_rectification_time_naming_the_row(county, tmp_path):
    rows = [
        # (status, reported, rectified) -> reason or None
        ("verified", "2025-01-02 10:00", "2025-01-02 12:00", None),
        ("已整改", "2025-01-02 10:00", "2025/01/03 09:30", None),
        ("verified", "2025-01-02 10:00", "soon", "is not a date and time"),
        ("reported", "2025-01-02 10:00", "2025-01-02 12:00", "(not rectified)"),
        ("rectifying", "2025-01-02 10:00", "2025-01-02 12:00", "(not rectified)"),
        ("verified", "2025-01-02 10:00", "2025-01-02 09:59", "is before the reported time"),
        ("verified", "2025-01-02 10:00", "", None),  # closed, time unknown: allowed
    ]
    features = [
        (
            {
                "编号": f"N{i}",
                "检查轮次": "R3",
                "问题类别": "litter",
                "上报时间": rep,
                "状态": status,
                "整改完成时间": done,
            },
            {"type": "Point", "coordinates": [LON0 + 0.005, LAT0 + 0.005]},
        )
        for i, (status, rep, done, _) in enumerate(rows, 1)
    ]
    path = tmp_path / "new.geojson"
    write_collection(path, features)

    plan = plan_problem_import(county, path)
    bad = {b.where: b.reason for b in plan.bad}
    assert len(bad) == 4
    for (_, _, _, reason), where in zip(rows[2:6], sorted(bad), strict=True):
        assert reason in bad[where], (where, bad[where])
    assert [r["problem_id"] for r in plan.rows] == ["N1", "N2", "N7"]
    commit_problem_import(county, plan, "t", allow_bad=True)
    led = services_ledger.build(county, {"round": ["R3"]}, "zh", NOW)
    # N1 2 h after, N2 23.5 h after (on time, 24 h), N7 no time
    assert _figures(led.totals)[5:] == (3, 2, 0, 1, 1.0)


def test_store_refuses_a_rectification_time_on_an_open_or_earlier_problem(county):

    base = {"round": "R9", "category": "litter", "reported_at": "2025-01-02T10:00:00+08:00"}
    with pytest.raises(StoreError, match="status is 'assigned'"), county.transaction() as tx:
        tx.add_problems([{**base, "status": "assigned", "rectified_at": NOW}])
    with pytest.raises(StoreError, match="is before reported_at"), county.transaction() as tx:
        tx.add_problems(
            [{**base, "status": "verified", "rectified_at": "2025-01-02T09:00:00+08:00"}]
        )
    assert county.problems({"round": ["R9"]}) == []


def test_daily_chart_axis_labels_carry_the_year(county):
    led = services_ledger.build(county, {}, "zh", NOW)
    chart = services_ledger.daily_chart(led)
    assert [t["label"] for t in chart["x_ticks"]] == [
        "2024-12-30",
        "12-31",
        "2025-01-01",
        "01-02",
    ]
    # sampled ticks (every 5th of 40 days, 2024-12-10 .. 2025-01-18): the first tick of
    # 2025 carries its year though 2025-01-01 itself is not a tick
    days = [str(d.date()) for d in pd.date_range("2024-12-10", periods=40)]
    ticks = charts.line_chart(days, {"new": [0] * 40})["x_ticks"]
    assert [t["label"] for t in ticks] == [
        "2024-12-10",
        "12-15",
        "12-20",
        "12-25",
        "12-30",
        "2025-01-04",
        "01-09",
        "01-14",
    ]
    # a single year: the year once, on the first label
    one = charts.line_chart(["2025-03-01", "2025-03-02"], {"new": [1, 2]})["x_ticks"]
    assert [t["label"] for t in one] == ["2025-03-01", "03-02"]


def test_a_duplicate_counts_as_a_problem_but_not_its_points(county):
    ids = {p["problem_id"]: p["id"] for p in county.problems({})}
    with county.transaction() as tx:  # P9 (U4, 0.5 points) reported again what P8 was
        tx.update_problem(ids["P9"], {"duplicate_of": ids["P8"]}, "t")
    led = services_ledger.build(county, {}, "zh", NOW)
    # still 10 problems, 1 duplicate; points 10.0 - 0.5 = 9.5; the rest as before
    assert _figures(led.totals) == (10, 1, 9.5, 4, 3, 6, 4, 1, 1, 0.8)
    u4 = next(r for r in led.by_unit if r["id"] == "U4")
    assert _figures(u4) == (2, 1, 0.5, 0, 0, 2, 2, 0, 0, 1.0)
    # U4 now ties U5 and U3 at 0.5 points: U5 (overdue) then U4 (2 problems) then U3, all
    # rank 3; the criticised three reach 0.5 points, so the tie takes all three in
    assert [(u["id"], u["rank"]) for u in led.ranking.rows][:5] == [
        ("U2", 1),
        ("U1", 2),
        ("U5", 3),
        ("U4", 3),
        ("U3", 3),
    ]
    assert [u["id"] for u in led.ranking.accountability] == ["U2", "U1", "U5", "U4", "U3"]
    assert led.ranking.commendation == []


# --- every figure under filters, counted by hand from the table of tests/hand_county.py ------

Z = (0, 0, 0.0, 0, 0, 0, 0, 0, 0, None)  # a group with no problem


def _all(led) -> dict:
    """Every figure of a ledger: totals, each grouping, the ranking and the daily chart."""
    return {
        "totals": _figures(led.totals),
        **{g: {r["id"]: _figures(r) for r in led.rows(g)} for g in ledger.GROUPS},
        "ranking": [(r["id"], r["rank"], r["group"]) for r in led.ranking.rows],
        "daily": [(d["date"], d["new"], d["closed"]) for d in led.daily],
    }


HAND_COUNTS = {
    # verified: P1 (U1, on time), P5 (U2, time unknown), P8 P9 (U4, on time)
    "status=verified": (
        {"status": ["verified"]},
        {
            "totals": (4, 0, 4.0, 0, 0, 4, 3, 0, 1, 1.0),
            "unit": {
                "U1": (1, 0, 2.0, 0, 0, 1, 1, 0, 0, 1.0),
                "U2": (1, 0, 1.0, 0, 0, 1, 0, 0, 1, None),
                "U4": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
                "U3": Z,
                "U5": Z,
                "U6": Z,
            },
            "district": {
                "D1": (2, 0, 3.0, 0, 0, 2, 1, 0, 1, 1.0),
                "D2": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
            },
            "category": {
                "litter": (2, 0, 2.5, 0, 0, 2, 2, 0, 0, 1.0),  # P1 P9
                "parking": (2, 0, 1.5, 0, 0, 2, 1, 0, 1, 1.0),  # P5 P8
            },
            "round": {
                "R1": (2, 0, 3.0, 0, 0, 2, 1, 0, 1, 1.0),
                "R2": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
            },
            # U1 2.0, U2 1.0, U4 1.0 (2 problems before U2): all three criticised
            "ranking": [
                ("U1", 1, "accountability"),
                ("U4", 2, "accountability"),
                ("U2", 2, "accountability"),
                ("U3", None, None),
                ("U5", None, None),
                ("U6", None, None),
            ],
            "daily": [
                ("2024-12-30", 1, 1),
                ("2024-12-31", 0, 0),
                ("2025-01-01", 3, 0),
                ("2025-01-02", 0, 2),
            ],
        },
    ),
    # the Beijing day 2025-01-01 (P5 at 00:30 is 16:30 UTC the day before): P5 P6 P8 P9
    "one Beijing day": (
        {"date_from": ["2025-01-01"], "date_to": ["2025-01-01"]},
        {
            "totals": (4, 0, 2.5, 0, 0, 4, 3, 0, 1, 1.0),
            "unit": {
                "U2": (1, 0, 1.0, 0, 0, 1, 0, 0, 1, None),
                "U4": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
                "U3": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
                "U1": Z,
                "U5": Z,
                "U6": Z,
            },
            "district": {
                "D1": (2, 0, 1.5, 0, 0, 2, 1, 0, 1, 1.0),
                "D2": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
            },
            "category": {
                "parking": (2, 0, 1.5, 0, 0, 2, 1, 0, 1, 1.0),  # P5 P8
                "litter": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),  # P6 P9
            },
            "round": {
                "R2": (3, 0, 1.5, 0, 0, 3, 3, 0, 0, 1.0),
                "R1": (1, 0, 1.0, 0, 0, 1, 0, 0, 1, None),
            },
            # U2 1.0, U4 1.0 (2 problems first), U3 0.5: all three criticised
            "ranking": [
                ("U4", 1, "accountability"),
                ("U2", 1, "accountability"),
                ("U3", 3, "accountability"),
                ("U1", None, None),
                ("U5", None, None),
                ("U6", None, None),
            ],
            # closed: P6 on 01-01, P8 P9 on 01-02
            "daily": [("2025-01-01", 4, 1), ("2025-01-02", 0, 2)],
        },
    ),
    # R2: P6 (U3) P7 (outside) P8 P9 (U4) P10 (U5)
    "round=R2": (
        {"round": ["R2"]},
        {
            "totals": (5, 0, 2.5, 2, 2, 3, 3, 0, 0, 1.0),
            "unit": {
                "U4": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
                "U5": (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                "U3": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
                None: (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                "U1": Z,
                "U2": Z,
                "U6": Z,
            },
            "district": {
                "D2": (3, 0, 1.5, 1, 1, 2, 2, 0, 0, 1.0),
                "D1": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
                None: (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
            },
            "category": {
                "litter": (4, 0, 2.0, 2, 2, 2, 2, 0, 0, 1.0),
                "parking": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
            },
            "round": {"R2": (5, 0, 2.5, 2, 2, 3, 3, 0, 0, 1.0)},
            "ranking": [
                ("U4", 1, "accountability"),
                ("U5", 2, "accountability"),
                ("U3", 2, "accountability"),
                ("U1", None, None),
                ("U2", None, None),
                ("U6", None, None),
            ],
            "daily": [
                ("2025-01-01", 3, 1),  # P6 P8 P9; P6 closed
                ("2025-01-02", 2, 2),  # P7 P10; P8 P9 closed
            ],
        },
    ),
    # U2: P4 (overdue) and P5 (closed, time unknown); ranked among all units
    "unit=U2": (
        {"unit": ["U2"]},
        {
            "totals": (2, 0, 4.0, 1, 1, 1, 0, 0, 1, None),
            "unit": {"U2": (2, 0, 4.0, 1, 1, 1, 0, 0, 1, None)},
            "district": {"D1": (2, 0, 4.0, 1, 1, 1, 0, 0, 1, None), "D2": Z},
            "category": {
                "litter": (1, 0, 3.0, 1, 1, 0, 0, 0, 0, None),
                "parking": (1, 0, 1.0, 0, 0, 1, 0, 0, 1, None),
            },
            "round": {"R1": (2, 0, 4.0, 1, 1, 1, 0, 0, 1, None)},
            "ranking": [("U2", 1, "accountability")],
            "daily": [("2024-12-31", 1, 0), ("2025-01-01", 1, 0)],
        },
    ),
    # D2: P8 P9 (U4) P10 (U5); the units of D2's areas are listed, U6 with nothing
    "district=D2": (
        {"district": ["D2"]},
        {
            "totals": (3, 0, 1.5, 1, 1, 2, 2, 0, 0, 1.0),
            "unit": {
                "U4": (2, 0, 1.0, 0, 0, 2, 2, 0, 0, 1.0),
                "U5": (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                "U6": Z,
            },
            "district": {"D2": (3, 0, 1.5, 1, 1, 2, 2, 0, 0, 1.0)},
            "category": {
                "litter": (2, 0, 1.0, 1, 1, 1, 1, 0, 0, 1.0),
                "parking": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
            },
            "round": {"R2": (3, 0, 1.5, 1, 1, 2, 2, 0, 0, 1.0)},
            "ranking": [
                ("U4", 1, "accountability"),
                ("U5", 2, "accountability"),
                ("U6", None, None),
            ],
            "daily": [("2025-01-01", 2, 0), ("2025-01-02", 1, 2)],
        },
    ),
    # parking: P3 (U1, open, not yet due) P5 (U2, unknown) P8 (U4, on time)
    "category=parking": (
        {"category": ["parking"]},
        {
            "totals": (3, 0, 2.0, 1, 0, 2, 1, 0, 1, 1.0),
            "unit": {
                "U2": (1, 0, 1.0, 0, 0, 1, 0, 0, 1, None),
                "U1": (1, 0, 0.5, 1, 0, 0, 0, 0, 0, None),
                "U4": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
                "U3": Z,
                "U5": Z,
                "U6": Z,
            },
            "district": {
                "D1": (2, 0, 1.5, 1, 0, 1, 0, 0, 1, None),
                "D2": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
            },
            "category": {"parking": (3, 0, 2.0, 1, 0, 2, 1, 0, 1, 1.0)},
            "round": {
                "R1": (2, 0, 1.5, 1, 0, 1, 0, 0, 1, None),
                "R2": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
            },
            "ranking": [
                ("U2", 1, "accountability"),
                ("U1", 2, "accountability"),
                ("U4", 2, "accountability"),
                ("U3", None, None),
                ("U5", None, None),
                ("U6", None, None),
            ],
            "daily": [
                ("2025-01-01", 2, 0),  # P5 P8
                ("2025-01-02", 1, 1),  # P3; P8 closed
            ],
        },
    ),
    # rectifying or assigned litter reported from 2025-01-02: P7 (outside) P10 (U5)
    "combined": (
        {
            "status": ["rectifying", "assigned"],
            "category": ["litter"],
            "date_from": ["2025-01-02"],
        },
        {
            "totals": (2, 0, 1.0, 2, 2, 0, 0, 0, 0, None),
            "unit": {
                "U5": (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                None: (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                **{u: Z for u in ("U1", "U2", "U3", "U4", "U6")},
            },
            "district": {
                "D2": (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                None: (1, 0, 0.5, 1, 1, 0, 0, 0, 0, None),
                "D1": Z,
            },
            "category": {"litter": (2, 0, 1.0, 2, 2, 0, 0, 0, 0, None)},
            "round": {"R2": (2, 0, 1.0, 2, 2, 0, 0, 0, 0, None)},
            "ranking": [("U5", 1, "accountability")]
            + [(u, None, None) for u in ("U1", "U2", "U3", "U4", "U6")],
            "daily": [("2025-01-02", 2, 0)],
        },
    ),
    # nothing matches: zeros for the listed units and districts, no chart, nobody ranked
    "empty": (
        {"round": ["R9"]},
        {
            "totals": Z,
            "unit": {u: Z for u in ("U1", "U2", "U3", "U4", "U5", "U6")},
            "district": {"D1": Z, "D2": Z},
            "category": {},
            "round": {},
            "ranking": [(u, None, None) for u in ("U1", "U2", "U3", "U4", "U5", "U6")],
            "daily": [],
        },
    ),
}


@pytest.mark.parametrize("name", HAND_COUNTS)
def test_every_figure_under_filters_matches_the_hand_count(county, name):
    args, expected = HAND_COUNTS[name]
    assert _all(services_ledger.build(county, args, "zh", NOW)) == expected


def test_overdue_is_counted_at_the_time_given(county):
    # 2025-01-03 07:59 Beijing: P4 (due 01-01 10:00) is overdue, P7 (due 01-03 08:00) and
    # P10 (due 01-03 09:00) not yet; 2025-01-05 12:00: P3 (due 01-04 10:00) too
    early = datetime(2025, 1, 2, 23, 59, tzinfo=UTC)
    late = datetime(2025, 1, 5, 4, 0, tzinfo=UTC)
    assert services_ledger.build(county, {}, "zh", early).totals["overdue"] == 1
    assert services_ledger.build(county, {}, "zh", late).totals["overdue"] == 4
    by_unit = {r["id"]: r["overdue"] for r in services_ledger.build(county, {}, "zh", late).by_unit}
    assert by_unit == {"U1": 1, "U2": 1, "U3": 0, "U4": 0, "U5": 1, "U6": 0, None: 1}


def test_a_rectification_recorded_later_counts_and_a_reopened_problem_does_not(county):
    ids = {p["problem_id"]: p["id"] for p in county.problems({})}
    with county.transaction() as tx:
        # P4 (litter, reported 12-31 10:00 Beijing) rectified 12-31 12:00: on time
        tx.set_problem_status(ids["P4"], "rectified", "t")
        at = datetime(2024, 12, 31, 4, 0, tzinfo=UTC)
        tx.add_event(ids["P4"], "status", "t", {"before": "x", "after": "rectified"}, at=at)
        # P2 reopened: its rectification time no longer counts, it is open (and overdue)
        tx.set_problem_status(ids["P2"], "rectifying", "t")
    led = services_ledger.build(county, {}, "zh", NOW)
    # open P2 P3 P7 P10 (overdue P2 P7 P10); closed P1 P4 P5 P6 P8 P9: on time P1 P4 P6 P8
    # P9, unknown P5
    assert _figures(led.totals) == (10, 0, 10.0, 4, 3, 6, 5, 0, 1, 1.0)
    assert _figures(next(r for r in led.by_unit if r["id"] == "U2")) == (
        (2, 0, 4.0, 0, 0, 2, 1, 0, 1, 1.0)
    )


# --- the files, read back ------------------------------------------------------------------


def test_problem_list_csv_is_streamed_and_matches_the_hand_count(county):
    led = services_ledger.build(county, {}, "zh", NOW)
    chunks = list(ledger_export.iter_csv(county, led, "problems", rows_per_chunk=3))
    assert chunks[0] == "\ufeff".encode() and len(chunks) == 1 + 4  # 11 rows, 3 a chunk
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["编号", "检查轮次", "问题类别"]
    got = {
        r[0]: (r[header.index("计入扣分")], r[header.index("按期")], r[header.index("超期")])
        for r in rows[1:]
    }
    assert got == {
        "P1": ("2.0", "是", ""),
        "P2": ("1.0", "否", ""),
        "P3": ("0.5", "", ""),
        "P4": ("3.0", "", "是"),
        "P5": ("1.0", "", ""),
        "P6": ("0.5", "是", ""),
        "P7": ("0.5", "", "是"),
        "P8": ("0.5", "是", ""),
        "P9": ("0.5", "是", ""),
        "P10": ("0.5", "", "是"),
    }
    assert [r[header.index("整改时间")] for r in rows[1:3]] == [
        "2024-12-30 20:00",
        "2025-01-01 12:00",
    ]


def test_problems_are_read_in_batches_with_the_same_records(county):
    led = services_ledger.build(county, {}, "zh", NOW)
    with county.transaction() as tx:
        sizes = [len(f) for f in tx.iter_problem_frames({}, ["id", "problem_id"], batch=3)]
        ids = [i for f in tx.iter_problem_frames({}, ["problem_id"], batch=3) for i in f["id"]]
    assert sizes == [3, 3, 3, 1] and ids == sorted(ids) and len(set(ids)) == 10
    small = list(services_ledger.iter_problem_records(county, led, "zh", batch=2))
    assert small == services_ledger.problem_records(county, led)
    with pytest.raises(StoreError, match="batch"), county.transaction() as tx:
        next(tx.iter_problem_frames({}, batch=0))


def test_workbook_read_back_matches_the_hand_count(county):
    led = services_ledger.build(county, {"district": ["D1"]}, "zh", NOW)
    wb = load_workbook(io.BytesIO(ledger_export.xlsx_bytes(county, led)))
    assert wb.sheetnames == ["按责任单位", "按片区", "按问题类别", "问题清单", "筛选条件"]
    units = [list(r) for r in wb["按责任单位"].iter_rows(values_only=True)]
    header = units[0]
    assert header[:3] == ["单位编号", "责任单位", "问题数"] and header[-2:] == ["扣分排名", "通报"]
    figures = {r[0]: tuple(r[2:12]) for r in units[1:]}
    assert figures == {  # D1 = P1..P6
        "U1": (3, 0, 3.5, 1, 0, 2, 1, 1, 0, 0.5),
        "U2": (2, 0, 4.0, 1, 1, 1, 0, 0, 1, None),
        "U3": (1, 0, 0.5, 0, 0, 1, 1, 0, 0, 1.0),
    }
    rate = header.index("按期整改率") + 1
    assert wb["按责任单位"].cell(row=2, column=rate).number_format == "0.0%"
    assert wb["按责任单位"].freeze_panes == "A2"
    districts = [list(r) for r in wb["按片区"].iter_rows(values_only=True)]
    assert [r[:4] for r in districts[1:]] == [
        ["D1", "一片区", "单位1", 6],
    ]
    problems = [list(r) for r in wb["问题清单"].iter_rows(values_only=True)]
    assert [r[0] for r in problems[1:]] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert problems[0][0] == "编号" and problems[1][7] == "2024-12-30 10:00"
    filters = dict(list(wb["筛选条件"].iter_rows(values_only=True))[1:])
    assert filters["片区"] == "一片区"
