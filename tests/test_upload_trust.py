"""Uploads are read from their bytes, never from a path the client names; archives are
bounded by what they really unpack to; failed uploads leave nothing on disk; bad
geometry in an uploaded boundary set becomes a draft whose validation names it."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from intake_helpers import inside_point, multipart
from webclient import make_app, sign_in

from geoapp import services

EPSG_CGCS2000_3DEG_117E = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 117E


@pytest.fixture
def client(demo_url, tmp_path):
    """An admin's client of a demo app with its own upload folder."""
    application = make_app(demo_url, UPLOAD_DIR=str(tmp_path / "uploads"))
    yield sign_in(application.test_client(), "admin")
    application.extensions["geoapp.store"].close()


@pytest.fixture
def store(client):
    return client.application.extensions["geoapp.store"]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The system temporary folder, made private to the test so leftovers can be seen."""
    folder = tmp_path / "systmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def post_file(client, url: str, name: str, data: bytes):
    body, content_type = multipart("file", name, data)
    return client.post(url, data=body, content_type=content_type)


def upload_draft(client, name: str, data: bytes):
    return post_file(client, "/api/drafts/upload", name, data)


def current_areas(client) -> gpd.GeoDataFrame:
    doc = json.loads(client.get("/api/generations/1/areas.geojson").data)
    return gpd.GeoDataFrame.from_features(doc["features"], crs=4326)


def changed_set(client) -> gpd.GeoDataFrame:
    """The demo's boundary set with the first area handed to another unit."""
    frame = current_areas(client)
    frame.loc[0, "responsible_unit_id"] = frame.loc[1, "responsible_unit_id"]
    return frame[["area_id", "name", "kind", "district_id", "responsible_unit_id", "geometry"]]


def as_gpkg(frame: gpd.GeoDataFrame, folder: Path, epsg: int) -> Path:
    path = folder / f"areas-{epsg}.gpkg"
    frame.to_crs(epsg).to_file(path, driver="GPKG", layer="areas", engine="pyogrio")
    return path


def as_shp_zip(frame: gpd.GeoDataFrame, folder: Path, epsg: int) -> Path:
    src = folder / f"shp-{epsg}"
    src.mkdir()
    # Shapefile names are cut to 10 characters: use the aliases the reader knows
    short = frame.rename(columns={"responsible_unit_id": "unit_id", "district_id": "district"})
    short.to_crs(epsg).to_file(src / "areas.shp", engine="pyogrio", encoding="utf-8")
    path = folder / f"areas-{epsg}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(src.iterdir()):
            zf.write(f, f.name)
    return path


def draft_frame(client, gid: int) -> gpd.GeoDataFrame:
    response = client.get(f"/api/generations/{gid}/areas.geojson")
    assert response.status_code == 200
    doc = json.loads(response.data)
    return gpd.GeoDataFrame.from_features(doc["features"], crs=4326)


def same_areas(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    columns = ["area_id", "name", "kind", "district_id", "responsible_unit_id"]
    a = a.sort_values("area_id").reset_index(drop=True)
    b = b.sort_values("area_id").reset_index(drop=True)
    assert a[columns].astype(str).values.tolist() == b[columns].astype(str).values.tolist()
    for ga, gb, aid in zip(a.geometry, b.geometry, a["area_id"], strict=True):
        assert shapely.equals_exact(ga.normalize(), gb.normalize(), 1e-9), aid


# --- 1. the bytes are read, never a path the client names -------------------------------------
@pytest.mark.parametrize("fmt", ["gpkg", "shpzip"])
@pytest.mark.parametrize("epsg", [EPSG_CGCS2000_3DEG_117E, 4326])
def test_gpkg_and_zipped_shapefile_uploads_equal_import_areas(
    client, store, tmp_path, private_tmp, fmt, epsg
):
    frame = changed_set(client)
    path = (as_gpkg if fmt == "gpkg" else as_shp_zip)(frame, tmp_path, epsg)
    r = upload_draft(client, path.name, path.read_bytes())
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["generation"]["id"]
    # what `geoapp import-areas FILE` reads from the same file
    plan = services.plan_area_import(store, path)
    assert not plan.errors
    same_areas(draft_frame(client, gid), plan.areas)
    assert list(private_tmp.iterdir()) == []


def server_file(folder: Path, suffix: str, client) -> Path:
    """A boundary set on the server's disk that differs from what gets uploaded: only its
    first three areas, all with the second area's unit."""
    frame = current_areas(client).iloc[:3].copy()
    frame["responsible_unit_id"] = frame.loc[1, "responsible_unit_id"]
    frame = frame[["area_id", "name", "kind", "district_id", "responsible_unit_id", "geometry"]]
    if suffix == ".gpkg":
        return as_gpkg(frame, folder, 4326)
    if suffix == ".zip":
        return as_shp_zip(frame, folder, 4326)
    path = folder / "areas-4326.geojson"
    path.write_text(frame.to_json(), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".gpkg", ".zip", ".geojson"])
@pytest.mark.parametrize("how", ["absolute", "relative", "dotdot", "backslash"])
def test_a_file_name_naming_a_server_file_is_never_opened(
    client, store, tmp_path, private_tmp, monkeypatch, suffix, how
):
    server = tmp_path / "server"
    server.mkdir()
    on_disk = server_file(server, suffix, client)
    work = server / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    name = {
        "absolute": str(on_disk),
        "relative": f"../{on_disk.name}",
        "dotdot": f"../../{server.name}/{on_disk.name}",
        "backslash": f"..\\{on_disk.name}",
    }[how]
    assert (work / name.replace("\\", "/")).resolve() == on_disk.resolve() or how == "absolute"
    # the uploaded bytes: the whole demo set, changed (in the same format)
    frame = changed_set(client)
    if suffix == ".gpkg":
        data = as_gpkg(frame, tmp_path, EPSG_CGCS2000_3DEG_117E).read_bytes()
    elif suffix == ".zip":
        data = as_shp_zip(frame, tmp_path, EPSG_CGCS2000_3DEG_117E).read_bytes()
    else:
        data = frame.to_json().encode()
    r = upload_draft(client, name, data)
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["generation"]["id"]
    got = draft_frame(client, gid)
    assert len(got) == len(frame) == 253  # the uploaded set, not the 3 areas on disk
    same_areas(got, frame.assign(geometry=got.sort_values("area_id").geometry.values))
    # an empty upload or one of another format named after the server file is refused,
    # and the server file is not read instead
    for body in (b"", b"{}", b"not a boundary set"):
        r = upload_draft(client, name, body)
        assert 400 <= r.status_code < 500, r.get_json()
        assert str(on_disk.parent) not in r.get_json()["message"]
    assert list(private_tmp.iterdir()) == []


def test_a_problem_sheet_named_after_a_server_file_is_read_from_its_bytes(client, store, tmp_path):
    _, x, y = inside_point(store)
    on_disk = tmp_path / "sheet.csv"
    header = "编号,检查轮次,问题类别,问题描述,扣分,上报时间,经度,纬度"
    on_disk.write_text(f"{header}\nDISK1,R,litter,d,1,2026-11-01 09:30,0,0\n", encoding="utf-8")
    sent = f"{header}\nSENT1,R,litter,d,1,2026-11-01 09:30,{x},{y}\n".encode()
    r = post_file(client, "/api/imports", str(on_disk), sent)
    assert r.status_code == 200, r.get_json()
    preview = r.get_json()
    assert [row["problem_id"] for row in preview["rows"]] == ["SENT1"]
    assert preview["filename"] == "sheet.csv"
