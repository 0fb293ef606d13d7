"""Contract: the undo/redo history of draft generations, and problem totals per unit."""

import pytest
from store_data import tiling_rows

from geoapp.store import NotFound, Store


def test_edits_stack_undo_and_redo(tiled: Store) -> None:
    current = tiled.current_generation()["id"]
    gid = tiled.create_generation("planner", "draft", parent_id=current)
    assert tiled.draft_edits(gid) == []
    before = [{"area_id": "A", "row": None}]
    after = [{"area_id": "A", "row": {"name": "x", "wkb": "00"}}]
    first = tiled.add_draft_edit(gid, {"type": "add"}, before, after, "planner")
    second = tiled.add_draft_edit(gid, {"type": "reassign"}, after, after, None)
    edits = tiled.draft_edits(gid)
    assert [e["id"] for e in edits] == [first, second]
    assert edits[0]["op"] == {"type": "add"} and edits[0]["before"] == before
    assert edits[0]["after"] == after and edits[0]["actor"] == "planner"
    assert edits[0]["undone"] is False and edits[0]["at"].utcoffset().total_seconds() == 0
    tiled.set_draft_edit_undone(second, True)
    assert [e["undone"] for e in tiled.draft_edits(gid)] == [False, True]
    # a new edit drops the redo stack
    third = tiled.add_draft_edit(gid, {"type": "merge"}, [], [], "planner")
    assert [e["id"] for e in tiled.draft_edits(gid)] == [first, third]
    with pytest.raises(NotFound):
        tiled.set_draft_edit_undone(999_999, True)
    # deleting the draft deletes its history
    tiled.delete_generation(gid)
    with pytest.raises(NotFound):
        tiled.draft_edits(gid)


def test_problem_totals_by_unit(tiled: Store) -> None:
    with tiled.transaction() as tx:
        tx.add_problems(
            [
                {"problem_id": "P1", "deduction": 1.5, "responsible_unit_id": "U-JJ"},
                {"problem_id": "P2", "deduction": 2.0, "responsible_unit_id": "U-JJ"},
                {"problem_id": "P3", "deduction": 0.5, "responsible_unit_id": "U-TOWN"},
                {"problem_id": "P4", "deduction": 0.5},
            ]
        )
    assert tiled.problem_totals_by_unit(["U-JJ", "U-TOWN", "U-FG"]) == {
        "U-JJ": (2, 3.5),
        "U-TOWN": (1, 0.5),
    }
    assert tiled.problem_totals_by_unit([]) == {}


def test_first_generations_of_area_ids(tiled: Store) -> None:
    first = tiled.current_generation()["id"]
    rows = tiling_rows()
    gid = tiled.create_generation("planner", "draft", parent_id=first)
    renamed = dict(rows[0], area_id="NEW-1")
    tiled.put_area_versions(gid, [*rows[1:], renamed])
    ids = [r["area_id"] for r in rows]
    assert tiled.first_generations([*ids, "NEW-1", "never"]) == dict.fromkeys(ids, first) | {
        "NEW-1": gid
    }
    assert tiled.first_generations([]) == {}
    tiled.delete_generation(gid)  # a discarded draft's ids were never anywhere
    assert tiled.first_generations(["NEW-1"]) == {}
