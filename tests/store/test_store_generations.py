"""Contract: boundary generations (draft → published) and area collections."""

from datetime import datetime

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from store_data import TILES, tile_box, tiling_rows

from geoapp.store import AREA_COLUMNS, NotFound, StaleVersion, Store, StoreError

COLUMNS = [*AREA_COLUMNS, "geometry"]


def assert_same_geometries(actual, expected) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert shapely.equals_exact(a, e, tolerance=0), (a.wkt, e.wkt)


def test_draft_then_publish(seeded: Store) -> None:
    gid = seeded.create_generation("planner", "first cut")
    gen = seeded.get_generation(gid)
    assert gen["status"] == "draft" and gen["author"] == "planner" and gen["message"] == "first cut"
    assert gen["parent_id"] is None and gen["published_at"] is None
    assert gen["version"] == 1 and gen["area_count"] == 0 and gen["is_current"] is False
    assert (
        isinstance(gen["created_at"], datetime)
        and gen["created_at"].utcoffset().total_seconds() == 0
    )
    assert seeded.current_generation() is None

    assert seeded.put_area_versions(gid, tiling_rows()) == 4
    assert seeded.get_generation(gid)["version"] == 2
    published = seeded.publish_generation(gid, "lead", "approved")
    assert published["status"] == "published"
    assert published["published_by"] == "lead" and published["publish_message"] == "approved"
    assert published["published_at"] >= published["created_at"]
    assert published["area_count"] == 4 and published["is_current"] is True
    assert seeded.current_generation() == published
    assert seeded.list_generations() == [published]


def test_current_is_the_highest_published_id(tiled: Store) -> None:
    first = tiled.current_generation()["id"]
    second = tiled.create_generation("planner", "redraw", parent_id=first)
    assert tiled.current_generation()["id"] == first  # a draft is not current
    tiled.publish_generation(second, "lead", "ok")
    assert tiled.current_generation()["id"] == second
    gens = tiled.list_generations()
    assert [(g["id"], g["status"], g["is_current"]) for g in gens] == [
        (first, "published", False),
        (second, "published", True),
    ]
    assert len(tiled.areas(first)) == 4  # old generations stay queryable


def test_parent_copy(tiled: Store) -> None:
    parent = tiled.current_generation()["id"]
    child = tiled.create_generation("planner", "move a street", parent_id=parent)
    assert tiled.get_generation(child)["parent_id"] == parent
    assert tiled.get_generation(child)["area_count"] == 4
    gdf = tiled.areas(child)
    assert gdf.drop(columns="geometry").equals(tiled.areas(parent).drop(columns="geometry"))
    # Changing the draft leaves the parent alone.
    rows = tiling_rows()
    rows[0]["responsible_unit_id"] = "U-JJ"
    tiled.put_area_versions(child, rows[:3])
    assert list(tiled.areas(child).area_id) == sorted(TILES)[:3]
    assert tiled.areas(child).responsible_unit_id.iloc[0] == "U-JJ"
    assert len(tiled.areas(parent)) == 4
    assert tiled.areas(parent).responsible_unit_id.iloc[0] == "U-CGJ"


def test_published_generation_is_read_only(tiled: Store) -> None:
    gid = tiled.current_generation()["id"]
    with pytest.raises(StoreError, match=f"generation {gid} is published and read-only"):
        tiled.put_area_versions(gid, tiling_rows())
    with pytest.raises(StoreError, match="published and read-only"):
        tiled.publish_generation(gid, "x", "again")
    with pytest.raises(StoreError, match="published and read-only"):
        tiled.delete_generation(gid)
    assert len(tiled.areas(gid)) == 4


@pytest.mark.parametrize(
    "call", ["areas", "get_generation", "put_area_versions", "publish", "parent"]
)
def test_unknown_generation(seeded: Store, call: str) -> None:
    with pytest.raises(NotFound, match="unknown generation 999"):
        if call == "areas":
            seeded.areas(999)
        elif call == "get_generation":
            seeded.get_generation(999)
        elif call == "put_area_versions":
            seeded.put_area_versions(999, tiling_rows())
        elif call == "publish":
            seeded.publish_generation(999, "a", "b")
        else:
            seeded.create_generation("a", "b", parent_id=999)
    assert seeded.list_generations() == []


def test_publishing_an_empty_draft_is_refused(seeded: Store) -> None:
    gid = seeded.create_generation("p", "empty")
    with pytest.raises(StoreError, match="has no areas"):
        seeded.publish_generation(gid, "p", "go")


def test_stale_draft_cannot_overwrite_a_later_publish(tiled: Store) -> None:
    base = tiled.current_generation()["id"]
    mine = tiled.create_generation("alice", "mine", parent_id=base)
    theirs = tiled.create_generation("bob", "theirs", parent_id=base)
    tiled.publish_generation(theirs, "bob", "first")
    with pytest.raises(StaleVersion, match=f"generation {theirs} was published after draft {mine}"):
        tiled.publish_generation(mine, "alice", "second")
    # The way forward: a new draft from mine, started after bob's publish.
    rebased = tiled.create_generation("alice", "rebased", parent_id=mine)
    assert tiled.publish_generation(rebased, "alice", "second")["is_current"]


def test_expected_version(seeded: Store) -> None:
    gid = seeded.create_generation("p", "d")
    seeded.put_area_versions(gid, tiling_rows(), expected_version=1)
    with pytest.raises(StaleVersion, match="at version 2, not 1"):
        seeded.put_area_versions(gid, tiling_rows(), expected_version=1)
    with pytest.raises(StaleVersion):
        seeded.publish_generation(gid, "p", "go", expected_version=1)
    assert seeded.publish_generation(gid, "p", "go", expected_version=2)["version"] == 3


def test_delete_draft(tiled: Store) -> None:
    base = tiled.current_generation()["id"]
    draft = tiled.create_generation("p", "scratch", parent_id=base)
    grandchild = tiled.create_generation("p", "on top", parent_id=draft)
    tiled.delete_generation(draft)
    assert [g["id"] for g in tiled.list_generations()] == [base, grandchild]
    assert tiled.get_generation(grandchild)["parent_id"] == base
    assert len(tiled.areas(grandchild)) == 4


def test_areas_frame_shape(tiled: Store) -> None:
    gdf = tiled.areas()
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert list(gdf.columns) == COLUMNS
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.name == "geometry"
    assert list(gdf.area_id) == sorted(TILES)
    assert list(gdf.index) == list(range(4))
    rows = tiling_rows()
    for col in AREA_COLUMNS:
        assert list(gdf[col]) == [r[col] for r in rows]
    assert_same_geometries(gdf.geometry, [tile_box(a) for a in sorted(TILES)])


def test_areas_empty_before_first_publish(seeded: Store) -> None:
    gdf = seeded.areas()
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert list(gdf.columns) == COLUMNS and len(gdf) == 0
    assert gdf.crs.to_epsg() == 4326
    gid = seeded.create_generation("p", "d")
    assert len(seeded.areas(gid)) == 0 and list(seeded.areas(gid).columns) == COLUMNS
    assert len(seeded.areas()) == 0  # drafts are not current


def test_geometries_round_trip_exactly(seeded: Store) -> None:
    hole = Polygon(
        [(110.1, 30.1), (110.9, 30.1), (110.9, 30.9), (110.1, 30.9)],
        [[(110.3, 30.3), (110.6, 30.3), (110.6, 30.6), (110.3, 30.6)]],
    )
    multi = MultiPolygon([box(111.0, 30.0, 111.1, 30.1), box(111.2, 30.0, 111.3, 30.123456789)])
    odd = Polygon([(110.123456789012, 30.98765432101), (110.2, 30.9), (110.15, 31.0000000001)])
    rows = [
        {"area_id": "hole", "name": "有洞", "geometry": hole},
        {"area_id": "multi", "name": "两块", "geometry": multi},
        {"area_id": "odd", "name": "小数", "geometry": odd},
    ]
    gid = seeded.create_generation("p", "shapes")
    seeded.put_area_versions(gid, rows)
    gdf = seeded.areas(gid)
    assert list(gdf.area_id) == ["hole", "multi", "odd"]
    assert_same_geometries(gdf.geometry, [hole, multi, odd])
    assert list(gdf.kind) == [None, None, None] and list(gdf.district_id) == [None, None, None]


def test_put_area_versions_from_a_geodataframe(seeded: Store) -> None:
    gdf = gpd.GeoDataFrame(tiling_rows(), geometry="geometry", crs="EPSG:4326")
    gdf["extra"] = 1  # other columns are ignored
    gid = seeded.create_generation("p", "gdf")
    seeded.put_area_versions(gid, gdf.iloc[::-1])
    out = seeded.areas(gid)
    assert list(out.area_id) == sorted(TILES)
    assert out.drop(columns="geometry").equals(
        gdf.drop(columns=["geometry", "extra"]).astype(object)
    )
    assert_same_geometries(out.geometry, gdf.geometry)


def test_put_area_versions_reprojects(seeded: Store) -> None:
    gdf = gpd.GeoDataFrame(tiling_rows(), geometry="geometry", crs="EPSG:4326").to_crs("EPSG:32649")
    gid = seeded.create_generation("p", "utm")
    seeded.put_area_versions(gid, gdf)
    out = seeded.areas(gid)
    for got, area_id in zip(out.geometry, out.area_id, strict=True):
        assert got.equals_exact(tile_box(area_id), tolerance=1e-9)


def test_put_area_versions_index_named_area_id(seeded: Store) -> None:
    gdf = gpd.GeoDataFrame(tiling_rows(), geometry="geometry", crs="EPSG:4326").set_index("area_id")
    gid = seeded.create_generation("p", "indexed")
    assert seeded.put_area_versions(gid, gdf) == 4
    assert list(seeded.areas(gid).area_id) == sorted(TILES)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"responsible_unit_id": "U-404"},
            r"unknown responsible unit 'U-404' \(first referenced by area 'A-SW'\)",
        ),
        ({"district_id": "D-404"}, "unknown district 'D-404'"),
        ({"geometry": None}, "area 'A-SW': geometry must be a shapely geometry"),
        ({"geometry": Polygon()}, "area 'A-SW': geometry is empty"),
        ({"name": None}, "area 'A-SW': name is required"),
        ({"area_id": "B-SE"}, "area 'B-SE' appears more than once"),
    ],
)
def test_bad_areas_are_refused_and_change_nothing(
    seeded: Store, change: dict, message: str
) -> None:
    gid = seeded.create_generation("p", "d")
    seeded.put_area_versions(gid, tiling_rows())
    rows = tiling_rows()
    rows[0].update(change)
    with pytest.raises(StoreError, match=message):
        seeded.put_area_versions(gid, rows)
    assert len(seeded.areas(gid)) == 4
    assert seeded.get_generation(gid)["version"] == 2


def test_area_identity_is_stable_across_generations(tiled: Store) -> None:
    first = tiled.current_generation()["id"]
    second = tiled.create_generation("p", "redraw", parent_id=first)
    rows = tiling_rows()
    rows[0]["geometry"] = box(110.0, 30.0, 110.4, 30.5)
    rows.append({"area_id": "E-new", "name": "新", "geometry": box(111.0, 30.0, 111.5, 30.5)})
    tiled.put_area_versions(second, rows)
    tiled.publish_generation(second, "lead", "ok")
    assert list(tiled.areas().area_id) == [*sorted(TILES), "E-new"]
    assert tiled.areas(first).geometry.iloc[0].equals(tile_box("A-SW"))
    assert tiled.areas(second).geometry.iloc[0].equals(box(110.0, 30.0, 110.4, 30.5))
