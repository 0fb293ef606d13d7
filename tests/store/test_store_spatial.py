"""Contract: ``areas_covering`` gives the same answers on SQLite (shapely) and PostGIS (SQL)."""

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon
from store_data import STEP, TILES, X0, Y0

from geoapp.store import NotFound, Store, StoreError

ALL = sorted(TILES)
X1, Y1 = X0 + STEP, Y0 + STEP  # the inner grid lines
X2, Y2 = X0 + 2 * STEP, Y0 + 2 * STEP


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        # interiors
        (110.25, 30.25, ["A-SW"]),
        (110.75, 30.25, ["B-SE"]),
        (110.25, 30.75, ["C-NW"]),
        (110.75, 30.75, ["D-NE"]),
        # shared edges: both sides cover the point
        (X1, 30.25, ["A-SW", "B-SE"]),
        (110.25, Y1, ["A-SW", "C-NW"]),
        (X1, 30.75, ["C-NW", "D-NE"]),
        # the shared vertex: all four
        (X1, Y1, ALL),
        # outer edges and corners
        (X0, 30.25, ["A-SW"]),
        (X2, 30.75, ["D-NE"]),
        (X0, Y0, ["A-SW"]),
        (X2, Y2, ["D-NE"]),
        (X1, Y0, ["A-SW", "B-SE"]),
        # outside
        (109.9, 30.25, []),
        (110.25, 31.0000001, []),
        (X2 + 1e-12, Y1, []),
        (0.0, 0.0, []),
    ],
)
def test_areas_covering(tiled_to_read: Store, lon: float, lat: float, expected: list[str]) -> None:
    assert tiled_to_read.areas_covering(lon, lat) == expected
    gid = tiled_to_read.current_generation()["id"]
    assert tiled_to_read.areas_covering(lon, lat, generation_id=gid) == expected


def test_diagonal_edge(seeded: Store) -> None:
    # Two triangles sharing a diagonal; points on it have exact binary coordinates.
    lower = Polygon([(X0, Y0), (X1, Y0), (X1, Y1)])
    upper = Polygon([(X0, Y0), (X1, Y1), (X0, Y1)])
    gid = seeded.create_generation("p", "triangles")
    seeded.put_area_versions(
        gid,
        [
            {"area_id": "lower", "name": "下", "geometry": lower},
            {"area_id": "upper", "name": "上", "geometry": upper},
        ],
    )
    assert seeded.areas_covering(110.25, 30.25, gid) == ["lower", "upper"]
    assert seeded.areas_covering(110.375, 30.125, gid) == ["lower"]
    assert seeded.areas_covering(110.125, 30.375, gid) == ["upper"]
    assert seeded.areas_covering(X1, Y1, gid) == ["lower", "upper"]


def test_areas_covering_in_a_draft_and_an_old_generation(tiled: Store) -> None:
    first = tiled.current_generation()["id"]
    draft = tiled.create_generation("p", "shrink A", parent_id=first)
    rows = [r for r in tiled.areas(first).to_dict("records") if r["area_id"] != "A-SW"]
    tiled.put_area_versions(draft, rows)
    assert tiled.areas_covering(110.25, 30.25, draft) == []
    assert tiled.areas_covering(110.25, 30.25) == ["A-SW"]
    tiled.publish_generation(draft, "lead", "ok")
    assert tiled.areas_covering(110.25, 30.25) == []
    assert tiled.areas_covering(110.25, 30.25, first) == ["A-SW"]


def test_areas_covering_without_a_generation(seeded: Store) -> None:
    assert seeded.areas_covering(110.25, 30.25) == []
    with pytest.raises(NotFound):
        seeded.areas_covering(110.25, 30.25, 42)


@pytest.mark.parametrize(("lon", "lat"), [(float("nan"), 30.0), (110.0, None), ("east", 30.0)])
def test_areas_covering_rejects_bad_points(tiled_to_read: Store, lon, lat) -> None:
    with pytest.raises(StoreError):
        tiled_to_read.areas_covering(lon, lat)


def expected_cover(lon: Fraction, lat: Fraction) -> list[str]:
    """Oracle in exact arithmetic: a closed square covers a point inside or on its edge."""
    out = []
    for area_id, (i, j) in TILES.items():
        x0, y0 = Fraction(X0) + i * Fraction(STEP), Fraction(Y0) + j * Fraction(STEP)
        if x0 <= lon <= x0 + Fraction(STEP) and y0 <= lat <= y0 + Fraction(STEP):
            out.append(area_id)
    return sorted(out)


# Grid points in 1/16° steps from 0.25° outside the tiling to 0.25° beyond it: exact in
# binary, and many of them on edges and vertices.
eighths = st.integers(min_value=-4, max_value=20).map(lambda k: Fraction(k, 16))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dx=eighths, dy=eighths)
def test_areas_covering_matches_exact_oracle(tiled: Store, dx: Fraction, dy: Fraction) -> None:
    lon, lat = Fraction(X0) + dx, Fraction(Y0) + dy
    assert tiled.areas_covering(float(lon), float(lat)) == expected_cover(lon, lat)


def test_rolled_back_publish_does_not_poison_lookups(seeded: Store) -> None:
    from store_data import tiling_rows

    gid = seeded.create_generation("p", "d")
    seeded.put_area_versions(gid, tiling_rows())
    with pytest.raises(RuntimeError), seeded.transaction() as tx:
        tx.publish_generation(gid, "p", "go")
        assert tx.areas_covering(110.25, 30.25) == ["A-SW"]
        raise RuntimeError("changed my mind")
    assert seeded.current_generation() is None
    seeded.put_area_versions(gid, [r for r in tiling_rows() if r["area_id"] != "A-SW"])
    seeded.publish_generation(gid, "p", "go")
    assert seeded.areas_covering(110.25, 30.25) == []
    assert seeded.areas_covering(110.75, 30.25) == ["B-SE"]
