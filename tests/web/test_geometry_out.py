"""Every GeoJSON the app writes follows RFC 7946's right-hand rule (exteriors
counter-clockwise, holes clockwise) whatever orientation the boundary file had, and areas
and districts reach GIS clients as one geometry type (MultiPolygon), with the label point
as two numbers a GeoPackage column can hold."""

from __future__ import annotations

import io
import json

import pyogrio
import shapely
from shapely.geometry import mapping
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from geoapp.services import boundary_import


def _clockwise_set(store) -> tuple[bytes, int]:
    """The current areas as a GeoJSON file with every exterior clockwise (holes
    counter-clockwise): what a county's GIS exports often hold; and how many areas."""
    frame = store.areas(store.current_generation()["id"])
    geoms = shapely.orient_polygons(frame.geometry.values, exterior_cw=True)
    features = []
    for row, geom in zip(frame.drop(columns="geometry").to_dict("records"), geoms, strict=True):
        assert (
            not geom.geoms[0].exterior.is_ccw
            if geom.geom_type == "MultiPolygon"
            else not geom.exterior.is_ccw
        )
        features.append({"type": "Feature", "properties": row, "geometry": mapping(geom)})
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, default=str).encode(), len(frame)


def _rings(geometry: dict):
    """(is exterior, ring) of every polygon ring of a GeoJSON geometry."""
    if geometry is None:
        return
    kind = geometry["type"]
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"]
    if kind not in ("Polygon", "MultiPolygon"):
        return
    for polygon in polygons:
        for i, ring in enumerate(polygon):
            yield i == 0, ring


def assert_right_hand(features: list[dict], where: str) -> int:
    """Every exterior counter-clockwise, every hole clockwise; returns the rings seen."""
    seen = 0
    for feature in features:
        for exterior, ring in _rings(feature.get("geometry")):
            assert shapely.LinearRing(ring).is_ccw == exterior, (where, feature.get("id"))
            seen += 1
    return seen


def test_every_geojson_writer_follows_the_right_hand_rule(app, client, tmp_path):
    store = app.extensions["geoapp.store"]
    data, count = _clockwise_set(store)
    # a draft from the file: /api/drafts/<id>
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), "cw.geojson")})
    r = client.post("/api/drafts/upload", data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip
    assert r.status_code == 201, r.get_json()
    draft = client.get(f"/api/drafts/{r.get_json()['generation']['id']}").get_json()
    assert assert_right_hand(draft["areas"]["features"], "draft") >= count
    client.delete(f"/api/drafts/{r.get_json()['generation']['id']}")
    # the same file published as a generation
    path = tmp_path / "cw.geojson"
    path.write_bytes(data)
    plan = boundary_import.plan_area_import(store, path)
    assert not plan.errors, plan.errors
    gen = boundary_import.commit_area_import(store, plan, "test", "clockwise file")["id"]
    exported = client.get(f"/api/generations/{gen}/areas.geojson")
    assert exported.status_code == 200
    assert assert_right_hand(json.loads(exported.data)["features"], "export") >= count
    for url in ("/api/areas", "/api/districts", "/ogc/collections/areas/items?limit=10000",
                "/ogc/collections/districts/items"):  # fmt: skip
        doc = client.get(url).get_json()
        assert assert_right_hand(doc["features"], url) >= len(doc["features"]) > 0
    first = json.loads(exported.data)["features"][0]["properties"]["area_id"]
    one = client.get(f"/ogc/collections/areas/items/{first}").get_json()
    assert assert_right_hand([one], "ogc item")


def test_areas_and_districts_are_multipolygons_for_gis(client, tmp_path):
    """The OGC collections declare MultiPolygon and serve nothing else; the label point is
    two numbers; GDAL writes a GeoPackage layer of that one type from them; the
    generation's GPKG and GeoJSON exports hold MultiPolygons only."""
    for cid in ("areas", "districts"):
        meta = client.get(f"/ogc/collections/{cid}").get_json()
        assert meta["geometryType"] == "MultiPolygon"
        r = client.get(f"/ogc/collections/{cid}/items?limit=10000")
        features = r.get_json()["features"]
        assert {f["geometry"]["type"] for f in features} == {"MultiPolygon"}
        for f in features:
            props = f["properties"]
            assert not any(isinstance(v, list | dict) for v in props.values()), props
        if cid == "districts":
            assert all(isinstance(f["properties"]["label_lon"], float) for f in features)
            assert all(isinstance(f["properties"]["label_lat"], float) for f in features)
        source = tmp_path / f"{cid}.geojson"
        source.write_bytes(r.data)
        frame = pyogrio.read_dataframe(source)
        out = tmp_path / f"{cid}.gpkg"
        pyogrio.write_dataframe(frame, out, driver="GPKG")
        assert pyogrio.read_info(out)["geometry_type"] == "MultiPolygon"
    gen = client.get("/api/generations").get_json()
    gen_id = (gen.get("generations", gen) if isinstance(gen, dict) else gen)[0]["id"]
    gpkg = client.get(f"/api/generations/{gen_id}/areas.gpkg")
    path = tmp_path / "export.gpkg"
    path.write_bytes(gpkg.data)
    assert pyogrio.read_info(path)["geometry_type"] == "MultiPolygon"
    assert set(pyogrio.read_dataframe(path).geometry.geom_type) == {"MultiPolygon"}
    doc = json.loads(client.get(f"/api/generations/{gen_id}/areas.geojson").data)
    assert {f["geometry"]["type"] for f in doc["features"]} == {"MultiPolygon"}
