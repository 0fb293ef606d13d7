"""Inspection points, visits and check-ins through the use cases, on the tiny county
(tests/hand_county.py: six 0.01° squares A1..A6 in a row, unit Uk responsible for Ak;
D1 = A1..A3 led by U1, D2 = A4..A6 led by U4), on SQLite and PostGIS."""

from datetime import UTC, datetime

import pytest
from hand_county import LAT0, LON0, SIDE
from shapely.geometry import Point, box

from geoapp.core.intake import ReportError
from geoapp.core.workflow import NotPermitted
from geoapp.services import coverage, editor, editor_edits
from geoapp.services.errors import ServiceError

NOW = datetime(2025, 1, 3, 4, 0, tzinfo=UTC)


def inside(k: int, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
    return LON0 + (k - 1 + fx) * SIDE, LAT0 + fy * SIDE


def register(store):
    return coverage.register_points(
        store,
        [
            {"point_id": "M1", "name": "城关市场", "kind": "market", "geometry": Point(inside(1))},
            {
                "point_id": "C2",
                "name": "无物业小区",
                "kind": "compound_unmanaged",
                "geometry": box(*inside(2, 0.2, 0.2), *inside(2, 0.4, 0.4)),
            },
            {
                "point_id": "X9",
                "name": "县外",
                "kind": "station",
                "geometry": Point(LON0 - 0.05, LAT0),
            },
        ],
        "planner",
    )


def test_points_are_assigned_like_problems(tiny_county):
    register(tiny_county)
    points = {p["point_id"]: p for p in tiny_county.inspection_points()}
    assert (points["M1"]["area_id"], points["M1"]["responsible_unit_id"]) == ("A1", "U1")
    assert (points["C2"]["area_id"], points["C2"]["lead_unit_id"]) == ("A2", "U1")
    assert points["C2"]["geometry"].geom_type == "Polygon"
    assert points["X9"]["area_id"] is None and points["X9"]["generation_id"] is None


def test_publishing_reassigns_points_with_history(tiny_county):
    register(tiny_county)
    draft = editor.start_draft(tiny_county, "planner", message="A1 to U3")
    gid = draft["generation"]["id"] if "generation" in draft else draft["id"]
    version = tiny_county.get_generation(gid)["version"]
    editor_edits.apply_edit(
        tiny_county,
        gid,
        {"type": "reassign", "area_id": "A1", "responsible_unit_id": "U3"},
        version,
        "planner",
    )
    version = tiny_county.get_generation(gid)["version"]
    done = editor.publish(tiny_county, gid, version, "planner", "A1 to U3")
    assert done["points_reassigned"] == 1
    m1 = tiny_county.inspection_point_by_code("M1")
    assert (m1["responsible_unit_id"], m1["generation_id"]) == ("U3", gid)
    history = tiny_county.inspection_point_history(m1["id"])
    assert [h["kind"] for h in history] == ["registered", "reassigned"]
    assert history[1]["detail"]["before"]["responsible_unit_id"] == "U1"
    assert "published" in history[1]["note"]
    c2 = tiny_county.inspection_point_by_code("C2")
    assert c2["generation_id"] != gid  # unchanged: keeps the generation it had


def test_visits_clean_and_with_problems_exactly_once(tiny_county):
    register(tiny_county)
    clean, created = coverage.record_visit(
        tiny_county,
        {"point_id": "M1", "round": "省级评估", "result": "clean", "client_id": "visit-0001"},
        "insp",
        role="inspector",
        now=NOW,
    )
    assert created and clean["result"] == "clean" and clean["local_date"] == "2025-01-03"
    again, created = coverage.record_visit(
        tiny_county,
        {"point_id": "M1", "round": "省级评估", "result": "clean", "client_id": "visit-0001"},
        "insp",
        role="inspector",
        now=NOW,
    )
    assert not created and again["id"] == clean["id"]
    body = {
        "point_id": "C2",
        "round": "省级评估",
        "result": "problems",
        "client_id": "visit-0002",
        "problems": [{"category": "litter", "deduction": 1.5, "description": "垃圾落地"}],
    }
    found, _ = coverage.record_visit(tiny_county, body, "insp", role="inspector", now=NOW)
    coverage.record_visit(tiny_county, body, "insp", role="inspector", now=NOW)
    assert len(found["problem_pks"]) == 1
    problem = tiny_county.get_problem(found["problem_pks"][0])
    assert (problem["round"], problem["deduction"], problem["area_id"]) == ("省级评估", 1.5, "A2")
    assert len(tiny_county.visits("省级评估")) == 2
    counts = {r["id"]: r for r in tiny_county.coverage_counts("省级评估", group="district")}
    assert (counts["D1"]["registered"], counts["D1"]["inspected"], counts["D1"]["clean"]) == (
        2,
        2,
        1,
    )
    assert counts["D1"]["deduction"] == 1.5
    units = {r["id"]: r for r in tiny_county.coverage_counts("省级评估")}
    assert (units["U2"]["clean"], units["U2"]["deduction"]) == (0, 1.5)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"point_id": "NOPE", "round": "R", "result": "clean"}, "point_id"),
        ({"point_id": "M1", "round": "R", "result": "dirty"}, "result"),
        ({"point_id": "M1", "result": "clean"}, "round"),
        ({"point_id": "M1", "round": "R", "result": "problems"}, "problems"),
        (
            {"point_id": "M1", "round": "R", "result": "clean", "problems": [{"category": "x"}]},
            "problems",
        ),
        ({"point_id": "M1", "round": "R", "result": "clean", "colour": 1}, "colour"),
        ({"point_id": "M1", "round": "R", "result": "clean", "client_id": "x"}, "client_id"),
    ],
)
def test_bad_visits_are_refused_naming_the_field(tiny_county, body, field):
    register(tiny_county)
    with pytest.raises((ReportError, ServiceError)) as info:
        coverage.record_visit(tiny_county, body, "insp", role="inspector", now=NOW)
    assert str(info.value).startswith(field)
    assert tiny_county.visits() == []


def test_units_may_not_record_visits(tiny_county):
    register(tiny_county)
    with pytest.raises(NotPermitted):
        coverage.record_visit(
            tiny_county,
            {"point_id": "M1", "round": "R", "result": "clean"},
            "u",
            role="unit",
            now=NOW,
        )


def checkin(store, area, lon, lat, unit="U1", cid="check-0001", role="unit"):
    return coverage.check_in(
        store,
        {"area_id": area, "lon": lon, "lat": lat, "accuracy_m": 12, "client_id": cid},
        "u1",
        role=role,
        unit_id=unit,
        max_distance_m=50,
        now=NOW,
    )


def test_checkin_inside_near_and_outside(tiny_county):
    row, created = checkin(tiny_county, "A1", *inside(1))
    assert created and row["distance_m"] == 0 and row["accuracy_m"] == 12
    assert checkin(tiny_county, "A1", *inside(1))[1] is False  # sent twice, stored once
    # 0.0003° west of A1 (about 29 m): within 50 m
    near, _ = checkin(tiny_county, "A1", LON0 - 0.0003, LAT0 + 0.005, cid="check-0002")
    assert 25 < near["distance_m"] < 35
    with pytest.raises(ServiceError) as info:
        checkin(tiny_county, "A1", *inside(3), cid="check-0003")
    assert info.value.status == 422
    assert info.value.values["here"] == "包干区3" and info.value.values["area"] == "包干区1"
    with pytest.raises(ServiceError):
        checkin(tiny_county, "A1", LON0 - 0.05, LAT0, cid="check-0004")
    assert len(tiny_county.checkins()) == 2
    days = tiny_county.patrol_days("U1")
    assert [(d["area_id"], d["days"], d["checkins"]) for d in days] == [("A1", 1, 2)]


def test_units_check_in_only_to_their_own_areas(tiny_county):
    with pytest.raises(NotPermitted):
        checkin(tiny_county, "A2", *inside(2))
    with pytest.raises(NotPermitted):
        checkin(tiny_county, "A1", *inside(1), role="inspector")
    assert tiny_county.checkins() == []


def test_a_visit_with_one_bad_problem_stores_nothing(tiny_county):
    register(tiny_county)
    before = tiny_county.count_problems()
    body = {
        "point_id": "M1",
        "round": "R",
        "result": "problems",
        "problems": [{"category": "litter", "deduction": 1}, {"category": "nonsense"}],
    }
    with pytest.raises(ReportError, match=r"problems\[1\]"):
        coverage.record_visit(tiny_county, body, "insp", role="inspector", now=NOW)
    assert tiny_county.count_problems() == before and tiny_county.visits() == []


def test_importing_boundaries_reassigns_points_too(tiny_county, tmp_path):
    from geoapp.services import boundary_import

    register(tiny_county)
    areas = tiny_county.areas()
    areas.loc[areas.area_id == "A1", "responsible_unit_id"] = "U3"
    path = tmp_path / "areas.geojson"
    areas.to_file(path, driver="GeoJSON")
    plan = boundary_import.plan_area_import(tiny_county, path)
    done = boundary_import.commit_area_import(tiny_county, plan, "planner", "A1 to U3")
    assert done["points_reassigned"] == 1
    m1 = tiny_county.inspection_point_by_code("M1")
    assert m1["responsible_unit_id"] == "U3"
    assert [h["kind"] for h in tiny_county.inspection_point_history(m1["id"])] == [
        "registered",
        "reassigned",
    ]
