"""Contract: the read models behind the map API (problem_points, distinct_problem_values,
data_version), on both backends."""

from datetime import timedelta

import numpy as np
import pytest
from store_data import T0

from geoapp.store import Store, StoreError

ROUNDS = ["市级评估", "省级评估"]


def rows(gid: int, n: int = 9) -> list[dict]:
    """n problems: rounds alternate, every third one unassigned and without a position."""
    out = []
    for i in range(n):
        assigned = i % 3 != 2
        out.append(
            {
                "problem_id": f"Q{i:03d}",
                "round": ROUNDS[i % 2],
                "category": ["bins", "traffic", "food"][i % 3],
                "deduction": 0.5 * i,
                "reported_at": T0 + timedelta(hours=i),
                "status": "reported" if i < 5 else "verified",
                "lon": 110.1 + 0.01 * i if assigned else None,
                "lat": 30.1 if assigned else None,
                "generation_id": gid if assigned else None,
                "district_id": "D1" if assigned else None,
                "area_id": "A-SW" if assigned else None,
                "responsible_unit_id": "U-CGJ" if assigned else None,
                "lead_unit_id": "U-CGJ" if assigned else None,
            }
        )
    return out


@pytest.fixture
def loaded(tiled: Store) -> Store:
    gid = tiled.current_generation()["id"]
    with tiled.transaction() as tx:
        tx.add_problems(rows(gid), actor="tester")
    return tiled


def test_problem_points_columns_and_order(loaded: Store):
    pts = loaded.problem_points()
    assert sorted(pts) == ["deduction", "id", "lat", "lon", "status"]
    assert pts["id"].dtype == np.int64 and pts["lon"].dtype == np.float64
    assert pts["status"].dtype == object
    full = loaded.problems()
    assert pts["id"].tolist() == [p["id"] for p in full]
    assert pts["status"].tolist() == [p["status"] for p in full]
    assert pts["deduction"].tolist() == [p["deduction"] for p in full]
    lon = [np.nan if p["lon"] is None else p["lon"] for p in full]
    np.testing.assert_array_equal(pts["lon"], np.array(lon))
    assert np.isnan(pts["lat"]).sum() == 3


def test_problem_points_filters_and_extra_columns(loaded: Store):
    pts = loaded.problem_points(
        {"round": ROUNDS[0], "status": ["reported"]}, extra=["category", "district_id"]
    )
    expected = loaded.problems({"round": ROUNDS[0], "status": ["reported"]})
    assert pts["id"].tolist() == [p["id"] for p in expected]
    assert pts["category"].tolist() == [p["category"] for p in expected]
    assert pts["district_id"].tolist() == [p["district_id"] for p in expected]
    assert None in pts["district_id"].tolist()
    empty = loaded.problem_points({"status": "nothing"}, extra=["round"])
    assert all(len(v) == 0 for v in empty.values()) and sorted(empty)[-1] == "status"
    with pytest.raises(StoreError, match="unknown column 'description'"):
        loaded.problem_points(extra=["description"])
    with pytest.raises(StoreError, match="unknown problem filter"):
        loaded.problem_points({"colour": "red"})


def test_distinct_problem_values(loaded: Store):
    assert loaded.distinct_problem_values("round") == sorted(ROUNDS)
    assert loaded.distinct_problem_values("district_id") == ["D1"]
    assert loaded.distinct_problem_values("status", {"round": ROUNDS[1]}) == [
        "reported",
        "verified",
    ]
    with pytest.raises(StoreError, match="unknown field"):
        loaded.distinct_problem_values("reporter")


def test_data_version_changes_with_every_write(loaded: Store):
    seen = [loaded.data_version()]
    assert set(seen[0]) == {"problems", "generations", "reference"}
    assert loaded.data_version() == seen[0]  # reading changes nothing
    pk = loaded.problems({"status": "reported"})[0]["id"]

    def changed(part: str) -> None:
        now = loaded.data_version()
        assert now[part] != seen[-1][part], part
        others = [k for k in now if k != part]
        assert all(now[k] == seen[-1][k] for k in others), (part, now, seen[-1])
        seen.append(now)

    loaded.set_problem_status(pk, "rectified", "tester")
    changed("problems")
    loaded.update_assignment(pk, {"area_id": "B-SE"}, "tester")
    changed("problems")
    loaded.add_event(pk, "rectification_reported", "tester")
    changed("problems")
    loaded.add_problems([{"problem_id": "Q999", "lon": 110.2, "lat": 30.2}])
    changed("problems")
    loaded.upsert_units([{"unit_id": "U-JJ", "phone": "110"}])
    changed("reference")
    with loaded.transaction() as tx:
        gid = tx.create_generation("planner", "draft", parent_id=1)
    changed("generations")
    loaded.delete_generation(gid)
    changed("generations")


def test_data_version_rolls_back_with_the_transaction(loaded: Store):
    before = loaded.data_version()
    with pytest.raises(RuntimeError), loaded.transaction() as tx:
        tx.add_problems([{"problem_id": "Q500", "lon": 110.2, "lat": 30.2}])
        assert tx.data_version()["problems"] != before["problems"]
        raise RuntimeError("abandon")
    assert loaded.data_version() == before


def test_problem_changes_names_what_changed_since_a_version(loaded: Store):
    start = loaded.data_version()["problems"]
    assert loaded.problem_changes(start) == []
    pk = loaded.problems({"status": "reported"})[0]["id"]
    loaded.set_problem_status(pk, "verified", "tester")
    [new] = loaded.add_problems([{"problem_id": "Q700", "lon": 110.3, "lat": 30.3}])
    assert loaded.problem_changes(start) == sorted([pk, new])
    assert loaded.problem_changes(start, limit=1) is None  # too many: reload everything
    assert loaded.problem_changes("not a token") is None
    pts = loaded.problem_points({"status": "verified"}, ids=[pk, new, 10**6])
    assert pts["id"].tolist() == [pk] and pts["status"].tolist() == ["verified"]
    assert loaded.problem_points(ids=[])["id"].tolist() == []
