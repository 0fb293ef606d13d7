"""Uploading a boundary set from the editor's start page in a real headless Chromium:
a GeoPackage and a zipped Shapefile in CGCS2000 / 3-degree zone 39 (EPSG:4547) become
drafts equal to what ``geoapp import-areas`` reads; a broken file shows which feature is
wrong."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pytest
import shapely

from browser import test_editor_page
from geoapp.services import boundary_import

pytestmark = pytest.mark.browser


# the app served, and ``page`` signed in as the demo planner
served = test_editor_page.served


def boundary_files(store, folder):
    """The current areas with the first one handed to another unit, as a GPKG and as a
    zipped Shapefile, both in EPSG:4547."""
    frame = store.areas(store.current_generation()["id"])
    frame = frame[["area_id", "name", "kind", "district_id", "responsible_unit_id", "geometry"]]
    frame = frame.sort_values("area_id").reset_index(drop=True)
    frame.loc[0, "responsible_unit_id"] = frame.loc[1, "responsible_unit_id"]
    projected = gpd.GeoDataFrame(frame, geometry="geometry", crs=4326).to_crs(4547)
    gpkg = folder / "片区边界.gpkg"
    projected.to_file(gpkg, driver="GPKG", layer="areas", engine="pyogrio")
    shp = folder / "shp"
    shp.mkdir()
    short = projected.rename(columns={"responsible_unit_id": "unit_id", "district_id": "district"})
    short.to_file(shp / "areas.shp", engine="pyogrio", encoding="utf-8")
    zipped = folder / "areas-4547.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(shp.iterdir()):
            zf.write(f, f.name)
    return gpkg, zipped


def upload_on_page(page, base, path):
    page.goto(base + "/editor")
    page.set_input_files("#upload-form input[type=file]", str(path))
    page.click("#upload-form button[type=submit]")


def test_gpkg_and_zipped_shapefile_upload_from_the_page(served, page, tmp_path):
    base, store = served
    current = store.areas(1).sort_values("area_id").reset_index(drop=True)
    for path in boundary_files(store, tmp_path):
        upload_on_page(page, base, path)
        page.wait_for_url("**/editor?draft=*")
        gid = int(page.url.rsplit("=", 1)[1])
        plan = boundary_import.plan_area_import(store, path)  # what `geoapp import-areas` reads
        draft = store.areas(gid).sort_values("area_id").reset_index(drop=True)
        want = plan.areas.sort_values("area_id").reset_index(drop=True)
        assert draft["area_id"].tolist() == want["area_id"].tolist()
        cols = ["district_id", "responsible_unit_id", "name"]
        assert draft[cols].astype(str).values.tolist() == want[cols].astype(str).values.tolist()
        for a, b in zip(draft.geometry, want.geometry, strict=True):
            assert shapely.equals_exact(a.normalize(), b.normalize(), 1e-9)
        # the uploaded change is there
        assert draft.loc[0, "responsible_unit_id"] != current.loc[0, "responsible_unit_id"]


@pytest.mark.allow_console_errors  # the refused upload is a 400 the page shows
def test_a_broken_upload_shows_which_feature_is_wrong(served, page, tmp_path):
    base, store = served
    doc = json.loads(store.areas(1).to_json())
    doc["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [[[1, 2]]]}
    path = tmp_path / "broken.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    generations = len(store.list_generations())
    upload_on_page(page, base, path)
    status = page.locator("#editor-status")
    status.filter(has_text="第 2 个要素").wait_for()  # the page speaks Chinese
    assert "几何缺失或格式有误" in status.text_content()  # missing or malformed geometry
    assert page.url.endswith("/editor")
    assert len(store.list_generations()) == generations
