"""The coverage figures and the ranking against a hand count on the tiny county
(tests/hand_county.py: Uk responsible for square Ak; D1 = A1..A3 led by U1, D2 = A4..A6 led
by U4; problem P4 of U2, round R1, is overdue at NOW), on SQLite and PostGIS.

Register: M1, M2 in A1 (U1); S2 in A2 (U2); V4 in A4 (U4); C5 in A5 (U5).  Round R1
visits: M1 clean, M2 clean, S2 with one problem of 2 points.  Check-ins: U1 in A1 on
2025-01-02 and 2025-01-03 (twice).

Hand count, round R1::

    unit  registered inspected clean  ded/pt  overdue  status        criticism
    U1    2          2         2      0       0        commended     -
    U2    1          1         0      2.0     1 (P4)   ranked        1
    U4    1          0         0      -       0        insufficient  -
    U5    1          0         0      -       0        insufficient  -
    U3    0          0         0      -       0        no_points     -
    U6    0          0         0      -       0        no_points     -

U1 patrolled 1 of 1 area on 2 days; A2..A6 not patrolled; V4 and C5 not inspected.
"""

from datetime import timedelta

import pytest
from hand_county import LAT0, LON0, NOW, SIDE
from shapely.geometry import Point

from geoapp.services import coverage, coverage_figures
from geoapp.services.errors import ServiceError


def centre(k: int, dx: float = 0.0) -> tuple[float, float]:
    return LON0 + (k - 0.5 + dx) * SIDE, LAT0 + 0.5 * SIDE


@pytest.fixture
def county(tiny_county):
    points = [("M1", 1, 0.0), ("M2", 1, 0.2), ("S2", 2, 0.0), ("V4", 4, 0.0), ("C5", 5, 0.0)]
    coverage.register_points(
        tiny_county,
        [
            {"point_id": code, "name": code, "kind": "market", "geometry": Point(centre(k, dx))}
            for code, k, dx in points
        ],
        "planner",
    )
    for code, result, problems in (
        ("M1", "clean", []),
        ("M2", "clean", []),
        ("S2", "problems", [{"category": "litter", "deduction": 2}]),
    ):
        coverage.record_visit(
            tiny_county,
            {"point_id": code, "round": "R1", "result": result, "problems": problems},
            "insp",
            role="inspector",
            now=NOW,
        )
    for i, when in enumerate((NOW - timedelta(days=1), NOW, NOW)):
        lon, lat = centre(1)
        coverage.check_in(
            tiny_county,
            {"area_id": "A1", "lon": lon, "lat": lat, "client_id": f"patrol-{i:04d}"},
            "u1",
            role="unit",
            unit_id="U1",
            now=when,
        )
    return tiny_county


def test_figures_and_ranking_match_the_hand_count(county):
    cov = coverage_figures.build(county, {}, now=NOW)
    assert cov.round == "R1" and cov.rounds == ["R1"]
    assert (cov.date_from, cov.date_to) == ("2024-12-28", "2025-01-03")
    rows = {r["id"]: r for r in cov.by_unit}
    got = {
        uid: (
            r["registered"],
            r["inspected"],
            r["clean"],
            r["deduction_per_point"],
            r["overdue"],
            r["status"],
            r["criticism_rank"],
        )
        for uid, r in rows.items()
    }
    assert got == {
        "U1": (2, 2, 2, 0.0, 0, "commended", None),
        "U2": (1, 1, 0, 2.0, 1, "ranked", 1),
        "U3": (0, 0, 0, None, 0, "no_points", None),
        "U4": (1, 0, 0, None, 0, "insufficient", None),
        "U5": (1, 0, 0, None, 0, "insufficient", None),
        "U6": (0, 0, 0, None, 0, "no_points", None),
    }
    assert [r["id"] for r in cov.by_unit] == ["U1", "U2", "U4", "U5", "U3", "U6"]
    assert (rows["U1"]["coverage"], rows["U1"]["clean_rate"]) == (1.0, 1.0)
    assert (rows["U1"]["areas_patrolled"], rows["U1"]["patrol_days"]) == (1, 2)
    assert rows["U1"]["patrol_days_per_area"] == 2.0 and rows["U2"]["patrol_days"] == 0
    assert sorted(p["point_id"] for p in cov.not_inspected) == ["C5", "V4"]
    assert [a["area_id"] for a in cov.not_patrolled] == ["A2", "A3", "A4", "A5", "A6"]
    districts = {r["id"]: r for r in cov.by_district}
    assert (districts["D1"]["registered"], districts["D1"]["inspected"]) == (3, 3)
    assert districts["D1"]["clean_rate"] == pytest.approx(2 / 3)
    assert (districts["D2"]["registered"], districts["D2"]["coverage"]) == (2, 0.0)
    assert (cov.totals["registered"], cov.totals["inspected"], cov.totals["clean"]) == (5, 3, 2)


def test_patrol_period_and_threshold(county):
    cov = coverage_figures.build(county, {"date_from": "2025-01-03"}, now=NOW)
    assert {r["id"]: r["patrol_days"] for r in cov.by_unit}["U1"] == 1
    lenient = coverage_figures.build(county, {}, min_coverage=0.0, now=NOW)
    assert {r["id"]: r["status"] for r in lenient.by_unit}["U4"] == "ranked"
    with pytest.raises(ServiceError):
        coverage_figures.build(county, {"date_from": "yesterday"}, now=NOW)
    with pytest.raises(ServiceError):
        coverage_figures.build(county, {"date_from": "2025-02-01"}, now=NOW)


def test_an_other_round_and_filters(county):
    cov = coverage_figures.build(county, {"round": "R2"}, now=NOW)
    assert all(r["inspected"] == 0 for r in cov.by_unit)
    assert not any(r["commended"] for r in cov.by_unit)
    only = coverage_figures.build(county, {"district": "D2"}, now=NOW)
    assert sorted(r["id"] for r in only.by_unit) == ["U4", "U5", "U6"]


def test_scope_of_accounts(county):
    lead = coverage_figures.scope(county, "unit", "U1")
    assert lead == {"district": ["D1"]}
    led = coverage_figures.build(county, {}, held_to=lead, now=NOW)
    assert sorted(r["id"] for r in led.by_unit) == ["U1", "U2", "U3"]
    own = coverage_figures.scope(county, "unit", "U2")
    assert own == {"unit": ["U2"]}
    mine = coverage_figures.build(county, {"unit": "U1"}, held_to=own, now=NOW)
    assert [r["id"] for r in mine.by_unit] == [] and mine.points == []
    assert coverage_figures.scope(county, "coordinator", None) == {}
