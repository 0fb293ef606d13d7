"""Signing in, the CSP and the CSRF fetch wrapper in a real headless Chromium."""

import pytest

pytestmark = pytest.mark.browser
READY = "body[data-map-ready]"
# records every CSP violation the page reports (the page fixture also fails on the console
# errors Chromium prints for them)
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def base(shared_demo):
    """The demo county served for the module.  Each test signs in through the form as its
    own role; the two that sign out (which ends every session of the account) are the only
    ones of their roles (coordinator, planner), so no test ends another's session."""
    return shared_demo.base


def test_every_page_draws_under_the_csp(page, base, login):
    page.add_init_script(WATCH_CSP)
    login(page, base, "admin", next_path="/")
    page.wait_for_selector(READY, timeout=30000)
    assert "admin" in page.locator(".account .who").inner_text()
    assert page.evaluate("window.__csp") == []
    for path in ("/districts", "/units", "/districts/D1", "/units/U01", "/audit", "/users"):
        page.goto(base + path)
        if path.count("/") == 2:
            page.wait_for_selector(READY, timeout=30000)
        assert page.evaluate("window.__csp") == [], path


def test_unit_account_sees_its_own_unit(page, base, login):
    login(page, base, "unit", next_path="/")
    page.wait_for_selector(READY, timeout=30000)
    assert "责任单位" in page.locator(".account .who").inner_text()
    nav = page.locator(".topbar nav").inner_text()
    assert "本单位" in nav and "片区" not in nav and "审计日志" not in nav
    page.click("text=本单位")
    page.wait_for_selector(READY, timeout=30000)


def test_fetch_posts_carry_the_csrf_token_and_sign_out_works(page, base, login):
    login(page, base, "coordinator", next_path="/favicon.ico")
    page.goto(base + "/units")
    status = page.evaluate(
        "fetch('/logout', {method: 'POST', redirect: 'manual'}).then(r => r.type)"
    )
    assert status == "opaqueredirect"  # 302: accepted, so the header was sent
    page.goto(base + "/units")
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url


def test_sign_out_button(page, base, login):
    login(page, base, "planner", next_path="/units")
    with page.expect_navigation():
        page.click(".logout button")
    page.wait_for_load_state("networkidle")  # the favicon too, before the server stops
    assert "/login" in page.url


def test_a_unit_account_gets_a_working_problem_page_without_the_correction_form(
    page, base, login, shared_demo
):
    """The page script runs with only the controls the role may use (no console error)."""
    store = shared_demo.store
    unit = store.get_user("unit")["unit_id"]
    pk = int(store.problems({"responsible_unit_id": unit}, limit=1)[0]["id"])
    login(page, base, "unit", next_path=f"/problems/{pk}")
    page.wait_for_selector(READY, timeout=30000)
    assert page.locator("#edit-form").count() == 0
    assert page.locator("#photo-input").count() == 1
