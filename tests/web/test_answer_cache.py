"""Cached and conditional answers (geoapp.web.answers.conditional) never cross readers or time.

The class of bug: an answer cached (or validated by ETag) for one reader or one moment is
served to another reader, or after the moment has passed.  Each test compares what a reader
gets after someone else warmed the cache with what the same reader gets on a cold cache.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from webclient import TEST_HASH_METHOD, make_app, sign_in

from geoapp.services import etags, problem_reads, reading
from geoapp.services.accounts import create_user
from geoapp.web.answers import AnswerCache

FIXED = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shared_app_config() -> dict:
    return {"CLOCK": lambda: FIXED}


@pytest.fixture(scope="module")
def scoped_app(shared_app):
    """The demo county with a second unit account, ``unit-b``, bound to another unit that
    also answers for problems; the clock fixed (so answers are comparable byte for byte).
    One per module and backend (tests/web/conftest.py): its tests only read (each empties
    the answer cache where it needs a cold one)."""
    app = shared_app
    store = app.extensions["geoapp.store"]
    unit_a = store.get_user("unit")["unit_id"]
    others = sorted(
        {p["responsible_unit_id"] for p in store.problems()} - {unit_a, None},
    )
    unit_b = others[0]
    create_user(store, "unit-b", "unit-b-password", "unit", unit_b, method=TEST_HASH_METHOD)
    app.units = (unit_a, unit_b)
    return app


def _conditional_endpoints(app) -> list[str]:
    return sorted(e for e, v in app.view_functions.items() if getattr(v, "conditional", False))


def _urls(app) -> list[str]:
    """Every conditional endpoint with the URL parts and queries that matter for scope: a
    problem of unit A and one of unit B, each collection, no unit filter and each unit's."""
    store = app.extensions["geoapp.store"]
    unit_a, unit_b = app.units
    pk_a = store.problems({"responsible_unit_id": unit_a}, limit=1)[0]["id"]
    pk_b = store.problems({"responsible_unit_id": unit_b}, limit=1)[0]["id"]
    area_b = next(
        a for a in store.areas(store.current_generation()["id"]).itertuples()
        if a.responsible_unit_id == unit_b
    ).area_id  # fmt: skip
    paths = {
        "api.districts": ["/api/districts"],
        "api.areas": ["/api/areas"],
        "api.units": ["/api/units"],
        "api.problems": ["/api/problems?limit=50"],
        "api.problems_geojson": ["/api/problems.geojson"],
        "api.problem": [f"/api/problems/{pk_a}", f"/api/problems/{pk_b}"],
        "api.problem_clusters": ["/api/problems/clusters?zoom=16"],
        "api.search": [f"/api/search?q={unit_b}", f"/api/search?q={area_b}"],
        "api.summary": ["/api/summary"],
        "ogc.items": [f"/ogc/collections/{c}/items?limit=20" for c in queries_collections()],
        "ogc.item": [
            f"/ogc/collections/problems/items/{pk_a}",
            f"/ogc/collections/problems/items/{pk_b}",
            f"/ogc/collections/areas/items/{area_b}",
        ],
    }
    # a new conditional endpoint must be added above (so it is walked too)
    assert sorted(paths) == _conditional_endpoints(app)
    out = []
    for urls in paths.values():
        for url in urls:
            sep = "&" if "?" in url else "?"
            out += [url, f"{url}{sep}unit={unit_a}", f"{url}{sep}unit={unit_b}"]
    return out


def queries_collections() -> list[str]:
    from geoapp.services.ogc import COLLECTIONS

    return sorted(COLLECTIONS)


def _answer(client, url: str, etag: str | None = None):
    headers = {"If-None-Match": etag} if etag else {}
    r = client.get(url, headers=headers)
    return r.status_code, r.get_data(), r.headers.get("ETag")


def _cold(app, client, url):
    app.extensions["geoapp.answers"] = AnswerCache()
    return _answer(client, url)


@pytest.mark.parametrize(
    "warmer, reader",
    [("coordinator", "unit"), ("admin", "unit"), ("unit", "unit-b"), ("unit-b", "unit")],
)
def test_no_cached_answer_crosses_readers(scoped_app, warmer, reader):
    """Every conditional endpoint: what ``reader`` gets after ``warmer`` asked the same URL
    (with or without the warmer's ETag) is what ``reader`` gets on a cold cache."""
    app = scoped_app
    first = sign_in(app.test_client(), warmer)
    second = sign_in(app.test_client(), reader)
    refused = 0
    for url in _urls(app):
        cold = _cold(app, second, url)
        app.extensions["geoapp.answers"] = AnswerCache()
        warm = _answer(first, url)
        after = _answer(second, url)
        assert after[:2] == cold[:2], (url, warmer, reader, after[0], cold[0])
        if warm[2]:  # the warmer's validator does not validate the reader's answer
            with_tag = _answer(second, url, warm[2])
            assert with_tag[:2] == cold[:2], (url, warmer, reader, with_tag[0], cold[0])
        refused += cold[0] == 403
    assert refused  # the walk did meet answers the reader may not see


def test_unit_account_after_coordinator_gets_403_for_another_units_problem(scoped_app):
    """The reviewer's case: a coordinator reads unit B's problem (filtered to unit A, so the
    query matched the unit account's forced filter); the unit account of A then gets 403."""
    app = scoped_app
    unit_a, unit_b = app.units
    store = app.extensions["geoapp.store"]
    pk_b = store.problems({"responsible_unit_id": unit_b}, limit=1)[0]["id"]
    coordinator = sign_in(app.test_client(), "coordinator")
    unit = sign_in(app.test_client(), "unit")
    for url in (f"/api/problems/{pk_b}", f"/api/problems/{pk_b}?unit={unit_a}"):
        seen = coordinator.get(url)
        assert seen.status_code == 200
        r = unit.get(url)
        assert r.status_code == 403, url
        again = unit.get(url, headers={"If-None-Match": seen.headers["ETag"]})
        assert again.status_code == 403, url


# --- the clock ------------------------------------------------------------------------------
@pytest.fixture
def clocked_app(demo_url):
    """The demo county with a settable clock (``app.clock[0]``)."""
    clock = [FIXED]
    app = make_app(demo_url, CLOCK=lambda: clock[0])
    app.clock = clock
    yield app
    app.extensions["geoapp.store"].close()


def _open_problem_with_deadline(store):
    hours = {c["category"]: c.get("deadline_hours") for c in store.list_categories()}
    rows = [
        r
        for r in store.problems()
        if r["status"] in problem_reads.OVERDUE_STATUSES and hours.get(r["category"])
    ]
    row = rows[0]
    return row, row["reported_at"] + timedelta(hours=float(hours[row["category"]]))


def _overdue_in(body: dict, pk: int):
    if body.get("type") == "Feature":
        return body["properties"]["overdue"]
    return next(f["properties"]["overdue"] for f in body["features"] if f["id"] == pk)


def test_overdue_answers_change_when_the_deadline_passes(clocked_app):
    """Every answer carrying ``overdue`` flags (API and OGC, one problem and lists): just
    before the deadline the flag is off; one second after, the same URL with the old ETag
    answers 200 with the flag on and a new ETag (no data changed in between)."""
    app = clocked_app
    store = app.extensions["geoapp.store"]
    row, due = _open_problem_with_deadline(store)
    pk = row["id"]
    before_pk = sum(1 for r in store.problems() if r["id"] < pk)
    urls = [
        f"/api/problems/{pk}",
        f"/api/problems?limit=1&offset={before_pk}",
        f"/api/problems.geojson?category={row['category']}",
        f"/ogc/collections/problems/items/{pk}",
        f"/ogc/collections/problems/items?limit=1&offset={before_pk}",
    ]
    client = sign_in(app.test_client(), "coordinator")
    app.clock[0] = due - timedelta(minutes=1)
    tags = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert _overdue_in(r.get_json(), pk) is False, url
        tags[url] = r.headers["ETag"]
        assert client.get(url, headers={"If-None-Match": tags[url]}).status_code == 304
    app.clock[0] = due + timedelta(seconds=1)
    for url in urls:
        r = client.get(url, headers={"If-None-Match": tags[url]})
        assert r.status_code == 200, url
        assert r.headers["ETag"] != tags[url], url
        assert _overdue_in(r.get_json(), pk) is True, url
    # answers without overdue flags keep their tag: the clock is in the key only through
    # the deadlines passed, so nothing changes while no deadline passes
    app.clock[0] = due + timedelta(seconds=2)
    for url in urls:
        r = client.get(url)
        assert client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_deadlines_passed_counts_by_hand(store_url):
    """The clock's part of the key on a small store: two open problems with deadlines, one
    closed, one without a deadline."""
    from geoapp.store import open_store

    store = open_store(store_url)
    try:
        store.upgrade()
        with store.transaction() as tx:
            tx.replace_categories(
                [
                    {"category": "a", "name_zh": "甲", "name_en": "A", "deadline_hours": 24},
                    {"category": "b", "name_zh": "乙", "name_en": "B", "deadline_hours": None},
                ]
            )
            t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
            tx.add_problems(
                [
                    {"problem_id": "1", "category": "a", "status": "assigned", "reported_at": t0},
                    {"problem_id": "2", "category": "a", "status": "reported",
                     "reported_at": t0 + timedelta(hours=5)},
                    {"problem_id": "3", "category": "a", "status": "verified", "reported_at": t0},
                    {"problem_id": "4", "category": "b", "status": "assigned", "reported_at": t0},
                ]
            )  # fmt: skip
        with reading._reading(store) as read:
            at = [t0 + timedelta(hours=h) for h in (23, 24, 24.001, 29, 29.001)]
            assert [etags.deadlines_passed(read, t) for t in at] == [0, 0, 1, 1, 2]
        # after writes the warm cache is brought up to date (only the changed ones re-read):
        # problem 1 closed, a new open one due at t0 + 26 h
        first = store.problems({"status": "assigned", "category": "a"})[0]["id"]
        store.set_problem_status(first, "verified", "tester")
        store.add_problems(
            [{"problem_id": "5", "category": "a", "status": "assigned",
              "reported_at": t0 + timedelta(hours=2)}]
        )  # fmt: skip
        with reading._reading(store) as read:
            at = [t0 + timedelta(hours=h) for h in (24.001, 26, 26.001, 29.001)]
            assert [etags.deadlines_passed(read, t) for t in at] == [0, 0, 1, 2]
    finally:
        store.close()


def test_answers_for_signed_in_readers_are_private(scoped_app, tmp_path):
    """No shared (proxy) cache may keep an answer made for one reader: every conditional
    answer says ``private, no-cache`` and varies by cookie and Authorization; so do tiles."""
    app = scoped_app
    client = sign_in(app.test_client(), "coordinator")
    for url in _urls(app):
        r = client.get(url)
        if r.status_code != 200:
            continue
        assert set(r.headers["Cache-Control"].split(", ")) == {"private", "no-cache"}, url
        assert {"Cookie", "Authorization"} <= set(r.headers["Vary"].split(", ")), url
    (tmp_path / "3" / "1").mkdir(parents=True)
    (tmp_path / "3" / "1" / "2.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    kept = app.config.get("TILES_DIR")
    app.config["TILES_DIR"] = str(tmp_path)
    try:
        tile = client.get("/tiles/3/1/2.png")
    finally:
        app.config["TILES_DIR"] = kept  # the app is the module's
    assert tile.status_code == 200
    assert (
        "private" in tile.headers["Cache-Control"] and "public" not in tile.headers["Cache-Control"]
    )
    tile.close()


def test_an_answers_tag_and_body_are_one_read_of_the_store(reader, read_store):
    """A conditional GET reads the store's data version once: its ETag and its body come from
    one transaction (services/reading.py one_read), not one read for the tag and another for
    the body.  Counted on the database's own statement stream, on both backends."""
    import sqlalchemy as sa

    from geoapp.store.engine import _version_counts

    marker = str(_version_counts().compile(read_store.engine)).split("\n")[0]
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.startswith(marker):
            seen.append(statement)

    urls = [
        "/api/problems?limit=1&bbox=114.9,28.2,114.95,28.25",
        "/api/problems/clusters?zoom=13",
        "/api/areas?simplify=5",
        "/api/districts",
        "/api/summary",
        "/ogc/collections/problems/items?limit=3",
        "/ogc/collections/areas/items/A001",
    ]
    sa.event.listen(read_store.engine, "before_cursor_execute", count)
    try:
        for url in urls:
            answers = reader.application.extensions["geoapp.answers"]
            with answers.lock:
                answers.items.clear()
                answers.size = 0
            seen.clear()
            r = reader.get(url)
            assert r.status_code == 200, (url, r.status_code)
            assert r.headers["ETag"]
            assert len(seen) == 1, (url, len(seen))
            # and a 304 for that tag: one read too
            seen.clear()
            again = reader.get(url, headers={"If-None-Match": r.headers["ETag"]})
            assert again.status_code == 304 and len(seen) == 1, url
    finally:
        sa.event.remove(read_store.engine, "before_cursor_execute", count)


def test_generation_rows_are_read_again_only_when_a_generation_changed(app, client):
    """The generation a request reads (the current one, or the ones its problems were
    assigned in) is kept per generations token of the data version: requests read its row
    again only after a generation was created, edited or published, and then see the change."""
    import sqlalchemy as sa

    from geoapp.services import editor

    store = app.extensions["geoapp.store"]
    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().startswith("SELECT generations.id"):
            seen.append(statement)

    box = "114.9,28.2,114.95,{north}"
    assert client.get("/api/problems?limit=5&bbox=" + box.format(north=28.25)).status_code == 200
    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        for north in (28.26, 28.27, 28.28):  # new answers (new tags), same data
            r = client.get("/api/problems?limit=5&bbox=" + box.format(north=north))
            assert r.status_code == 200 and r.get_json()["features"]
        r = client.get("/api/areas?simplify=7")
        assert r.status_code == 200
        assert seen == []
        current = r.get_json()["generation"]
        # a new draft (a new generation): read again, and the draft is found by its id
        draft = editor.start_draft(store, "test")["generation"]
        r = client.get(f"/api/areas?generation={draft['id']}")
        assert r.status_code == 200 and r.get_json()["generation"] == draft["id"]
        assert seen
        assert client.get("/api/areas?simplify=9").get_json()["generation"] == current
        # a generation that does not exist is still refused
        r = client.get(f"/api/areas?generation={draft['id'] + 1}")
        assert r.status_code == 400 and "generation" in r.get_json()["message"]
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
