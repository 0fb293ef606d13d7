"""Property tests: malformed GeoJSON, invalid and huge geometries, wrong CRSs, non-UTF-8
text, lying and oversized files.  Each gets a clear error (InputError, ServiceError, a
4xx) and the store is unchanged afterwards."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import stat
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webclient import make_app, sign_in

from geoapp.core.crs import CRSError
from geoapp.io.boundaries import read_areas
from geoapp.io.errors import InputError
from geoapp.io.files import safe_zip
from geoapp.io.points import read_points
from geoapp.io.uploads import UploadError, require_kind, save_upload, sniff
from geoapp.services import boundary_import, errors, problem_import
from geoapp.services.county import DEMO_DIR

CLEAR = (InputError, errors.ServiceError, CRSError)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.fixture(scope="module")
def robust_app(demo_sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("robust-app") / "demo.sqlite"
    shutil.copyfile(demo_sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    yield app
    app.extensions["geoapp.store"].close()


def snapshot(store) -> tuple:
    return (store.data_version(), store.count_audit(), len(store.list_users()))


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
coordinate = st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**20), 10**20)
geometry = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Point", "Polygon", "MultiPolygon", "LineString", "Nope", 3]),
        "coordinates": st.recursive(
            coordinate, lambda inner: st.lists(inner, max_size=5), max_leaves=30
        ),
    }
)
feature = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Feature", "feature", None]),
        "geometry": geometry | json_values,
        "properties": st.dictionaries(st.text(max_size=6), json_values, max_size=4) | json_values,
    }
)
collection = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["FeatureCollection", "Feature", 1]),
        "features": st.lists(feature | json_values, max_size=5) | json_values,
        "crs": st.none()
        | st.fixed_dictionaries(
            {"type": st.just("name"), "properties": st.fixed_dictionaries({"name": st.text()})}
        ),
    }
)


def dump(doc) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_random_bytes_get_a_clear_error(data):
    for name in ("x.geojson", "x.csv"):
        with contextlib.suppress(CLEAR):
            read_points(name, data=data)
    with contextlib.suppress(CLEAR):
        read_areas("x.geojson", data=data)


@SETTINGS
@given(doc=collection)
def test_malformed_geojson_gets_a_clear_error_and_changes_nothing(demo_store, tmp_path, doc):
    before = snapshot(demo_store)
    data = dump(doc)
    with contextlib.suppress(CLEAR):
        read_points("p.geojson", data=data)
    try:
        plan = boundary_import.plan_area_import(demo_store, "a.geojson", data=data)
        boundary_import.commit_area_import(demo_store, plan, "fuzz", "fuzz")
    except CLEAR:
        pass
    try:
        plan = problem_import.plan_problem_import(demo_store, "p.geojson", data=data)
        problem_import.commit_problem_import(demo_store, plan, "fuzz")
    except CLEAR:
        pass
    assert snapshot(demo_store) == before


def area_doc(ring, crs_name=None, area_id="NEW-1") -> bytes:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "area_id": area_id,
                    "name": "测试",
                    "district_id": "D1",
                    "responsible_unit_id": "U01",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    if crs_name:
        doc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    return dump(doc)


@SETTINGS
@given(
    points=st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=0, max_size=30),
    crs_name=st.sampled_from([None, "EPSG:3857", "EPSG:32650", "EPSG:4490", "urn:bogus"]),
)
def test_invalid_and_misplaced_boundaries_are_refused(demo_store, points, crs_name):
    """Bow-ties, slivers, coordinates far away or in another CRS: never published."""
    before = snapshot(demo_store)
    ring = [list(p) for p in points] + ([list(points[0])] if points else [])
    with pytest.raises(CLEAR):
        plan = boundary_import.plan_area_import(
            demo_store, "a.geojson", data=area_doc(ring, crs_name)
        )
        boundary_import.commit_area_import(demo_store, plan, "fuzz", "fuzz")
    assert snapshot(demo_store) == before


def test_a_huge_geometry_is_refused_and_changes_nothing(demo_store):
    import math

    n = 200_000
    ring = [
        [114.0 + 0.01 * math.cos(2 * math.pi * i / n), 28.0 + 0.01 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    ring.append(ring[0])
    before = snapshot(demo_store)
    with pytest.raises(CLEAR):
        plan = boundary_import.plan_area_import(demo_store, "huge.geojson", data=area_doc(ring))
        boundary_import.commit_area_import(demo_store, plan, "fuzz", "fuzz")
    assert snapshot(demo_store) == before


@SETTINGS
@given(junk=st.binary(min_size=1, max_size=40).filter(lambda b: b"\x00" not in b))
def test_text_that_is_neither_utf8_nor_gbk_is_named(junk):
    data = "编号,经度,纬度\n".encode() + b"\xff\xfe\xfd" + junk + b",114.9,28.2\n"
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        with pytest.raises(InputError, match="neither UTF-8 nor GBK"):
            read_points("bad.csv", data=data)


def test_content_must_match_the_name():
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("a.txt", "x")
    with pytest.raises(InputError, match="content is zip, not geojson"):
        read_points("trick.geojson", data=zipped.getvalue())
    with pytest.raises(InputError, match="content is json, not csv"):
        read_points("trick.csv", data=b'{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="content is text, not xlsx"):
        read_points("trick.xlsx", data=b"a,b\n1,2\n")
    with pytest.raises(InputError, match="empty"):
        read_points("empty.geojson", data=b"")


def shapefile_zip(tmp_path, extra=None, big: int = 0):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    areas = read_areas(DEMO_DIR / "areas.geojson").iloc[:3].drop(columns="_where")
    areas = areas.rename(columns={"responsible_unit_id": "unit_id", "district_id": "district"})
    areas.to_file(src / "a.shp", engine="pyogrio")
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in src.iterdir():
            zf.write(f, f.name)
        if big:
            zf.writestr("padding.bin", b"\0" * big)
        if extra:
            extra(zf)
    return path


def test_zipped_shapefiles_are_opened_safely(tmp_path, monkeypatch):
    ok = shapefile_zip(tmp_path)
    assert safe_zip(ok).startswith("/vsizip/")
    assert len(read_areas(ok)) == 3

    def traversal(zf):
        zf.writestr("../../etc/evil.txt", "x")

    with pytest.raises(InputError, match="unsafe path"):
        safe_zip(shapefile_zip(tmp_path, traversal))

    def symlink(zf):
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")

    with pytest.raises(InputError, match="symbolic link"):
        safe_zip(shapefile_zip(tmp_path, symlink))

    def many(zf):
        for i in range(80):
            zf.writestr(f"x{i}.txt", "x")

    with pytest.raises(InputError, match="entries"):
        safe_zip(shapefile_zip(tmp_path, many))

    monkeypatch.setenv("GEOAPP_MAX_UNZIPPED_MB", "1")
    with pytest.raises(InputError, match="too large"):
        read_areas(shapefile_zip(tmp_path, big=2 * 1024 * 1024))


def test_a_zip_whose_headers_lie_about_its_size_is_caught(tmp_path, monkeypatch):
    """The declared sizes are small; inflating counts the real bytes."""
    path = shapefile_zip(tmp_path, big=3 * 1024 * 1024)
    raw = bytearray(path.read_bytes())
    # rewrite the central directory's uncompressed size of padding.bin to 1 byte
    name = b"padding.bin"
    at = raw.rfind(b"PK\x01\x02", 0, raw.rfind(name))
    raw[at + 24 : at + 28] = (1).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    monkeypatch.setenv("GEOAPP_MAX_UNZIPPED_MB", "1")
    with pytest.raises(InputError):
        safe_zip(path)


def test_uploads_are_typed_by_content_and_named_by_the_server(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
    assert sniff(png) == "png" and sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "webp"
    assert sniff(b"\xef\xbb\xbf  {}") == "json" and sniff("编号,经度".encode("gbk")) == "text"
    assert sniff(b"MZ\x90\x00\x03") == "unknown"
    with pytest.raises(UploadError, match="content is text"):
        require_kind(b"<?php echo 1; ?>", {"png", "jpeg"}, "photo.jpg")
    path = save_upload(png, tmp_path / "photos", "png")
    assert path.parent == tmp_path / "photos" and path.suffix == ".png"
    assert len(path.stem) == 32 and path.read_bytes() == png
    with pytest.raises(UploadError, match="larger"):
        save_upload(png, tmp_path, "png", max_bytes=4)


def test_oversized_requests_are_refused_with_413(demo_sqlite_url):
    app = make_app(demo_sqlite_url, MAX_UPLOAD_MB=1)
    client = sign_in(app.test_client(), "admin")
    big = b"\0" * (2 * 1024 * 1024)
    r = client.post("/logout", data=big, content_type="application/octet-stream")
    r.close()
    assert r.status_code == 413
    assert client.get("/").status_code == 200  # refused before it could sign out
    app.extensions["geoapp.store"].close()


@SETTINGS
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["bbox", "zoom", "limit", "offset", "status", "unit", "date_from", "generation", "q"]
        ),
        st.text(max_size=20) | st.binary(max_size=10).map(lambda b: b.decode("latin-1")),
        max_size=4,
    ),
    path=st.sampled_from(["problems", "problems/clusters", "summary", "areas", "search"]),
)
def test_api_answers_junk_parameters_with_a_clear_4xx(robust_app, params, path):
    client = sign_in(robust_app.test_client(), "coordinator")
    r = client.get(f"/api/{path}", query_string=params)
    assert r.status_code < 500
    if r.status_code >= 400:
        body = r.get_json()
        assert body["error"] and body["message"]
    r.close()
