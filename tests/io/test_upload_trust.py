"""Uploads are read from their bytes, never from a path the client names; archives are
bounded by what they really unpack to; failed uploads leave nothing on disk; bad
geometry in an uploaded boundary set becomes a draft whose validation names it."""

from __future__ import annotations

import functools
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from intake_helpers import inside_point, multipart
from webclient import make_app, sign_in

from geoapp.cli import main
from geoapp.core.zoning import check_areas
from geoapp.io.errors import InputError
from geoapp.io.tables import read_table
from geoapp.services import boundary_import

EPSG_CGCS2000_3DEG_117E = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 117E


@pytest.fixture
def client(demo_url, tmp_path):
    """An admin's client of a demo app with its own upload folder."""
    application = make_app(demo_url, UPLOAD_DIR=str(tmp_path / "uploads"))
    client = sign_in(application.test_client(), "admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the messages asserted are English
    yield client
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


#: What the tests of this module build again and again from the demo county (its published
#: boundary set as the API serves it, the files made from it), kept per backend for the
#: module: every test's demo copy holds the same generation 1 (no test changes a published
#: generation: uploads make drafts), and the files are only read.  Each test still uploads
#: them to its own app on its own copy of the demo.
_BUILT: dict[tuple, object] = {}


def backend_of(client) -> str:
    return client.application.extensions["geoapp.store"].engine.dialect.name


def once(key: tuple, build: Callable[[], object]):
    """``build()``, called once per module and key."""
    if key not in _BUILT:
        _BUILT[key] = build()
    return _BUILT[key]


def current_areas(client) -> gpd.GeoDataFrame:
    def read() -> gpd.GeoDataFrame:
        doc = json.loads(client.get("/api/generations/1/areas.geojson").data)
        return gpd.GeoDataFrame.from_features(doc["features"], crs=4326)

    return once(("areas", backend_of(client)), read).copy()


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


def file_bytes(client, key: tuple, write: Callable[[Path], Path]) -> bytes:
    """The bytes of the file ``write(folder)`` makes (in a folder of its own), made once per
    module, backend and ``key``."""

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            return write(Path(folder)).read_bytes()

    return once(("file", backend_of(client), *key), build)


def saved(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
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
        # (a Shapefile cannot tell a one-part MultiPolygon from a Polygon: compare the parts)
        assert shapely.equals_exact(multi(ga).normalize(), multi(gb).normalize(), 1e-9), aid


def multi(geometry):
    """A Polygon as the one-part MultiPolygon it equals."""
    if geometry.geom_type == "Polygon":
        return shapely.MultiPolygon([geometry])
    return geometry


# --- 1. the bytes are read, never a path the client names -------------------------------------
@pytest.mark.parametrize("fmt", ["gpkg", "shpzip"])
@pytest.mark.parametrize("epsg", [EPSG_CGCS2000_3DEG_117E, 4326])
def test_gpkg_and_zipped_shapefile_uploads_equal_import_areas(
    client, store, tmp_path, private_tmp, fmt, epsg
):
    frame = changed_set(client)
    write = as_gpkg if fmt == "gpkg" else as_shp_zip
    path = tmp_path / f"areas-{epsg}.{'gpkg' if fmt == 'gpkg' else 'zip'}"
    saved(path, file_bytes(client, ("changed", fmt, epsg), lambda f: write(frame, f, epsg)))
    r = upload_draft(client, path.name, path.read_bytes())
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["generation"]["id"]
    # what `geoapp import-areas FILE` reads from the same file
    plan = boundary_import.plan_area_import(store, path)
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
        write = functools.partial(as_gpkg, frame, epsg=4326)
    elif suffix == ".zip":
        write = functools.partial(as_shp_zip, frame, epsg=4326)
    else:

        def write(folder: Path) -> Path:
            path = folder / "areas-4326.geojson"
            path.write_text(frame.to_json(), encoding="utf-8")
            return path

    return saved(folder / f"areas-4326{suffix}", file_bytes(client, ("server", suffix), write))


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
    if suffix in (".gpkg", ".zip"):
        fmt = "gpkg" if suffix == ".gpkg" else "shpzip"
        write = as_gpkg if suffix == ".gpkg" else as_shp_zip
        data = file_bytes(
            client,
            ("changed", fmt, EPSG_CGCS2000_3DEG_117E),
            lambda f: write(frame, f, EPSG_CGCS2000_3DEG_117E),
        )
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


# --- 2. XLSX: bounded by what it really unpacks to, streamed ---------------------------------
SHEET_HEADER = ["编号", "检查轮次", "问题类别", "问题描述", "扣分", "上报时间", "经度", "纬度"]


def workbook(rows) -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame(rows, columns=SHEET_HEADER).to_excel(buffer, index=False)
    return buffer.getvalue()


def rezip(data: bytes, change) -> bytes:
    """The workbook ``data`` with each entry's bytes passed through ``change(name, bytes)``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = change(info.filename, src.read(info))
            dst.writestr(info.filename, body, zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


@functools.cache
def xlsx_bomb(padding_mib: int, lie: bool = False) -> bytes:
    """A valid one-row workbook whose sheet XML holds ``padding_mib`` MiB of whitespace
    (it compresses about a thousandfold).  ``lie``: the headers say the sheet is 100 bytes."""
    small = workbook([["B1", "R", "litter", "d", 1, "2026-11-01 09:30", 117.0, 31.0]])

    def pad(name, body):
        if name == "xl/worksheets/sheet1.xml":
            return body.replace(b"</sheetData>", b" " * (padding_mib << 20) + b"</sheetData>")
        return body

    data = rezip(small, pad)
    if lie:
        raw = bytearray(data)
        name = b"xl/worksheets/sheet1.xml"
        for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = 0
            while (at := raw.find(sig, at)) >= 0:
                start = at + (30 if sig == b"PK\x03\x04" else 46)
                if raw[start : start + len(name)] == name:
                    raw[at + size_at : at + size_at + 4] = (100).to_bytes(4, "little")
                at += 4
        data = bytes(raw)
    assert len(data) < 1 << 20
    return data


@pytest.mark.parametrize("lie", [False, True])
def test_an_xlsx_bomb_is_refused_naming_the_limit(
    client, store, demo_url, tmp_path, private_tmp, lie
):
    data = xlsx_bomb(60, lie=lie)
    before = store.count_problems()
    r = post_file(client, "/api/imports", "检查表.xlsx", data)
    assert r.status_code == 400, r.get_json()
    message = r.get_json()["message"]
    assert "检查表.xlsx" in message and "50 MiB" in message, message
    assert store.count_problems() == before
    # the same from the command line
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["--database-url", demo_url, "import-problems", str(path)])
    assert result.exit_code == 2 and "50 MiB" in result.output, result.output
    assert store.count_problems() == before
    # nothing kept: no token folder, no temporary file
    uploads = tmp_path / "uploads" / "imports"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "entry",
    [
        "xl/worksheets/sheet1.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "[Content_Types].xml",
    ],
)
def test_a_workbook_with_broken_xml_is_refused_naming_the_file(
    client, store, tmp_path, private_tmp, entry
):
    """Any part of the workbook cut short (XML that does not parse) is a 400 naming the
    file, never a 500; nothing is imported or kept."""
    data = rezip(
        workbook([["X1", "R", "litter", "d", 1, "2026-11-01 09:30", 117.0, 31.0]]),
        lambda name, body: body[: len(body) // 2] if name == entry else body,
    )
    before = store.count_problems()
    r = post_file(client, "/api/imports", "检查表.xlsx", data)
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert "检查表.xlsx" in r.get_json()["message"]
    assert store.count_problems() == before
    uploads = tmp_path / "uploads" / "imports"
    assert not uploads.exists() or list(uploads.iterdir()) == []
    assert list(private_tmp.iterdir()) == []


def test_a_row_far_down_is_read_without_walking_the_rows_skipped(monkeypatch):
    """A tiny sheet whose second row is numbered 1048576 (the last row Excel has): that row
    is read, and the million rows it skips are not looked at cell by cell (openpyxl makes
    them up as empty rows; counted here by the cells turned into text)."""
    from geoapp.io import tables

    data = rezip(
        workbook([["F1", "R", "litter", "d", 1, "2026-11-01 09:30", 117.0, 31.0]]),
        lambda name, body: (
            re.sub(rb'r="([A-Z]+)2"', rb'r="\g<1>1048576"', body).replace(
                b'<row r="2"', b'<row r="1048576"'
            )
            if name == "xl/worksheets/sheet1.xml"
            else body
        ),
    )
    assert len(data) < 10_000
    seen = []
    real = tables._cell_text
    monkeypatch.setattr(tables, "_cell_text", lambda v: seen.append(v) or real(v))
    frame, where = read_table(Path("far.xlsx"), data)
    assert frame["编号"].tolist() == ["F1"] and where == ["row 1048576"]
    assert len(seen) == 2 * len(SHEET_HEADER)  # the header and the one row, nothing else


def test_the_xlsx_limit_is_a_setting(monkeypatch):
    data = xlsx_bomb(3)
    monkeypatch.setenv("GEOAPP_MAX_XLSX_UNZIPPED_MB", "2")
    with pytest.raises(InputError, match="2 MiB"):
        read_table(Path("a.xlsx"), data)
    monkeypatch.setenv("GEOAPP_MAX_XLSX_UNZIPPED_MB", "4")
    frame, where = read_table(Path("a.xlsx"), data)
    assert frame["编号"].tolist() == ["B1"] and where == ["row 2"]


def test_an_xlsx_that_claims_huge_dimensions_is_read_by_its_cells(client, store):
    """A sheet declaring A1:XFD1048576 (or a cell far to the right) is not padded out."""
    _, x, y = inside_point(store)
    data = workbook(
        [
            ["W1", "R", "litter", "d", 1, "2026-11-01 09:30", x, y],
            ["W2", "R", "litter", "d", 2, "2026-11-01 10:30", x, y],
        ]
    )

    def widen(name, body):
        if name == "xl/worksheets/sheet1.xml":
            body = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', body)
            # a stray cell in column XFD of row 3
            return body.replace(
                b"</row></sheetData>", b'<c r="XFD3" t="n"><v>1</v></c></row></sheetData>'
            )
        return body

    wide = rezip(data, widen)
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(wide)).read("xl/worksheets/sheet1.xml")
    frame, where = read_table(Path("w.xlsx"), wide)
    assert list(frame.columns) == SHEET_HEADER and where == ["row 2", "row 3"]
    assert frame["编号"].tolist() == ["W1", "W2"] and frame["扣分"].tolist() == ["1", "2"]
    r = post_file(client, "/api/imports", "w.xlsx", wide)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["summary"]["new"] == 2


# --- 3. a failed upload leaves nothing behind ------------------------------------------------
def shp_zip_bomb(client) -> bytes:
    """A zipped Shapefile with 3 MiB of zeros beside it, its headers saying 1 byte."""
    frame = changed_set(client).iloc[:3]
    return file_bytes(client, ("shp-zip-bomb",), lambda folder: padded(frame, folder))


def padded(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    path = as_shp_zip(frame, folder, 4326)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("padding.bin", b"\0" * (3 << 20))
    raw = bytearray(path.read_bytes())
    at = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"padding.bin"))
    raw[at + 24 : at + 28] = (1).to_bytes(4, "little")
    return saved(path, bytes(raw))


def test_failed_uploads_leave_no_folder_or_file(client, store, tmp_path, private_tmp, monkeypatch):
    monkeypatch.setenv("GEOAPP_MAX_UNZIPPED_MB", "1")
    before = (len(store.list_generations()), store.count_problems())
    drafts = [
        ("areas.gpkg", b"SQLite format 3\x00" + b"\0" * 4000, "areas.gpkg"),
        ("areas.zip", shp_zip_bomb(client), "1 MiB"),
        ("areas.zip", b"PK\x03\x04 not really a zip", "areas.zip"),
        ("areas.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feat', "areas"),
        ("areas.geojson", b"", "empty"),
    ]
    for name, data, words in drafts:
        r = upload_draft(client, name, data)
        assert 400 <= r.status_code < 500, (name, r.get_json())
        assert words in r.get_json()["message"], r.get_json()
        assert list(private_tmp.iterdir()) == [], name
    sheets = [
        ("sheet.xlsx", xlsx_bomb(60)),
        ("sheet.xlsx", b"PK\x03\x04 broken"),
        ("sheet.geojson", b'{"type": "FeatureCollection", "features": [1, 2'),
        ("sheet.csv", "编号,经度\nX,1\n".encode()),
    ]
    uploads = tmp_path / "uploads" / "imports"
    for name, data in sheets:
        r = post_file(client, "/api/imports", name, data)
        assert 400 <= r.status_code < 500, (name, r.get_json())
        assert not uploads.exists() or list(uploads.iterdir()) == [], name
        assert list(private_tmp.iterdir()) == [], name
    assert (len(store.list_generations()), store.count_problems()) == before
    # a sheet that previews is kept (under a random token) until it is confirmed
    _, x, y = inside_point(store)
    header = ",".join(SHEET_HEADER)
    ok = f"{header}\nK1,R,litter,d,1,2026-11-01 09:30,{x},{y}\n".encode()
    r = post_file(client, "/api/imports", "ok.csv", ok)
    assert r.status_code == 200
    assert [p.name for p in uploads.iterdir()] == [r.get_json()["token"]]
    assert client.post(r.get_json()["confirm"], json={}).status_code == 200
    assert list(uploads.iterdir()) == []


# --- 4. bad geometry becomes a draft whose validation names it as an error ------------------
def box_of(geom) -> tuple[float, float, float, float]:
    return geom.bounds


def bad_shapes(first) -> dict:
    """Broken versions of the area ``first`` (a shapely geometry in lon/lat)."""
    x0, y0, x1, y1 = box_of(first)
    mx = (x0 + x1) / 2
    return {
        "bow-tie": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]],
        "self-intersecting": [[[x0, y0], [x1, y0], [x0, y1], [x1, y1], [mx, y0 - 0.001], [x0, y0]]],
        "spike": [
            [[x0, y0], [x1, y0], [x1 + 0.01, y0 + 0.0001], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        ],
        "hole outside its shell": [
            [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]],
            [[x1 + 0.01, y0], [x1 + 0.02, y0], [x1 + 0.02, y1], [x1 + 0.01, y0]],
        ],
    }


def publish_refused(client, gid: int) -> dict:
    version = client.get(f"/api/drafts/{gid}").get_json()["generation"]["version"]
    r = client.post(
        f"/api/drafts/{gid}/publish",
        json={"version": version, "message": "m", "accept_warnings": True, "note": "n"},
    )
    assert 400 <= r.status_code < 500, r.get_json()
    assert "error" in r.get_json()["message"]
    return r.get_json()


def errors_of(client, gid: int) -> list[dict]:
    report = client.get(f"/api/drafts/{gid}/validation").get_json()
    return [f for f in report["findings"] if f["level"] == "error"]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_bad_shapes_become_a_draft_that_cannot_be_published(client, store, tmp_path, fmt):
    frame = changed_set(client)
    first = frame.loc[0, "area_id"]
    for case, rings in bad_shapes(frame.geometry.iloc[0]).items():
        bad = frame.copy()
        bad.loc[0, "geometry"] = shapely.Polygon(rings[0], rings[1:])
        assert not bad.geometry.iloc[0].is_valid, case
        if fmt == "geojson":
            name, data = "bad.geojson", bad.to_json().encode()
        else:  # the same shapes from a GeoPackage in CGCS2000 / 3-degree zone 39
            name = "bad.gpkg"
            data = file_bytes(client, ("bad", case), functools.partial(as_gpkg, bad, epsg=4547))
        r = upload_draft(client, name, data)
        assert r.status_code == 201, (case, r.get_json())
        gid = r.get_json()["generation"]["id"]
        found = errors_of(client, gid)
        # exactly the broken area, as an invalid geometry, with where it is
        assert [(f["code"], f["area_ids"]) for f in found] == [("invalid_geometry", [first])], (
            case,
            found,
        )
        assert first in found[0]["message"] and found[0]["geometry"] is not None
        publish_refused(client, gid)


@pytest.mark.parametrize("declared", [3857, 4547, 4549, 32650])
@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_degrees_declared_as_a_projected_crs_are_errors_on_every_area(
    client, store, tmp_path, declared, fmt
):
    frame = changed_set(client).iloc[:5].copy()  # lon/lat numbers, declared as metres
    wrong = frame.set_crs(declared, allow_override=True)
    if fmt == "geojson":
        doc = json.loads(frame.to_json())
        doc["crs"] = {"type": "name", "properties": {"name": f"EPSG:{declared}"}}
        name, data = "wrong.geojson", json.dumps(doc).encode()
    else:
        path = tmp_path / "wrong.gpkg"
        wrong.to_file(path, driver="GPKG", engine="pyogrio")
        name, data = path.name, path.read_bytes()
    r = upload_draft(client, name, data)
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["generation"]["id"]
    found = errors_of(client, gid)
    by_area = {f["area_ids"][0]: f for f in found if f["code"] == "implausible_crs"}
    assert sorted(by_area) == sorted(frame["area_id"]), found
    for aid, f in by_area.items():
        assert aid in f["message"] and "projected CRS" in f["message"]
        assert f["geometry"]["type"] == "Point"
    publish_refused(client, gid)


def test_metres_in_the_wrong_zone_are_far_from_the_county(client, store):
    frame = changed_set(client).iloc[:4]
    right = frame.to_crs(4547)  # CGCS2000 zone 39 numbers ...
    doc = json.loads(right.to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "EPSG:4549"}}  # ... declared zone 40
    r = upload_draft(client, "zone.geojson", json.dumps(doc).encode())
    assert r.status_code == 201, r.get_json()
    gid = r.get_json()["generation"]["id"]
    far = [f for f in errors_of(client, gid) if f["code"] == "far_away"]
    assert sorted(f["area_ids"][0] for f in far) == sorted(frame["area_id"])
    assert all("km from the county" in f["message"] for f in far)
    publish_refused(client, gid)


def open_ring_file(frame, index: int, multi: bool) -> tuple[dict, list]:
    """The set as GeoJSON with the outer ring of feature ``index + 1`` left open."""
    doc = json.loads(frame.to_json())
    geometry = doc["features"][index]["geometry"]
    if multi and geometry["type"] == "Polygon":
        geometry.update(type="MultiPolygon", coordinates=[geometry["coordinates"]])
    rings = geometry["coordinates"] if geometry["type"] == "Polygon" else geometry["coordinates"][0]
    del rings[0][-1]  # the last position no longer repeats the first
    return doc, rings[0]


@pytest.mark.parametrize("multi", [False, True])
def test_an_unclosed_ring_is_an_error_of_the_draft_until_the_area_is_edited(client, store, multi):
    frame = changed_set(client)
    area = frame.loc[2, "area_id"]
    doc, ring = open_ring_file(frame, 2, multi)
    r = upload_draft(client, "open.geojson", json.dumps(doc).encode())
    assert r.status_code == 201, r.get_json()
    state = r.get_json()
    gid = state["generation"]["id"]
    found = errors_of(client, gid)
    assert [(f["code"], f["area_ids"]) for f in found] == [("open_ring", [area])], found
    text = found[0]["message"]
    assert area in text and "feature 3" in text and "not closed" in text
    assert str(ring[0][0]) in text and str(ring[-1][0]) in text
    publish_refused(client, gid)
    # moving one of its vertices (a planner checking the closing edge) confirms the shape
    owners = {
        f["id"]: f["geometry"]
        for f in client.get(f"/api/drafts/{gid}").get_json()["areas"]["features"]
    }
    shape = shapely.geometry.shape(owners[area])
    polygon = shape.geoms[0] if shape.geom_type == "MultiPolygon" else shape
    src = list(polygon.exterior.coords[1])  # (moving a shared vertex moves it in both)
    dst = [src[0] + 0.00001, src[1]]
    r = client.post(
        f"/api/drafts/{gid}/edits",
        json={
            "version": state["generation"]["version"],
            "op": {"type": "move_vertex", "from": src, "to": dst},
        },
    )
    assert r.status_code == 200, r.get_json()
    assert [f for f in errors_of(client, gid) if f["code"] == "open_ring"] == []


def test_import_areas_names_an_unclosed_ring(client, store, demo_url, tmp_path):
    frame = changed_set(client)
    doc, _ = open_ring_file(frame, 4, False)
    path = tmp_path / "open.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    plan = boundary_import.plan_area_import(store, path)
    assert [(f.code, f.area_ids, f.where) for f in plan.errors] == [
        ("open_ring", [frame.loc[4, "area_id"]], "feature 5")
    ]
    result = CliRunner().invoke(main, ["--database-url", demo_url, "import-areas", str(path)])
    assert result.exit_code == 2 and "not closed" in result.output, result.output


def test_import_areas_names_degrees_declared_as_a_projected_crs(client, store, demo_url, tmp_path):
    """The command line's check (zoning.check_areas) names them too, even with no county yet."""
    frame = changed_set(client).iloc[:3]
    path = tmp_path / "wrong.gpkg"
    frame.set_crs(4547, allow_override=True).to_file(path, driver="GPKG", engine="pyogrio")
    plan = boundary_import.plan_area_import(store, path)
    wrong = [f for f in plan.errors if f.code == "implausible_crs"]
    assert sorted(f.area_ids[0] for f in wrong) == sorted(frame["area_id"])
    assert all(f.where.startswith("feature ") for f in wrong)
    assert {f.code for f in check_areas(plan.areas)} == {"implausible_crs"}
    result = CliRunner().invoke(main, ["--database-url", demo_url, "import-areas", str(path)])
    assert result.exit_code == 2 and "projected CRS" in result.output, result.output


@pytest.mark.parametrize("props", [True, 3, "x", [1]])
def test_properties_that_are_not_an_object_are_named(client, store, props):
    doc = json.loads(changed_set(client).to_json())
    doc["features"][1]["properties"] = props
    r = upload_draft(client, "odd.geojson", json.dumps(doc).encode())
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["details"] == ["feature 2: properties must be a JSON object"]


def test_a_normal_xlsx_imports_from_the_command_line(client, store, demo_url, tmp_path):
    _, x, y = inside_point(store)
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(workbook([["C1", "R", "litter", "d", 1, "2026-11-01 09:30", x, y]]))
    before = store.count_problems()
    args = ["--database-url", demo_url, "import-problems", str(path), "--commit"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "imported 1 problem(s)" in result.output
    assert store.count_problems() == before + 1
