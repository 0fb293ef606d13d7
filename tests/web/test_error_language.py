"""Refusals reach the user in the reader's language: Chinese by default, English with
?lang=en or Accept-Language: en; for a sample of endpoints of each domain-error class, as
JSON (message and details) and as an error page."""

import io
import re

import pytest
from webclient import make_app, sign_in

AREAS_WITH_A_BAD_FEATURE = (
    b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
    b'"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}, 7]}'
)
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def zh_app(demo_sqlite_url):
    app = make_app(demo_sqlite_url)
    yield app
    app.extensions["geoapp.store"].close()


def _pk(client) -> int:
    return client.get("/api/problems?limit=1").get_json()["features"][0]["id"]


# (name, role, method, url (with {pk}), keyword arguments (or a function making them, for
# files), status, error code)
REFUSALS = [
    ("BadParameter", "admin", "get", "/api/problems?limit=abc", {}, 400, "bad_parameter"),
    ("BadParameter", "admin", "get", "/api/ledger?group=nonsense", {}, 400, "bad_parameter"),
    ("CRSError", "admin", "get", "/api/lookup?lat=30", {}, 400, "bad_crs"),
    ("CRSError", "admin", "get", "/api/lookup?lon=1&lat=2&crs=EPSG:1", {}, 400, "bad_crs"),
    ("NotFound", "admin", "get", "/api/problems/99999999", {}, 404, "not_found"),
    ("ReportError", "admin", "post", "/api/problems", {"json": [1]}, 400, "bad_input"),
    (
        "ReportError",
        "admin",
        "post",
        "/api/problems",
        {"json": {"lon": 500, "lat": 30, "category": "x", "round": "1"}},
        400,
        "bad_input",
    ),
    (
        "TransitionRefused",
        "admin",
        "post",
        "/api/problems/{pk}/transitions",
        {"json": {"to": "nonsense"}},
        409,
        "transition_refused",
    ),
    ("Conflict", "admin", "delete", "/api/problems/{pk}/duplicate", {}, 409, "refused"),
    ("ServiceError", "admin", "get", "/api/generations/compare?a=1", {}, 400, "refused"),
    (
        "UnsupportedType",
        "admin",
        "post",
        "/api/problems/{pk}/photos",
        lambda: {"data": {"photo": (io.BytesIO(b"not an image at all"), "a.jpg")}},
        415,
        "refused",
    ),
    (
        "InputError",
        "admin",
        "post",
        "/api/imports",
        lambda: {"data": {"file": (io.BytesIO(b"name,note\na,b\n"), "a.csv")}},
        400,
        "bad_input",
    ),
    (
        "InputError+details",
        "admin",
        "post",
        "/api/drafts/upload",
        lambda: {"data": {"file": (io.BytesIO(AREAS_WITH_A_BAD_FEATURE), "areas.geojson")}},
        400,
        "bad_input",
    ),
]


@pytest.mark.parametrize("lang", ["default", "query", "header"])
@pytest.mark.parametrize(
    "name, role, method, url, kwargs, status, code", REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_a_refusal_is_in_the_readers_language(
    zh_app, lang, name, role, method, url, kwargs, status, code
):
    client = sign_in(zh_app.test_client(), role)
    url = url.format(pk=_pk(client))
    headers = {}
    if lang == "query":
        url += ("&" if "?" in url else "?") + "lang=en"
    elif lang == "header":
        headers["Accept-Language"] = "en"
    kwargs = kwargs() if callable(kwargs) else kwargs
    r = getattr(client, method)(url, headers=headers, **kwargs)
    assert (r.status_code, r.get_json()["error"]) == (status, code), r.get_json()
    body = r.get_json()
    text = " ".join([body["message"], *body.get("details", [])])
    if lang == "default":
        assert CJK.search(body["message"]), body
        # what is left in Latin letters are the values (names, ids, codes), not English prose
        prose = r"(?<![\w.])(the|is|not|and|of|must|cannot|unknown|give|needs|found)(?![\w.])"
        assert not re.search(prose, text), body
    else:
        # (a message may quote Chinese column names, as the importer accepts them)
        assert not CJK.search(body["message"].replace("经度/纬度", "")), body
        assert re.search(r"[a-z]+ [a-z]+", body["message"]), body


def test_the_error_page_is_in_the_readers_language(zh_app):
    client = sign_in(zh_app.test_client(), "admin")
    page = client.get("/editor?draft=999999")
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "未知的边界版本 999999" in text and "unknown generation" not in text
    english = client.get("/editor?draft=999999&lang=en").get_data(as_text=True)
    assert "unknown generation 999999" in english


@pytest.mark.parametrize(
    "method, url, status",
    [("get", "/api/no-such-thing", 404), ("get", "/no-such-page", 404), ("put", "/api/units", 405)],
)
def test_http_errors_without_a_message_of_ours_are_in_the_readers_language(
    zh_app, method, url, status
):
    client = sign_in(zh_app.test_client(), "admin")
    zh = getattr(client, method)(url)
    en = getattr(client, method)(url, headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == status
    zh_text, en_text = zh.get_data(as_text=True), en.get_data(as_text=True)
    assert CJK.search(zh_text.split("<title>")[-1] if "<title>" in zh_text else zh_text)
    assert "The requested URL" not in zh_text and "The method is not allowed" not in zh_text
    assert "address" in en_text


def test_a_refused_transition_names_the_statuses_in_the_readers_words(zh_app):
    client = sign_in(zh_app.test_client(), "admin")
    found = client.get("/api/problems?status=reported&limit=1").get_json()["features"]
    pk = found[0]["id"]
    zh = client.post(f"/api/problems/{pk}/transitions", json={"to": "verified"}).get_json()
    assert zh["message"].startswith("状态为 已上报 的问题点不能变为 已核查销号"), zh
    assert "已交办" in zh["message"] and "verified" not in zh["message"]
    en = client.post(f"/api/problems/{pk}/transitions?lang=en", json={"to": "verified"}).get_json()
    assert en["message"].startswith("a problem that is reported cannot become verified"), en
