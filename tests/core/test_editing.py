"""The boundary editor's pure geometry: edits keep the tiling exact; validation rules."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from geoapp.core import editing
from geoapp.core.assignment import Zoning

# a small grid of square areas near the demo county (lon ~115, lat ~28), 0.001° cells
X0, Y0, STEP = 115.0, 28.0, 0.001


def grid(cols: int = 3, rows: int = 3) -> editing.Areas:
    out = {}
    for i, j in itertools.product(range(cols), range(rows)):
        aid = f"A{j}{i}"
        out[aid] = editing.record(
            box(X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP),
            name=aid,
            kind="main_road",
            district_id="D1" if i < 2 else "D2",
            responsible_unit_id=f"U{i}",
        )
    return out


def total_area(areas: editing.Areas) -> float:
    return sum(r["geometry"].area for r in areas.values())


def assert_exact_tiling(areas: editing.Areas, outline) -> None:
    geoms = [r["geometry"] for r in areas.values()]
    assert all(g.is_valid for g in geoms)
    for a, b in itertools.combinations(geoms, 2):
        assert shapely.intersection(a, b).area < 1e-16
    union = shapely.union_all(geoms)
    assert shapely.symmetric_difference(union, outline).area < 1e-16
    assert total_area(areas) == pytest.approx(outline.area, rel=1e-9)


def frame(areas: editing.Areas):
    from geoapp.services.editor_areas import records_to_frame

    return records_to_frame(areas)


OUTLINE = box(X0, Y0, X0 + 3 * STEP, Y0 + 3 * STEP)
offsets = st.floats(min_value=-0.45, max_value=0.45, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(i=st.integers(1, 2), j=st.integers(1, 2), dx=offsets, dy=offsets)
def test_moving_a_shared_vertex_keeps_the_tiling_exact(i, j, dx, dy):
    areas = grid()
    src = (X0 + i * STEP, Y0 + j * STEP)
    dst = (src[0] + dx * STEP, src[1] + dy * STEP)
    edit = editing.move_vertex(areas, src, dst)
    assert len(edit.changed) == 4  # the four squares around an interior vertex
    assert_exact_tiling(edit.areas, OUTLINE)
    assert areas == grid()  # the input is not changed


@settings(max_examples=40, deadline=None)
@given(
    i=st.integers(1, 2),
    j=st.integers(1, 2),
    dx=offsets,
    dy=offsets,
    seed=st.integers(0, 2**16),
)
def test_an_unchanged_area_keeps_its_problems(i, j, dx, dy, seed):
    areas = grid()
    src = (X0 + i * STEP, Y0 + j * STEP)
    edit = editing.move_vertex(areas, src, (src[0] + dx * STEP, src[1] + dy * STEP))
    rng = np.random.default_rng(seed)
    lon = X0 + rng.random(300) * 3 * STEP
    lat = Y0 + rng.random(300) * 3 * STEP
    # points on borders and vertices too
    lon[:20] = X0 + rng.integers(0, 4, 20) * STEP
    before = Zoning.build(frame(areas)).assign(lon, lat, use_grid=False)
    after = Zoning.build(frame(edit.areas)).assign(lon, lat, use_grid=False)
    problems = before.to_dict("records")
    moves = editing.moved_problems(problems, after.to_dict("records"))
    for p, a in moves:
        assert p["area_id"] in edit.changed and a["area_id"] in edit.changed
    unchanged = set(areas) - set(edit.changed)
    for p, a in zip(problems, after.to_dict("records"), strict=True):
        if p["area_id"] in unchanged:
            assert a["area_id"] == p["area_id"]


def test_a_vertex_on_a_neighbours_edge_is_inserted_there():
    # a T-junction: the left area is one tall rectangle, the right side two squares
    areas = {
        "L": editing.record(box(0, 0, 1, 2), responsible_unit_id="U1"),
        "R1": editing.record(box(1, 0, 2, 1), responsible_unit_id="U1"),
        "R2": editing.record(box(1, 1, 2, 2), responsible_unit_id="U1"),
    }
    edit = editing.move_vertex(areas, (1, 1), (0.8, 1.1))
    assert edit.changed == ["L", "R1", "R2"]
    assert_exact_tiling(edit.areas, box(0, 0, 2, 2))


def test_moving_nowhere_is_refused():
    with pytest.raises(editing.EditError, match="no area"):
        editing.move_vertex(grid(), (0, 0), (1, 1))


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(0.05, 0.95),
    b=st.floats(0.05, 0.95),
)
def test_split_keeps_the_tiling_and_the_id(a, b):
    areas = grid()
    line = [(X0 + STEP * -0.1, Y0 + STEP * (1 + a)), (X0 + STEP * 1.1, Y0 + STEP * (1 + b))]
    edit = editing.split(areas, "A10", line, taken_ids=["A10-2"])
    # the neighbour whose edge the line cuts gets the cut point as a vertex too
    assert edit.changed == ["A10", "A10-3", "A11"]
    cut = set(edit.areas["A10"]["geometry"].exterior.coords) - set(
        areas["A10"]["geometry"].exterior.coords
    )
    on_a11 = {xy for xy in cut if abs(xy[0] - (X0 + STEP)) < 1e-12}
    assert len(on_a11) == 1 and on_a11 <= set(edit.areas["A11"]["geometry"].exterior.coords)
    assert edit.areas["A11"]["geometry"].equals(areas["A11"]["geometry"])
    assert edit.areas["A10-3"]["responsible_unit_id"] == "U0"
    assert edit.areas["A10"]["geometry"].area >= edit.areas["A10-3"]["geometry"].area
    geoms = [r["geometry"] for r in edit.areas.values()]
    assert shapely.union_all(geoms).symmetric_difference(OUTLINE).area < 1e-14
    assert total_area(edit.areas) == pytest.approx(OUTLINE.area, rel=1e-9)


def test_split_needs_a_line_across():
    with pytest.raises(editing.EditError, match="does not cut"):
        editing.split(grid(), "A00", [(X0 + 0.0002, Y0 + 0.0002), (X0 + 0.0003, Y0 + 0.0003)])
    with pytest.raises(editing.EditError, match="no area"):
        editing.split(grid(), "nope", [(0, 0), (1, 1)])


def test_merge_and_delete_keep_the_ground():
    areas = grid()
    merged = editing.merge(areas, "A00", "A01")
    assert "A01" not in merged.areas and merged.changed == ["A00", "A01"]
    assert_exact_tiling(merged.areas, OUTLINE)
    assert merged.areas["A00"]["geometry"].geom_type == "Polygon"
    deleted = editing.delete(areas, "A11", "A12")
    assert "A11" not in deleted.areas
    assert deleted.areas["A12"]["responsible_unit_id"] == "U2"
    assert_exact_tiling(deleted.areas, OUTLINE)
    with pytest.raises(editing.EditError, match="do not share a border"):
        editing.merge(areas, "A00", "A22")
    with pytest.raises(editing.EditError, match="two different"):
        editing.merge(areas, "A00", "A00")


def _split_in_two(areas, area_id):
    """Cut ``area_id`` (a grid square) in two halves along a vertical line."""
    minx, miny, maxx, maxy = areas[area_id]["geometry"].bounds
    mid = (minx + maxx) / 2
    return editing.split(areas, area_id, [(mid, miny - STEP), (mid, maxy + STEP)])


@pytest.mark.parametrize("reverse", [False, True])
def test_merge_back_after_a_split_keeps_the_original_id_in_either_order(reverse):
    areas = grid()
    areas["A11"]["name"] = "original"
    cut = _split_in_two(areas, "A11")
    assert cut.changed == ["A11", "A11-2", "A01", "A21"]
    pair = ("A11-2", "A11")[:: -1 if reverse else 1]
    merged = editing.merge(cut.areas, *pair)
    assert "A11-2" not in merged.areas and merged.kept == "A11"
    assert merged.areas["A11"]["name"] == "original"  # the survivor keeps its own attributes
    assert merged.changed == ["A11", "A11-2"]
    assert_exact_tiling(merged.areas, OUTLINE)
    assert merged.areas["A11"]["geometry"].equals(areas["A11"]["geometry"])


@pytest.mark.parametrize(
    "first, second, survivor",
    [
        ("A11-2-3", "A11-2", "A11-2"),  # a split of a split: the id it was cut from
        ("A11-2-3", "A11", "A11"),
        ("A11-3", "A11-2", "A11-2"),  # two pieces of one cut: the first piece
        ("A11-10", "A11-9", "A11-9"),  # natural order, not text order
        ("N12", "N7", "N7"),  # two drawn areas: natural order
        ("N254", "A11-2", "N254"),  # no split suffix before one
        ("B-1", "B-1-2", "B-1"),  # "-1" is no split suffix: B-1 is a plain id
    ],
)
def test_merge_survivor_without_history(first, second, survivor):
    areas = {
        first: editing.record(box(X0, Y0, X0 + STEP, Y0 + STEP), name=first),
        second: editing.record(box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP), name=second),
    }
    for a, b in ((first, second), (second, first)):
        merged = editing.merge(areas, a, b)
        assert list(merged.areas) == [survivor] and merged.kept == survivor
        assert merged.areas[survivor]["name"] == survivor


def test_merge_survivor_is_the_id_of_the_earliest_generation():
    areas = {
        "N001": editing.record(box(X0, Y0, X0 + STEP, Y0 + STEP), name="drawn long ago"),
        "A05": editing.record(box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP), name="new"),
    }
    seen = {"N001": 3, "A05": 9}
    for pair in (("N001", "A05"), ("A05", "N001")):
        assert editing.merge(areas, *pair, first_seen=seen).kept == "N001"
    # an id missing from the history is newer than every generation
    assert editing.merge(areas, "A05", "N001", first_seen={"N001": 3}).kept == "N001"
    assert editing.merge(areas, "N001", "A05", first_seen={"A05": 12}).kept == "A05"
    # equal generations: fewer split suffixes, then natural order
    assert editing.merge(areas, "N001", "A05", first_seen={"N001": 1, "A05": 1}).kept == "A05"


def test_delete_always_removes_the_named_area():
    cut = _split_in_two(grid(), "A11")
    deleted = editing.delete(cut.areas, "A11", "A11-2")
    assert "A11" not in deleted.areas and "A11-2" in deleted.areas
    assert_exact_tiling(deleted.areas, OUTLINE)


def test_add_fills_only_the_gap():
    areas = grid()
    gap = editing.replace(areas, {"A11": None}).areas
    drawn = box(X0 + 0.5 * STEP, Y0 + 0.5 * STEP, X0 + 2.5 * STEP, Y0 + 2.5 * STEP)
    edit = editing.add_area(gap, "N1", drawn, {"name": "new", "responsible_unit_id": "U9"})
    assert edit.changed == ["N1"]
    assert_exact_tiling(edit.areas, OUTLINE)
    with pytest.raises(editing.EditError, match="no gap"):
        editing.add_area(areas, "N2", drawn)
    with pytest.raises(editing.EditError, match="already exists"):
        editing.add_area(areas, "A00", drawn)


def test_reassign_changes_only_attributes():
    edit = editing.reassign(grid(), "A00", responsible_unit_id="U7", district_id="D2")
    rec = edit.areas["A00"]
    assert (rec["responsible_unit_id"], rec["district_id"]) == ("U7", "D2")
    assert editing.changed_areas(grid(), edit.areas) == {"A00": "attributes"}
    with pytest.raises(editing.EditError):
        editing.reassign(grid(), "A00")


def test_replace_undoes_an_edit():
    areas = grid()
    edit = editing.split(areas, "A00", [(X0 - 1e-4, Y0 + 5e-4), (X0 + 2e-3, Y0 + 5e-4)])
    before = {a: areas.get(a) for a in edit.changed}
    undone = editing.replace(edit.areas, before).areas
    assert editing.changed_areas(areas, undone) == {}


# --- validation -----------------------------------------------------------------------------
def codes(found) -> dict[str, str]:
    return {f.code: f.level for f in found}


def test_a_clean_tiling_has_no_findings():
    assert editing.validate(grid(), OUTLINE, ["U0", "U1", "U2"], ["D1", "D2"]) == []


def test_overlap_is_an_error_with_where_and_how_much():
    areas = grid()
    areas["A00"] = {**areas["A00"], "geometry": box(X0, Y0, X0 + 1.5 * STEP, Y0 + STEP)}
    found = editing.validate(areas, OUTLINE)
    overlap = [f for f in found if f.code == "overlap"]
    assert len(overlap) == 1 and overlap[0].level == "error"
    assert overlap[0].area_ids == ["A00", "A01"]
    # 0.0005° × 0.001° at 28°N: about 49 m × 111 m
    assert 4_000 < overlap[0].area_m2 < 6_500
    assert overlap[0].to_dict()["geometry"]["type"] == "Polygon"


def test_gaps_outside_parts_slivers_split_districts_and_missing_units():
    areas = grid()
    del areas["A11"]  # a hole in the middle
    areas["A22"] = {
        **areas["A22"],
        "geometry": box(X0 + 2 * STEP, Y0 + 2 * STEP, X0 + 3.2 * STEP, Y0 + 3 * STEP),
    }
    areas["A20"] = {**areas["A20"], "responsible_unit_id": None}
    areas["A00"] = {**areas["A00"], "district_id": "D2"}  # D2 now in two pieces
    areas["S"] = editing.record(
        box(X0 + 5 * STEP, Y0, X0 + 5 * STEP + 1e-5, Y0 + 1e-5), responsible_unit_id="U0"
    )
    found = editing.validate(areas, OUTLINE, ["U0", "U1", "U2"], ["D1", "D2"], sliver_m2=50)
    got = codes(found)
    assert got["gap"] == "warning"
    assert got["outside"] == "warning"
    assert got["sliver"] == "warning"
    assert got["district_split"] == "warning"
    assert got["no_unit"] == "error"
    gap = next(f for f in found if f.code == "gap")
    assert 10_000 < gap.area_m2 < 13_000
    assert "A01" in gap.area_ids


def _corner_moves():
    """Every corner of A01 and A21 inside the outline, after A11 is cut along x = 1.5."""
    xs = [X0 + k * STEP for k in (1, 1.5, 2)]
    return [(x, Y0 + STEP) for x in xs] + [(x, Y0 + 2 * STEP) for x in xs]


@pytest.mark.parametrize("corner", _corner_moves())
@pytest.mark.parametrize("offset", [(0.3, 0.2), (-0.2, 0.25), (0.01, -0.02)])
def test_split_then_drag_a_neighbours_corner_opens_no_gap(corner, offset):
    areas = grid()
    cut = _split_in_two(areas, "A11")
    dst = (corner[0] + offset[0] * STEP, corner[1] + offset[1] * STEP)
    moved = editing.move_vertex(cut.areas, corner, dst)
    assert_exact_tiling(moved.areas, OUTLINE)
    found = editing.validate(moved.areas, OUTLINE)
    assert [f.code for f in found if f.code in ("gap", "overlap", "outside")] == []


def test_a_drawn_area_shares_the_points_where_it_cuts_a_neighbours_edge():
    areas = editing.replace(grid(), {"A11": None}).areas
    # drawn from inside the hole across A21's bottom edge: it fills only the hole part,
    # and its two corners on that edge become corners of A21 too
    drawn = box(X0 + 1.2 * STEP, Y0 + 1.5 * STEP, X0 + 1.6 * STEP, Y0 + 2.5 * STEP)
    added = editing.add_area(areas, "N1", drawn, {"responsible_unit_id": "U0"})
    assert added.changed == ["N1", "A21"]
    a21 = set(added.areas["A21"]["geometry"].exterior.coords)
    on_edge = [
        xy
        for xy in added.areas["N1"]["geometry"].exterior.coords
        if abs(xy[1] - (Y0 + 2 * STEP)) < 1e-12
    ]
    assert len(on_edge) >= 2 and set(on_edge) <= a21
    assert added.areas["A21"]["geometry"].equals(areas["A21"]["geometry"])


def geodesic_m2(geom) -> float:
    """The area on the WGS84 ellipsoid, independent of any projection."""
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0])


@pytest.mark.parametrize("x0", [115.0, 119.9])  # the middle and the edge of UTM zone 50
def test_a_real_gap_is_reported_with_its_true_area(x0):
    shift = x0 - X0
    areas = {
        a: {**r, "geometry": shapely.affinity.translate(r["geometry"], xoff=shift)}
        for a, r in grid().items()
    }
    outline = shapely.affinity.translate(OUTLINE, xoff=shift)
    hole = areas["A11"]["geometry"]
    without = editing.replace(areas, {"A11": None}).areas  # deleted, its ground given to none
    for county in (outline, None):
        gaps = [f for f in editing.validate(without, county) if f.code == "gap"]
        assert len(gaps) == 1
        # by hand: 0.001° of longitude × 0.001° of latitude at 28.0015°N is about
        # 98.3 m × 110.9 m; exactly, on the ellipsoid:
        assert 10_800 < gaps[0].area_m2 < 11_000
        assert gaps[0].area_m2 == pytest.approx(geodesic_m2(hole), rel=1e-5)
        assert shapely.geometry.shape(gaps[0].geometry).equals(hole)
        assert set(gaps[0].area_ids) >= {"A01", "A10", "A12", "A21"}


def test_an_area_inside_a_hole_is_not_counted_as_gap():
    areas = editing.replace(grid(), {"A11": None}).areas
    island = box(X0 + 1.4 * STEP, Y0 + 1.4 * STEP, X0 + 1.6 * STEP, Y0 + 1.6 * STEP)
    areas["I"] = editing.record(island, responsible_unit_id="U0")
    ring = box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP).difference(island)
    for county in (OUTLINE, None):
        gaps = [f for f in editing.validate(areas, county) if f.code == "gap"]
        assert len(gaps) == 1
        assert gaps[0].area_m2 == pytest.approx(geodesic_m2(ring), rel=1e-5)


def test_invalid_geometry_and_unknown_references_are_errors():
    areas = grid()
    bowtie = Polygon([(X0, Y0), (X0 + STEP, Y0 + STEP), (X0 + STEP, Y0), (X0, Y0 + STEP)])
    areas["A00"] = {**areas["A00"], "geometry": bowtie}
    areas["A01"] = {**areas["A01"], "responsible_unit_id": "U99", "district_id": "D9"}
    got = codes(editing.validate(areas, None, ["U0", "U1", "U2"], ["D1", "D2"]))
    assert got["invalid_geometry"] == "error"
    assert got["unknown_unit"] == "error"
    assert got["unknown_district"] == "error"


def test_unit_totals_before_and_after():
    moves = [
        ({"responsible_unit_id": "U1", "deduction": 2.0}, {"responsible_unit_id": "U2"}),
        ({"responsible_unit_id": "U1", "deduction": 0.5}, {"responsible_unit_id": "U1"}),
    ]
    totals = editing.unit_totals({"U1": (10, 20.0), "U2": (3, 1.0)}, moves)
    assert totals == {
        "U1": {
            "problems_before": 10,
            "problems_after": 9,
            "deduction_before": 20.0,
            "deduction_after": 18.0,
        },
        "U2": {
            "problems_before": 3,
            "problems_after": 4,
            "deduction_before": 1.0,
            "deduction_after": 3.0,
        },
    }


def test_changed_bounds_cover_old_and_new_shapes():
    areas = grid()
    edit = editing.move_vertex(areas, (X0 + STEP, Y0 + STEP), (X0 + 1.4 * STEP, Y0 + STEP))
    bounds = editing.changed_bounds(areas, edit.areas, edit.changed)
    assert bounds == pytest.approx((X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP))
    assert editing.changed_bounds(areas, areas, []) is None


@settings(max_examples=30, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(1, 3), st.integers(1, 3), offsets, offsets), min_size=1, max_size=6
    )
)
def test_a_series_of_moves_keeps_the_tiling_and_undoes_exactly(moves):
    """Each interior corner of a 4×4 grid moved (again and again) within its own cell
    quarter: the tiling stays exact; putting back the touched records restores the start."""
    start = grid(4, 4)
    outline = box(X0, Y0, X0 + 4 * STEP, Y0 + 4 * STEP)
    areas = start
    where = {}
    undo = []
    for i, j, dx, dy in moves:
        src = where.get((i, j), (X0 + i * STEP, Y0 + j * STEP))
        dst = (X0 + (i + dx) * STEP, Y0 + (j + dy) * STEP)
        if dst == src:
            continue
        edit = editing.move_vertex(areas, src, dst)
        undo.append({a: areas[a] for a in edit.changed})
        areas = edit.areas
        where[(i, j)] = dst
        assert_exact_tiling(areas, outline)
    for before in reversed(undo):
        areas = editing.replace(areas, before).areas
    assert editing.changed_areas(start, areas) == {}


def test_changes_nothing_tells_a_no_op_from_a_small_real_edit():
    areas = grid()
    corner = (X0 + STEP, Y0 + STEP)
    on_edge = (X0 + 0.5 * STEP, Y0 + STEP)
    for point in (corner, on_edge):
        assert editing.changes_nothing(areas, editing.move_vertex(areas, point, point))
    moved = editing.move_vertex(areas, corner, (corner[0] + 1e-7, corner[1]))  # about 1 cm
    assert not editing.changes_nothing(areas, moved)
    same = editing.reassign(areas, "A00", responsible_unit_id="U0")
    assert editing.changes_nothing(areas, same)
    assert not editing.changes_nothing(areas, editing.reassign(areas, "A00", name="x"))
    assert not editing.changes_nothing(areas, editing.merge(areas, "A00", "A01"))
