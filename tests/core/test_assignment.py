"""The assignment core against a plain shapely.covers oracle."""

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from geoapp.core.assignment import Zoning, assign_points

X0, Y0, D = 114.9, 28.2, 0.001


def grid_areas(labels: np.ndarray) -> gpd.GeoDataFrame:
    """Areas as unions of grid cells with the same label; label -1 is a gap."""
    rows, geoms = [], []
    for lab in sorted(set(labels.ravel().tolist()) - {-1}):
        cells = [
            box(X0 + j * D, Y0 + i * D, X0 + (j + 1) * D, Y0 + (i + 1) * D)
            for i, j in zip(*np.nonzero(labels == lab), strict=True)
        ]
        rows.append(
            {
                "area_id": f"A{lab:02d}",
                "name": f"area {lab}",
                "kind": "main_road" if lab % 2 else "urban_village",
                "district_id": f"D{lab % 3}",
                "responsible_unit_id": f"U{lab:02d}",
            }
        )
        geoms.append(shapely.union_all(cells))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def oracle(areas: gpd.GeoDataFrame, lon, lat) -> list:
    """Per point, the smallest area_id whose geometry covers it (shapely's covers), or None.
    The columns are read once and each area tested against all points at once: the same
    predicate, without a GeoDataFrame lookup per point."""
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    ids = list(areas["area_id"])
    covered = [shapely.covers(g, points) for g in areas.geometry]  # one row per area
    out = []
    for i in range(len(points)):
        hits = sorted(a for a, row in zip(ids, covered, strict=True) if row[i])
        out.append(hits[0] if hits else None)
    return out


@st.composite
def partitions_and_points(draw):
    rows = draw(st.integers(2, 6))
    cols = draw(st.integers(2, 6))
    k = draw(st.integers(1, 6))
    labels = np.array(
        draw(st.lists(st.integers(-1, k - 1), min_size=rows * cols, max_size=rows * cols))
    ).reshape(rows, cols)
    if (labels == -1).all():
        labels[0, 0] = 0
    n = draw(st.integers(1, 60))
    kinds = draw(
        st.lists(st.sampled_from(["vertex", "edge", "inside", "outside"]), min_size=n, max_size=n)
    )
    pts = []
    for kind in kinds:
        i = draw(st.integers(0, rows))
        j = draw(st.integers(0, cols))
        if kind == "vertex":
            pts.append((X0 + j * D, Y0 + i * D))
        elif kind == "edge":
            pts.append(
                (X0 + (j + 0.5) * D, Y0 + i * D)
                if draw(st.booleans())
                else (X0 + j * D, Y0 + (i + 0.5) * D)
            )
        elif kind == "inside":
            fx = draw(st.floats(0.01, 0.99))
            fy = draw(st.floats(0.01, 0.99))
            pts.append((X0 + (j + fx) * D, Y0 + (i + fy) * D))
        else:
            pts.append((X0 - draw(st.floats(1e-9, 0.01)), Y0 + draw(st.floats(-0.01, 0.01))))
    lon, lat = map(np.array, zip(*pts, strict=True))
    return grid_areas(labels), lon, lat


@settings(max_examples=200, deadline=None)
@given(
    partitions_and_points(),
    st.randoms(use_true_random=False),
    st.sampled_from([16, 64, 500, 20_000]),
    st.booleans(),
)
def test_matches_covers_oracle_and_ignores_order(data, rnd, cells, use_grid):
    areas, lon, lat = data
    expected = oracle(areas, lon, lat)
    zoning = Zoning.build(areas, max_cells=cells)
    got = zoning.assign(lon, lat, use_grid=use_grid)["area_id"].tolist()
    assert got == expected
    # shuffled areas and points give the same answer per point
    perm = list(range(len(lon)))
    rnd.shuffle(perm)
    one = [zoning.assign_one(x, y)["area_id"] for x, y in zip(lon, lat, strict=True)]
    assert one == expected
    shuffled_areas = areas.sample(frac=1.0, random_state=rnd.randint(0, 10**6))
    again = (
        Zoning.build(shuffled_areas, max_cells=cells)
        .assign(lon[perm], lat[perm], use_grid=use_grid)["area_id"]
        .tolist()
    )
    assert again == [expected[i] for i in perm]


def square_pair():
    # A (left) and B (right) share the edge x = 1; C is a hole inside B; D a multipolygon
    a = box(0, 0, 1, 1)
    b = box(1, 0, 2, 1).difference(box(1.4, 0.4, 1.6, 0.6))
    c = box(1.4, 0.4, 1.6, 0.6)
    d = shapely.MultiPolygon([box(0, 1, 1, 2), box(1.5, 1, 2, 2)])
    return gpd.GeoDataFrame(
        {
            "area_id": ["A", "B", "C", "D"],
            "name": list("abcd"),
            "kind": ["main_road", "urban_village", "market", "public_space"],
            "district_id": ["D1", "D1", "D2", "D2"],
            "responsible_unit_id": ["U1", "U2", "U3", "U4"],
        },
        geometry=[a, b, c, d],
        crs=4326,
    )


DISTRICTS = [
    {"district_id": "D1", "lead_unit_id": "L1"},
    {"district_id": "D2", "lead_unit_id": "L2"},
]
RULES = [
    {
        "rule_id": "R1",
        "priority": 10,
        "category": "red_light",
        "area_kind": "",
        "unit_id": "POLICE",
    },
    {
        "rule_id": "R2",
        "priority": 20,
        "category": "disorder",
        "area_kind": "urban_village",
        "unit_id": "TOWN",
    },
    {
        "rule_id": "R0",
        "priority": 5,
        "category": "red_light",
        "area_kind": "market",
        "unit_id": "MARKET",
    },
]


def test_edges_vertices_holes_outside():
    z = Zoning.build(square_pair(), DISTRICTS, RULES)
    lon = [0.5, 1.0, 1.0, 1.5, 1.4, 3.0, 1.2, 1.0, 0.5]
    lat = [0.5, 0.5, 1.0, 0.5, 0.5, 3.0, 1.5, 1.5, 1.0]
    got = z.assign(lon, lat)
    assert got["area_id"].tolist() == ["A", "A", "A", "C", "B", None, None, "D", "A"]
    # the hole's edge (1.4, 0.5) is covered by both B and C: B sorts first
    assert z.covering(1.4, 0.5) == ["B", "C"]
    # the vertex (1, 1) touches A, B and D
    assert z.covering(1.0, 1.0) == ["A", "B", "D"]
    assert got["district_id"].tolist()[:5] == ["D1", "D1", "D1", "D2", "D1"]
    assert got["lead_unit_id"].tolist()[:5] == ["L1", "L1", "L1", "L2", "L1"]
    outside = got.iloc[5].tolist()
    assert outside == [None, None, None, None, None]


def test_category_rules_priority_and_kind():
    z = Zoning.build(square_pair(), DISTRICTS, RULES)
    lon = [0.5, 1.5, 1.2, 1.2, 0.5, 5.0]
    lat = [0.5, 0.5, 0.2, 0.2, 0.5, 5.0]
    cats = ["red_light", "red_light", "disorder", "litter", "disorder", "red_light"]
    got = z.assign(lon, lat, cats)
    one = [z.assign_one(x, y, c) for x, y, c in zip(lon, lat, cats, strict=True)]
    assert [o["responsible_unit_id"] for o in one] == got["responsible_unit_id"].tolist()
    assert [o["rule"] for o in one] == got["rule"].tolist()
    assert got["responsible_unit_id"].tolist() == ["POLICE", "MARKET", "TOWN", "U2", "U1", None]
    assert got["rule"].tolist() == ["R1", "R0", "R2", None, None, None]


def test_empty_inputs():
    z = Zoning.build(square_pair())
    assert len(z.assign([], [])) == 0
    empty = square_pair().iloc[0:0]
    assert Zoning.build(empty).assign([0.5], [0.5])["area_id"].tolist() == [None]


def test_assign_points_reprojects_areas():
    areas = square_pair()
    areas = gpd.GeoDataFrame(areas, geometry=areas.geometry, crs=4326).to_crs(3857)
    got = assign_points(areas, [0.5], [0.5])
    assert got["area_id"].tolist() == ["A"]


@st.composite
def jittered_polygons(draw):
    """A partition by a wavy line through a box (non-axis-aligned edges), plus a hole."""
    n = draw(st.integers(3, 12))
    ys = sorted(draw(st.lists(st.floats(0.1, 0.9), min_size=n, max_size=n)))
    xs = draw(st.lists(st.floats(0.2, 0.8), min_size=n, max_size=n))
    line = [(0.5, 0.0), *zip(xs, ys, strict=True), (0.5, 1.0)]
    left = shapely.Polygon([(0, 0), *line, (0, 1)])
    right = shapely.Polygon([(1, 0), *line, (1, 1)])
    if not (left.is_valid and right.is_valid):
        left, right = box(0, 0, 0.5, 1), box(0.5, 0, 1, 1)
    hole = box(0.02, 0.02, 0.08, 0.08)
    geoms = [left.difference(hole), right, hole]
    scale = shapely.affinity.scale
    geoms = [shapely.affinity.translate(scale(g, 0.01, 0.01, origin=(0, 0)), X0, Y0) for g in geoms]
    return gpd.GeoDataFrame(
        {
            "area_id": ["L", "R", "H"],
            "name": ["l", "r", "h"],
            "kind": ["market"] * 3,
            "district_id": ["D1"] * 3,
            "responsible_unit_id": ["U1", "U2", "U3"],
        },
        geometry=geoms,
        crs=4326,
    )


@settings(max_examples=100, deadline=None)
@given(jittered_polygons(), st.integers(0, 2**32 - 1), st.sampled_from([64, 4096, 200_000]))
def test_grid_exact_on_slanted_edges_and_vertices(areas, seed, cells):
    rng = np.random.default_rng(seed)
    # random points, every vertex, and points interpolated along every edge
    coords = np.concatenate(
        [
            np.asarray(g.exterior.coords)
            if g.geom_type == "Polygon"
            else np.concatenate([np.asarray(p.exterior.coords) for p in g.geoms])
            for g in areas.geometry
        ]
    )
    t = rng.random((len(coords) - 1, 1))
    along = coords[:-1] + t * (coords[1:] - coords[:-1])
    rand = np.column_stack(
        [X0 - 0.001 + rng.random(300) * 0.012, Y0 - 0.001 + rng.random(300) * 0.012]
    )
    pts = np.concatenate([coords, along, rand])
    zoning = Zoning.build(areas, max_cells=cells)
    grid = zoning.locate(pts[:, 0], pts[:, 1], use_grid=True)
    exact = zoning.locate(pts[:, 0], pts[:, 1], use_grid=False)
    assert grid.tolist() == exact.tolist()


def test_grid_equals_exact_on_the_demo_county():
    from geoapp.services.assign_files import zoning_from_folder
    from geoapp.services.county import DEMO_DIR

    zoning = zoning_from_folder(DEMO_DIR)
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = shapely.total_bounds(zoning.geoms)
    lon = minx - 0.002 + rng.random(200_000) * (maxx - minx + 0.004)
    lat = miny - 0.002 + rng.random(200_000) * (maxy - miny + 0.004)
    problems = gpd.read_file(DEMO_DIR / "problems.geojson")
    lon = np.concatenate([lon, problems.geometry.x.to_numpy()])
    lat = np.concatenate([lat, problems.geometry.y.to_numpy()])
    grid = zoning.locate(lon, lat, use_grid=True)
    exact = zoning.locate(lon, lat, use_grid=False)
    assert np.array_equal(grid, exact)
    assert zoning.grid.border_fraction() < 0.2
    on_borders = problems["placement"].isin(["edge", "vertex"]).to_numpy()
    assert (grid[-len(problems) :][on_borders] >= 0).all()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 0.008), st.floats(0, 0.008), st.floats(5e-5, 0.004), st.floats(5e-5, 0.004)
        ),
        min_size=2,
        max_size=12,
    ),
    st.integers(0, 2**32 - 1),
)
def test_grid_exact_when_areas_overlap(boxes, seed):
    """A draft may overlap itself: the engine must still give the oracle's answer."""
    geoms = [box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h) for x, y, w, h in boxes]
    areas = gpd.GeoDataFrame(
        {
            "area_id": [f"A{i:02d}" for i in range(len(geoms))],
            "name": "n",
            "kind": "market",
            "district_id": "D1",
            "responsible_unit_id": "U1",
        },
        geometry=geoms,
        crs=4326,
    )
    rng = np.random.default_rng(seed)
    corners = np.concatenate([np.asarray(g.exterior.coords) for g in geoms])
    rand = np.column_stack([X0 + rng.random(400) * 0.012, Y0 + rng.random(400) * 0.012])
    pts = np.concatenate([corners, rand])
    expected = oracle(areas, pts[:, 0], pts[:, 1])
    zoning = Zoning.build(areas, max_cells=4096)
    assert zoning.assign(pts[:, 0], pts[:, 1], use_grid=True)["area_id"].tolist() == expected


def test_the_raster_index_is_built_only_for_a_batch_it_pays_for():
    """``use_grid=None``: fewer than GRID_MIN_POINTS points are tested exactly against the
    areas (publishing placed a county's few hundred inspection points by building the whole
    raster index first); from GRID_MIN_POINTS on the index is built, and once built it
    answers any batch of 16 or more.  The answer is the exact one every time."""
    from geoapp.core.assignment import GRID_MIN_POINTS

    labels = np.arange(36).reshape(6, 6) % 7
    areas = grid_areas(labels)
    rng = np.random.default_rng(3)

    def points(n):
        return X0 - 0.001 + rng.random(n) * 0.008, Y0 - 0.001 + rng.random(n) * 0.008

    zoning = Zoning.build(areas)
    for n in (16, 1_000):
        lon, lat = points(n)
        got = zoning.locate(lon, lat)
        assert zoning._grid is None, n  # no index built for this batch
        assert got.tolist() == zoning.locate_exact(lon, lat).tolist()
    zoning.locate(*points(GRID_MIN_POINTS - 1))
    assert zoning._grid is None
    lon, lat = points(GRID_MIN_POINTS)
    got = zoning.locate(lon, lat)
    assert zoning._grid is not None  # a batch this large builds it
    assert got.tolist() == zoning.locate_exact(lon, lat).tolist()
    built = zoning._grid
    lon, lat = points(16)
    assert zoning.locate(lon, lat).tolist() == zoning.locate_exact(lon, lat).tolist()
    assert zoning._grid is built
