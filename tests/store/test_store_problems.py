"""Contract: problems, their filters, paging, assignment history and events."""

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from store_data import T0

from geoapp.store import ASSIGNMENT_FIELDS, NotFound, Store, StoreError

CST = timezone(timedelta(hours=8))
FIELDS = [
    "id",
    "problem_id",
    "round",
    "category",
    "description",
    "deduction",
    "reported_at",
    "status",
    "reporter",
    "lon",
    "lat",
    "source_crs",
    "source_x",
    "source_y",
    "generation_id",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
    "duplicate_of",
    "created_at",
    "updated_at",
    "client_id",
    "location_accuracy_m",
]


def assignment(gid: int, area_id: str = "A-SW", **over) -> dict:
    base = {
        "generation_id": gid,
        "district_id": "D1",
        "area_id": area_id,
        "responsible_unit_id": "U-CGJ",
        "lead_unit_id": "U-CGJ",
        "rule_id": None,
    }
    return base | over


def make_rows(gid: int, n: int = 12) -> list[dict]:
    """n problems: round alternates, categories cycle, every third one unassigned."""
    rows = []
    categories = ["bins", "traffic", "food"]
    for i in range(n):
        row = {
            "problem_id": f"P{i:03d}",
            "round": "市级评估" if i % 2 == 0 else "省级评估",
            "category": categories[i % 3],
            "description": f"问题 {i}",
            "deduction": 0.5 * i,
            "reported_at": T0 + timedelta(hours=i),
            "status": "open" if i < 8 else "rectified",
            "reporter": "inspector-1",
            "lon": 110.0 + i / 16,  # exact in binary
            "lat": 30.25,
            "source_crs": "GCJ-02",
            "source_x": 110.005 + i / 16,
            "source_y": 30.251,
        }
        if i % 3 != 2:
            area = "A-SW" if row["lon"] < 110.5 else "B-SE"
            row |= assignment(gid, area, rule_id="R-traffic" if i % 3 == 1 else None)
        rows.append(row)
    return rows


@pytest.fixture
def loaded(tiled: Store) -> tuple[Store, list[int], list[dict]]:
    gid = tiled.current_generation()["id"]
    rows = make_rows(gid)
    ids = tiled.add_problems(rows)
    return tiled, ids, rows


@pytest.fixture(scope="module")
def loaded_to_read(tiled_to_read: Store) -> tuple[Store, list[int], list[dict]]:
    """``loaded``, made once per module and backend, for the tests that only read it (none
    may write to it: they share it)."""
    gid = tiled_to_read.current_generation()["id"]
    rows = make_rows(gid)
    return tiled_to_read, tiled_to_read.add_problems(rows), rows


def test_problem_round_trip(loaded) -> None:
    store, ids, rows = loaded
    assert len(ids) == len(rows) == len(set(ids))
    for pk, row in zip(ids, rows, strict=True):
        got = store.get_problem(pk)
        assert list(got) == FIELDS
        assert got["id"] == pk
        for key, value in row.items():
            assert got[key] == value, key
        for key in ASSIGNMENT_FIELDS:
            assert got[key] == row.get(key)
        assert got["duplicate_of"] is None
        assert got["reported_at"].tzinfo is not None and got[
            "reported_at"
        ].utcoffset() == timedelta(0)
        assert got["created_at"] == got["updated_at"]


def test_problem_reports_of_chosen_statuses(loaded) -> None:
    """(id, reported_at, category) of the problems in the statuses asked for (among ids
    when given), as aware UTC."""
    store, ids, rows = loaded
    with store.transaction() as tx:
        got = sorted(tx.problem_reports(["open", "assigned"]))
        closed = sorted(tx.problem_reports(["rectified"]))
        some = sorted(tx.problem_reports(["open", "rectified"], ids=[ids[0], ids[9], 10**9]))
        none = tx.problem_reports([])
    want = sorted(
        (pk, r["reported_at"], r["category"])
        for pk, r in zip(ids, rows, strict=True)
        if r["status"] == "open"
    )
    assert got == want and len(got) == 8
    assert len(closed) == 4 and none == []
    assert [pk for pk, _, _ in some] == [ids[0], ids[9]]
    assert all(at.utcoffset() == timedelta(0) for _, at, _ in got)


def test_defaults_and_offsets(tiled: Store) -> None:
    [pk] = tiled.add_problems(
        [
            {
                "reported_at": "2024-05-01T16:30:00+08:00",
                "lon": 110.1,
                "lat": 30.1,
                "category": "bins",
            }
        ]
    )
    got = tiled.get_problem(pk)
    assert got["problem_id"].startswith("P-")
    assert got["status"] == "open" and got["deduction"] == 0.0
    assert got["reported_at"] == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    assert got["area_id"] is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"problem_id": "X", "reported_at": "2024-05-01 08:00"},
            "problem 'X': reported_at: .* has no UTC offset",
        ),
        ({"problem_id": "X", "reported_at": datetime(2024, 5, 1)}, "has no UTC offset"),
        ({"problem_id": "X", "reported_at": "yesterday"}, "not an ISO 8601 date-time"),
        ({"problem_id": "X", "deduction": "two"}, "problem 'X': deduction: expected a number"),
        ({"problem_id": "X", "colour": "red"}, "unknown field 'colour'"),
        ({"problem_id": "X", "id": 5}, "unknown field 'id'"),
        (
            {"problem_id": "X", "area_id": "nowhere"},
            r"unknown area 'nowhere' \(first referenced by problem 'X'\)",
        ),
        ({"problem_id": "X", "responsible_unit_id": "U-404"}, "unknown responsible unit 'U-404'"),
        ({"problem_id": "X", "lead_unit_id": "U-404"}, "unknown lead unit 'U-404'"),
        ({"problem_id": "X", "district_id": "D-404"}, "unknown district 'D-404'"),
        ({"problem_id": "X", "generation_id": 404}, "unknown generation 404"),
        ({"problem_id": "X", "duplicate_of": 404}, r"unknown problem id \(duplicate_of\) 404"),
    ],
)
def test_bad_problems_are_refused(tiled: Store, row: dict, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        tiled.add_problems([{"problem_id": "OK-1"}, row])
    assert tiled.count_problems() == 0


def test_duplicate_problem_id_already_stored_writes_nothing(loaded) -> None:
    store, ids, _ = loaded
    before = store.count_problems()
    with store.transaction() as tx:
        events_before = len(tx.problem_events(ids[0]))
    with pytest.raises(StoreError, match="problem_id already stored: 'P003'"):
        store.add_problems(
            [{"problem_id": "NEW-1"}, {"problem_id": "P003"}, {"problem_id": "NEW-2"}]
        )
    assert store.count_problems() == before
    assert store.problems({"round": "nope"}) == []
    assert not [p for p in store.problems() if p["problem_id"].startswith("NEW")]
    assert len(store.problem_events(ids[0])) == events_before


def test_duplicate_problem_id_within_input_writes_nothing(tiled: Store) -> None:
    with pytest.raises(StoreError, match="duplicate problem_id 'Z' in the input"):
        tiled.add_problems([{"problem_id": "Z"}, {"problem_id": "Y"}, {"problem_id": "Z"}])
    assert tiled.count_problems() == 0


def test_failed_import_inside_a_transaction_leaves_nothing(tiled: Store) -> None:
    with pytest.raises(StoreError), tiled.transaction() as tx:
        tx.add_problems([{"problem_id": "A1"}])
        tx.upsert_units([{"unit_id": "U-new", "name": "新单位"}])
        tx.add_problems([{"problem_id": "A1"}])
    assert tiled.count_problems() == 0
    with pytest.raises(NotFound):
        tiled.get_unit("U-new")


def ids_of(problems: list[dict]) -> list[str]:
    return [p["problem_id"] for p in problems]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, [f"P{i:03d}" for i in range(12)]),
        ({}, [f"P{i:03d}" for i in range(12)]),
        ({"round": "省级评估"}, ["P001", "P003", "P005", "P007", "P009", "P011"]),
        ({"category": "traffic"}, ["P001", "P004", "P007", "P010"]),
        (
            {"category": ["traffic", "food"]},
            ["P001", "P002", "P004", "P005", "P007", "P008", "P010", "P011"],
        ),
        ({"status": "rectified"}, ["P008", "P009", "P010", "P011"]),
        ({"area_id": "B-SE"}, ["P009", "P010"]),
        ({"area_id": "A-SW", "category": "bins"}, ["P000", "P003", "P006"]),
        ({"district_id": "D1", "round": "市级评估", "status": "open"}, ["P000", "P004", "P006"]),
        ({"responsible_unit_id": "U-CGJ", "category": "food"}, []),
        ({"lead_unit_id": "U-CGJ", "category": "traffic"}, ["P001", "P004", "P007", "P010"]),
        ({"assigned": False}, ["P002", "P005", "P008", "P011"]),
        ({"assigned": True, "status": "rectified"}, ["P009", "P010"]),
        (
            {"date_from": T0 + timedelta(hours=3), "date_to": T0 + timedelta(hours=6)},
            ["P003", "P004", "P005"],
        ),
        ({"date_from": "2024-05-02T03:00:00+08:00"}, ["P011"]),
        ({"date_to": "2024-05-01T08:00:00Z"}, []),
        ({"date_to": "2024-05-01T09:00:00Z"}, ["P000"]),
        ({"bbox": (110.125, 30.0, 110.25, 30.5)}, ["P002", "P003", "P004"]),
        ({"bbox": (110.0, 30.25, 110.0, 30.25)}, ["P000"]),
        ({"bbox": (111.0, 30.0, 112.0, 31.0)}, []),
        ({"round": None, "category": None}, [f"P{i:03d}" for i in range(12)]),
    ],
)
def test_problem_filters(loaded_to_read, filters, expected: list[str]) -> None:
    store, _, _ = loaded_to_read
    assert ids_of(store.problems(filters)) == expected
    assert store.count_problems(filters) == len(expected)


def test_generation_filter(loaded_to_read) -> None:
    store, _, _ = loaded_to_read
    gid = store.current_generation()["id"]
    assert store.count_problems({"generation_id": gid}) == 8
    assert store.count_problems({"generation_id": str(gid)}) == 8
    assert store.count_problems({"generation_id": gid + 1}) == 0


def test_paging(loaded_to_read) -> None:
    store, _, _ = loaded_to_read
    assert ids_of(store.problems(limit=5)) == [f"P{i:03d}" for i in range(5)]
    assert ids_of(store.problems(limit=5, offset=5)) == [f"P{i:03d}" for i in range(5, 10)]
    assert ids_of(store.problems(limit=5, offset=10)) == ["P010", "P011"]
    assert store.problems(limit=5, offset=20) == []
    assert ids_of(store.problems({"round": "省级评估"}, limit=2, offset=1)) == ["P003", "P005"]
    assert store.problems(limit=0) == []
    with pytest.raises(StoreError, match="must not be negative"):
        store.problems(offset=-1)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"colour": "red"}, "unknown problem filter 'colour'"),
        ({"date_from": "2024-05-01"}, "date_from: .* has no UTC offset"),
        ({"bbox": (1, 2, 3)}, "bbox must be four numbers"),
        ({"bbox": (3, 2, 1, 4)}, "min greater than max"),
        ({"generation_id": "first"}, "generation_id: expected an integer"),
    ],
)
def test_bad_filters(loaded_to_read, filters, message: str) -> None:
    store, _, _ = loaded_to_read
    with pytest.raises(StoreError, match=message):
        store.problems(filters)


def test_get_problem_unknown(tiled: Store) -> None:
    with pytest.raises(NotFound, match="unknown problem id 404"):
        tiled.get_problem(404)
    with pytest.raises(NotFound):
        tiled.problem_events(404)


def test_created_and_assigned_events(loaded) -> None:
    store, ids, rows = loaded
    events = store.problem_events(ids[0])
    assert [e["kind"] for e in events] == ["created", "assigned"]
    assert all(e["actor"] == "inspector-1" and e["problem_pk"] == ids[0] for e in events)
    assert events[0]["detail"] == {"problem_id": "P000"}
    assert events[1]["detail"] == {f: rows[0].get(f) for f in ASSIGNMENT_FIELDS}
    assert [e["kind"] for e in store.problem_events(ids[2])] == ["created"]  # unassigned
    assert list(events[0]) == ["id", "problem_pk", "at", "actor", "kind", "detail", "note"]


def test_actor_overrides_reporter(tiled: Store) -> None:
    [pk] = tiled.add_problems([{"problem_id": "Q", "reporter": "r"}], actor="importer")
    assert [e["actor"] for e in tiled.problem_events(pk)] == ["importer"]


def test_update_assignment_records_history(loaded) -> None:
    store, ids, rows = loaded
    pk = ids[2]  # unassigned
    gid = store.current_generation()["id"]
    after = assignment(
        gid, "B-SE", district_id="D1", responsible_unit_id="U-JJ", rule_id="R-traffic"
    )
    updated = store.update_assignment(pk, after, "coordinator", "补录")
    assert {f: updated[f] for f in ASSIGNMENT_FIELDS} == after
    assert updated["updated_at"] > updated["created_at"]
    event = store.problem_events(pk)[-1]
    assert (
        event["kind"] == "reassigned"
        and event["actor"] == "coordinator"
        and event["note"] == "补录"
    )
    assert event["detail"] == {"before": dict.fromkeys(ASSIGNMENT_FIELDS), "after": after}

    # A partial change keeps the other fields; None clears one.
    again = store.update_assignment(
        pk, {"responsible_unit_id": "U-CGJ", "rule_id": None}, "c", None
    )
    assert again["area_id"] == "B-SE" and again["responsible_unit_id"] == "U-CGJ"
    assert again["rule_id"] is None
    last = store.problem_events(pk)[-1]["detail"]
    assert last["before"] == after and last["after"] == after | {
        "responsible_unit_id": "U-CGJ",
        "rule_id": None,
    }
    assert store.count_problems({"area_id": "B-SE"}) == 3


def test_update_assignment_without_change_records_nothing(loaded) -> None:
    store, ids, rows = loaded
    n = len(store.problem_events(ids[0]))
    store.update_assignment(ids[0], {"area_id": rows[0]["area_id"]}, "c", None)
    assert len(store.problem_events(ids[0])) == n


def test_update_assignment_errors_change_nothing(loaded) -> None:
    store, ids, _ = loaded
    before = store.get_problem(ids[0])
    with pytest.raises(StoreError, match="unknown area 'nowhere'"):
        store.update_assignment(ids[0], {"area_id": "nowhere"}, "c", None)
    with pytest.raises(StoreError, match="unknown field 'status'"):
        store.update_assignment(ids[0], {"status": "closed"}, "c", None)
    with pytest.raises(NotFound):
        store.update_assignment(404, {"area_id": None}, "c", None)
    assert store.get_problem(ids[0]) == before


def test_bulk_update_assignments(loaded) -> None:
    store, ids, _ = loaded
    changed = store.update_assignments({pk: {"area_id": None} for pk in ids}, "redraw", "gen 2")
    assert changed == 8  # the four unassigned ones do not change
    assert store.count_problems({"assigned": True}) == 0
    assert store.problem_events(ids[0])[-1]["note"] == "gen 2"


def test_status_and_custom_events(loaded) -> None:
    store, ids, _ = loaded
    updated = store.set_problem_status(ids[0], "rectified", "unit-1", "已整改")
    assert updated["status"] == "rectified"
    event = store.problem_events(ids[0])[-1]
    assert event["kind"] == "status" and event["detail"] == {"before": "open", "after": "rectified"}
    eid = store.add_event(ids[0], "photo", "unit-1", {"file": "a.jpg", "n": 1}, "整改照片")
    last = store.problem_events(ids[0])[-1]
    assert (
        last["id"] == eid
        and last["detail"] == {"file": "a.jpg", "n": 1}
        and last["note"] == "整改照片"
    )


def test_duplicate_of(loaded) -> None:
    store, ids, _ = loaded
    [pk] = store.add_problems([{"problem_id": "DUP", "duplicate_of": ids[0]}])
    assert store.get_problem(pk)["duplicate_of"] == ids[0]


def test_add_problems_from_a_dataframe(tiled: Store) -> None:
    frame = pd.DataFrame(
        {
            "problem_id": ["F1", "F2"],
            "deduction": [1.0, float("nan")],
            "reported_at": pd.to_datetime(
                ["2024-05-01T08:00:00+08:00", "2024-05-02T08:00:00+08:00"]
            ),
            "lon": [110.1, None],
            "lat": [30.1, None],
        }
    )
    pks = tiled.add_problems(frame)
    first, second = (tiled.get_problem(pk) for pk in pks)
    assert first["reported_at"] == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert second["deduction"] == 0.0 and second["lon"] is None


def test_many_problems(tiled: Store) -> None:
    gid = tiled.current_generation()["id"]
    n = 5_000
    rows = [
        {
            "problem_id": f"M{i}",
            "category": "bins",
            "reported_at": T0,
            "lon": 110.25,
            "lat": 30.25,
            **(assignment(gid) if i % 2 else {}),
        }
        for i in range(n)
    ]
    ids = tiled.add_problems(rows)
    assert ids == sorted(ids) and len(set(ids)) == n
    assert tiled.get_problem(ids[-1])["problem_id"] == f"M{n - 1}"
    assert tiled.count_problems() == n
    assert tiled.count_problems({"assigned": True}) == n // 2
    assert [e["kind"] for e in tiled.problem_events(ids[1])] == ["created", "assigned"]


def test_existing_problem_ids(loaded) -> None:
    store, _, _ = loaded
    assert store.existing_problem_ids(["P000", "nope", "P011", "P000"]) == {"P000", "P011"}
    assert store.existing_problem_ids([]) == set()
