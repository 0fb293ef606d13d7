"""The ``page`` fixture's guard (tests/browser/conftest.py): a request for another host fails
in the browser and is recorded, whatever its scheme or address; local requests go through."""

import pytest

pytestmark = pytest.mark.browser
EXTERNAL = [
    "http://example.com/tile.png",
    "https://example.com/lib.js",
    "http://93.184.216.34/by-address",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/v6",
]


@pytest.mark.allow_console_errors  # Chromium logs each refused load
def test_a_request_for_another_host_fails_and_is_recorded(page, page_log, shared_tiny):
    failures = []
    page.on("requestfailed", lambda r: failures.append((r.url, r.failure)))
    assert page.goto(shared_tiny.base + "/static/favicon.svg").ok  # local: answered
    page.goto("about:blank")  # a page without the app's CSP, which would stop them first
    outcome = page.evaluate(
        """(urls) => Promise.all(urls.map(u => fetch(u, {mode: 'no-cors'})
             .then(() => 'answered', () => 'failed')))""",
        EXTERNAL,
    )
    assert outcome == ["failed"] * len(EXTERNAL)
    assert sorted(page_log.blocked) == sorted(EXTERNAL)
    # refused at the dead proxy, never looked up or sent anywhere
    assert sorted(url for url, _ in failures) == sorted(EXTERNAL)
    assert {why for _, why in failures} == {"net::ERR_PROXY_CONNECTION_FAILED"}, failures
    page_log.blocked.clear()  # seen: the fixture would fail the test on them
