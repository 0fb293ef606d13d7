"""Store contract for intake: edits with history, photos, duplicate links, deadlines."""

import pytest

from geoapp.store import InvalidValue, NotFound, Store, StoreError


def _two(store: Store) -> tuple[int, int]:
    with store.transaction() as tx:
        return tuple(
            tx.add_problems(
                [
                    {"problem_id": "P1", "category": "bins", "lon": 110.1, "lat": 30.1},
                    {"problem_id": "P2", "category": "bins", "lon": 110.1, "lat": 30.1},
                ],
                actor="t",
            )
        )


def test_update_problem_records_before_and_after(seeded: Store) -> None:
    p1, _ = _two(seeded)
    with seeded.transaction() as tx:
        out = tx.update_problem(p1, {"lon": 110.2, "round": "R2"}, "editor", "moved")
    assert out["lon"] == 110.2 and out["round"] == "R2"
    event = seeded.problem_events(p1)[-1]
    assert event["kind"] == "edited" and event["actor"] == "editor" and event["note"] == "moved"
    assert event["detail"] == {
        "before": {"lon": 110.1, "round": None},
        "after": {"lon": 110.2, "round": "R2"},
    }
    # nothing changes: no event
    n = len(seeded.problem_events(p1))
    seeded.update_problem(p1, {"lon": 110.2}, "editor")
    assert len(seeded.problem_events(p1)) == n
    with pytest.raises(StoreError, match="unknown field 'status'"):
        seeded.update_problem(p1, {"status": "verified"}, "editor")
    with pytest.raises(NotFound):
        seeded.update_problem(999, {"lon": 1.0}, "editor")


def test_duplicate_links(seeded: Store) -> None:
    p1, p2 = _two(seeded)
    seeded.update_problem(p2, {"duplicate_of": p1}, "c", kind="duplicate_linked")
    assert seeded.get_problem(p2)["duplicate_of"] == p1
    assert seeded.problems_duplicating(p1) == [{"id": p2, "problem_id": "P2"}]
    assert seeded.problem_events(p2)[-1]["kind"] == "duplicate_linked"
    with pytest.raises(StoreError, match="itself"):
        seeded.update_problem(p1, {"duplicate_of": p1}, "c")
    with pytest.raises(StoreError, match="unknown problem id"):
        seeded.update_problem(p1, {"duplicate_of": 999}, "c")
    seeded.update_problem(p2, {"duplicate_of": None}, "c", kind="duplicate_unlinked")
    assert seeded.problems_duplicating(p1) == []


def test_photos(seeded: Store) -> None:
    p1, _ = _two(seeded)
    photo = {
        "stored_name": "abc.png",
        "content_type": "image/png",
        "size_bytes": 10,
        "sha256": "0" * 64,
        "original_name": "现场.png",
    }
    pid = seeded.add_photo(p1, photo, "inspector")
    got = seeded.get_photo(pid)
    assert got["problem_pk"] == p1 and got["uploaded_by"] == "inspector"
    assert got["uploaded_at"].utcoffset() is not None
    assert [p["id"] for p in seeded.problem_photos(p1)] == [pid]
    assert seeded.problem_events(p1)[-1]["kind"] == "photo_added"
    with pytest.raises(StoreError):  # stored names are unique
        seeded.add_photo(p1, photo, "inspector")
    with pytest.raises(StoreError, match="stored_name is required"):
        seeded.add_photo(p1, {**photo, "stored_name": None}, "x")
    with pytest.raises(NotFound):
        seeded.add_photo(999, photo | {"stored_name": "x.png"}, "x")
    with pytest.raises(NotFound):
        seeded.get_photo(999)
    assert len(seeded.problem_photos(p1)) == 1


def test_category_deadline(seeded: Store) -> None:
    assert seeded.set_category_deadline("bins", 72)["deadline_hours"] == 72
    assert {c["category"]: c for c in seeded.list_categories()}["bins"]["deadline_hours"] == 72
    assert seeded.set_category_deadline("bins", None)["deadline_hours"] is None
    with pytest.raises(NotFound):
        seeded.set_category_deadline("nope", 24)
    for bad in (0, -24, 8761, 100_000_000, 2**40):
        with pytest.raises(InvalidValue, match="between 1 and 8760|out of range"):
            seeded.set_category_deadline("bins", bad)
    assert seeded.set_category_deadline("bins", 8760)["deadline_hours"] == 8760
    rows = [{**c, "deadline_hours": 100_000_000} for c in seeded.list_categories()]
    with pytest.raises(InvalidValue, match="between 1 and 8760"):
        seeded.replace_categories(rows)
    assert {c["category"]: c for c in seeded.list_categories()}["bins"]["deadline_hours"] == 8760


def test_row_lock_reads_the_problem(seeded: Store) -> None:
    p1, _ = _two(seeded)
    with seeded.transaction() as tx:
        assert tx.get_problem(p1, for_update=True)["problem_id"] == "P1"
