"""Every page at phone width (393 x 851) in a real headless Chromium: the top bar keeps each
link on one line (it scrolls sideways), and a page with a sidebar puts it above its map or
ledger, which keeps the width of the screen instead of the few pixels a 300 px sidebar
beside it would leave."""

import pytest

pytestmark = pytest.mark.browser
PHONE = {"width": 393, "height": 851}


#: the pages that start a draft: each test of those has its own copy of the county
WRITERS = ("/editor-draft", "/editor-drafts")


@pytest.fixture
def served(request, page):
    """The tiny county served, ``page`` signed in as the admin: the module's shared app for
    a page that only reads, a private copy for a page that starts a draft."""
    if request.node.callspec.params["path"] in WRITERS:
        serve = request.getfixturevalue("serve")
        return serve(request.getfixturevalue("tiny_county_url"), "admin")
    return request.getfixturevalue("shared_tiny").sign_in(page, "admin")


def first_problem_path(page, base):
    features = page.request.get(f"{base}/api/problems").json()["features"]
    return f"/problems/{features[0]['id']}"


MAIN_PANE = ".layout > .map-wrap, .layout > .ledger-body, main > .page"
SIDEBAR_PAGES = ["/", "/ledger", "PROBLEM", "/report", "/generations", "/units/U1", "/editor-draft"]
PLAIN_PAGES = ["/audit", "/users", "/import", "/editor", "/units", "/districts"]


def open_at_phone_width(page, base, path):
    page.set_viewport_size(PHONE)
    if path == "PROBLEM":
        path = first_problem_path(page, base)
    if path in ("/editor-draft", "/editor-drafts"):
        page.goto(f"{base}/editor")
        with page.expect_navigation():
            page.click("#btn-new-draft")
        if path == "/editor-drafts":  # the list of drafts, with the one just started
            page.goto(f"{base}/editor")
    else:
        page.goto(base + path)
    page.wait_for_load_state("load")


def nav_links_on_one_line(page):
    """The text of every top-bar link taller than one line of its font."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.topbar a, .topbar .who')).filter(a => {
             const line = parseFloat(getComputedStyle(a).lineHeight) ||
                          1.5 * parseFloat(getComputedStyle(a).fontSize);
             return a.getBoundingClientRect().height > 1.6 * line;
           }).map(a => a.textContent.trim())"""
    )


@pytest.mark.parametrize("path", SIDEBAR_PAGES + PLAIN_PAGES)
def test_pages_fit_a_phone(page, served, path):
    open_at_phone_width(page, served, path)
    assert nav_links_on_one_line(page) == []
    pane = page.locator(MAIN_PANE).first.bounding_box()
    assert pane["width"] >= PHONE["width"] - 2, (path, pane)  # the full width of the screen
    if path in SIDEBAR_PAGES:
        assert pane["height"] >= 300, (path, pane)  # a map or a ledger one can use
        sidebar = page.locator(".layout > .sidebar").bounding_box()
        assert sidebar["y"] + sidebar["height"] <= pane["y"] + 1  # above it, not beside it
    # nothing but the top bar and wide tables (which scroll themselves) is wider than the screen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


TIMED_PAGES = [
    "/audit",
    "/generations",
    "/users",
    "/editor-drafts",
    "PROBLEM",
    "/ledger/print?unit=U1",
]


@pytest.mark.parametrize("width", [PHONE["width"], 1366], ids=["phone", "desktop"])
@pytest.mark.parametrize("path", TIMED_PAGES)
def test_a_time_is_never_broken_over_lines(page, served, path, width):
    """A time in a narrow column stays '2026-12-07 15:03' on one line (the audit and the
    generations tables broke it into '2026-' / '12-07' / '15:03')."""
    open_at_phone_width(page, served, path)
    page.set_viewport_size({"width": width, "height": 851})
    # every shown time in the page's text, and how many lines the browser laid it out on
    times = page.evaluate(
        """() => {
             const found = [];
             const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
             for (let node = walk.nextNode(); node; node = walk.nextNode()) {
               for (const m of node.data.matchAll(/\\d{4}-\\d\\d-\\d\\d( \\d\\d:\\d\\d)?/g)) {
                 const range = document.createRange();
                 range.setStart(node, m.index);
                 range.setEnd(node, m.index + m[0].length);
                 const tops = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
                 if (tops.size) found.push([m[0], tops.size]);
               }
             }
             return found;
           }"""
    )
    assert times, path
    broken = [text for text, lines in times if lines != 1]
    assert broken == [], path
