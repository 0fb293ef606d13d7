"""Headless Chromium fixtures (Python playwright, sync API, Debian's /usr/bin/chromium).

* ``browser`` (session): a launched Chromium. Skips the test when Chromium is missing,
  except under CI=true, where that is a failure.
* ``page`` (function): a fresh context (locale zh-CN) and page. Every request to a host
  other than 127.0.0.1/localhost fails (it goes to a dead proxy) and is recorded; console errors and uncaught page
  errors are recorded. At teardown the test errors if anything external was attempted or
  (unless marked ``@pytest.mark.allow_console_errors``) anything went to the console as
  an error. ``page_log`` gives the test the recorded data while it runs.
* ``keep_screenshot(page, name, **options)`` (function): a screenshot for a human to look at, taken only
  when GEOAPP_SCREENSHOT_DIR names a folder (a full-page PNG costs the browser a second at
  phone height; a test that checks pixels takes its own).
* ``login`` (function): ``login(page, base_url, role="admin")`` signs the page in through
  the real sign-in form as the demo account of that role (password ``"<role>-password"``,
  as ``TEST_PASSWORDS`` in tests/conftest.py) and waits for the page it lands on.
* ``sign_in_as`` (function): ``sign_in_as(page, base_url, role="admin", next_path=None)``
  gives the page's context the session cookie a sign-in as ``role`` would (written as
  tests/webclient.py's ``sign_in`` writes it, for the app served at ``base_url`` here), then
  opens ``next_path`` if given: no sign-in page, no form, no redirect.  For tests of something
  else than signing in (tests/browser/test_security_pages.py signs in through the form).
* ``make_app_for_browser(url, **config)`` (function): the app on the store at ``url`` (its
  templates compiled once per run).
* ``live_server`` (function): as tests/conftest.py's, but its server polls for shutdown every
  20 ms instead of 500 ms (stopping a server cost half a second of every test's teardown).
* ``shared_server`` (module): ``served = shared_server(url, **config)`` serves one app per
  module (a ``Served``: ``base``, ``url``, ``store``); closed at the end of the module.  For
  tests that only read the store (each test still has its own context and ``page``).
* ``Served.sign_in(page, role)`` signs ``page`` in as ``role`` with the session cookies of one
  real sign-in through the form per role and app (no page load, no password hashing); the
  sign-in page gets the ``page`` fixture's checks.  A test that signs out (which ends every
  session of the account) must not share its role's cookies.
* ``shared_demo`` / ``shared_tiny`` / ``shared_demo_any`` (module): a ``Served`` on a private
  copy of the demo county in SQLite / of the tiny county / of the demo county once per
  backend (SQLite and PostGIS), for one module's readers.

Never download a browser (no ``playwright install``); set GEOAPP_CHROMIUM to use another
executable.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

CHROMIUM = os.environ.get("GEOAPP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "allow_console_errors: the page fixture does not fail the test on console errors",
    )


def is_local(url: str) -> bool:
    """True for URLs that never leave the machine (127.0.0.1/localhost, data:, blob:...)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss", "ftp"):
        return True
    return (parts.hostname or "").lower() in LOCAL_HOSTS


@dataclass
class PageLog:
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    blocked: list[str] = field(default_factory=list)  # external ones, aborted
    console_errors: list[str] = field(default_factory=list)  # console.error + page errors
    failed_responses: list[str] = field(default_factory=list)  # local 4xx/5xx
    failed_details: list[str] = field(default_factory=list)  # the same, with what was sent/said


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium); never `playwright install`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


#: where a context sends every request for another host: a port on this machine where nothing
#: listens, so the request fails in the browser.  Local requests bypass it and go straight to
#: the server: no route (a route sent every request through the driver and this process,
#: and turned the browser's cache off).
DEAD_PROXY = {"server": "http://127.0.0.1:9", "bypass": "127.0.0.1,localhost,[::1]"}


def guarded_context(browser, page_log: PageLog):
    """A new context (locale zh-CN, Beijing time, 1280 x 800, no service workers) in which
    every request to another host is sent to ``DEAD_PROXY`` (it fails) and recorded in
    ``page_log.blocked``."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 800},
        service_workers="block",
        proxy=DEAD_PROXY,
    )
    context.set_default_timeout(15_000)

    def guard(request):
        if not is_local(request.url):
            page_log.blocked.append(request.url)

    context.on("request", guard)
    return context


@pytest.fixture
def page(browser, page_log: PageLog, request, live_server):
    # live_server is asked for first so that it stops after this page's context closes:
    # otherwise a request still in flight (a favicon) is reset and logged as an error
    context = guarded_context(browser, page_log)
    page = watched_page(context, page_log)
    try:
        yield page
    finally:
        context.close()
    check_log(
        page_log, allow_console_errors=bool(request.node.get_closest_marker("allow_console_errors"))
    )


def watched_page(context, page_log: PageLog):
    """A new page of ``context`` whose requests, console errors, page errors and failed
    responses go to ``page_log``."""
    page = context.new_page()

    def on_console(message):
        if message.type == "error":
            location = message.location or {}
            page_log.console_errors.append(f"console: {message.text} @ {location.get('url', '')}")

    def on_response(response):
        if response.status >= 400:
            # what was sent and what came back, so a failure says why (read now: the page
            # and its bodies are gone by the time the log is checked)
            try:
                answer = response.text()[:500]
            except Exception as exc:  # noqa: BLE001 - the body may already be gone
                answer = f"<body unavailable: {exc}>"
            page_log.failed_responses.append(f"{response.status} {response.url}")
            page_log.failed_details.append(
                f"{response.status} {response.request.method} {response.url}"
                f" sent={(response.request.post_data or '')[:500]!r} answer={answer!r}"
            )

    page.on("console", on_console)
    page.on("pageerror", lambda error: page_log.console_errors.append(f"pageerror: {error}"))
    page.on("request", lambda req: page_log.requests.append(req.url))
    page.on("response", on_response)
    return page


def check_log(page_log: PageLog, allow_console_errors: bool = False) -> None:
    """Fail when anything external was attempted or (unless allowed) anything went to the
    console as an error or a local request failed."""
    problems = []
    if page_log.blocked:
        problems.append(f"external requests attempted (aborted): {page_log.blocked}")
    if not allow_console_errors:
        if page_log.console_errors:
            problems.append(f"console errors: {page_log.console_errors}")
        if page_log.failed_responses:
            problems.append(f"failed responses: {page_log.failed_details}")
    assert not problems, "\n".join(problems)


def sign_in_page(page, base_url: str, role: str = "admin", next_path: str = "/") -> None:
    """Sign ``page`` in with the login form as the demo account ``role``."""
    page.goto(f"{base_url}/login?next={quote(next_path, safe='')}")
    page.fill("input[name=name]", role)
    page.fill("input[name=password]", f"{role}-password")
    with page.expect_navigation():
        page.click("form.login-form button[type=submit]")
    assert "/login" not in page.url, f"could not sign in as {role}"


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, base_url, role="admin")``: sign a page in as a demo account."""
    return sign_in_page


def start_server(app) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` on 127.0.0.1 on a free port in a daemon thread: (base URL, stop).  The
    server looks for a shutdown request every 20 ms (werkzeug's default, 500 ms, was half a
    second of every browser test's teardown)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.02},
        name=f"live_server:{server.server_port}",
        daemon=True,
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    SERVED_APPS[base] = app

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        SERVED_APPS.pop(base, None)

    return base, stop


#: the app each running server of this process serves, by its base URL (for ``sign_in_as``)
SERVED_APPS: dict[str, object] = {}


def session_cookie(app, base_url: str, role: str) -> dict:
    """The session cookie (a Playwright cookie for ``base_url``) of the demo account ``role``
    signed in on ``app``: the session tests/webclient.py's ``sign_in`` writes, signed with
    the app's key."""
    from webclient import sign_in

    client = sign_in(app.test_client(), role)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no session cookie for {role}"
    return {
        "name": name,
        "value": cookie.value,
        "url": base_url,
        "httpOnly": True,
        "sameSite": "Lax",
    }


def sign_in_directly(page, base_url: str, role: str = "admin", next_path: str | None = None):
    """Sign ``page`` in as ``role`` on the app served at ``base_url`` by giving its context
    the session cookie (see ``session_cookie``); then open ``next_path`` when given."""
    page.context.add_cookies([session_cookie(SERVED_APPS[base_url], base_url, role)])
    if next_path is not None:
        page.goto(base_url + next_path)
        assert "/login" not in page.url, f"could not sign in as {role}"


@pytest.fixture
def sign_in_as() -> Callable[..., None]:
    """``sign_in_as(page, base_url, role="admin", next_path=None)``: see ``sign_in_directly``."""
    return sign_in_directly


@pytest.fixture
def live_server():
    """``base_url = live_server(app)``: the app served until the end of the test (see
    ``start_server``)."""
    stops = []

    def start(app) -> str:
        base, stop = start_server(app)
        stops.append(stop)
        return base

    yield start
    for stop in stops:
        stop()


def browser_app(url: str, **config):
    """The app on the store at ``url`` (already at the schema's head), as the browser tests
    serve it; its templates' compiled code is shared with every other app of the run."""
    from webclient import TEMPLATE_CODE

    from geoapp import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True, **config})
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    return app


@pytest.fixture
def make_app_for_browser() -> Callable[..., object]:
    """``app = make_app_for_browser(url, **config)``: see ``browser_app``."""
    return browser_app


class Served:
    """An app served for a whole module: ``base`` (URL), ``url`` (its store's), ``store``."""

    def __init__(self, browser, url: str, **config):
        self.browser = browser
        self.url = url
        self.app = browser_app(url, **config)
        self.store = self.app.extensions["geoapp.store"]
        self.base, self._stop = start_server(self.app)
        self._cookies: dict[str, list] = {}

    def sign_in(self, page, role: str = "admin") -> str:
        """Sign ``page`` in as the demo account ``role``: the session cookies of one sign-in
        through the real form (per role and app) are given to the page's context.  Returns
        the base URL."""
        if role not in self._cookies:
            log = PageLog()
            context = guarded_context(self.browser, log)
            try:
                sign_in_page(watched_page(context, log), self.base, role, "/favicon.ico")
                self._cookies[role] = context.cookies()
            finally:
                context.close()
            check_log(log)  # the page fixture's checks, on the sign-in
        page.context.add_cookies(self._cookies[role])
        return self.base

    def close(self) -> None:
        if self._stop is not None:
            self._stop()
            self.store.close()
            self._stop = None


@pytest.fixture(scope="module")
def shared_server(browser):
    """``served = shared_server(url, **config)``: the app on ``url`` served until the end of
    the module (a ``Served``), for tests that only read its store."""
    started: list[Served] = []

    def start(url: str, **config) -> Served:
        served = Served(browser, url, **config)
        started.append(served)
        return served

    yield start
    for served in started:
        served.close()


BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


def sqlite_copy(template, tmp_path_factory, name: str) -> str:
    path = tmp_path_factory.mktemp("shared") / name
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module", params=BACKENDS)
def shared_demo_any(request, shared_server, tmp_path_factory):
    """The demo county served for one module's readers (a ``Served`` on a private copy),
    once per backend: SQLite and PostGIS."""
    if request.param == "sqlite":
        template = request.getfixturevalue("demo_sqlite_template")
        yield shared_server(sqlite_copy(template, tmp_path_factory, "demo.sqlite"))
        return
    dbs = request.getfixturevalue("postgis_databases")
    url = dbs.create(template=request.getfixturevalue("demo_postgis_template"))
    served = shared_server(url)
    yield served
    served.close()
    dbs.drop(url)


@pytest.fixture(scope="module")
def shared_demo(shared_server, demo_sqlite_template, tmp_path_factory) -> Served:
    """The demo county in SQLite served for one module's readers (a ``Served``)."""
    return shared_server(sqlite_copy(demo_sqlite_template, tmp_path_factory, "demo.sqlite"))


@pytest.fixture(scope="module")
def shared_tiny(shared_server, tiny_county_template: Path, tmp_path_factory) -> Served:
    """The tiny county (with the demo accounts) in SQLite served for one module's readers
    (a ``Served``)."""
    return shared_server(sqlite_copy(tiny_county_template, tmp_path_factory, "tiny.sqlite"))


@pytest.fixture
def serve(live_server, page):
    """``base = serve(database_url, role="admin", next_path=None)``: the app on that store
    served, and ``page`` signed in as the demo account ``role`` (see ``sign_in_directly``;
    on ``next_path`` when given); the store is closed at teardown."""
    apps = []

    def start(url: str, role: str = "admin", next_path: str | None = None) -> str:
        app = browser_app(url)
        apps.append(app)
        base = live_server(app)
        sign_in_directly(page, base, role, next_path)
        return base

    yield start
    for app in apps:
        app.extensions["geoapp.store"].close()


@pytest.fixture(scope="session")
def tiny_county_template(build_once) -> Path:
    """The tiny county of tests/hand_county.py and the demo accounts in a SQLite file, built
    once per run: loading it and hashing five passwords takes longer than most browser
    tests."""
    from hand_county import open_county
    from webclient import seed_test_accounts

    def build(folder: Path) -> str:
        path = folder / "tiny.sqlite"
        store = open_county(f"sqlite:///{path}", folder / "county")
        try:
            seed_test_accounts(store)
        finally:
            store.close()
        return str(path)

    return Path(build_once("tiny-county", build))


@pytest.fixture
def tiny_county_url(tiny_county_template: Path, tmp_path) -> str:
    """A private SQLite copy of the tiny county of tests/hand_county.py with the demo
    accounts."""
    path = tmp_path / "tiny.sqlite"
    shutil.copyfile(tiny_county_template, path)
    return f"sqlite:///{path}"


def save_screenshot(page, name: str, **options) -> Path | None:
    """Save a screenshot of ``page`` as ``name`` in GEOAPP_SCREENSHOT_DIR, when that is set
    (for the README and for reviewers); otherwise take none."""
    folder = os.environ.get("GEOAPP_SCREENSHOT_DIR")
    if not folder:
        return None
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), **options)
    return path


@pytest.fixture
def keep_screenshot() -> Callable[..., Path | None]:
    """``keep_screenshot(page, name, **options)``: see ``save_screenshot``."""
    return save_screenshot
