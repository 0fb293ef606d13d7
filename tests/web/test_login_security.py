"""Sessions that end when they should, and failed sign-ins counted for every worker.

Sessions: a cookie copied before sign-out, deactivation or a password change no longer
signs anyone in (pages redirect to /login, the API answers 401).  Signing out ends every
session of that user (all browsers), as the README says.

Failed sign-ins: counted in the store, so two apps on one database (two gunicorn workers)
share them; per client address as the socket gives it, or as the trusted proxies forward it
(``PROXY_COUNT``); a locked name opens again when its lock ends (an injected clock, no
sleeping), and a browser the name signed in from before is not locked out by strangers.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from webclient import TEST_PASSWORDS, make_app

from geoapp.cli import main

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def login_form(client, name: str, password: str, headers=None):
    page = client.get("/login", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token, "next": "/"},
        headers=headers,
        csrf=False,
    )


def signed_in(app, role: str):
    client = app.test_client()
    assert login_form(client, role, TEST_PASSWORDS[role]).status_code == 302
    return client


def csrf_of(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html)[1]


def replay(app, client):
    """A new browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def assert_signed_out(client):
    page = client.get("/units")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/api/problems").status_code == 401


def assert_signed_in(client):
    assert client.get("/units").status_code == 200
    assert client.get("/api/units").status_code == 200


def run(url, *args, input=None):
    return CliRunner().invoke(main, ["--database-url", url, *map(str, args)], input=input)


# --- sessions -------------------------------------------------------------------------------
def test_a_cookie_copied_before_sign_out_no_longer_works(app):
    client = signed_in(app, "coordinator")
    copy = replay(app, client)
    assert_signed_in(copy)
    r = client.post("/logout", headers={"X-CSRFToken": csrf_of(client)})
    assert r.status_code == 302
    assert_signed_out(client)
    assert_signed_out(copy)


def test_sign_out_ends_every_session_of_the_user_only(app):
    """The documented choice: signing out ends all sessions of that user (every browser);
    other users' sessions go on.  Signing in again starts a working session."""
    first, second = signed_in(app, "planner"), signed_in(app, "planner")
    other = signed_in(app, "inspector")
    first.post("/logout", headers={"X-CSRFToken": csrf_of(first)})
    assert_signed_out(second)
    assert_signed_in(other)
    assert_signed_in(signed_in(app, "planner"))


def test_deactivation_ends_copied_sessions_and_reactivation_does_not_revive_them(app, demo_url):
    client = signed_in(app, "inspector")
    copy = replay(app, client)
    assert run(demo_url, "deactivate-user", "inspector").exit_code == 0
    assert_signed_out(client)
    assert_signed_out(copy)
    assert run(demo_url, "activate-user", "inspector").exit_code == 0
    assert_signed_out(copy)
    assert_signed_in(signed_in(app, "inspector"))


def test_a_password_change_ends_every_session(app, demo_url):
    client = signed_in(app, "planner")
    copy = replay(app, client)
    r = run(demo_url, "set-password", "planner", input="a-new-password\n")
    assert r.exit_code == 0, r.output
    assert "password of user planner changed" in r.output
    assert_signed_out(client)
    assert_signed_out(copy)
    fresh = app.test_client()
    assert login_form(fresh, "planner", TEST_PASSWORDS["planner"]).status_code == 401
    assert login_form(fresh, "planner", "a-new-password").status_code == 302
    assert_signed_in(fresh)
    entry = app.extensions["geoapp.store"].audit_entries(action="user.password")[0]
    assert entry["target"] == "user:planner" and "password" not in str(entry["after"])


@pytest.mark.parametrize(
    "args, stdin, message",
    [(["planner"], "short\n", "at least 8"), (["nobody"], "long-enough\n", "unknown user")],
)
def test_set_password_refusals(demo_sqlite_url, args, stdin, message):
    r = run(demo_sqlite_url, "set-password", *args, input=stdin)
    assert r.exit_code == 2 and message in r.output, r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("forged", ["{id}", "{id}:", "{id}:guess", "x:y", "{id}:{token}x"])
def test_forged_or_old_session_ids_are_signed_out(shared_app, forged):
    """An id-only cookie (the format before session secrets) or a wrong secret: signed out."""
    store = shared_app.extensions["geoapp.store"]
    user = store.get_user("admin")
    token = store.user_session_token(user["id"])
    client = shared_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = forged.format(id=user["id"], token=token)
        session["_fresh"] = True
    assert_signed_out(client)


# --- failed sign-ins ------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def limited_app(url, clock, **config):
    settings = {
        "LOGIN_MAX_ATTEMPTS": 3,
        "LOGIN_WINDOW_SECONDS": 600,
        "LOGIN_MAX_LOCK_SECONDS": 3600,
        "SECRET_KEY": "shared-by-the-workers",
        **config,
    }
    return make_app(url, CLOCK=clock, **settings)


def test_two_workers_on_one_store_share_the_counts(demo_url):
    """Two apps on one database, as two gunicorn workers: 3 failures in all lock the name,
    and 12 (4 x 3) in all lock the address, whichever worker saw them."""
    clock = Clock()
    workers = [limited_app(demo_url, clock), limited_app(demo_url, clock)]
    a, b = (w.test_client() for w in workers)
    assert login_form(a, "planner", "wrong-1").status_code == 401
    assert login_form(b, "planner", "wrong-2").status_code == 401
    assert login_form(a, "planner", "wrong-3").status_code == 401
    for client in (a, b):
        r = login_form(client, "planner", TEST_PASSWORDS["planner"])
        assert r.status_code == 429 and int(r.headers["Retry-After"]) == 600
    # the address: 9 more failures on other names, spread over both workers
    for i in range(9):
        client = (a, b)[i % 2]
        assert login_form(client, f"nobody-{i // 2}", "wrong").status_code == 401
    assert login_form(b, "admin", TEST_PASSWORDS["admin"]).status_code == 429
    assert login_form(a, "admin", TEST_PASSWORDS["admin"]).status_code == 429
    for w in workers:
        w.extensions["geoapp.store"].close()


def _fail_from(client, address: str, count: int, headers=None) -> list[int]:
    return [
        login_form(client, f"nobody-{address}-{i}", "wrong", headers=headers).status_code
        for i in range(count)
    ]


def test_trusted_proxy_clients_are_counted_apart(demo_sqlite_url):
    """With PROXY_COUNT=1 the address is X-Forwarded-For's: one client locked out by its 12
    failures does not lock out another client behind the same proxy."""
    app = limited_app(demo_sqlite_url, Clock(), PROXY_COUNT=1)
    client = app.test_client()
    one, two = {"X-Forwarded-For": "10.0.0.1"}, {"X-Forwarded-For": "10.0.0.2"}
    assert set(_fail_from(client, "one", 12, one)) == {401}
    assert login_form(client, "admin", TEST_PASSWORDS["admin"], one).status_code == 429
    assert login_form(app.test_client(), "admin", TEST_PASSWORDS["admin"], two).status_code == 302
    app.extensions["geoapp.store"].close()


def test_forwarded_for_is_ignored_without_the_proxy_setting(demo_sqlite_url):
    """Without PROXY_COUNT a client cannot dodge the address limit by sending another
    X-Forwarded-For with each try, nor pin its failures on somebody else's address."""
    app = limited_app(demo_sqlite_url, Clock())
    client = app.test_client()
    for i in range(12):
        spoof = {"X-Forwarded-For": f"10.9.{i}.1"}
        assert login_form(client, f"nobody-{i}", "wrong", spoof).status_code == 401
    r = login_form(client, "admin", TEST_PASSWORDS["admin"], {"X-Forwarded-For": "10.9.99.1"})
    assert r.status_code == 429
    app.extensions["geoapp.store"].close()


def test_a_name_lock_ends_and_grows_with_repeats_up_to_a_cap(demo_sqlite_url):
    clock = Clock()
    app = limited_app(demo_sqlite_url, clock, LOGIN_MAX_LOCK_SECONDS=1500)
    client = app.test_client()
    right = TEST_PASSWORDS["planner"]
    # locks of 600 s, then 1200 s, then the cap 1500 s
    for lock in (600, 1200, 1500, 1500):
        for _ in range(3):
            assert login_form(client, "planner", "wrong").status_code == 401
        r = login_form(client, "planner", right)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) == lock
        clock.now += timedelta(seconds=lock - 1)
        assert login_form(client, "planner", right).status_code == 429
        clock.now += timedelta(seconds=1)
    # open again after the last lock; a quiet spell as long as the cap brings the first
    # lock's length back
    clock.now += timedelta(seconds=1500)
    for _ in range(3):
        assert login_form(client, "planner", "wrong").status_code == 401
    clock.now += timedelta(seconds=599)
    assert login_form(client, "planner", right).status_code == 429
    clock.now += timedelta(seconds=1)
    assert login_form(client, "planner", right).status_code == 302
    app.extensions["geoapp.store"].close()


def test_strangers_cannot_lock_a_name_out_of_a_browser_it_signed_in_from(demo_sqlite_url):
    clock = Clock()
    app = limited_app(demo_sqlite_url, clock)
    own = app.test_client()
    assert login_form(own, "inspector", TEST_PASSWORDS["inspector"]).status_code == 302
    own.post("/logout", headers={"X-CSRFToken": csrf_of(own)})
    stranger = app.test_client()
    for _ in range(3):
        assert login_form(stranger, "inspector", "guess").status_code == 401
    assert login_form(stranger, "inspector", TEST_PASSWORDS["inspector"]).status_code == 429
    # the own browser (its device cookie) still signs in; its failures count on its own
    assert login_form(own, "inspector", "typo-1").status_code == 401
    assert login_form(own, "inspector", TEST_PASSWORDS["inspector"]).status_code == 302
    assert_signed_in(own)
    # the device cookie names one account: no help for another name
    assert login_form(own, "planner", "x").status_code == 401
    # and a stolen device cookie gets no more than the limit either
    thief = app.test_client()
    thief.set_cookie("geoapp_device", own.get_cookie("geoapp_device").value)
    for _ in range(3):
        assert login_form(thief, "inspector", "guess").status_code == 401
    assert login_form(thief, "inspector", TEST_PASSWORDS["inspector"]).status_code == 429
    # a forged device cookie is nobody's
    forged = app.test_client()
    forged.set_cookie("geoapp_device", "eyJuIjoiaW5zcGVjdG9yIiwiZCI6IngifQ.forged")
    assert login_form(forged, "inspector", TEST_PASSWORDS["inspector"]).status_code == 429
    app.extensions["geoapp.store"].close()


def test_proxy_count_must_not_be_negative(demo_sqlite_url):
    with pytest.raises(ValueError, match="PROXY_COUNT"):
        make_app(demo_sqlite_url, PROXY_COUNT=-1)


def test_guesses_sent_at_once_get_no_more_tries_than_the_limit(demo_url, live_server):
    """An attacker who sends many guesses in parallel (a threaded server, several workers)
    must not get more than LOGIN_MAX_ATTEMPTS password checks: each try is counted before
    the password is checked, not after, so tries in flight cannot all pass the lock check."""
    import http.cookiejar
    import urllib.error
    import urllib.parse
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    app = limited_app(demo_url, Clock())
    base = live_server(app)

    def guess(i: int) -> int:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        form = {"name": "planner", "password": f"wrong-{i}", "csrf_token": token}
        try:
            opener.open(f"{base}/login", urllib.parse.urlencode(form).encode())
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code
        return 200

    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(guess, range(12)))
    finally:
        app.extensions["geoapp.store"].close()
    assert codes.count(401) == 3 and codes.count(429) == 9, codes


def test_good_sign_ins_are_not_charged_to_the_address(demo_url):
    """Each try is counted before its password is checked; a right password takes the try
    back, so only failures add up to the address's limit (12 = 4 x 3)."""
    app = limited_app(demo_url, Clock())
    client = app.test_client()
    try:
        failed = _fail_from(client, "one", 11)
        good = [login_form(app.test_client(), "admin", TEST_PASSWORDS["admin"]).status_code]
        good += [login_form(app.test_client(), "admin", TEST_PASSWORDS["admin"]).status_code]
        then = _fail_from(client, "two", 2)
    finally:
        app.extensions["geoapp.store"].close()
    assert set(failed) == {401}
    assert good == [302, 302]  # the first is the address's 12th try: its lock is taken back
    assert then == [401, 429]
