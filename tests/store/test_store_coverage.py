"""Inspection points, visits, check-ins and the coverage counts, on SQLite and PostGIS,
against a hand count on the 2×2 tiling.

Points: P1, P5 in A-SW and P2 in B-SE (U-CGJ, D1); P3 in C-NW and P4 in D-NE (U-FG, D2).
Round R1: P1 visited twice (problems, deduction 2; later clean), P2 clean, P3 problems
(deduction 3 and a duplicate of it, counting 0).  Round R2: P4 clean.

Hand count, round R1: U-CGJ registered 3, inspected 2 (P1, P2), clean 2 (P1's latest is
clean), problems 1, deduction 2; U-FG registered 2, inspected 1, clean 0, problems 2,
deduction 3.  All rounds: U-FG inspected 2 (P3, P4), clean 1.
"""

from datetime import timedelta

import pytest
from store_data import T0, X0, Y0

from geoapp.store import StoreError

pytestmark = pytest.mark.usefixtures("backend")


def at(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def point(code, x, y, unit, district, area, kind="market", gen=1):
    lon, lat = at(x, y)
    return {
        "point_id": code,
        "name": f"受检点 {code}",
        "kind": kind,
        "lon": lon,
        "lat": lat,
        "generation_id": gen,
        "district_id": district,
        "area_id": area,
        "responsible_unit_id": unit,
        "lead_unit_id": "U-CGJ" if district == "D1" else "U-FG",
    }


@pytest.fixture
def covered(tiled):
    with tiled.transaction() as tx:
        pks = tx.add_inspection_points(
            [
                point("P1", 0.1, 0.1, "U-CGJ", "D1", "A-SW"),
                point("P2", 0.7, 0.1, "U-CGJ", "D1", "B-SE", "school"),
                point("P3", 0.1, 0.7, "U-FG", "D2", "C-NW", "compound_unmanaged"),
                point("P4", 0.7, 0.7, "U-FG", "D2", "D-NE", "urban_village"),
                point("P5", 0.2, 0.2, "U-CGJ", "D1", "A-SW", "back_lane"),
            ],
            "planner",
        )
        p1, p2, p3, p4, _ = pks
        probs = tx.add_problems(
            [
                {"problem_id": "Q1", "deduction": 2, "round": "R1", "reported_at": T0},
                {"problem_id": "Q3", "deduction": 3, "round": "R1", "reported_at": T0},
            ]
        )
        dup = tx.add_problems(
            [
                {
                    "problem_id": "Q3b",
                    "deduction": 3,
                    "round": "R1",
                    "reported_at": T0,
                    "duplicate_of": probs[1],
                }
            ]
        )

        def visit(pk, result, hours, round_="R1", problems=()):
            when = T0 + timedelta(hours=hours)
            return tx.add_visit(
                {
                    "point_pk": pk,
                    "round": round_,
                    "visited_at": when,
                    "local_date": when.date().isoformat(),
                    "inspector": "insp",
                    "result": result,
                },
                problems,
            )

        visit(p1, "problems", 0, problems=[probs[0]])
        visit(p1, "clean", 5)
        visit(p2, "clean", 1)
        visit(p3, "problems", 2, problems=[probs[1], dup[0]])
        visit(p4, "clean", 3, round_="R2")
    return tiled


def by_id(rows):
    return {r["id"]: r for r in rows}


def test_counts_per_unit_match_the_hand_count(covered):
    rows = by_id(covered.coverage_counts("R1"))
    assert rows["U-CGJ"] == {
        "id": "U-CGJ",
        "registered": 3,
        "inspected": 2,
        "clean": 2,
        "problems": 1,
        "deduction": 2.0,
    }
    assert rows["U-FG"] == {
        "id": "U-FG",
        "registered": 2,
        "inspected": 1,
        "clean": 0,
        "problems": 2,
        "deduction": 3.0,
    }
    every = by_id(covered.coverage_counts(None))
    assert (every["U-FG"]["inspected"], every["U-FG"]["clean"]) == (2, 1)


def test_counts_per_district_and_filters(covered):
    rows = by_id(covered.coverage_counts("R1", group="district"))
    assert (rows["D1"]["registered"], rows["D1"]["inspected"]) == (3, 2)
    assert (rows["D2"]["registered"], rows["D2"]["deduction"]) == (2, 3.0)
    only = covered.coverage_counts("R1", {"kind": ["school", "back_lane"]})
    assert [(r["id"], r["registered"], r["inspected"]) for r in only] == [("U-CGJ", 2, 1)]
    with pytest.raises(StoreError):
        covered.coverage_counts("R1", {"colour": "red"})


def test_per_point_rows_and_latest_visit(covered):
    rows = {r["point_id"]: r for r in covered.coverage_points("R1")}
    assert rows["P1"]["visits"] == 2 and rows["P1"]["result"] == "clean"
    assert rows["P1"]["deduction"] == 2.0 and rows["P1"]["clean"] == 1
    assert rows["P5"]["inspected"] == 0 and rows["P5"]["last_visit_date"] is None
    assert rows["P3"]["problems"] == 2 and rows["P3"]["deduction"] == 3.0
    visits = covered.visits("R1")
    assert [v["point_id"] for v in visits] == ["P1", "P2", "P3", "P1"]
    assert len(visits[2]["problem_pks"]) == 2


def test_register_refuses_bad_points(tiled):
    with pytest.raises(StoreError, match="kind"):
        tiled.add_inspection_points([point("X", 0.1, 0.1, "U-CGJ", "D1", "A-SW", "castle")], None)
    with pytest.raises(StoreError, match="unknown unit"):
        tiled.add_inspection_points([point("X", 0.1, 0.1, "U-NONE", "D1", "A-SW")], None)
    tiled.add_inspection_points([point("X", 0.1, 0.1, "U-CGJ", "D1", "A-SW")], None)
    with pytest.raises(StoreError, match="already registered"):
        tiled.add_inspection_points([point("X", 0.1, 0.1, "U-CGJ", "D1", "A-SW")], None)
    assert [p["point_id"] for p in tiled.inspection_points()] == ["X"]


def test_reassignment_keeps_history(covered):
    pk = covered.inspection_point_by_code("P5")["id"]
    changed = covered.reassign_inspection_points(
        {pk: {"area_id": "B-SE", "responsible_unit_id": "U-FG"}}, "planner", "republished"
    )
    assert changed == 1
    assert covered.reassign_inspection_points({pk: {"area_id": "B-SE"}}, "p", None) == 0
    history = covered.inspection_point_history(pk)
    assert [h["kind"] for h in history] == ["registered", "reassigned"]
    assert history[1]["detail"]["before"] == {"area_id": "A-SW", "responsible_unit_id": "U-CGJ"}
    assert history[1]["detail"]["after"] == {"area_id": "B-SE", "responsible_unit_id": "U-FG"}
    assert by_id(covered.coverage_counts("R1"))["U-FG"]["registered"] == 3


def _checkin_row(cid, unit, area, day, hour, **extra):
    lon, lat = at(0.1, 0.1)
    when = T0.replace(day=day, hour=hour)
    return {
        "client_id": cid,
        "unit_id": unit,
        "area_id": area,
        "account": "u1",
        "checked_at": when,
        "local_date": when.date().isoformat(),
        "lon": lon,
        "lat": lat,
        "accuracy_m": 8.0,
        "distance_m": 0.0,
    } | extra


def test_checkins_count_distinct_days(tiled):
    def checkin(cid, unit, area, day, hour):
        return tiled.add_checkin(_checkin_row(cid, unit, area, day, hour))

    checkin("c1", "U-CGJ", "A-SW", 1, 8)
    checkin("c2", "U-CGJ", "A-SW", 1, 9)
    checkin("c3", "U-CGJ", "A-SW", 2, 8)
    checkin("c4", "U-FG", "C-NW", 1, 8)
    with pytest.raises(StoreError):
        checkin("c4", "U-FG", "C-NW", 1, 8)  # the client id is unique
    rows = tiled.patrol_days()
    assert [(r["unit_id"], r["area_id"], r["days"], r["checkins"]) for r in rows] == [
        ("U-CGJ", "A-SW", 2, 3),
        ("U-FG", "C-NW", 1, 1),
    ]
    assert rows[0]["last_date"] == "2024-05-02"
    first_day = tiled.patrol_days("U-CGJ", date_to="2024-05-01")
    assert [(r["days"], r["checkins"]) for r in first_day] == [(1, 2)]
    assert tiled.checkin_by_client_id("c3")["local_date"] == "2024-05-02"
    assert tiled.checkin_by_client_id("nope") is None


def test_many_checkins_at_once_are_stored_as_one_by_one(tiled):
    """add_checkins (the demo county's history) stores each row as add_checkin does, in
    order, with the same checks; a row naming an unknown unit or area, a missing field or a
    repeated client id refuses the whole batch, naming what is wrong, and stores none of it."""
    rows = [
        _checkin_row("c1", "U-CGJ", "A-SW", 1, 8),
        _checkin_row("c2", "U-FG", "C-NW", 1, 9, note="门口"),
        _checkin_row("c3", "U-CGJ", "B-SE", 2, 8, accuracy_m=None),
    ]
    one_by_one = [tiled.checkin_by_id(tiled.add_checkin(r)) for r in rows]
    ignore = {"id", "client_id", "created_at"}
    before = {r["client_id"] for r in tiled.checkins()}
    assert tiled.add_checkins([r | {"client_id": "x" + r["client_id"]} for r in rows]) == 3
    at_once = [r for r in tiled.checkins() if r["client_id"] not in before]
    assert [r["client_id"] for r in at_once] == ["xc1", "xc2", "xc3"]
    assert [{k: v for k, v in r.items() if k not in ignore} for r in at_once] == [
        {k: v for k, v in r.items() if k not in ignore} for r in one_by_one
    ]
    assert all(r["created_at"] is not None for r in at_once)
    count = len(tiled.checkins())
    bad_batches = {
        "U-NOPE": [
            _checkin_row("d1", "U-CGJ", "A-SW", 4, 8),
            _checkin_row("d2", "U-NOPE", "A-SW", 4, 9),
        ],
        "Z-NOPE": [_checkin_row("d3", "U-CGJ", "Z-NOPE", 4, 8)],
        "distance_m": [_checkin_row("d4", "U-CGJ", "A-SW", 4, 8) | {"distance_m": None}],
        "xc1": [
            _checkin_row("d5", "U-CGJ", "A-SW", 4, 8),
            _checkin_row("xc1", "U-CGJ", "A-SW", 4, 8),
        ],
    }
    for named, batch in bad_batches.items():
        with pytest.raises(StoreError) as refused:
            tiled.add_checkins(batch)
        if named != "xc1":  # the unique index says which constraint, not always the value
            assert named in str(refused.value), (named, str(refused.value))
        assert len(tiled.checkins()) == count, named
