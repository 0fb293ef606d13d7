"""Roles as documented: every role is shown only what it may use.

- every link on every page a role can open leads somewhere it may go (no 401/403);
- every control on the problem page works when used by the role it is shown to (a unit
  account is not shown the correction form it may not save), for every role;
- every form and button of the other pages reaches its view for the roles it is shown to;
- the inspector reads the county's ledger (README's role table);
- unit accounts find any unit's contact for a spot (/api/lookup, /api/search), while problems
  and areas stay scoped to their own unit.
"""

from __future__ import annotations

import io
import json
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from intake_helpers import png_bytes
from webclient import make_app, sign_in

from geoapp.core.accounts import ROLES


class Page(HTMLParser):
    """The links and the controls (elements with an id or a class) of one HTML page."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[str] = []
        self.elements: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        self.elements.append((tag, attrs))

    def by_id(self, element_id: str) -> dict | None:
        return next((a for _t, a in self.elements if a.get("id") == element_id), None)

    def by_class(self, tag: str, cls: str) -> list[dict]:
        return [a for t, a in self.elements if t == tag and cls in (a.get("class") or "").split()]


@pytest.fixture
def role_app(demo_sqlite_url):
    app = make_app(demo_sqlite_url)
    yield app
    app.extensions["geoapp.store"].close()


@pytest.fixture
def read_app(shared_sqlite_app):
    """The module's shared app (tests/web/conftest.py), for the tests that only read."""
    return shared_sqlite_app


def _endpoint(app, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(path, method="GET")[0]
    except Exception:
        return None


@pytest.mark.parametrize("role", ROLES)
def test_every_link_on_every_page_a_role_opens_is_allowed(read_app, role):
    client = sign_in(read_app.test_client(), role)
    seen, per_endpoint, todo, refused = set(), Counter(), deque(["/"]), []
    while todo:
        url = todo.popleft()
        response = client.get(url)
        if response.status_code in (401, 403) or (
            response.status_code == 302 and "/login" in response.headers.get("Location", "")
        ):
            refused.append(f"{url}: {response.status_code}")
            continue
        if response.mimetype != "text/html":
            continue
        for href in Page(response.get_data(as_text=True)).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            endpoint = _endpoint(read_app, parts.path)
            if target in seen or endpoint in (None, "static", "auth.logout"):
                continue
            seen.add(target)
            per_endpoint[endpoint] += 1
            if per_endpoint[endpoint] <= 3:  # a few of each kind of page
                todo.append(target)
    assert len(seen) > 3
    assert not refused, f"{role} is shown links it may not open:\n" + "\n".join(refused)


def _problem_pages(store, role) -> list[int]:
    """A few problems this role may open: one in each status."""
    unit = store.get_user("unit")["unit_id"] if role == "unit" else None
    filters = {"responsible_unit_id": unit} if unit else {}
    rows = store.problems(filters, limit=400)
    by_status = {}
    for r in rows:
        by_status.setdefault(r["status"], int(r["id"]))
    return sorted(set(by_status.values()))[:6]


@pytest.mark.parametrize("role", ROLES)
def test_every_control_on_the_problem_page_works_for_its_role(role_app, role):
    store = role_app.extensions["geoapp.store"]
    client = sign_in(role_app.test_client(), role)
    used, failures = Counter(), []
    for pk in _problem_pages(store, role):
        html = client.get(f"/problems/{pk}")
        assert html.status_code == 200, (role, pk)
        page = Page(html.get_data(as_text=True))
        base = f"/api/problems/{pk}"
        calls = []
        for button in page.by_class("button", "transition")[:1]:
            calls.append(
                (
                    "transition",
                    "post",
                    f"{base}/transitions",
                    {"json": {"to": button["data-to"], "note": "test"}},
                )
            )
        if page.by_id("edit-form"):
            codes = [a["value"] for t, a in page.elements if t == "option" and "value" in a]
            current = store.get_problem(pk)["category"]
            other = next(
                c
                for c in codes
                if c != current and not c.startswith(("wgs", "gcj", "bd", "cgcs", "EPSG"))
            )
            calls.append(("edit", "patch", base, {"json": {"category": other, "note": "test"}}))
        if page.by_id("photo-input"):
            png = png_bytes()
            calls.append(
                ("photo", "post", f"{base}/photos", {"data": {"photo": (io.BytesIO(png), "a.png")}})
            )
        for button in page.by_class("button", "link-dup")[:1]:
            calls.append(
                (
                    "link",
                    "put",
                    f"{base}/duplicate",
                    {"json": {"duplicate_of": int(button["data-id"])}},
                )
            )
        if page.by_id("unlink"):
            calls.append(("unlink", "delete", f"{base}/duplicate", {}))
        for name, method, url, kwargs in calls:
            r = getattr(client, method)(url, **kwargs)
            used[name] += 1
            if not 200 <= r.status_code < 300:
                failures.append(f"{role} problem {pk} {name}: {r.status_code} {r.get_json()}")
    assert not failures, "\n".join(failures)
    if role == "unit":
        assert used["edit"] == 0  # a unit account reports rectification, it does not correct
        assert used["transition"] > 0 and used["photo"] > 0
    if role in ("admin", "coordinator", "inspector"):
        assert used["edit"] > 0 and used["photo"] > 0 and used["transition"] > 0
    if role == "planner":
        assert sum(used.values()) == 0  # reads problems, changes none


# page → (element id or "tag.class", method, url) of the request each control sends
PAGE_CONTROLS = {
    "/report": [("report-form", "post", "/api/problems")],
    "/import": [
        ("import-form", "post", "/api/imports"),
        ("confirm-button", "post", "/api/imports/" + "a" * 24),
    ],
    "/editor": [
        ("btn-new-draft", "post", "/api/drafts"),
        ("upload-form", "post", "/api/drafts/upload"),
    ],
    "/generations": [("button.rollback", "post", "/api/generations/{id}/rollback")],
}


@pytest.mark.parametrize("role", ROLES)
def test_every_form_and_button_reaches_its_view_for_the_roles_shown_it(role_app, role):
    from geoapp.services import editor, editor_edits

    store = role_app.extensions["geoapp.store"]
    gid = editor.start_draft(store, "planner")["generation"]["id"]
    editor_edits.apply_edit(
        store, gid, {"type": "reassign", "area_id": "A010", "name": "renamed"}, 1, "p"
    )
    editor.publish(store, gid, 2, "planner", "a second generation: the first can be rolled back to")
    client = sign_in(role_app.test_client(), role)
    wrong = []
    shown = 0
    for path, controls in PAGE_CONTROLS.items():
        response = client.get(path)
        if response.status_code != 200:
            continue
        page = Page(response.get_data(as_text=True))
        for control, method, url in controls:
            if "." in control:
                tag, cls = control.split(".")
                found = page.by_class(tag, cls)[:1]
            else:
                found = [page.by_id(control)] if page.by_id(control) else []
            for attrs in found:
                shown += 1
                r = getattr(client, method)(url.format(id=attrs.get("data-id")), json={})
                # a refusal of the body (400, 409) is fine: the role got through to the view
                if r.status_code in (401, 403):
                    wrong.append(f"{role} on {path}: {control} → {r.status_code}")
    assert not wrong, "\n".join(wrong)
    if role in ("admin", "planner"):
        assert shown >= 3  # the editor's two and a rollback button


def test_the_inspector_reads_the_county_ledger(read_app):
    client = sign_in(read_app.test_client(), "inspector")
    page = client.get("/")
    assert 'href="/ledger"' in page.get_data(as_text=True)  # in the menu
    ledger = client.get("/ledger")
    assert ledger.status_code == 200
    units = read_app.extensions["geoapp.store"].list_units()
    assert client.get("/api/ledger?group=unit").status_code == 200
    text = ledger.get_data(as_text=True)
    assert sum(u["name"] in text for u in units) >= 2  # the whole county, not one unit
    assert client.get("/ledger/export.csv").status_code == 200


def test_a_unit_account_finds_any_units_contact_but_only_its_own_problems(read_app):
    store = read_app.extensions["geoapp.store"]
    own = store.get_user("unit")["unit_id"]
    client = sign_in(read_app.test_client(), "unit")
    gen = store.current_generation()
    areas = store.areas(gen["id"])
    other = areas[areas["responsible_unit_id"] != own].iloc[0]
    point = other.geometry.representative_point()
    found = client.get(f"/api/lookup?lon={point.x}&lat={point.y}").get_json()
    unit = found["responsible_unit"]
    assert unit["id"] == other["responsible_unit_id"] != own
    expected = next(u for u in store.list_units() if u["unit_id"] == unit["id"])
    assert unit.get("contact") == expected["contact"] and unit.get("phone") == expected["phone"]
    hits = client.get("/api/search", query_string={"q": expected["name"]}).get_json()
    assert expected["unit_id"] in json.dumps(hits, ensure_ascii=False)
    # problems stay scoped: none of another unit's
    problems = client.get("/api/problems?limit=1000").get_json()["features"]
    assert problems and {p["properties"]["responsible_unit_id"] for p in problems} == {own}
