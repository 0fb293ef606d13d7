"""What a map page makes the browser load: Leaflet as a file, its fullscreen control, the
stylesheets and the page's own scripts inline (no request of their own), each script as it
is in static/js with ``</`` written ``<\\/`` so that no text of theirs can close the script
element."""

import re
import uuid
from pathlib import Path

import pytest
from flask import Flask

from geoapp.web.views.common import inline_script

STATIC = Path(__file__).resolve().parents[2] / "static"
PAGE_SCRIPTS = (
    "js/geoapp-canvas.js",
    "js/geoapp-labels.js",
    "js/geoapp-clusters.js",
    "js/http.js",
    "js/geoapp-map.js",
)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def map_page_paths(store) -> list[str]:
    district = store.list_districts()[0]["district_id"]
    unit = next(d["lead_unit_id"] for d in store.list_districts() if d.get("lead_unit_id"))
    return ["/", f"/districts/{district}", f"/units/{unit}"]


def scripts_of(html: str) -> tuple[list[str], list[str]]:
    """(the src of every script file, the text of every inline script) of a page"""
    files, inline = [], []
    for attributes, body in SCRIPT.findall(html):
        src = re.search(r'\bsrc="([^"]+)"', attributes)
        (files if src else inline).append(src.group(1) if src else body)
    return files, inline


def test_map_pages_load_only_vendor_script_files(reader, read_store):
    for path in map_page_paths(read_store):
        answer = reader.get(path)
        assert answer.status_code == 200, path
        files, inline = scripts_of(answer.get_data(as_text=True))
        # Leaflet and the folium plugins the map uses; none of the page's own
        assert files and all(src.startswith("/static/vendor/") for src in files), (path, files)
        body = "\n".join(inline)
        for name in PAGE_SCRIPTS:
            text = (STATIC / name).read_text(encoding="utf-8")
            assert text.replace("</", "<\\/") in body, (path, name)


def test_the_worker_runs_the_clusters_file_the_page_inlines(reader):
    html = reader.get("/").get_data(as_text=True)
    assert '"clusters_worker": "/static/js/geoapp-clusters.js"' in html
    answer = reader.get("/static/js/geoapp-clusters.js")
    assert answer.status_code == 200
    assert "scope.GeoappClusters" in answer.get_data(as_text=True)
    answer.close()


@pytest.fixture
def scratch_static(tmp_path):
    """An app whose static folder is a scratch folder, and a unique file name maker."""
    app = Flask(__name__, static_folder=str(tmp_path))

    def write(text: str) -> str:
        name = f"inline-{uuid.uuid4().hex}.js"
        (tmp_path / name).write_text(text, encoding="utf-8")
        return name

    with app.app_context():
        yield write


@pytest.mark.parametrize(
    "text",
    [
        'var s = "</script>";',
        "var s = '</SCRIPT >'; // </script",
        "/* </style> </ */ var r = /<\\/b>/;",
    ],
)
def test_inlined_text_never_closes_the_script(scratch_static, text):
    name = scratch_static(text)
    out = str(inline_script(name))
    assert "</" not in out
    assert out == text.replace("</", "<\\/")


def test_inlined_files_keep_their_order(scratch_static):
    first, second = scratch_static("var a = 1;"), scratch_static("var b = a + 1;")
    assert str(inline_script(first, second)) == "var a = 1;\nvar b = a + 1;"


@pytest.mark.parametrize("text", ["// <!-- old comment", "var s = '<SCRIPT>';"])
def test_a_file_that_would_change_where_the_script_ends_is_refused(scratch_static, text):
    name = scratch_static(text)
    with pytest.raises(ValueError, match="cannot be inlined"):
        inline_script(name)


def test_map_pages_wait_for_no_file_but_leaflet(reader, read_store):
    """A cold map page asks for Leaflet's script and nothing else before it can draw: the
    fullscreen control's script and every stylesheet (Leaflet's, the control's, geoapp's)
    are in the page, and the images they name still load from their own folders."""
    for path in map_page_paths(read_store):
        html = reader.get(path).get_data(as_text=True)
        files, inline = scripts_of(html)
        assert files == ["/static/vendor/leaflet/dist/leaflet.js"], (path, files)
        assert not re.findall(r'<link\b[^>]*rel="stylesheet"', html), path
        fullscreen = (STATIC / "vendor/leaflet.fullscreen/Control.FullScreen.js").read_text()
        assert fullscreen.replace("</", "<\\/") in "\n".join(inline), path
        styles = "\n".join(re.findall(r"<style>(.*?)</style>", html, re.S))
        for sheet in ("vendor/leaflet/dist/leaflet.css", "css/geoapp.css"):
            first_rule = (STATIC / sheet).read_text().split("}")[0].split("{")[0].strip()
            assert first_rule in styles, (path, sheet)
        urls = set(re.findall(r"url\(['\"]?(/static/[^'\")]+)", styles))
        assert "/static/vendor/leaflet.fullscreen/icon-fullscreen.svg" in urls, path
        for url in urls:
            answer = reader.get(url)
            assert answer.status_code == 200, (path, url)
            answer.close()
