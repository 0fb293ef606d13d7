"""Contract: units, districts, categories and rules round-trip on every backend."""

import pytest
from store_data import CATEGORIES, DISTRICTS, UNITS

from geoapp.store import NotFound, Store, StoreError

UNIT_FIELDS = ["unit_id", "name", "kind", "contact", "phone", "lon", "lat", "lead_district_id"]


def test_fresh_store_is_empty(store: Store) -> None:
    assert store.is_empty()
    assert store.list_units() == []
    assert store.list_districts() == []
    assert store.list_categories() == []
    assert store.list_rules() == []
    assert store.current_generation() is None
    assert store.list_generations() == []


def test_units_round_trip(store: Store) -> None:
    assert store.upsert_units(list(reversed(UNITS))) == len(UNITS)
    units = store.list_units()
    assert [u["unit_id"] for u in units] == sorted(u["unit_id"] for u in UNITS)
    assert all(list(u) == UNIT_FIELDS for u in units)
    expected = {u["unit_id"]: {f: u.get(f) for f in UNIT_FIELDS} for u in UNITS}
    assert {u["unit_id"]: u for u in units} == expected
    assert store.get_unit("U-CGJ")["name"] == "县城管局"
    assert not store.is_empty()


def test_upsert_updates_only_given_fields(store: Store) -> None:
    store.upsert_units(UNITS)
    store.upsert_units([{"unit_id": "U-CGJ", "phone": "110"}])
    unit = store.get_unit("U-CGJ")
    assert unit["phone"] == "110"
    assert unit["name"] == "县城管局" and unit["contact"] == "张三" and unit["lon"] == 110.31


def test_get_unit_unknown_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="unknown unit 'nope'"):
        store.get_unit("nope")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"unit_id": "U9"}], "unit 'U9': name is required for a new unit"),
        ([{"name": "no id"}], "unit row 1: unit_id is required"),
        ([{"unit_id": "U9", "name": "x", "colour": "red"}], "unknown field 'colour'"),
        ([{"unit_id": "U9", "name": "x", "lon": "east"}], "unit 'U9': lon: expected a number"),
        ([{"unit_id": "U9", "name": "a"}, {"unit_id": "U9", "name": "b"}], "more than once"),
        ({"unit_id": "U9", "name": "a"}, "expected a list of unit rows"),
    ],
)
def test_bad_unit_rows_are_refused(store: Store, rows, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.upsert_units(rows)
    assert store.list_units() == []


def test_numbers_and_numpy_values_are_accepted(store: Store) -> None:
    import numpy as np

    store.upsert_units(
        [{"unit_id": 7, "name": "seven", "lon": np.float32(1.5), "lat": np.int64(2)}]
    )
    assert store.get_unit("7") | {} == {
        **dict.fromkeys(UNIT_FIELDS),
        "unit_id": "7",
        "name": "seven",
        "lon": 1.5,
        "lat": 2.0,
    }


def test_districts_round_trip(store: Store) -> None:
    store.upsert_units(UNITS)
    store.upsert_districts(DISTRICTS)
    assert store.list_districts() == DISTRICTS
    assert store.get_district("D2")["lead_unit_id"] == "U-FG"
    store.upsert_districts([{"district_id": "D2", "lead_unit_id": "U-JJ"}])
    assert store.get_district("D2") == {
        "district_id": "D2",
        "name": "第二片区",
        "lead_unit_id": "U-JJ",
    }
    with pytest.raises(NotFound):
        store.get_district("D9")


def test_district_with_unknown_lead_unit_is_refused(store: Store) -> None:
    store.upsert_units(UNITS)
    with pytest.raises(
        StoreError, match=r"unknown lead unit 'U-404' \(first referenced by district 'D9'\)"
    ):
        store.upsert_districts([{"district_id": "D9", "name": "x", "lead_unit_id": "U-404"}])
    assert store.list_districts() == []


def test_categories_replace(store: Store) -> None:
    assert store.replace_categories(CATEGORIES) == 3
    assert store.list_categories() == sorted(CATEGORIES, key=lambda c: c["category"])
    store.replace_categories([{"category": "bins", "name_zh": "垃圾"}])
    assert store.list_categories() == [
        {"category": "bins", "name_zh": "垃圾", "name_en": None, "deadline_hours": None}
    ]


def test_category_used_by_a_rule_cannot_be_removed(seeded: Store) -> None:
    with pytest.raises(StoreError, match="cannot remove category 'traffic': rule.*'R-traffic'"):
        seeded.replace_categories([c for c in CATEGORIES if c["category"] != "traffic"])
    assert len(seeded.list_categories()) == 3


def test_rules_sorted_by_priority_then_id(seeded: Store) -> None:
    rules = seeded.list_rules()
    assert [r["rule_id"] for r in rules] == ["R-a", "R-traffic", "R-village"]
    assert rules[2] == {
        "rule_id": "R-village",
        "priority": 20,
        "category": None,
        "area_kind": "urban_village",
        "unit_id": "U-TOWN",
        "note": "城中村",
    }


def test_replace_rules_replaces_the_set(seeded: Store) -> None:
    seeded.replace_rules(
        [{"rule_id": "R-new", "priority": 1, "category": "food", "unit_id": "U-FG"}]
    )
    assert [r["rule_id"] for r in seeded.list_rules()] == ["R-new"]
    seeded.replace_rules([])
    assert seeded.list_rules() == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"rule_id": "R", "priority": 1, "unit_id": "U-404"}, "unknown unit 'U-404'"),
        (
            {"rule_id": "R", "priority": 1, "unit_id": "U-JJ", "category": "x"},
            "unknown category 'x'",
        ),
        ({"rule_id": "R", "unit_id": "U-JJ"}, "rule 'R': priority is required"),
        ({"rule_id": "R", "priority": 1.5, "unit_id": "U-JJ"}, "priority: expected an integer"),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(seeded: Store, rule: dict, message: str) -> None:
    before = seeded.list_rules()
    with pytest.raises(StoreError, match=message):
        seeded.replace_rules([rule])
    assert seeded.list_rules() == before


def test_required_field_cannot_be_cleared(store: Store) -> None:
    store.upsert_units(UNITS)
    with pytest.raises(StoreError, match="unit 'U-JJ': name is required$"):
        store.upsert_units([{"unit_id": "U-JJ", "name": None}])
    assert store.get_unit("U-JJ")["name"] == "县交警大队"


def test_event_detail_must_be_json(store: Store) -> None:
    [pk] = store.add_problems([{"problem_id": "P"}])
    with pytest.raises(StoreError, match="not JSON-serialisable"):
        store.add_event(pk, "photo", "me", {"blob": object()})
    assert [e["kind"] for e in store.problem_events(pk)] == ["created"]
