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


def _statements(store: Store, action) -> int:
    """How many SQL statements ``action()`` sends to ``store``'s database."""
    import sqlalchemy as sa

    sent = []

    def count(*_args) -> None:
        sent.append(1)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    return len(sent)


def test_the_reference_token_changes_with_every_value_of_every_reference_table(loaded: Store):
    """``reference`` sees any change of any column of units, districts, categories and rules
    (the last bit of a longitude, NULL against an empty text, a value moved to the next
    column), comes back when the value does, and costs two statements in all (it was one
    per reference table on top of the counts: five round trips, twice per GET)."""
    import math

    import sqlalchemy as sa

    from geoapp.store import schema as S

    loaded.upsert_units([{"unit_id": "U-JJ", "name": "ab", "kind": "", "lon": 110.25}])
    with loaded.transaction() as tx:
        tx._x(sa.insert(S.categories).values(category="cat-x", name_zh="a", deadline_hours=7))
        tx._x(sa.insert(S.rules).values(rule_id="R-x", priority=5, unit_id="U-JJ", note="n"))
    with loaded.transaction() as tx:
        assert _statements(loaded, tx.data_version) == 2
    base = loaded.data_version()["reference"]
    changes = [
        (S.units, "U-JJ", {"name": "abc"}),
        (S.units, "U-JJ", {"name": "a", "kind": "b"}),  # a letter moved to the next value
        (S.units, "U-JJ", {"kind": None}),  # NULL, not an empty text
        (S.units, "U-JJ", {"lon": math.nextafter(110.25, 111)}),  # the last bit of a float
        (S.units, "U-JJ", {"lat": 0.0}),
        (S.districts, None, {"name": "elsewhere"}),
        (S.categories, "cat-x", {"deadline_hours": 8}),
        (S.categories, "cat-x", {"name_en": "x"}),
        (S.rules, "R-x", {"priority": 50}),
        (S.rules, "R-x", {"note": None}),
    ]
    for table, key, values in changes:
        column = table.primary_key.columns.values()[0]
        with loaded.transaction() as tx:
            if key is None:
                key = tx._x(sa.select(column).order_by(column).limit(1)).scalar_one()
            where = column == key
            old = tx._x(sa.select(*(table.c[c] for c in values)).where(where)).one()._asdict()
            tx._x(sa.update(table).where(where).values(**values))
        assert loaded.data_version()["reference"] != base, (table.name, values)
        with loaded.transaction() as tx:
            tx._x(sa.update(table).where(where).values(**old))
        assert loaded.data_version()["reference"] == base, (table.name, values)


def test_a_generation_is_read_in_one_statement(loaded: Store):
    """Every GET reads the current generation (and the generations its problems were
    assigned in): one statement each, with the area count and ``is_current`` (it was four
    for the current generation, three for another)."""
    from geoapp.store import NotFound

    current = loaded.current_generation()
    with loaded.transaction() as tx:
        draft = tx.create_generation("planner", "draft", parent_id=current["id"])
    with loaded.transaction() as tx:
        assert _statements(loaded, tx.current_generation) == 1
        assert _statements(loaded, lambda: tx.get_generation(draft)) == 1
        assert tx.current_generation() == current
        assert tx.get_generation(current["id"]) == current
        assert current["is_current"] is True and current["area_count"] == 4
        other = tx.get_generation(draft)
        assert other["is_current"] is False and other["status"] == "draft"
        listed = tx.list_generations()
        assert [g["id"] for g in listed] == sorted(g["id"] for g in listed)
        assert [g["is_current"] for g in listed] == [g["id"] == current["id"] for g in listed]
        with pytest.raises(NotFound):
            tx.get_generation(draft + 1000)
