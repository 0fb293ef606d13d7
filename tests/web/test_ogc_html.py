"""OGC API – Features as HTML (/conf/html): every resource as a page for ``f=html`` or a
browser's ``Accept``, translated, linking the other pages, with no outside request; JSON
answers link their page as ``alternate``; cached answers never cross formats."""

from __future__ import annotations

import re

import pytest

from geoapp.services import ogc
from geoapp.web.assets import external_urls

HTML_CLASS = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _paths(store) -> list[str]:
    pk = store.problems(limit=1)[0]["id"]
    area = store.areas(store.current_generation()["id"])["area_id"].iloc[0]
    out = ["/ogc/", "/ogc/conformance", "/ogc/collections"]
    for cid in ogc.COLLECTIONS:
        out += [f"/ogc/collections/{cid}", f"/ogc/collections/{cid}/items?limit=5"]
    return out + [f"/ogc/collections/problems/items/{pk}", f"/ogc/collections/areas/items/{area}"]


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


@pytest.mark.parametrize("lang, words", [("zh", "要素集合"), ("en", "Feature collections")])
def test_req_html_definition_and_content(client, lang, words):
    """/req/html/definition, /req/html/content: each resource as text/html, for f=html and
    for a browser's Accept alike, in the reader's language, links to the other pages kept
    in HTML, and no script, style or image from outside."""
    store = client.application.extensions["geoapp.store"]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    assert HTML_CLASS in client.get("/ogc/conformance").get_json()["conformsTo"]
    for path in _paths(store):
        sep = "&" if "?" in path else "?"
        by_f = client.get(f"{path}{sep}f=html")
        by_accept = client.get(path, headers={"Accept": BROWSER})
        for r in (by_f, by_accept):
            assert r.status_code == 200 and r.mimetype == "text/html", path
            assert "Accept" in r.headers["Vary"]
        html = by_f.get_data(as_text=True)
        assert words in html, path
        assert external_urls(html) == [], path
        ogc_links = [h for h in _hrefs(html) if "/ogc/" in h and not h.endswith("/ogc/api")]
        assert ogc_links, path
        for href in ogc_links:  # page links stay pages, the JSON link says so
            assert "f=html" in href or "f=json" in href, (path, href)
        json_doc = client.get(path).get_json()
        alternate = [x for x in json_doc["links"] if x["rel"] == "alternate"]
        assert alternate and alternate[0]["type"] == "text/html", path
        assert "f=html" in alternate[0]["href"]


def test_items_page_pages_and_maps(client):
    """The items page: the count, a table row per feature linking its page, prev/next
    pages in HTML keeping the query, and the features' geometries for the map."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    r = client.get("/ogc/collections/problems/items?f=html&limit=3&offset=3&status=assigned")
    html = r.get_data(as_text=True)
    doc = client.get("/ogc/collections/problems/items?limit=3&offset=3&status=assigned").get_json()
    assert f"3 of {doc['numberMatched']} features" in html
    for f in doc["features"]:
        assert f"/ogc/collections/problems/items/{f['id']}?f=html" in html
    pages = dict(re.findall(r'rel="(prev|next)" href="([^"]+)"', html))
    assert set(pages) == {"prev", "next"}
    for href in pages.values():
        href = href.replace("&amp;", "&")
        assert "f=html" in href and "status=assigned" in href and "limit=3" in href
    assert 'id="ogc-map"' in html and 'id="ogc-features"' in html
    data = re.search(r'<script type="application/json" id="ogc-features">(.*?)</script>', html)
    assert data and data.group(1).count('"Point"') == 3


def test_values_are_escaped(client):
    store = client.application.extensions["geoapp.store"]
    pk = store.problems(limit=1)[0]["id"]
    store.update_problem(pk, {"description": "</script><script>alert(1)</script>"}, "test")
    for url in (f"/ogc/collections/problems/items/{pk}?f=html",
                f"/ogc/collections/problems/items?f=html&limit=1&offset={pk - 1}"):  # fmt: skip
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html, url
    assert "&lt;script&gt;alert(1)" in client.get(
        f"/ogc/collections/problems/items/{pk}?f=html"
    ).get_data(as_text=True)


def test_no_cached_answer_crosses_formats(client):
    """The format content negotiation chose is part of the key: JSON then HTML of one URL,
    HTML then JSON, and a JSON validator sent by a browser, each get their own format."""
    for url in ("/ogc/collections/areas/items?limit=2", "/ogc/collections/units/items/U01"):
        first = client.get(url)
        assert first.mimetype == "application/geo+json"
        page = client.get(url, headers={"Accept": BROWSER, "If-None-Match": first.headers["ETag"]})
        assert page.status_code == 200 and page.mimetype == "text/html", url
        again = client.get(url)
        assert again.mimetype == "application/geo+json" and again.get_json()["type"]
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_a_bad_format_is_a_400(client):
    r = client.get("/ogc/collections?f=xml")
    assert r.status_code == 400 and r.get_json()["error"] == "bad_parameter"
