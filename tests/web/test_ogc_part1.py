"""OGC API – Features Part 1 (OGC 17-069r4) to the letter: one test per requirement the
server claims beyond tests/web/test_ogc.py, named by its id, and the answers around them
(extents, timeStamp, refusals, media types, links behind a proxy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import shapely
from webclient import make_app, sign_in

from geoapp.services import ogc
from geoapp.services.accounts import create_token

FIXED = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
COLLECTIONS = tuple(ogc.COLLECTIONS)
#: Parameters of other parts of the standard, and made-up ones.
FOREIGN = ("foo", "sortby", "filter", "filter-lang", "crs", "properties", "display_crs", "skip")


@pytest.fixture
def app(shared_app):
    """One app per module and backend (tests/web/conftest.py): these tests only read.  The
    clients (``client``, ``client_as``, ``anon_client``) are of this app."""
    return shared_app


def _operations(store) -> list[tuple[str, set[str]]]:
    """Every OGC operation's path with the query parameters it accepts."""
    gen = store.current_generation()["id"]
    area = store.areas(gen)["area_id"].iloc[0]
    pk = store.problems(limit=1)[0]["id"]
    ids = {"districts": store.list_districts()[0]["district_id"], "areas": area}
    ids |= {"units": store.list_units()[0]["unit_id"], "problems": pk}
    out = [(p, set()) for p in ("/ogc/", "/ogc/conformance", "/ogc/collections", "/ogc/api")]
    for cid in COLLECTIONS:
        out.append((f"/ogc/collections/{cid}", set()))
        out.append((f"/ogc/collections/{cid}/items", ogc.ITEMS_PARAMS[cid]))
        out.append((f"/ogc/collections/{cid}/items/{ids[cid]}", ogc.ITEM_PARAMS[cid]))
    return out


def test_req_core_query_param_unknown(client):
    """/req/core/query-param-unknown: a parameter not in the API definition answers 400 on
    every operation, naming it; those of parts not (yet) supported too."""
    store = client.application.extensions["geoapp.store"]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for path, allowed in _operations(store):
        assert client.get(path).status_code == 200, path
        assert client.get(f"{path}?f=json&lang=en").status_code == 200, path
        for name in FOREIGN:
            if name in allowed:
                continue  # an extension supports it on this collection
            r = client.get(f"{path}?{name}=x")
            assert r.status_code == 400, (path, name, r.status_code)
            body = r.get_json()
            assert body["error"] == "bad_parameter" and repr(name) in body["message"], body
    # datetime only where there is time; the problem filters only on problems
    assert client.get("/ogc/collections/areas/items?datetime=2026-01-01").status_code == 400
    assert client.get("/ogc/collections/units/items?status=assigned").status_code == 400
    assert client.get("/ogc/collections/problems/items?status=assigned").status_code == 200


def _hand(store, start=None, end=None) -> list[int]:
    """Problem ids with start <= reported_at < end, counted in Python from the store."""
    return sorted(
        p["id"]
        for p in store.problems()
        if (start is None or p["reported_at"] >= start) and (end is None or p["reported_at"] < end)
    )


def _all_ids(client, query: str) -> tuple[list[int], dict]:
    r = client.get(f"/ogc/collections/problems/items?limit=10000&{query}")
    assert r.status_code == 200, (query, r.get_data(as_text=True)[:300])
    doc = r.get_json()
    assert doc["numberMatched"] == doc["numberReturned"]
    return sorted(f["id"] for f in doc["features"]), doc


def test_req_core_fc_time_definition(client):
    """/req/core/fc-time-definition and /req/core/fc-time-response on problems'
    ``reported_at``: instants (date-time, any offset, a whole date), closed and half-open
    intervals (``..`` or empty), each equal to a count made by hand in Python; anything
    else is 400 naming ``datetime``."""
    store = client.application.extensions["geoapp.store"]
    times = sorted({p["reported_at"] for p in store.problems()})
    t = times[len(times) // 2]
    a, b = times[len(times) // 4], times[3 * len(times) // 4]
    z = lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    second = timedelta(seconds=1)
    beijing = t.astimezone(UTC) + timedelta(hours=8)
    day = t.astimezone(UTC).date()
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    cases = {
        z(t): (t, t + second),
        beijing.strftime("%Y-%m-%dT%H:%M:%S+08:00"): (t, t + second),
        day.isoformat(): (day_start, day_start + timedelta(days=1)),
        f"{z(a)}/{z(b)}": (a, b + second),  # both ends included
        f"../{z(b)}": (None, b + second),
        f"{z(a)}/..": (a, None),
        f"/{z(b)}": (None, b + second),
        f"{z(a)}/": (a, None),
        f"{day.isoformat()}/{day.isoformat()}": (day_start, day_start + timedelta(days=1)),
    }
    for value, (start, end) in cases.items():
        got, _ = _all_ids(client, f"datetime={value.replace('+', '%2B')}")
        expected = _hand(store, start, end)
        assert got == expected, value
        assert 0 < len(expected) < store.count_problems(), value
    # with the problem filters: both apply
    got, _ = _all_ids(client, f"datetime={z(a)}/..&status=assigned")
    assert got == sorted(set(_hand(store, a)) & {p["id"] for p in store.problems()
                                                if p["status"] == "assigned"})  # fmt: skip
    # the next page keeps the interval
    page = client.get(f"/ogc/collections/problems/items?limit=2&datetime={z(a)}/..").get_json()
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "datetime=" in nxt
    rest = client.get(nxt.replace("http://localhost", "")).get_json()
    assert rest["numberMatched"] == len(_hand(store, a))
    for bad in (
        "not-a-date",
        "2026-13-01",
        "2026-01-01T25:00:00Z",
        "2026-01-01T08:00:00",  # no offset
        "2026-02-01/2026-01-01",  # ends before it starts
        "..",
        "../..",
        "2026-01-01/2026-01-02/2026-01-03",
        "0000-01-01",
    ):
        r = client.get(f"/ogc/collections/problems/items?datetime={bad}")
        assert r.status_code == 400, bad
        assert r.get_json()["error"] == "bad_parameter" and "datetime" in r.get_json()["message"]


def test_collection_extents_contain_every_feature(client):
    """Each collection's spatial extent holds all its features (problems outside the county
    too), and the problems' temporal extent every ``reported_at``."""
    store = client.application.extensions["geoapp.store"]
    described = {c["id"]: c for c in client.get("/ogc/collections").get_json()["collections"]}
    for cid in COLLECTIONS:
        one = client.get(f"/ogc/collections/{cid}").get_json()
        assert one["extent"] == described[cid]["extent"]
        minx, miny, maxx, maxy = described[cid]["extent"]["spatial"]["bbox"][0]
        box = shapely.box(minx, miny, maxx, maxy)
        features = client.get(f"/ogc/collections/{cid}/items?limit=10000").get_json()["features"]
        geoms = [shapely.geometry.shape(f["geometry"]) for f in features if f["geometry"]]
        assert geoms and all(box.covers(g) for g in geoms), cid
        bounds = shapely.total_bounds(geoms)  # and no larger than they need
        assert [minx, miny, maxx, maxy] == pytest.approx(list(bounds), abs=1e-7), cid
    areas = shapely.box(*described["areas"]["extent"]["spatial"]["bbox"][0])
    outside = [
        p for p in store.problems() if p["lon"] is not None and not areas.covers(shapely.Point(p["lon"], p["lat"]))
    ]  # fmt: skip
    assert outside  # the demo county has problems outside the county's box
    first, last = described["problems"]["extent"]["temporal"]["interval"][0]
    times = [p["reported_at"].astimezone(UTC) for p in store.problems()]
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    assert parse(first) == min(times).replace(microsecond=0)
    assert parse(last) == max(times).replace(microsecond=0)


def test_req_core_fc_timestamp_is_the_time_of_the_answer(demo_url):
    """``timeStamp`` is when each answer is made, also when nothing changed in between (a
    conditional request with the first answer's tag still gets 304)."""
    clock = [FIXED]
    app = make_app(demo_url, CLOCK=lambda: clock[0])
    client = sign_in(app.test_client(), "coordinator")
    url = "/ogc/collections/areas/items?limit=3"
    first = client.get(url)
    assert first.get_json()["timeStamp"] == "2026-01-05T03:00:00Z"
    clock[0] = FIXED + timedelta(minutes=5)
    second = client.get(url)
    assert second.get_json()["timeStamp"] == "2026-01-05T03:05:00Z"
    assert second.get_json()["features"] == first.get_json()["features"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    app.extensions["geoapp.store"].close()


@pytest.mark.parametrize("accept", [None, "*/*", "application/geo+json", "application/json",
                                    "application/geo+json, application/json;q=0.9"])  # fmt: skip
def test_req_core_anonymous_gis_clients_get_401_json(anon_client, accept):
    """Without credentials every OGC path answers 401 JSON with a challenge to any client
    that does not ask for HTML (OWSLib, GDAL, curl), never the sign-in page."""
    headers = {"Accept": accept} if accept else {}
    for path in ("/ogc/", "/ogc/collections", "/ogc/collections/problems/items?limit=1",
                 "/ogc/api", "/ogc/conformance"):  # fmt: skip
        r = anon_client.get(path, headers=headers)
        assert r.status_code == 401, (path, accept, r.status_code)
        assert r.mimetype == "application/json" and r.get_json()["error"] == "unauthorized"
        assert r.headers.getlist("WWW-Authenticate")


def test_anonymous_browsers_are_sent_to_sign_in(anon_client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for path, headers in (
        ("/ogc/collections", {"Accept": browser}),
        ("/ogc/collections?f=html", {}),
        ("/ogc/collections?f=html", {"Accept": "application/json"}),
    ):
        r = anon_client.get(path, headers=headers)
        assert r.status_code == 302 and "/login" in r.headers["Location"], (path, headers)
    # f=json wins over a browser's Accept
    assert anon_client.get("/ogc/?f=json", headers={"Accept": browser}).status_code == 401


def test_req_oas30_service_desc_media_type(client):
    """/ogc/api is served as the media type its ``service-desc`` link says (GDAL checks it)."""
    link = next(x for x in client.get("/ogc/").get_json()["links"] if x["rel"] == "service-desc")
    r = client.get(link["href"].replace("http://localhost", ""))
    assert r.status_code == 200
    assert (
        r.headers["Content-Type"] == link["type"] == "application/vnd.oai.openapi+json;version=3.0"
    )
    params = r.get_json()["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    # /req/oas30/completeness: every parameter a collection accepts is in the definition
    names = {p["name"] for p in params}
    assert {"limit", "offset", "bbox", "datetime", "f"} | set().union(
        *ogc.ITEMS_PARAMS.values()
    ) <= names


def _links(doc) -> list[str]:
    return [link["href"] for link in doc["links"]]


@pytest.mark.parametrize("proxies", [0, 1])
def test_links_use_the_clients_scheme_and_host_only_behind_a_trusted_proxy(demo_url, proxies):
    """Behind a trusted proxy (PROXY_COUNT) every link carries the scheme and host the client
    used; without one, forwarded headers (spoofable by anyone) are not reflected."""
    app = make_app(demo_url, PROXY_COUNT=proxies)
    client = sign_in(app.test_client(), "coordinator")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "gis.example.gov.cn",
                 "X-Forwarded-For": "10.1.2.3"}  # fmt: skip
    want = "https://gis.example.gov.cn/ogc/" if proxies else "http://localhost/ogc/"
    for path in ("/ogc/", "/ogc/collections", "/ogc/collections/problems/items?limit=2"):
        doc = client.get(path, headers=forwarded).get_json()
        hrefs = _links(doc) + [h for c in doc.get("collections", []) for h in _links(c)]
        assert hrefs and all(h.startswith(want) for h in hrefs), (path, hrefs)
    app.extensions["geoapp.store"].close()


def test_a_spoofed_host_is_refused_when_the_hosts_are_configured(demo_url):
    """TRUSTED_HOSTS: a request naming another host is refused (400), not answered with
    links to it; the configured names are served."""
    app = make_app(demo_url, TRUSTED_HOSTS="gis.example.gov.cn, localhost")
    client = app.test_client()
    token = create_token(app.extensions["geoapp.store"], "qgis", "coordinator")
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/ogc/", headers={"Host": "gis.example.gov.cn", **auth})
    assert r.status_code == 200
    assert r.get_json()["links"][0]["href"].startswith("http://gis.example.gov.cn/ogc/")
    r = client.get("/ogc/collections", headers={"Host": "evil.example", **auth})
    assert r.status_code == 400 and b"//evil.example" not in r.get_data()
    app.extensions["geoapp.store"].close()
