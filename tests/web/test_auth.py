"""Signing in and out, CSRF, the unit role's scope, security headers, the accounts CLI and
the audit log."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from webclient import TEST_HASH_METHOD, TEST_PASSWORDS, make_app, sign_in

from geoapp.cli import main
from geoapp.cli.serve import is_loopback
from geoapp.store import open_store
from geoapp.web.actor import current_actor


def login_form(client, name: str, password: str, next_url: str = "/"):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": next_url},
        csrf=False,
    )


# --- signing in ----------------------------------------------------------------------------
def test_anonymous_pages_go_to_the_login_page_and_the_api_says_401(anon_client):
    r = anon_client.get("/units?status=verified")
    assert r.status_code == 302
    assert r.headers["Location"].startswith("/login?next=")
    page = anon_client.get(r.headers["Location"])
    assert page.status_code == 200 and "登录" in page.get_data(as_text=True)
    r = anon_client.get("/api/problems")
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"


def test_sign_in_shows_name_and_role_then_sign_out(app):
    client = app.test_client()
    r = login_form(client, "coordinator", TEST_PASSWORDS["coordinator"], "/units")
    assert r.status_code == 302 and r.headers["Location"] == "/units"
    html = client.get("/units").get_data(as_text=True)
    assert "coordinator · 创卫办协调员" in html and "退出登录" in html
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
    assert client.post("/logout").status_code == 400  # no CSRF token
    r = client.post("/logout", headers={"X-CSRFToken": token})
    assert r.status_code == 302
    assert client.get("/units").status_code == 302


def test_wrong_password_and_open_redirects(app):
    client = app.test_client()
    r = login_form(client, "admin", "not-the-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    r = login_form(client, "nobody", "whatever-password")
    assert r.status_code == 401
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = login_form(client, "admin", TEST_PASSWORDS["admin"], evil)
        assert r.status_code == 302 and r.headers["Location"] == "/", evil


def test_failed_sign_ins_are_rate_limited(demo_sqlite_url):
    app = make_app(demo_sqlite_url, LOGIN_MAX_ATTEMPTS=3, LOGIN_WINDOW_SECONDS=600)
    client = app.test_client()
    for _ in range(3):
        assert login_form(client, "planner", "wrong-password").status_code == 401
    r = login_form(client, "planner", TEST_PASSWORDS["planner"])
    assert r.status_code == 429 and "失败次数过多" in r.get_data(as_text=True)
    assert login_form(client, "admin", TEST_PASSWORDS["admin"]).status_code == 302
    app.extensions["geoapp.store"].close()


def test_login_form_needs_its_csrf_token(app):
    client = app.test_client()
    r = client.post("/login", data={"name": "admin", "password": TEST_PASSWORDS["admin"]})
    assert r.status_code == 400


# --- CSRF and tokens -------------------------------------------------------------------------
def test_state_changing_requests_need_the_csrf_token(client):
    r = client.post("/logout", csrf=False)
    assert r.status_code == 400
    r = client.post("/logout", headers={"X-CSRFToken": "forged"}, csrf=False)
    assert r.status_code == 400
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/logout").status_code == 302  # the fixture sends the token


def test_bearer_tokens_are_exempt_from_csrf_not_from_permissions(app, token_for):
    client = app.test_client()
    token = token_for("unit")
    r = client.post("/logout", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 302  # no CSRF token needed
    r = client.get("/audit", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_pages_carry_the_csrf_meta_tag_and_script(client):
    html = client.get("/units").get_data(as_text=True)
    assert re.search(r'<meta name="csrf-token" content="[^"]{20,}">', html)
    # static/js/csrf.js, inlined with the page's script nonce
    scripts = re.findall(r'<script nonce="[^"]+">(.*?)</script>', html, re.DOTALL)
    assert [s for s in scripts if "X-CSRFToken" in s and "window.fetch = function" in s]


# --- the unit role ---------------------------------------------------------------------------
def test_unit_accounts_see_only_their_unit(client, client_as):
    unit = client_as("unit")
    own = unit.unit_id
    everything = client.get("/api/problems?limit=10000").get_json()
    mine = unit.get("/api/problems?limit=10000").get_json()
    assert 0 < mine["numberMatched"] < everything["numberMatched"]
    assert {f["properties"]["responsible_unit_id"] for f in mine["features"]} == {own}
    # asking for another unit does not widen the scope
    other = next(
        f["properties"]["responsible_unit_id"]
        for f in everything["features"]
        if f["properties"]["responsible_unit_id"] not in (own, None)
    )
    sneaky = unit.get(f"/api/problems?limit=10000&unit={other}").get_json()
    assert sneaky["numberMatched"] == mine["numberMatched"]
    areas = unit.get("/api/areas").get_json()["features"]
    assert areas and {a["properties"]["responsible_unit_id"] for a in areas} == {own}
    summary = unit.get("/api/summary").get_json()
    assert summary["problems"] == mine["numberMatched"]
    theirs = next(
        f["id"] for f in everything["features"] if f["properties"]["responsible_unit_id"] == other
    )
    assert unit.get(f"/api/problems/{theirs}").status_code == 403
    assert unit.get(f"/api/problems/{mine['features'][0]['id']}").status_code == 200
    assert unit.get(f"/units/{own}").status_code == 200
    assert unit.get(f"/units/{other}").status_code == 403
    assert unit.get("/districts").status_code == 403


def test_cached_answers_never_cross_units(client, client_as):
    """The API caches bodies by ETag: the forced unit filter is part of the tag."""
    url = "/api/problems/clusters?zoom=12"
    full = client.get(url)
    unit = client_as("unit")
    scoped = unit.get(url)
    assert scoped.status_code == 200 and scoped.get_data() != full.get_data()
    assert unit.get(url, headers={"If-None-Match": full.headers["ETag"]}).status_code == 200


# --- headers -----------------------------------------------------------------------------------
def test_security_headers_and_a_csp_with_no_external_origin(client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"
    nonce = re.search(r"'nonce-([^']+)'", csp)[1]
    html = r.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    api = client.get("/api/units")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in api.headers["Content-Security-Policy"]
    assert client.get("/").headers["Content-Security-Policy"] != csp  # a nonce per response


def test_configured_basemap_origin_is_the_only_exception(demo_sqlite_url):
    app = make_app(demo_sqlite_url, TILES_URL="https://t0.tianditu.gov.cn/img_w/{z}/{x}/{y}")
    client = sign_in(app.test_client(), "admin")
    csp = client.get("/").headers["Content-Security-Policy"]
    img = next(p for p in csp.split(";") if p.strip().startswith("img-src"))
    assert "https://t0.tianditu.gov.cn" in img
    assert csp.count("tianditu") == 1
    app.extensions["geoapp.store"].close()


def test_current_actor_names_the_signed_in_user(app, client_as):
    from flask import g

    from geoapp.services.accounts import principal

    with app.test_request_context("/"):
        assert current_actor() is None
        g.principal = principal(app.extensions["geoapp.store"].get_user("inspector"))
        assert current_actor() == "inspector"
    assert current_actor() is None  # outside a request


# --- CLI -----------------------------------------------------------------------------------------
def run(url, *args, input=None):
    return CliRunner().invoke(main, ["--database-url", url, *map(str, args)], input=input)


def test_create_user_reads_the_password_from_stdin(demo_url):
    r = run(demo_url, "create-user", "李娜", "--role", "inspector", input="s3cret-pass\n")
    assert r.exit_code == 0, r.output
    assert "created user 李娜 (role inspector)" in r.output
    with open_store(demo_url) as store:
        from geoapp.services.accounts import authenticate

        assert authenticate(store, "李娜", "s3cret-pass").role == "inspector"
        assert "s3cret" not in store.get_user("李娜", with_hash=True)["password_hash"]
        entry = store.audit_entries(action="user.create")[0]
        assert entry["target"] == "user:李娜" and entry["after"]["role"] == "inspector"
        unit_id = store.list_units()[0]["unit_id"]
    r = run(
        demo_url, "create-user", "u1", "--role", "unit", "--unit", unit_id, input="pass-word-1\n"
    )
    assert r.exit_code == 0 and unit_id in r.output


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["x", "--role", "boss"], "long-enough\n", "unknown role"),
        (["x", "--role", "unit"], "long-enough\n", "needs --unit"),
        (["x", "--role", "admin", "--unit", "U01"], "long-enough\n", "only unit accounts"),
        (["x", "--role", "unit", "--unit", "NOPE"], "long-enough\n", "unknown unit"),
        (["x", "--role", "admin"], "short\n", "at least 8"),
        (["admin", "--role", "admin"], "long-enough\n", "exists already"),
    ],
)
def test_create_user_refusals_exit_2(demo_sqlite_url, args, stdin, message):
    r = run(demo_sqlite_url, "create-user", *args, input=stdin)
    assert r.exit_code == 2 and message in r.output, r.output
    assert "Traceback" not in r.output


def test_create_token_prints_a_working_token_stored_as_a_hash(demo_sqlite_url):
    r = run(demo_sqlite_url, "create-token", "城管系统", "--role", "coordinator")
    assert r.exit_code == 0, r.output
    token = r.output.strip()
    assert token.startswith("gat_") and len(token) > 40
    app = make_app(demo_sqlite_url)
    client = app.test_client()
    assert client.get("/api/units", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    store = app.extensions["geoapp.store"]
    assert token not in str(store.list_api_tokens())
    app.extensions["geoapp.store"].close()
    assert run(demo_sqlite_url, "create-token", "x", "--role", "nope").exit_code == 2


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(demo_url):
    app = make_app(demo_url)
    client = sign_in(app.test_client(), "inspector")
    assert client.get("/api/units").status_code == 200
    r = run(demo_url, "deactivate-user", "inspector")
    assert r.exit_code == 0 and "user inspector deactivated" in r.output, r.output
    # the open session ends at its next request; the password no longer works
    assert client.get("/api/units").status_code == 401
    store = app.extensions["geoapp.store"]
    from geoapp.services.accounts import authenticate

    assert authenticate(store, "inspector", TEST_PASSWORDS["inspector"]) is None
    entry = store.audit_entries(action="user.deactivate")[0]
    assert entry["target"] == "user:inspector"
    assert entry["before"]["active"] is True and entry["after"]["active"] is False
    assert "already" in run(demo_url, "deactivate-user", "inspector").output
    # and back on
    assert run(demo_url, "activate-user", "inspector").exit_code == 0
    assert authenticate(store, "inspector", TEST_PASSWORDS["inspector"]).role == "inspector"
    assert sign_in(app.test_client(), "inspector").get("/api/units").status_code == 200
    store.close()


def test_a_revoked_token_gets_401(demo_url):
    token = run(demo_url, "create-token", "旧系统", "--role", "coordinator").output.strip()
    app = make_app(demo_url)
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/units", headers=bearer).status_code == 200
    r = run(demo_url, "revoke-token", "旧系统")
    assert r.exit_code == 0 and "token 旧系统 revoked" in r.output, r.output
    assert client.get("/api/units", headers=bearer).status_code == 401
    assert app.extensions["geoapp.store"].audit_entries(action="token.revoke")
    app.extensions["geoapp.store"].close()


@pytest.mark.parametrize("command", ["deactivate-user", "activate-user", "revoke-token"])
def test_switching_an_unknown_account_exits_2(demo_sqlite_url, command):
    r = run(demo_sqlite_url, command, "nobody")
    assert r.exit_code == 2 and "unknown" in r.output and "nobody" in r.output, r.output
    assert "Traceback" not in r.output


def test_demo_mode_is_refused_off_loopback(demo_sqlite_url):
    r = run(demo_sqlite_url, "serve", "--demo", "--host", "0.0.0.0")
    assert r.exit_code == 2 and "loopback" in r.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_demo_accounts_get_fresh_passwords(demo_sqlite_url):
    from geoapp.services.accounts import authenticate, seed_demo_accounts

    with open_store(demo_sqlite_url) as store:
        first = {a["role"]: a for a in seed_demo_accounts(store)}
        assert set(first) == {"admin", "coordinator", "planner", "inspector", "unit"}
        assert first["unit"]["unit_id"]
        # hashed with werkzeug's default method and cost, unless told otherwise (the tests'
        # accounts are seeded with a cheap cost: tests/webclient.py)
        hashes = {r: store.get_user(r, with_hash=True)["password_hash"] for r in first}
        (method,) = {h.split("$")[0] for h in hashes.values()}
        assert method.startswith("scrypt:") and method != TEST_HASH_METHOD
        assert authenticate(store, "planner", first["planner"]["password"]).role == "planner"
        second = {a["role"]: a for a in seed_demo_accounts(store, method=TEST_HASH_METHOD)}
        assert set(second) == set(first)
        hashes = {r: store.get_user(r, with_hash=True)["password_hash"] for r in second}
        assert {h.split("$")[0] for h in hashes.values()} == {TEST_HASH_METHOD}
        assert first["admin"]["password"] != second["admin"]["password"]
        assert authenticate(store, "admin", first["admin"]["password"]) is None
        assert authenticate(store, "admin", second["admin"]["password"]).role == "admin"


# --- audit log -------------------------------------------------------------------------------------
def test_status_changes_and_publishes_are_audited(app, client):
    store = app.extensions["geoapp.store"]
    pk = store.problems({"status": ["reported"]}, limit=1)[0]["id"]
    with store.transaction() as tx:
        tx.set_problem_status(pk, "rectified", "unit-x", "fixed")
    entry = store.audit_entries(action="problem.status")[0]
    assert entry["actor"] == "unit-x" and entry["after"]["status"] == "rectified"
    assert store.audit_entries(action="generation.publish")  # the demo load published
    assert store.audit_entries(action="demo.load")
    html = client.get("/audit").get_data(as_text=True)
    assert "problem.status" in html and "unit-x" in html
    assert client.get("/audit?action=demo.load&page=1").status_code == 200
    assert client.get("/users").status_code == 200


def test_session_cookie_flags(demo_sqlite_url):
    app = make_app(demo_sqlite_url, SECURE_COOKIES=1)
    client = app.test_client()
    r = login_form(client, "admin", TEST_PASSWORDS["admin"])
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    app.extensions["geoapp.store"].close()
