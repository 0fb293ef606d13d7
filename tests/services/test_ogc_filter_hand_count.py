"""CQL2 filters and sortby of the OGC API against a hand count on the tiny county
(tests/hand_county.py), run as SQL on SQLite and on PostGIS.

The ten problems at ``NOW`` (2025-01-03 04:00 UTC), times in UTC::

    P1  A1 R1 litter  2.0 12-30 02:00 verified     due 12-31 02:00
    P2  A1 R1 litter  1.0 12-31 01:00 rectified    due 01-01 01:00
    P3  A1 R1 parking 0.5 01-02 02:00 reported     due 01-04 02:00
    P4  A2 R1 litter  3.0 12-31 02:00 assigned     due 01-01 02:00  overdue
    P5  A2 R1 parking 1.0 12-31 16:30 verified     due 01-02 16:30
    P6  A3 R2 litter  0.5 01-01 00:00 rectified    due 01-02 00:00
    P7  -  R2 litter  0.5 01-02 00:00 rectifying   due 01-03 00:00  overdue
    P8  A4 R2 parking 0.5 01-01 02:00 verified     due 01-03 02:00
    P9  A4 R2 litter  0.5 01-01 03:00 verified     due 01-02 03:00
    P10 A5 R2 litter  0.5 01-02 01:00 rectifying   due 01-03 01:00  overdue
"""

from __future__ import annotations

import json

import pyproj
import pytest
from hand_county import LAT0, LON0, NOW, SIDE

from geoapp.core.crs import CRSError
from geoapp.services import ogc
from geoapp.services.query_params import BadParameter

BASE = "http://test/ogc"
#: A triangle over A1 and A2 whose envelope holds the problems of both, but whose area
#: holds only A1's (at the problems' latitude it reaches LON0 + SIDE).
TRIANGLE = [(LON0, LAT0), (LON0 + 2 * SIDE, LAT0), (LON0, LAT0 + SIDE), (LON0, LAT0)]


def _wkt(points) -> str:
    return "POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in points) + "))"


def ids(store, cid="problems", **args) -> list:
    page = ogc.items(store, BASE, cid, {"limit": "1000", **args}, "en", NOW)
    assert page["numberMatched"] == page["numberReturned"] == len(page["features"])
    if cid == "problems":
        return [f["properties"]["problem_id"] for f in page["features"]]
    return [f["id"] for f in page["features"]]


def found(store, text: str, **args) -> list[str]:
    return sorted(ids(store, filter=text, **args), key=lambda p: int(p[1:]))


CASES = [
    ("status = 'verified'", ["P1", "P5", "P8", "P9"]),
    ("'verified' = status", ["P1", "P5", "P8", "P9"]),
    ("NOT (status = 'verified')", ["P2", "P3", "P4", "P6", "P7", "P10"]),
    ("status <> 'verified' AND round = 'R2'", ["P6", "P7", "P10"]),
    ("deduction > 0.5", ["P1", "P2", "P4", "P5"]),
    ("deduction BETWEEN 0.5 AND 1", ["P2", "P3", "P5", "P6", "P7", "P8", "P9", "P10"]),
    ("deduction NOT BETWEEN 0.5 AND 1", ["P1", "P4"]),
    ("category IN ('parking')", ["P3", "P5", "P8"]),
    ("category NOT IN ('litter') OR round = 'R1'", ["P1", "P2", "P3", "P4", "P5", "P8"]),
    ("area_id IS NULL", ["P7"]),
    ("area_id IS NOT NULL AND district_id = 'D2'", ["P8", "P9", "P10"]),
    ("problem_id LIKE 'P1%'", ["P1", "P10"]),
    ("problem_id LIKE 'P_'", ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"]),
    ("overdue = true", ["P4", "P7", "P10"]),
    ("overdue = false AND round = 'R1'", ["P1", "P2", "P3", "P5"]),
    ("NOT overdue = true AND round = 'R2'", ["P6", "P8", "P9"]),
    ("status = 'verified' OR overdue = true", ["P1", "P4", "P5", "P7", "P8", "P9", "P10"]),
    ("reported_at > TIMESTAMP('2025-01-01T00:00:00Z')", ["P3", "P7", "P8", "P9", "P10"]),
    ("reported_at >= TIMESTAMP('2025-01-01T00:00:00Z')", ["P3", "P6", "P7", "P8", "P9", "P10"]),
    ("reported_at = DATE('2025-01-01')", ["P6", "P8", "P9"]),
    ("T_AFTER(reported_at, TIMESTAMP('2025-01-01T00:00:00Z'))", ["P3", "P7", "P8", "P9", "P10"]),
    ("T_BEFORE(reported_at, TIMESTAMP('2024-12-31T02:00:00Z'))", ["P1", "P2"]),
    (
        "T_DURING(reported_at, INTERVAL('2024-12-31T00:00:00Z','2025-01-01T00:00:00Z'))",
        ["P2", "P4", "P5"],
    ),
    ("due_at < TIMESTAMP('2025-01-02T00:00:00Z')", ["P1", "P2", "P4"]),
    ("due_at IS NULL", []),
    ("description = 'T_AFTER(a, b)'", []),  # a function name inside a string stays text
    (f"S_INTERSECTS(geometry, {_wkt(TRIANGLE)})", ["P1", "P2", "P3"]),
    (
        f"S_INTERSECTS(geometry, BBOX({LON0}, {LAT0}, {LON0 + 2 * SIDE}, {LAT0 + SIDE}))",
        ["P1", "P2", "P3", "P4", "P5"],
    ),
]


def test_cql2_text_filters_match_the_hand_count(tiny_county):
    wrong = {text: got for text, want in CASES if (got := found(tiny_county, text)) != want}
    assert not wrong


def test_cql2_json_filters_match_the_hand_count(tiny_county):
    verified = {"op": "=", "args": [{"property": "status"}, "verified"]}
    late = {"op": "=", "args": [{"property": "overdue"}, True]}
    triangle = {"type": "Polygon", "coordinates": [[list(p) for p in TRIANGLE]]}
    cases = [
        (verified, ["P1", "P5", "P8", "P9"]),
        ({"op": "or", "args": [verified, late]}, ["P1", "P4", "P5", "P7", "P8", "P9", "P10"]),
        ({"op": "not", "args": [verified]}, ["P2", "P3", "P4", "P6", "P7", "P10"]),
        ({"op": "in", "args": [{"property": "category"}, ["parking"]]}, ["P3", "P5", "P8"]),
        ({"op": "isNull", "args": [{"property": "area_id"}]}, ["P7"]),
        ({"op": "like", "args": [{"property": "problem_id"}, "P1%"]}, ["P1", "P10"]),
        (
            {"op": "between", "args": [{"property": "deduction"}, 1, 2]},
            ["P1", "P2", "P5"],
        ),
        (
            {
                "op": "t_after",
                "args": [{"property": "reported_at"}, {"timestamp": "2025-01-01T00:00:00Z"}],
            },
            ["P3", "P7", "P8", "P9", "P10"],
        ),
        ({"op": "s_intersects", "args": [{"property": "geometry"}, triangle]}, ["P1", "P2", "P3"]),
    ]
    for tree, expected in cases:
        assert found(tiny_county, json.dumps(tree), **{"filter-lang": "cql2-json"}) == expected


def test_filter_crs_reads_the_geometry_in_that_crs(tiny_county):
    """The triangle in EPSG:4326 (latitude first) and in the projected zone selects what it
    selects in CRS84."""
    lat_lon = [(y, x) for x, y in TRIANGLE]
    text = f"S_INTERSECTS(geometry, {_wkt(lat_lon)})"
    got = found(tiny_county, text, **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert got == ["P1", "P2", "P3"]
    to_zone = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:4549")
    zone = [to_zone.transform(x, y) for x, y in TRIANGLE]
    got = found(tiny_county, f"S_INTERSECTS(geometry, {_wkt(zone)})", **{"filter-crs": "EPSG:4549"})
    assert got == ["P1", "P2", "P3"]


def test_the_unit_scope_still_applies_to_a_filter(tiny_county):
    """A unit account's reads carry ``unit=<its unit>`` (web.permissions.scoped_args): a
    filter narrows within it, never beyond."""
    assert found(tiny_county, "status = 'verified'", unit="U1") == ["P1"]
    assert found(tiny_county, "status <> 'verified' OR area_id IS NULL", unit="U1") == [
        "P2",
        "P3",
    ]


def test_sortby_orders_in_the_store_on_several_fields(tiny_county):
    assert ids(tiny_county, sortby="-deduction,problem_id") == [
        "P4", "P1", "P2", "P5", "P10", "P3", "P6", "P7", "P8", "P9",
    ]  # fmt: skip
    # empty values last going up (both backends), ties by id
    assert ids(tiny_county, sortby="+area_id") == [
        "P1", "P2", "P3", "P4", "P5", "P6", "P8", "P9", "P10", "P7",
    ]  # fmt: skip
    assert ids(tiny_county, sortby="-area_id")[0] == "P7"
    # paging keeps the order: the second page of two continues the first
    first = ogc.items(tiny_county, BASE, "problems", {"limit": "4", "sortby": "-deduction"})
    nxt = [link for link in first["links"] if link["rel"] == "next"][0]["href"]
    assert "sortby=-deduction" in nxt
    second = ogc.items(
        tiny_county, BASE, "problems", {"limit": "4", "offset": "4", "sortby": "-deduction"}
    )
    together = [f["properties"]["problem_id"] for f in first["features"] + second["features"]]
    assert together == ids(tiny_county, sortby="-deduction")[:8]


def test_the_other_collections_filter_and_sort_in_the_store(tiny_county):
    assert ids(tiny_county, "areas", filter="district_id = 'D2'", sortby="-id") == [
        "A6",
        "A5",
        "A4",
    ]
    point = f"POINT({LON0 + 1.5 * SIDE!r} {LAT0 + 0.5 * SIDE!r})"
    assert ids(tiny_county, "areas", filter=f"S_INTERSECTS(geometry, {point})") == ["A2"]
    assert ids(tiny_county, "districts", filter=f"S_INTERSECTS(geometry, {point})") == ["D1"]
    assert ids(tiny_county, "districts", filter="lead_unit_id = 'U4'") == ["D2"]
    assert ids(tiny_county, "units", filter="name LIKE '单位1%'") == ["U1"]
    assert ids(tiny_county, "units", filter="kind = 'responsible'", sortby="-name") == [
        f"U{k}" for k in range(6, 0, -1)
    ]
    below = f"S_INTERSECTS(geometry, BBOX({LON0}, {LAT0 - 2 * SIDE}, {LON0 + 2 * SIDE}, {LAT0}))"
    assert ids(tiny_county, "units", filter=below) == ["U1", "U2"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"filter": "colour = 'red'"}, "'colour'"),
        ({"filter": "status = "}, "cql2-text"),
        ({"filter": "deduction = 'much'"}, "deduction"),
        ({"filter": "status > 3"}, "status"),
        ({"filter": "reported_at = 'yesterday'"}, "reported_at"),
        ({"filter": "overdue > true"}, "overdue"),
        ({"filter": "S_INTERSECTS(status, POINT(1 2))"}, "status"),
        ({"filter": "deduction LIKE '1%'"}, "deduction"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "cql2-json"),
        (
            {
                "filter": '{"op": "=", "args": [{"property": "nope"}, 1]}',
                "filter-lang": "cql2-json",
            },
            "'nope'",
        ),
        ({"filter": "status = 'verified'", "filter-lang": "sql"}, "filter-lang"),
        (
            {
                "filter": '{"op": "in", "args": [{"property": "status"}, "x"]}',
                "filter-lang": "cql2-json",
            },
            "IN",
        ),
        ({"filter": "S_WITHIN(geometry, POINT(1 2))"}, "not supported"),
        (
            {"filter": "S_INTERSECTS(geometry, POINT(1e30 1e30))", "filter-crs": "EPSG:4549"},
            "outside",
        ),
        ({"filter": "status = 'verified'", "filter-crs": "EPSG:3857"}, "filter-crs"),
        ({"sortby": "-colour"}, "'colour'"),
        ({"sortby": "overdue"}, "'overdue'"),
    ],
)
def test_a_bad_filter_or_sortby_is_refused_naming_what_is_wrong(tiny_county, args, named):
    with pytest.raises((BadParameter, CRSError)) as caught:
        ogc.items(tiny_county, BASE, "problems", args, "en", NOW)
    assert named in str(caught.value)
