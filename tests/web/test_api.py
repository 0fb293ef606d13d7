"""The JSON API: shapes, counts and filters against an independent reading of the demo files.

The oracle below reads data/geojson directly and assigns each problem with plain shapely
``covers`` plus the documented rules (lowest area_id wins on shared edges; rules by
priority), without the engine, the store or the API code.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geoapp.core import clustering, crs
from geoapp.services import map_features, problem_reads, query_params
from geoapp.services.county import DEMO_DIR
from geoapp.store import open_store
from geoapp.web import openapi
from geoapp.web.maps import DISTRICT_COLOURS

GEOJSON = "application/geo+json"


# --- the oracle -----------------------------------------------------------------------------
def _read_csv(name: str) -> list[dict]:
    with open(DEMO_DIR / name, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _features(name: str) -> list[dict]:
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def demo() -> dict:
    areas = _features("areas.geojson")
    units = {f["properties"]["unit_id"]: f for f in _features("units.geojson")}
    districts = {d["district_id"]: d for d in _read_csv("districts.csv")}
    categories = {c["category"]: c for c in _read_csv("categories.csv")}
    rules = sorted(_read_csv("rules.csv"), key=lambda r: (int(r["priority"]), r["rule_id"]))
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in areas])
    area_props = [f["properties"] for f in areas]
    problems = _features("problems.geojson")
    points = shapely.points([f["geometry"]["coordinates"] for f in problems])
    covering: dict[int, list[str]] = {}
    for i, j in zip(*shapely.STRtree(geoms).query(points, predicate="covered_by"), strict=True):
        covering.setdefault(int(i), []).append(area_props[j]["area_id"])
    by_id = {a["area_id"]: a for a in area_props}
    rows = []
    for i, f in enumerate(problems):
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"]
        area = by_id[min(covering[i])] if i in covering else None
        unit = area["responsible_unit_id"] if area else None
        if area:
            for r in rules:
                if r["category"] == p["category"] and r["area_kind"] in ("", area["kind"]):
                    unit = r["unit_id"]
                    break
        rows.append(
            {
                "problem_id": p["problem_id"],
                "round": p["round"],
                "category": p["category"],
                "status": p["status"],
                "deduction": p["deduction"],
                "reported_at": p["reported_at"],
                "date": p["reported_at"][:10],
                "lon": lon,
                "lat": lat,
                "area_id": area["area_id"] if area else None,
                "district_id": area["district_id"] if area else None,
                "responsible_unit_id": unit,
            }
        )
    return {
        "areas": area_props,
        "geoms": geoms,
        "units": units,
        "districts": districts,
        "categories": categories,
        "problems": pd.DataFrame(rows),
        "by_problem_id": {r["problem_id"]: r for r in rows},
    }


def get(client, url: str, status: int = 200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
    return r


def all_problems(client, query: str = "") -> list[dict]:
    fc = get(client, f"/api/problems?limit=10000&{query}").get_json()
    assert fc["numberReturned"] == len(fc["features"]) == fc["numberMatched"]
    return fc["features"]


# --- districts, areas, units ----------------------------------------------------------------
def test_districts_are_unions_of_their_areas(reader, demo):
    r = get(reader, "/api/districts")
    assert r.mimetype == GEOJSON
    fc = r.get_json()
    assert fc["type"] == "FeatureCollection" and fc["generation"] == 1
    assert [f["properties"]["id"] for f in fc["features"]] == sorted(demo["districts"])
    counts = Counter(a["district_id"] for a in demo["areas"])
    for i, f in enumerate(fc["features"]):
        p = f["properties"]
        d = demo["districts"][p["id"]]
        lead = demo["units"][d["lead_unit_id"]]["properties"]
        assert p["name"] == d["name"]
        assert p["lead_unit_id"] == d["lead_unit_id"]
        assert p["lead_unit_name"] == lead["name"]
        assert p["lead_unit_contact"] == lead["contact"]
        assert p["lead_unit_phone"] == lead["phone"]
        assert p["colour"] == DISTRICT_COLOURS[i]
        assert p["area_count"] == counts[p["id"]]
        geom = shapely.geometry.shape(f["geometry"])
        mine = [
            g
            for g, a in zip(demo["geoms"], demo["areas"], strict=True)
            if a["district_id"] == p["id"]
        ]
        assert geom.area == pytest.approx(sum(g.area for g in mine), rel=1e-6)
        assert geom.covers(shapely.Point(p["label_point"]))
    one = get(reader, "/api/districts?district=D3").get_json()
    assert [f["id"] for f in one["features"]] == ["D3"]


def test_areas_shape_filters_and_labels(reader, demo):
    fc = get(reader, "/api/areas").get_json()
    assert len(fc["features"]) == len(demo["areas"]) == 253
    f = fc["features"][0]
    assert set(f["properties"]) == {
        "id", "name", "kind", "kind_label", "district_id", "district_name",
        "responsible_unit_id", "responsible_unit_name", "contact", "phone",
        "label_point", "area_m2",
    }  # fmt: skip
    # the name's place is inside the area; the size (which name wins where two would
    # overlap on the map) is the area on the ellipsoid, to a tenth of a percent
    geod = pyproj.Geod(ellps="WGS84")
    for f in fc["features"]:
        shape = shapely.geometry.shape(f["geometry"])
        assert shape.covers(shapely.Point(f["properties"]["label_point"]))
        assert f["properties"]["area_m2"] == pytest.approx(
            abs(geod.geometry_area_perimeter(shape)[0]), rel=1e-3
        )
    by_id = {a["area_id"]: a for a in demo["areas"]}
    for f in fc["features"]:
        p, a = f["properties"], by_id[f["properties"]["id"]]
        assert (p["name"], p["kind"], p["district_id"]) == (a["name"], a["kind"], a["district_id"])
        unit = demo["units"][a["responsible_unit_id"]]["properties"]
        assert (p["responsible_unit_name"], p["contact"], p["phone"]) == (
            unit["name"],
            unit["contact"],
            unit["phone"],
        )
    market = next(f for f in fc["features"] if f["properties"]["name"] == "城关市场")
    assert market["properties"]["kind_label"] == "农贸市场"
    en = get(reader, "/api/areas?lang=en&district=D1").get_json()
    assert {f["properties"]["kind_label"] for f in en["features"]} <= {
        k.replace("_", " ") for k in {a["kind"] for a in demo["areas"]}
    }
    assert len(en["features"]) == sum(a["district_id"] == "D1" for a in demo["areas"])
    two = get(reader, "/api/areas?district=D1,D2&unit=U08").get_json()
    expected = {
        a["area_id"]
        for a in demo["areas"]
        if a["district_id"] in ("D1", "D2") and a["responsible_unit_id"] == "U08"
    }
    assert {f["id"] for f in two["features"]} == expected


def test_areas_bbox_and_simplify(reader, demo):
    box = (114.915, 28.22, 114.925, 28.23)
    fc = get(reader, "/api/areas?bbox=" + ",".join(map(str, box))).get_json()
    expected = {
        a["area_id"]
        for a, g in zip(demo["areas"], demo["geoms"], strict=True)
        if g.intersects(shapely.box(*box))
    }
    assert expected and {f["id"] for f in fc["features"]} == expected
    exact = get(reader, "/api/areas").get_json()["features"]
    simple = get(reader, "/api/areas?simplify=20").get_json()["features"]
    assert [f["id"] for f in simple] == [f["id"] for f in exact]

    def vertices(features):
        return sum(
            shapely.get_num_coordinates(shapely.geometry.shape(f["geometry"])) for f in features
        )

    assert vertices(simple) < vertices(exact)
    for f, g in zip(simple, exact, strict=True):
        a, b = shapely.geometry.shape(f["geometry"]), shapely.geometry.shape(g["geometry"])
        assert shapely.hausdorff_distance(a, b) < 40 / 100_000  # 20 m, with margin, in degrees


def test_units(reader, demo):
    fc = get(reader, "/api/units").get_json()
    assert len(fc["features"]) == len(demo["units"]) == 53
    counts = Counter(a["responsible_unit_id"] for a in demo["areas"])
    for f in fc["features"]:
        p = f["properties"]
        src = demo["units"][p["id"]]
        assert f["geometry"]["coordinates"] == src["geometry"]["coordinates"]
        assert p["name"] == src["properties"]["name"]
        assert p["lead_district_id"] == src["properties"]["lead_district_id"]
        assert p["area_count"] == counts[p["id"]]
    leads = [f for f in fc["features"] if f["properties"]["kind"] == "lead"]
    assert len(leads) == 7 and {f["properties"]["kind_label"] for f in leads} == {"牵头单位"}


# --- problems -------------------------------------------------------------------------------
FILTER_CASES = [
    ("round=市级评估", lambda d: d["round"] == "市级评估"),
    ("category=red_light,food_safety", lambda d: d["category"].isin(["red_light", "food_safety"])),
    ("status=reported&status=rectifying", lambda d: d["status"].isin(["reported", "rectifying"])),
    ("district=D2", lambda d: d["district_id"] == "D2"),
    ("unit=U11", lambda d: d["responsible_unit_id"] == "U11"),
    ("unit=U11,U12&district=D1,D7", lambda d: d["responsible_unit_id"].isin(["U11", "U12"]) & d["district_id"].isin(["D1", "D7"])),
    ("date_from=2024-04-16&date_to=2024-04-17", lambda d: d["date"].between("2024-04-16", "2024-04-17")),
    ("date_from=2024-09-12", lambda d: d["date"] >= "2024-09-12"),
    ("date_to=2024-04-15&status=verified", lambda d: (d["date"] <= "2024-04-15") & (d["status"] == "verified")),
    ("round=省级评估&category=litter&status=rectified,verified", lambda d: (d["round"] == "省级评估") & (d["category"] == "litter") & d["status"].isin(["rectified", "verified"])),
]  # fmt: skip


def test_problems_match_the_independent_assignment(reader, demo):
    features = all_problems(reader)
    assert len(features) == 3600
    oracle = demo["by_problem_id"]
    f = features[0]
    assert set(f["properties"]) == {
        "id", "problem_id", "round", "category", "category_label", "description", "deduction",
        "reported_at", "status", "status_label", "area_id", "area_name", "district_id",
        "district_name", "responsible_unit_id", "responsible_unit_name", "lead_unit_id",
        "lead_unit_name", "rule_id", "generation", "due_at", "overdue", "duplicate_of",
    }  # fmt: skip
    names = {a["area_id"]: a["name"] for a in demo["areas"]}
    for f in features:
        p = f["properties"]
        o = oracle[p["problem_id"]]
        assert f["geometry"]["coordinates"] == [o["lon"], o["lat"]]
        assert p["reported_at"] == o["reported_at"]  # +08:00, as in the source
        assert p["area_id"] == o["area_id"] and p["district_id"] == o["district_id"]
        assert p["responsible_unit_id"] == o["responsible_unit_id"]
        assert p["area_name"] == names.get(o["area_id"])
        assert p["generation"] == 1
    f = next(f for f in features if f["properties"]["category"] == "red_light")
    assert f["properties"]["category_label"] == "闯红灯"
    assert f["properties"]["responsible_unit_name"] == "县交警大队"


def test_problem_filters(reader, demo):
    d = demo["problems"]
    for query, predicate in FILTER_CASES:
        expected = set(d[predicate(d)]["problem_id"])
        assert expected, query
        got = [f["properties"]["problem_id"] for f in all_problems(reader, query)]
        assert len(got) == len(set(got)) and set(got) == expected, query
        summary = get(reader, f"/api/summary?{query}").get_json()
        assert summary["problems"] == len(expected), query


def test_problems_bbox(reader, demo):
    d = demo["problems"]
    box = (114.91, 28.22, 114.93, 28.235)
    inside = d["lon"].between(box[0], box[2]) & d["lat"].between(box[1], box[3])
    got = all_problems(reader, "bbox=" + ",".join(map(str, box)) + "&status=verified")
    assert {f["properties"]["problem_id"] for f in got} == set(
        d[inside & (d["status"] == "verified")]["problem_id"]
    )


def test_problem_paging_links(reader):
    first = get(reader, "/api/problems?limit=1000&status=verified,rectified").get_json()
    total = first["numberMatched"]
    assert total > 2000 and first["numberReturned"] == 1000
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert "next" in rels and "prev" not in rels
    seen = [f["properties"]["id"] for f in first["features"]]
    page, pages = first, 1
    while "next" in {link["rel"] for link in page["links"]}:
        href = next(link["href"] for link in page["links"] if link["rel"] == "next")
        query = parse_qs(urlsplit(href).query)
        assert query["status"] == ["verified,rectified"] and query["limit"] == ["1000"]
        page = get(reader, href).get_json()
        pages += 1
        assert "prev" in {link["rel"] for link in page["links"]}
        seen += [f["properties"]["id"] for f in page["features"]]
    assert pages == -(-total // 1000)
    assert seen == sorted(seen) and len(set(seen)) == total
    prev = next(link["href"] for link in page["links"] if link["rel"] == "prev")
    assert parse_qs(urlsplit(prev).query)["offset"] == [str((pages - 2) * 1000)]
    assert get(reader, "/api/problems").get_json()["numberReturned"] == 1000


def test_old_problems_layer_is_an_alias(reader):
    old = get(reader, "/api/problems.geojson")
    assert old.mimetype == GEOJSON
    new = get(reader, "/api/problems?limit=10000").get_json()
    assert old.get_json()["features"] == new["features"]
    some = get(reader, "/api/problems.geojson?district=D4").get_json()
    assert some["features"] == all_problems(reader, "district=D4")


def test_problem_detail_and_history(reader):
    f = all_problems(reader, "district=D1")[0]
    r = get(reader, f"/api/problems/{f['id']}")
    assert r.mimetype == GEOJSON
    one = r.get_json()
    assert one["type"] == "Feature" and one["geometry"] == f["geometry"]
    p = one["properties"]
    assert {k: p[k] for k in f["properties"]} == f["properties"]
    assert p["source_crs"] == "EPSG:4326"
    assert [p["source_x"], p["source_y"]] == f["geometry"]["coordinates"]
    # a problem imported closed also has its rectification (the file's 整改完成时间)
    closed = ["status"] if p["status"] in ("rectified", "verified") else []
    assert [e["kind"] for e in p["events"]] == ["created", "assigned", *closed]
    assert p["events"][0]["at"].endswith("+08:00")
    assert set(p["events"][0]) == {"at", "actor", "kind", "detail", "note"}
    r = get(reader, "/api/problems/999999", 404)
    assert r.get_json()["error"] == "not_found"


def test_status_and_category_labels_follow_the_locale(reader):
    zh = get(reader, "/api/problems?limit=1&status=verified").get_json()["features"][0]
    en = get(reader, "/api/problems?limit=1&status=verified&lang=en").get_json()["features"][0]
    assert zh["properties"]["status_label"] == "已核查销号"
    assert en["properties"]["status_label"] == "verified"
    assert zh["properties"]["category_label"] != en["properties"]["category_label"]


# --- clusters -------------------------------------------------------------------------------
@pytest.mark.parametrize("zoom", [3, 11, 13.5, 15, 17, 18])
def test_clusters_sum_to_the_filtered_count(reader, demo, zoom):
    d = demo["problems"]
    for query, predicate in [("", lambda d: d["lon"] == d["lon"]), *FILTER_CASES[1:4]]:
        expected = d[predicate(d)]
        fc = get(reader, f"/api/problems/clusters?zoom={zoom}&{query}").get_json()
        counts = [f["properties"]["count"] for f in fc["features"]]
        assert sum(counts) == fc["numberMatched"] == fc["numberFiltered"] == len(expected)
        deduction = sum(f["properties"]["deduction"] for f in fc["features"])
        assert deduction == pytest.approx(expected["deduction"].sum())
        statuses = Counter()
        for f in fc["features"]:
            p = f["properties"]
            if p["count"] == 1:
                assert {"id", "status", "deduction"} <= set(p)
                statuses[p["status"]] += 1
            else:
                assert sum(p["statuses"].values()) == p["count"]
                statuses.update(p["statuses"])
        assert statuses == Counter(expected["status"])
        if zoom >= 18:
            assert set(counts) == {1}
    if zoom <= 11:
        assert len(fc["features"]) < 50


def test_clusters_in_a_bbox(reader, demo):
    d = demo["problems"]
    box = (114.91, 28.22, 114.93, 28.235)
    inside = d["lon"].between(box[0], box[2]) & d["lat"].between(box[1], box[3])
    fc = get(reader, "/api/problems/clusters?zoom=15&bbox=" + ",".join(map(str, box))).get_json()
    assert sum(f["properties"]["count"] for f in fc["features"]) == inside.sum()
    assert fc["numberMatched"] == inside.sum() and fc["numberFiltered"] == len(d)
    singles = [f for f in fc["features"] if f["properties"]["count"] == 1]
    assert singles
    one = get(reader, f"/api/problems/{singles[0]['properties']['id']}").get_json()
    assert one["geometry"]["coordinates"] == singles[0]["geometry"]["coordinates"]


def test_grid_clusters_pure():
    rng = np.random.default_rng(3)
    lon = rng.uniform(114.88, 114.96, 5000)
    lat = rng.uniform(28.20, 28.26, 5000)
    previous = None
    for zoom in range(8, 19):
        c = clustering.grid_clusters(lon, lat, zoom)
        assert c.count.sum() == 5000 and len(c.labels) == 5000
        assert np.array_equal(np.bincount(c.labels, minlength=len(c)), c.count)
        assert np.allclose(clustering.cluster_sums(c, lon) / c.count, c.lon)
        assert clustering.cluster_tallies(c, lon > 114.92, 2).sum() == 5000
        x, _ = clustering.mercator_pixels(lon, lat, zoom)
        spread = np.bincount(c.labels, weights=x, minlength=len(c)) / c.count
        assert np.all(np.abs(x - spread[c.labels]) <= clustering.CELL_PX)
        if previous is not None:
            assert len(c) >= previous  # finer grids never merge more
        previous = len(c)
    assert len(clustering.grid_clusters(lon, lat, 18)) == 5000
    order = rng.permutation(5000)
    a = clustering.grid_clusters(lon, lat, 14)
    b = clustering.grid_clusters(lon[order], lat[order], 14)
    assert np.array_equal(a.count, b.count) and np.allclose(a.lon, b.lon)
    empty = clustering.grid_clusters(np.array([]), np.array([]), 12)
    assert len(empty) == 0


# --- display CRS ----------------------------------------------------------------------------
def test_display_crs_gcj02_shifts_every_geojson_endpoint(reader):
    for path in ("/api/problems?limit=5", "/api/units", "/api/areas?district=D1"):
        wgs = get(reader, path).get_json()["features"]
        gcj = get(
            reader, path + "&display_crs=gcj02" if "?" in path else path + "?display_crs=gcj02"
        ).get_json()["features"]
        a, b = _first_coordinate(wgs[0]["geometry"]), _first_coordinate(gcj[0]["geometry"])
        shift = np.hypot(b[0] - a[0], b[1] - a[1])
        assert 0.003 < shift < 0.009, (path, shift)
        x, y = crs.from_wgs84([a[0]], [a[1]], "gcj02")
        assert b == pytest.approx([x[0], y[0]], abs=2e-7)
    p = get(reader, "/api/problems?limit=1").get_json()["features"][0]
    one = get(reader, f"/api/problems/{p['id']}?display_crs=gcj02").get_json()
    assert one["geometry"]["coordinates"] != p["geometry"]["coordinates"]
    d = get(reader, "/api/districts?display_crs=gcj02").get_json()["features"][0]
    w = get(reader, "/api/districts").get_json()["features"][0]
    assert (
        np.hypot(*np.subtract(d["properties"]["label_point"], w["properties"]["label_point"]))
        > 0.003
    )
    # a bbox is read in the display CRS: the same problems in either system
    x, y = crs.from_wgs84([114.91, 114.93], [28.22, 28.235], "gcj02")
    box = f"{x[0]},{y[0]},{x[1]},{y[1]}"
    wgs = get(reader, "/api/problems/clusters?zoom=15&bbox=114.91,28.22,114.93,28.235").get_json()
    gcj = get(reader, f"/api/problems/clusters?zoom=15&display_crs=gcj02&bbox={box}").get_json()
    assert abs(wgs["numberMatched"] - gcj["numberMatched"]) <= 2


def _first_coordinate(geometry):
    c = geometry["coordinates"]
    while isinstance(c[0], list):
        c = c[0]
    return c


# --- search, summary ------------------------------------------------------------------------
def test_search(reader, demo):
    hits = get(reader, "/api/search?q=城关市场").get_json()
    market = next(a for a in demo["areas"] if a["name"] == "城关市场")
    assert hits[0]["type"] == "area" and hits[0]["id"] == market["area_id"]
    geom = demo["geoms"][[a["area_id"] for a in demo["areas"]].index(market["area_id"])]
    assert hits[0]["bbox"] == pytest.approx(list(geom.bounds))
    unit = get(reader, "/api/search?q=交警").get_json()
    police = next(h for h in unit if h["type"] == "unit")
    src = demo["units"][police["id"]]
    assert police["name"] == "县交警大队"
    assert police["bbox"] == src["geometry"]["coordinates"] * 2
    by_id = get(reader, "/api/search?q=a023").get_json()
    assert by_id[0]["id"] == "A023"
    many = get(reader, "/api/search?q=县").get_json()
    assert len(many) == 20 and {"area", "unit"} <= {h["type"] for h in many}
    district = get(reader, "/api/search?q=城东片区").get_json()
    assert district[0]["type"] == "district" and district[0]["id"] == "D2"
    assert get(reader, "/api/search?q=nothing-like-this").get_json() == []
    gcj = get(reader, "/api/search?q=城关市场&display_crs=gcj02").get_json()
    assert gcj[0]["bbox"][0] - hits[0]["bbox"][0] > 0.003


def test_summary_totals(reader, demo):
    d = demo["problems"]
    s = get(reader, "/api/summary").get_json()
    assert s["problems"] == len(d) == 3600
    assert s["deduction"] == pytest.approx(d["deduction"].sum())
    assert s["open"] == d["status"].isin(["reported", "assigned", "rectifying"]).sum()
    assert {k: v for k, v in s["by_status"].items() if v} == dict(Counter(d["status"]))
    units = d.groupby("responsible_unit_id", dropna=False)["deduction"].agg(["size", "sum"])
    got = {u["id"]: (u["problems"], u["deduction"]) for u in s["by_unit"]}
    assert len(got) == len(units)
    for uid, row in units.iterrows():
        key = None if pd.isna(uid) else uid
        assert got[key][0] == row["size"]
        assert got[key][1] == pytest.approx(row["sum"])
    assert [u["deduction"] for u in s["by_unit"]] == sorted(
        (u["deduction"] for u in s["by_unit"]), reverse=True
    )
    assert next(u for u in s["by_unit"] if u["id"] == "U11")["name"] == "县交警大队"
    districts = {x["id"]: x["problems"] for x in s["by_district"]}
    assert districts == {
        (None if pd.isna(k) else k): v for k, v in Counter(d["district_id"]).items()
    }
    assert districts[None] == 30  # the 30 points outside the county
    assert sum(c["problems"] for c in s["by_category"]) == 3600
    litter = next(c for c in s["by_category"] if c["id"] == "litter")
    assert litter["name"] == "垃圾落地" and litter["problems"] == (d["category"] == "litter").sum()
    unit = get(reader, "/api/summary?unit=U11&status=verified").get_json()
    mine = d[(d["responsible_unit_id"] == "U11") & (d["status"] == "verified")]
    assert unit["problems"] == len(mine)
    assert unit["deduction"] == pytest.approx(mine["deduction"].sum())
    assert [u["id"] for u in unit["by_unit"]] == ["U11"]


# --- conditional GET ------------------------------------------------------------------------
ETAG_URLS = [
    "/api/districts",
    "/api/areas?district=D1",
    "/api/units",
    "/api/problems?limit=10&status=reported",
    "/api/problems.geojson?district=D7",
    "/api/problems/clusters?zoom=14",
    "/api/search?q=城关",
    "/api/summary?district=D2",
]


def test_etag_round_trip_and_change_after_a_write(client, demo_url):
    first = get(client, "/api/problems/1")
    tags = {"/api/problems/1": first.headers["ETag"]}
    for url in ETAG_URLS:
        r = get(client, url)
        assert r.headers["Cache-Control"] == "no-cache, private"  # no shared cache keeps it
        tag = r.headers["ETag"]
        assert tag.startswith('"') and not tag.startswith("W/")
        again = client.get(url, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["ETag"] == tag
        tags[url] = tag
    # the same query written differently has the same tag; another locale another one
    same = client.get(
        "/api/problems?status=reported&limit=10", headers={"If-None-Match": tags[ETAG_URLS[3]]}
    )
    assert same.status_code == 304
    english = client.get("/api/districts", headers={"Accept-Language": "en"})
    assert english.status_code == 200 and english.headers["ETag"] != tags["/api/districts"]
    before = get(client, "/api/summary").get_json()
    store = open_store(demo_url)
    try:
        with store.transaction() as tx:
            tx.add_problems(
                [{"problem_id": "NEW-1", "round": "市级评估", "category": "litter", "status": "reported",
                  "deduction": 1.0, "lon": 114.92, "lat": 28.23, "reported_at": "2024-10-01T09:00:00+08:00"}]
            )  # fmt: skip
    finally:
        store.close()
    for url, tag in tags.items():
        r = client.get(url, headers={"If-None-Match": tag})
        assert r.status_code == 200 and r.headers["ETag"] != tag, url
    clusters = get(client, "/api/problems/clusters?zoom=14").get_json()
    assert clusters["numberMatched"] == 3601
    # the cached problem columns are refreshed, not stale: a status change shows at once
    pk = all_problems(client, "status=reported")[0]["id"]
    store = open_store(demo_url)
    try:
        store.set_problem_status(pk, "verified", "tester")
    finally:
        store.close()
    after = get(client, "/api/summary").get_json()
    assert after["problems"] == before["problems"] + 1
    assert after["by_status"]["reported"] == before["by_status"]["reported"]  # +1 new, -1 changed
    assert after["by_status"]["verified"] == before["by_status"]["verified"] + 1
    fc = get(client, "/api/problems/clusters?zoom=18&status=verified").get_json()
    assert pk in {f["properties"]["id"] for f in fc["features"]}
    assert fc["numberMatched"] == after["by_status"]["verified"]


# --- errors ---------------------------------------------------------------------------------
BAD_REQUESTS = [
    ("/api/problems?bbox=1,2,3", "bbox"),
    ("/api/problems?bbox=a,b,c,d", "bbox"),
    ("/api/problems?bbox=115,28,114,29", "bbox"),
    ("/api/problems?bbox=114,28,nan,29", "bbox"),
    ("/api/areas?bbox=1,2", "bbox"),
    ("/api/problems?date_from=2024-13-01", "date_from"),
    ("/api/problems?date_to=yesterday", "date_to"),
    ("/api/problems?date_from=2024-05-02&date_to=2024-05-01", "date_from"),
    ("/api/problems?limit=0", "limit"),
    ("/api/problems?limit=10001", "limit"),
    ("/api/problems?limit=ten", "limit"),
    ("/api/problems?offset=-1", "offset"),
    ("/api/problems?status=closed", "status"),
    ("/api/problems?category=graffiti", "category"),
    ("/api/summary?district=D99", "district"),
    ("/api/problems/clusters?unit=U999&zoom=3", "unit"),
    ("/api/problems/clusters", "zoom"),
    ("/api/problems/clusters?zoom=abc", "zoom"),
    ("/api/problems/clusters?zoom=25", "zoom"),
    ("/api/problems/clusters?zoom=-1", "zoom"),
    ("/api/districts?generation=99", "generation"),
    ("/api/areas?generation=abc", "generation"),
    ("/api/units?generation=0", "generation"),
    ("/api/search?q=", "q"),
    ("/api/search?q=x&generation=7", "generation"),
    ("/api/areas?simplify=-3", "simplify"),
    ("/api/areas?district=D0", "district"),
    ("/api/units?display_crs=mars", "display_crs"),
    ("/api/problems?limit=10&limit=20", "limit"),
]


def test_bad_parameters_are_400_naming_the_parameter(reader):
    for url, param in BAD_REQUESTS:
        r = get(reader, url, 400)
        body = r.get_json()
        assert body["error"] == "bad_parameter", url
        assert param in body["message"], (url, body["message"])


# --- OpenAPI --------------------------------------------------------------------------------
def test_openapi_describes_exactly_the_registered_routes(shared_app, reader):
    doc = get(reader, "/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    routes = {
        (rule.rule, method.lower()): rule.endpoint
        for rule in shared_app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }
    documented = {
        (openapi.flask_path(path), method): path
        for path, ops in doc["paths"].items()
        for method in ops
    }
    assert set(routes) == set(documented)
    by_endpoint = {e.endpoint: e for e in openapi.ALL_ROUTES}
    assert set(by_endpoint) == set(routes.values())
    for (rule, method), endpoint in routes.items():
        op = doc["paths"][documented[rule, method]][method]
        assert op["operationId"] == endpoint.removeprefix("api.")
        ok = next(code for code in op["responses"] if code.startswith("2"))
        assert op["responses"][ok]["content"], (rule, method)
        templated = {part[1:-1] for part in rule.split("/") if part.startswith("<")}
        in_path = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert {t.split(":")[-1] for t in templated} == in_path, (rule, method)
        schema = next(iter(op["responses"][ok]["content"].values()))["schema"]
        if "$ref" in schema:
            assert schema["$ref"].rsplit("/", 1)[1] in doc["components"]["schemas"]
    filters = {p["name"] for p in doc["paths"]["/api/problems"]["get"]["parameters"]}
    assert {
        "round",
        "category",
        "status",
        "district",
        "unit",
        "date_from",
        "date_to",
        "bbox",
        "limit",
        "offset",
    } <= filters
    assert "Error" in doc["components"]["schemas"]


def test_queries_for_the_pages(shared_demo_url):
    """The pages call the read services directly with filter dicts (lists of strings)."""
    with open_store(shared_demo_url) as store:
        assert map_features.problem_rounds(store) == [
            ("市级评估", "市级评估"),
            ("省级评估", "省级评估"),
        ]
        unit = problem_reads.summary(store, {"unit": ["U11"], "round": "市级评估"}, locale="en")
        assert (
            unit["problems"]
            == problem_reads.summary(store, {"unit": "U11,U11", "round": ["市级评估"]})["problems"]
        )
        names = [c["name"] for c in unit["by_category"]]
        assert "Red-light running" in names and all(n.isascii() for n in names)
        with pytest.raises(query_params.BadParameter, match="unit"):
            problem_reads.summary(store, {"unit": ["nobody"]})


def test_summary_does_not_deduct_a_linked_duplicate_twice(client, app):
    store = app.extensions["geoapp.store"]
    before = client.get("/api/summary").get_json()
    original, copy = store.problems(limit=2)
    with store.transaction() as tx:
        tx.update_problem(copy["id"], {"duplicate_of": original["id"]}, "test")
    after = client.get("/api/summary").get_json()
    assert after["problems"] == before["problems"]
    assert after["deduction"] == pytest.approx(before["deduction"] - copy["deduction"])


def _cell_of(lon: float, lat: float, zoom: float) -> tuple[float, float, float, float]:
    """The grid cell (west, south, east, north) holding a point at ``zoom``: cells of
    CELL_PX Web Mercator pixels anchored at the world's origin (worked out here on its own,
    not with the clustering module)."""
    world = 256 * 2.0**zoom
    size = clustering.CELL_PX
    x = (lon + 180) / 360 * world
    s = np.sin(np.radians(lat))
    y = (0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi)) * world
    cx, cy = np.floor(x / size), np.floor(y / size)

    def lon_of(px):
        return px / world * 360 - 180

    def lat_of(py):
        return float(np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * py / world)))))

    return lon_of(cx * size), lat_of((cy + 1) * size), lon_of((cx + 1) * size), lat_of(cy * size)


@pytest.mark.parametrize("zoom", [11, 13, 14.5, 16, 17])
def test_each_cluster_counts_what_the_api_finds_in_its_cell(reader, zoom):
    """Exact counts under every filter at every zoom: each cluster's count (and each single
    problem) equals the number of problems the problem list finds in that cluster's grid
    cell under the same filters. A cluster sits at its problems' mean, which lies inside
    their cell."""
    for query, _ in [("", None), *FILTER_CASES[:6]]:
        fc = get(reader, f"/api/problems/clusters?zoom={zoom}&{query}").get_json()
        assert fc["features"]
        # the largest clusters and an even spread of the rest (a request each)
        ranked = sorted(fc["features"], key=lambda f: -f["properties"]["count"])
        for f in ranked[:10] + ranked[10 :: max(1, len(ranked) // 15)]:
            lon, lat = f["geometry"]["coordinates"]
            cell = ",".join(f"{v:.9f}" for v in _cell_of(lon, lat, zoom))
            found = get(reader, f"/api/problems?bbox={cell}&limit=1&{query}").get_json()
            assert found["numberMatched"] == f["properties"]["count"], (query, f)
