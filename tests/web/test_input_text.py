"""Text that cannot be stored (a NUL character, a lone surrogate) and JSON nested too deep
are refused at the edge with a 400 naming the field, on SQLite and PostGIS, through the JSON
API, query arguments, URL parts, form posts and imports (CSV, XLSX, GeoJSON); nothing is
stored.  (On PostgreSQL a NUL used to reach the database and answer 503, which clients
retry for ever.)"""

from __future__ import annotations

import io
import json

import pytest
from intake_helpers import inside_point, snapshot

from geoapp.core.textcheck import MAX_DEPTH, NUL, SURROGATE, TOO_DEEP, first_fault, text_fault
from geoapp.store import InvalidValue

#: Texts no backend can store, as they arrive in JSON (escaped) and decoded.
BAD_JSON_TEXTS = {
    "nul": ('"a\\u0000b"', "U+0000"),
    "nul alone": ('"\\u0000"', "U+0000"),
    "lone high surrogate": ('"\\ud800"', "U+D800"),
    "lone low surrogate": ('"x\\udfff"', "U+D800"),
    "reversed pair": ('"\\ude00\\ud83d"', "U+D800"),
}


@pytest.fixture(scope="module")
def shared_app_config(tmp_path_factory) -> dict:
    """Uploads (imports) under the module's own folder."""
    return {"UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads"))}


@pytest.fixture
def app(shared_app):
    """The demo app, one per module and backend (tests/web/conftest.py): every write these
    tests send is refused, and each test checks that its own requests changed nothing."""
    return shared_app


@pytest.fixture
def store(app):
    return app.extensions["geoapp.store"]


def refused(response, *words):
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert body["error"] == "bad_input", body
    for word in words:
        assert word in body["message"], body
    return body


def test_text_fault_and_first_fault_name_the_class():
    assert text_fault("整改 ok 😀") is None
    assert text_fault("a\x00") == NUL
    assert text_fault("\ud800") == SURROGATE and text_fault("a\udfffb") == SURROGATE
    value = {"features": [{"properties": {"name": "ok"}}, {"properties": {"name": "a\x00"}}]}
    assert first_fault(value) == ("features[1].properties.name", NUL)
    assert first_fault({"k\ud800": 1}) == ("k\ud800", SURROGATE)
    deep: list = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    assert first_fault(deep) == ("", TOO_DEEP)
    assert first_fault([[[[1.0, 2.0]]]]) is None


@pytest.mark.parametrize("case", sorted(BAD_JSON_TEXTS))
@pytest.mark.parametrize("field", ["description", "round", "category", "reporter"])
def test_json_text_that_cannot_be_stored_is_a_400_naming_the_field(client, store, case, field):
    escaped, word = BAD_JSON_TEXTS[case]
    _, lon, lat = inside_point(store)
    fields = {"lon": lon, "lat": lat, "category": "litter", "round": "R", "description": "x"}
    body = json.dumps(fields)[:-1] + f', "{field}": {escaped}}}'
    before = snapshot(store)
    r = client.post("/api/problems", data=body, content_type="application/json")
    refused(r, field, word)
    assert snapshot(store) == before


def test_bad_text_in_every_json_write(client, store):
    """The check is in the JSON parser, so every route reading a body gets it."""
    bad = '"a\\u0000"'
    before = snapshot(store)
    pk = 1
    for method, path, field, extra in [
        ("patch", f"/api/problems/{pk}", "description", ""),
        ("post", f"/api/problems/{pk}/transitions", "note", ', "to": "assigned"'),
        ("put", f"/api/problems/{pk}/duplicate", "note", ', "duplicate_of": 2'),
        ("put", "/api/categories/litter", "deadline", ""),
        ("post", "/api/imports/" + "a" * 32, "skip_bad", ""),
        ("post", "/api/problems", "k\\ud800", ""),
    ]:
        body = f'{{"{field}": {bad}{extra}}}'
        r = getattr(client, method)(path, data=body, content_type="application/json")
        refused(r)
    assert snapshot(store) == before


@pytest.mark.parametrize(("opener", "middle", "closer"), [("[", "", "]"), ('{"a":', "1", "}")])
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 50_000])
def test_deeply_nested_json_is_a_400(client, store, opener, middle, closer, depth):
    """Well-formed JSON nested deeper than the limit (and far deeper than Python's parser
    can go) is refused; so is the unclosed kind (as not JSON)."""
    before = snapshot(store)
    body = opener * depth + middle + closer * depth
    r = client.post("/api/problems", data=body, content_type="application/json")
    refused(r, str(MAX_DEPTH))
    r = client.post("/api/problems", data=opener * depth, content_type="application/json")
    refused(r)
    assert snapshot(store) == before


def test_nul_in_query_arguments_and_url_parts_is_a_400(client, store):
    before = snapshot(store)
    for url in [
        "/api/problems?round=a%00b",
        "/api/problems?a%00=1",
        "/api/ledger?unit=U01%00",
        "/api/categories/lit%00ter",
        "/ledger?round=%00",
    ]:
        method = client.put if url.startswith("/api/categories") else client.get
        kwargs = {"json": {"deadline": "2d"}} if method == client.put else {}
        r = method(url, **kwargs)
        assert r.status_code == 400, (url, r.status_code, r.get_data(as_text=True)[:200])
        if url.startswith("/api/"):
            assert r.get_json()["error"] == "bad_input"
    assert snapshot(store) == before


def test_nul_in_a_form_post_is_a_400(anon_client, app):
    store = app.extensions["geoapp.store"]
    before = snapshot(store)
    r = anon_client.post(
        "/login", data={"name": "admin\x00", "password": "x"}, headers={"Accept": "text/html"}
    )
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert snapshot(store) == before


def _problem_sheet(store, description: str, kind: str) -> tuple[bytes, str]:
    _, lon, lat = inside_point(store)
    header = ["编号", "检查轮次", "问题类别", "问题描述", "扣分", "上报时间", "经度", "纬度"]
    good = ["T1", "R", "垃圾桶满溢", "好的", "1", "2026-11-01 09:30", lon, lat]
    bad = ["T2", "R", "垃圾桶满溢", description, "1", "2026-11-01 09:30", lon, lat]
    if kind == "csv":
        lines = [",".join(str(v) for v in row) for row in (header, good, bad)]
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"), "sheet.csv"
    if kind == "geojson":
        feats = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": dict(zip(header[:6], row[:6], strict=True)),
            }
            for row in (good, bad)
        ]
        text = json.dumps({"type": "FeatureCollection", "features": feats})
        return text.encode(), "sheet.geojson"
    raise AssertionError(kind)  # (an XLSX cannot hold a NUL: its XML has no such character)


@pytest.mark.parametrize(
    ("kind", "description"),
    [("csv", "a\x00b"), ("geojson", "a\x00b"), ("geojson", "x\ud800")],
)
def test_imports_make_such_rows_bad_rows_and_store_nothing(client, store, kind, description):
    data, name = _problem_sheet(store, description, kind)
    before = snapshot(store)
    r = client.post("/api/imports", data={"file": (io.BytesIO(data), name)})
    if r.status_code == 400:  # the reader refused the whole file, naming the problem
        assert r.get_json()["error"] == "bad_input"
        assert snapshot(store) == before
        return
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    preview = r.get_json()
    assert preview["summary"]["bad_rows"] == 1 and preview["summary"]["new"] == 1, preview
    assert "description" in preview["bad"][0]["reason"]
    confirm = client.post(preview["confirm"], json={"skip_bad": False})
    assert confirm.status_code == 400
    assert snapshot(store) == before


def test_the_store_refuses_such_text_on_both_backends(store):
    """For writers that do not come through the web (CLI, scripts)."""
    before = snapshot(store)
    for text in ("a\x00b", "\ud800"):
        with pytest.raises(InvalidValue, match="description"), store.transaction() as tx:
            tx.add_problems(
                [
                    {
                        "round": "R",
                        "category": "litter",
                        "description": text,
                        "lon": 114.9,
                        "lat": 28.2,
                    }
                ],
                actor="test",
            )
    assert snapshot(store) == before
