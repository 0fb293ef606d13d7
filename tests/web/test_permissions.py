"""Every route × every role (and anonymous) against the one permission table.

The walk reads ``app.url_map``, so routes added later are covered without touching this
file: a new endpoint missing from ``geoapp/web/permissions.py`` fails
``test_every_endpoint_is_in_the_permission_table`` by name, and the walk then checks that the
table is what the server enforces.  URL parameters are filled from the demo data
(:func:`param_values`); add a name there if a new route's parameter needs a real value.
"""

from __future__ import annotations

import functools

import pytest
from webclient import make_app, sign_in
from werkzeug.routing import AnyConverter, IntegerConverter

from geoapp.core.accounts import ROLES
from geoapp.web import permissions
from geoapp.web.permissions import ANONYMOUS, PERMISSIONS, allowed_roles

WHO = (*ROLES, ANONYMOUS)
SKIP_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def walk_app(demo_sqlite_template, tmp_path_factory):
    """One app on a private copy of the demo county; views record that they ran."""
    import shutil

    path = tmp_path_factory.mktemp("walk") / "demo.sqlite"
    shutil.copyfile(demo_sqlite_template, path)
    app = make_app(f"sqlite:///{path}", PROPAGATE_EXCEPTIONS=False)
    app.view_ran = []  # endpoint names, appended by the wrapped views
    for endpoint, view in list(app.view_functions.items()):

        def wrapped(*args, _endpoint=endpoint, _view=view, **kwargs):
            app.view_ran.append(_endpoint)
            return _view(*args, **kwargs)

        app.view_functions[endpoint] = functools.wraps(view)(wrapped)
    yield app
    app.extensions["geoapp.store"].close()


def param_values(app, role: str) -> dict[str, object]:
    """Values for URL parameters, in the role's own scope (a unit account's own unit)."""
    store = app.extensions["geoapp.store"]
    unit_id = (
        store.get_user("unit")["unit_id"] if role == "unit" else store.list_units()[0]["unit_id"]
    )
    problems = store.problems({"responsible_unit_id": unit_id}, limit=1)
    problem_pk = int(problems[0]["id"]) if problems else 1
    gen = store.current_generation()
    areas = store.areas(gen["id"])
    own = areas[areas["responsible_unit_id"] == unit_id]
    return {
        "unit_id": unit_id,
        "district_id": store.list_districts()[0]["district_id"],
        "area_id": own.iloc[0]["area_id"] if len(own) else areas.iloc[0]["area_id"],
        "problem_pk": problem_pk,
        "problem_id": problem_pk,
        "generation_id": gen["id"],
        "generation": gen["id"],
        "filename": "css/geoapp.css",
        "z": 0,
        "x": 0,
        "y": 0,
        "ext": "png",
    }


def build_url(app, rule, values: dict) -> str:
    args = {}
    for name in rule.arguments:
        if name in values:
            args[name] = values[name]
        else:
            converter = rule._converters.get(name)
            if isinstance(converter, IntegerConverter):
                args[name] = 1
            elif isinstance(converter, AnyConverter):
                args[name] = sorted(converter.items)[0]
            else:
                args[name] = "1"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **args)


def test_every_endpoint_is_in_the_permission_table(walk_app):
    missing = permissions.missing_endpoints(walk_app.view_functions)
    assert not missing, (
        "endpoints missing from PERMISSIONS in geoapp/web/permissions.py (refused to "
        f"everyone until added): {missing}"
    )


def test_the_table_names_only_known_roles_and_endpoints(walk_app):
    for endpoint, rule in PERMISSIONS.items():
        sets = rule.values() if isinstance(rule, dict) else [rule]
        for roles in sets:
            assert set(roles) <= set(WHO), (endpoint, roles)
    stale = sorted(set(PERMISSIONS) - set(walk_app.view_functions))
    assert not stale, f"PERMISSIONS names endpoints no route has: {stale}"


def _denied(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def test_every_route_for_every_role_matches_the_table(walk_app):
    rules = sorted(walk_app.url_map.iter_rules(), key=lambda r: r.rule)
    mismatches = []
    checked = 0
    for who in WHO:
        values = param_values(walk_app, who)
        for rule in rules:
            url = build_url(walk_app, rule, values)
            for method in sorted(rule.methods - SKIP_METHODS):
                client = sign_in(walk_app.test_client(), None if who == ANONYMOUS else who)
                walk_app.view_ran.clear()
                kwargs = {"json": {}} if method != "GET" else {}
                response = client.open(url, method=method, **kwargs)
                response.close()
                ran = rule.endpoint in walk_app.view_ran
                expected = who in allowed_roles(rule.endpoint, method)
                checked += 1
                if ran != expected:
                    mismatches.append(f"{who:<11} {method:<6} {url} ran={ran} table={expected}")
                if not ran and not _denied(response):
                    mismatches.append(f"{who} {method} {url}: refused with {response.status_code}")
                if not ran and who == ANONYMOUS and url.startswith("/api/"):
                    assert response.status_code == 401, url
                    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert checked >= len(WHO) * 20
    assert not mismatches, "\n".join(mismatches)


def test_missing_endpoint_is_refused_to_everyone(demo_sqlite_url):
    """Deny by default: an endpoint the table does not name answers 401/403 to all."""
    app = make_app(demo_sqlite_url)

    @app.route("/__not_in_table")
    def not_in_table():  # pragma: no cover - must never run
        raise AssertionError("ran")

    try:
        for who in WHO:
            client = sign_in(app.test_client(), None if who == ANONYMOUS else who)
            response = client.get("/__not_in_table")
            response.close()
            assert _denied(response), who
    finally:
        app.extensions["geoapp.store"].close()


def test_token_roles_follow_the_same_table(app, token_for):
    anon = app.test_client()
    bearer = {"Authorization": f"Bearer {token_for('inspector')}"}
    assert anon.get("/api/units", headers=bearer).status_code == 200
    r = anon.get("/audit", headers=bearer)
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    assert anon.get("/audit", headers=admin).status_code == 200
    r = anon.get("/api/units", headers={"Authorization": "Bearer gat_nonsense"})
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"


def test_the_ledger_is_read_by_every_role_but_anonymous_and_written_by_none(walk_app):
    """README's role table: inspectors read the county's ledger (they score the units), unit
    accounts their own rows; the ledger's routes are reads only."""
    ledger = [e for e in PERMISSIONS if "ledger" in e]
    assert len(ledger) >= 4
    for endpoint in ledger:
        assert allowed_roles(endpoint, "GET") == frozenset(ROLES), endpoint
    methods = {
        m for r in walk_app.url_map.iter_rules() if "ledger" in r.endpoint for m in r.methods
    }
    assert methods <= {"GET", "HEAD", "OPTIONS"}
