"""The map page vs a plain folium FastMarkerCluster page, in headless Chromium, side by side.

Target: with 100,000 problems in the store, the map page (``/``) is fully drawn (districts,
areas, units and problem clusters on screen: the page sets ``data-map-ready`` on <body>) in
at most a fifth of the time a plain folium page with the same 100,000 points in a
``FastMarkerCluster`` takes (load event fired and cluster icons in the DOM); the map page's
HTML stays under 300 KB whatever the number of problems; and no main-thread task lasts
200 ms or more while the page zooms and pans (three zooms in, four pans, back out: the same
steps on both pages, each animated and followed by a second of quiet), recorded by a
``PerformanceObserver`` of Chromium's long tasks installed before the page's scripts. The
first, unmeasured load of each side is also reported: for geoapp it is the first map load
after the server started (``geoapp serve`` warms its caches before it listens).

Setup (timed, not part of the figure): a SQLite store in a temporary folder with the demo
county plus synthetic problems up to N (``bench/make_problems.py``). Both pages are served on
127.0.0.1 by werkzeug (threaded), every script and stylesheet locally (the baseline's from node_modules,
``bench/map_baseline.py``); any request to another
host is aborted and counted. Each side runs once unmeasured (server-side warm-up: caches,
templates), then RUNS times alternating, each in a browser of its own and a fresh context
(cold cache, 1400×900) that is left idle for IDLE seconds after the browser starts (and the
map page's sign-in) before the load; the figure is the median of the times read with
``performance.now()`` in the page (navigation start = 0) at the first animation frame where
the condition holds, by a probe of a few lines installed before the page's own scripts
(``PROBE``), so that no Playwright script runs in the page while it loads.

Environment: GEOAPP_BENCH_PROBLEMS (default 100000), GEOAPP_BENCH_MAP_RUNS (default 9),
GEOAPP_BENCH_MAP_IDLE (default 1.5 s; 0 loads at once, with the browser's own start-up still
running), GEOAPP_BENCH_STORE_URL (measure a store an earlier run made, e.g. bench_ledger's 1M
one, instead of building one; the bench's coordinator is added to it if missing), GEOAPP_CHROMIUM (default /usr/bin/chromium). Figures go to bench/results/map.json. Exits
non-zero only on errors (a missing target is a figure, not an error); if the map page never
becomes ready, ``geoapp_ms`` is null and the reason is in ``geoapp_error``.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import map_baseline  # noqa: E402
from common import peak_rss_mb, write_results  # noqa: E402
from make_problems import make_store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
N = int(os.environ.get("GEOAPP_BENCH_PROBLEMS", "100000"))
RUNS = int(os.environ.get("GEOAPP_BENCH_MAP_RUNS", "9"))
# idle time before each load (each in a browser of its own), so that no load pays for the
# previous one's clean-up
SETTLE_S = float(os.environ.get("GEOAPP_BENCH_MAP_SETTLE", "1.5"))
# idle time between the browser's start (and the sign-in) and the load: 0 times the load
# with the browser's own start-up work still running on the same two cores
IDLE_S = float(os.environ.get("GEOAPP_BENCH_MAP_IDLE", "1.5"))
CHROMIUM = os.environ.get("GEOAPP_CHROMIUM", "/usr/bin/chromium")
# the same flags as tests/browser/conftest.py
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
VIEWPORT = {"width": 1400, "height": 900}
GEOAPP_TIMEOUT_MS = 60_000
BASELINE_TIMEOUT_MS = 180_000
HTML_LIMIT = 300 * 1024
TARGET_RATIO = 5.0
TASK_LIMIT_MS = 200  # the longest main-thread task while loading, zooming and panning
# the map page needs an account: the bench store gets this coordinator
BENCH_USER, BENCH_PASSWORD = "bench-coordinator", "bench-password-0"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# When each page counts as drawn (a JS expression, true or false).
GEOAPP_READY = "document.body && document.body.hasAttribute('data-map-ready')"
BASELINE_READY = """(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return nav && nav.loadEventEnd > 0 && document.querySelectorAll('.marker-cluster').length > 0;
})()"""
READY_MARK = "geoapp-bench-ready"
# After the load: what a coordinator does, on both pages alike: zoom in three times, pan
# about, zoom out, each step animated and waited for ('moveend', then the page's own data
# requests and drawing: a second of quiet), while the long-task observer records.
INTERACT = """async () => {
    const map = window.geoappMap ? window.geoappMap.map
        : Object.values(window).find((v) => v && v instanceof L.Map);
    const step = (go) => new Promise((done) => {
        map.once('moveend', () => setTimeout(done, 1000));
        go();
    });
    const c = map.getCenter(), z = map.getZoom();
    for (const dz of [1, 2, 3]) await step(() => map.setZoom(z + dz));
    for (const [dx, dy] of [[300, 0], [0, 250], [-300, 0], [0, -250]]) await step(() => map.panBy([dx, dy]));
    await step(() => map.setView(c, z + 1));
    await step(() => map.setZoom(z));
    return map.getZoom();
}"""
# The clock: installed in every document before the page's own scripts, it checks the
# condition at every animation frame and logs performance.now() (navigation start = 0) at
# the first frame where it holds. Nothing of Playwright's runs in the page during the load
# (page.wait_for_function would evaluate Playwright's injected script, 25-40 ms of main
# thread on this machine, in the middle of it).
PROBE = """(() => {
    // every main-thread task over 50 ms (Chromium's Long Tasks API), load and interaction
    window.__longTasks = [];
    try {
        new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
        }).observe({type: 'longtask', buffered: true});
    } catch (e) {}
    const tick = () => {
        let ready = false;
        try { ready = !!(%s); } catch (e) { ready = false; }
        if (ready) { window.__readyAt = performance.now(); console.debug('%s ' + window.__readyAt); }
        else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})();"""
PAGE_FACTS = """() => {
    const entries = performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'));
    const nav = performance.getEntriesByType('navigation')[0];
    const status = document.getElementById('map-status');
    const readyAt = window.__readyAt || Infinity;
    const tasks = window.__longTasks || [];
    const longest = (keep) => tasks.filter(keep).reduce((m, t) => Math.max(m, t[1]), 0);
    return {
        longest_task_load_ms: Math.round(longest((t) => t[0] <= readyAt)),
        longest_task_interaction_ms: Math.round(longest((t) => t[0] > readyAt)),
        long_tasks: tasks.length,
        bytes: entries.reduce((s, e) => s + (e.encodedBodySize || 0), 0),
        load_event_ms: nav && nav.loadEventEnd > 0 ? nav.loadEventEnd : null,
        clusters: document.querySelectorAll('.marker-cluster').length,
        status_error: status && status.classList.contains('error') ? status.textContent : null,
        // the data requests (fetch/XHR) and the slowest files: where the time goes
        slowest: performance.getEntriesByType('resource')
            .filter(e => ['fetch', 'xmlhttprequest'].includes(e.initiatorType))
            .concat(performance.getEntriesByType('resource')
                .filter(e => !['fetch', 'xmlhttprequest'].includes(e.initiatorType))
                .sort((a, b) => b.responseEnd - a.responseEnd).slice(0, 3))
            .map(e => ({
                path: new URL(e.name).pathname + new URL(e.name).search,
                start_ms: Math.round(e.startTime),
                end_ms: Math.round(e.responseEnd),
                bytes: e.encodedBodySize,
            })),
    };
}"""


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss", "ftp"):
        return True
    return (parts.hostname or "").lower() in LOCAL_HOSTS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(command: list[str], port: int, env: dict | None = None):
    """Start a server in its own process (as in production, and so that it does not share
    this process's interpreter with the browser driver); wait until it answers."""
    # the server's log goes to a file: a pipe nobody reads would fill up and stop the
    # server in the middle of a long run
    log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(log.read().decode(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(base + "/", timeout=30):
                return base, proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{command[0]} did not answer on {base} within 60 s")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def baseline_page(url: str, folder: Path) -> tuple[Path, dict]:
    """A plain folium page: the same points in a FastMarkerCluster, its files served
    locally from node_modules by the baseline's own app (``bench/map_baseline.py``)."""
    from geoapp.store import open_store

    start = time.perf_counter()
    with open_store(url) as store:
        points = [[p["lat"], p["lon"]] for p in store.problems()]
        bounds = store.areas().total_bounds
    read_s = time.perf_counter() - start
    path, facts = map_baseline.render_page(points, bounds, folder)
    return path, {"read_points_s": round(read_s, 2), **facts}


def html_size(base: str, login: bool = False) -> int:
    """Bytes of the page at / (signed in first when ``login``)."""
    import http.cookiejar
    import urllib.parse

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    if login:
        with opener.open(base + "/login", timeout=120) as response:
            html = response.read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        form = {"csrf_token": token, "name": BENCH_USER, "password": BENCH_PASSWORD, "next": "/"}
        opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=120).read()
    with opener.open(base + "/", timeout=120) as response:
        if login and "/login" in response.url:
            raise RuntimeError("not signed in: / answered with the sign-in page")
        return len(response.read())


def sign_in(context, base: str) -> None:
    """Sign the context in as the bench's coordinator through the real sign-in form (its
    requests share the context's cookies, and load nothing into the page's cache)."""
    html = context.request.get(base + "/login").text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if token is None:
        raise RuntimeError("no sign-in form at /login")
    form = {"csrf_token": token.group(1), "name": BENCH_USER, "password": BENCH_PASSWORD}
    form["next"] = "/"
    answer = context.request.post(base + "/login", form=form, max_redirects=0)
    if answer.status not in (302, 303):
        raise RuntimeError(f"signing in answered {answer.status}")


def measure(
    browser, base: str, ready: str, timeout_ms: int, login: bool = False, settle_s: float = 0.0
) -> dict:
    """One cold load in a fresh context (signed in first when ``login``): ms until
    ``ready`` holds, plus what happened."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=VIEWPORT,
        service_workers="block",
    )
    log = {"requests": 0, "blocked": [], "failed": [], "page_errors": [], "console_errors": []}

    def guard(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            log["blocked"].append(route.request.url)
            route.abort("blockedbyclient")

    def on_response(response):
        if response.status >= 400:
            log["failed"].append(f"{response.status} {response.url}")

    def on_console(message):
        if message.type == "error":
            log["console_errors"].append(message.text)

    context.route("**/*", guard)
    if login:
        sign_in(context, base)
    context.add_init_script(PROBE % (ready, READY_MARK))
    page = context.new_page()
    # the browser has just started (its own processes, the sign-in): let it settle, so the
    # load is timed as a user's in a running browser, not with start-up work on both cores
    time.sleep(settle_s)
    page.on("request", lambda request: log.__setitem__("requests", log["requests"] + 1))
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: log["page_errors"].append(str(error)))
    result = {"ms": None, "error": None}
    try:
        with page.expect_console_message(
            lambda m: m.text.startswith(READY_MARK + " "), timeout=timeout_ms
        ) as message:
            response = page.goto(base + "/", wait_until="commit", timeout=timeout_ms)
            if response is not None and response.status >= 400:
                raise RuntimeError(f"HTTP {response.status} for /")
        result["ms"] = round(float(message.value.text.split()[1]), 1)
        page.evaluate(INTERACT)
        result.update(page.evaluate(PAGE_FACTS))
    except Exception as exc:  # a timeout or a crash: a figure of its own, not a bench error
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        context.close()
    result.update(
        requests=log["requests"],
        external_requests=len(log["blocked"]),
        blocked=log["blocked"][:5],
        failed_responses=log["failed"][:5],
        page_errors=log["page_errors"][:5],
        console_errors=log["console_errors"][:5],
    )
    return result


def problems_of(run: dict) -> str | None:
    """Why a run does not count (the page signalled ready but something failed), or None."""
    if run["error"]:
        return run["error"]
    if run.get("status_error"):
        return f"the page reported: {run['status_error']}"
    if run["page_errors"]:
        return f"page error: {run['page_errors'][0]}"
    api_failed = [f for f in run["failed_responses"] if "/favicon" not in f]
    if api_failed:
        return f"failed response: {api_failed[0]}"
    return None


def summarise(runs: list[dict], warmup: dict | None, broken: str | None = None) -> dict:
    """The median of the measured runs and the facts of the median run; None and the reason
    when the side could not be measured or any run went wrong."""
    if broken is None and warmup is not None and problems_of(warmup) and not runs:
        broken = f"warm-up: {problems_of(warmup)}"
    errors = [e for e in (problems_of(r) for r in runs) if e]
    good = [r for r in runs if problems_of(r) is None]
    out: dict = {
        "median_ms": None,
        "runs_ms": [r["ms"] for r in runs],
        "warmup_ms": warmup["ms"] if warmup else None,
        "external_requests": sum(r["external_requests"] for r in runs + [warmup] if r),
        "error": broken or (errors[0] if errors else None),
    }
    tasks = [r for r in good if r.get("longest_task_load_ms") is not None]
    for key in ("longest_task_load_ms", "longest_task_interaction_ms"):
        out[key] = max((r[key] for r in tasks), default=None)  # the worst of the runs
    if warmup is not None and not problems_of(warmup):
        out["first_load_after_start_ms"] = warmup["ms"]
    if good and len(good) == len(runs) and out["error"] is None:
        median = sorted(good, key=lambda r: r["ms"])[(len(good) - 1) // 2]
        out["median_ms"] = round(statistics.median(r["ms"] for r in good), 1)
        out["median_run"] = {
            "requests": median["requests"],
            "bytes_loaded": median.get("bytes"),
            "load_event_ms": round(median["load_event_ms"], 1)
            if median.get("load_event_ms")
            else None,
            "cluster_icons": median.get("clusters"),
            "timeline": median.get("slowest"),
        }
    console = [c for r in runs + [warmup] if r for c in r["console_errors"]]
    out["console_errors"] = sorted(set(console))[:5]
    return out


def main() -> int:
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if not os.access(CHROMIUM, os.X_OK):
        print(f"Chromium not found at {CHROMIUM} (never `playwright install`)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="geoapp-bench-map-") as tmp:
        folder = Path(tmp)
        print(f"setting up a store with {N:,} problems…", flush=True)
        from geoapp.services.accounts import create_user
        from geoapp.store import open_store
        from geoapp.store.errors import NotFound

        url = os.environ.get("GEOAPP_BENCH_STORE_URL")  # a store an earlier run made
        if url:
            with open_store(url) as store:
                setup = {"problems": store.count_problems(), "setup_s": 0.0, "reused": url}
        else:
            url, setup = make_store(folder, N)
        with open_store(url) as store:
            try:
                store.get_user(BENCH_USER)
            except NotFound:
                create_user(store, BENCH_USER, BENCH_PASSWORD, "coordinator")
        html_file, baseline_setup = baseline_page(url, folder)
        print(f"setup: {setup}\nbaseline page: {baseline_setup}", flush=True)

        figures: dict = {"problems": setup["problems"], "runs": RUNS}
        servers = []
        port = free_port()
        folium_base, proc = serve(
            [sys.executable, __file__, "--serve-baseline", str(html_file), str(port)], port
        )
        servers.append(proc)
        sides = {"folium": (folium_base, BASELINE_READY, BASELINE_TIMEOUT_MS)}
        broken: str | None = None
        try:
            port = free_port()
            geoapp_cli = str(Path(sys.executable).with_name("geoapp"))
            geo_base, proc = serve(
                [geoapp_cli, "--database-url", url, "serve", "--port", str(port)], port
            )
            servers.append(proc)
            sides["geoapp"] = (geo_base, GEOAPP_READY, GEOAPP_TIMEOUT_MS)
        except Exception as exc:  # the app does not start: no geoapp figures, baseline still
            broken = f"geoapp serve failed: {type(exc).__name__}: {exc}"
            print(broken, file=sys.stderr, flush=True)
        runs: dict[str, list[dict]] = {"folium": [], "geoapp": []}
        first: dict[str, dict | None] = {"folium": None, "geoapp": None}
        try:
            figures["geoapp_html_bytes"] = None
            figures["folium_html_bytes"] = html_size(folium_base)
            if "geoapp" in sides:
                try:
                    figures["geoapp_html_bytes"] = html_size(geo_base, login=True)
                except Exception as exc:
                    figures["geoapp_html_error"] = f"{type(exc).__name__}: {exc}"
            with sync_playwright() as pw:

                def load(base: str, ready: str, timeout: int) -> dict:
                    login = base != folium_base
                    # a browser of its own for every load: no page pays for another's
                    # clean-up (a context that held 100,000 markers takes a while to go)
                    time.sleep(SETTLE_S)
                    browser = pw.chromium.launch(
                        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                    )
                    try:
                        return measure(browser, base, ready, timeout, login, IDLE_S)
                    finally:
                        browser.close()

                # one unmeasured load per side warms the servers (caches, templates);
                # a side that fails it is not measured further
                for side, (base, ready, timeout) in list(sides.items()):
                    run = first[side] = load(base, ready, timeout)
                    note = problems_of(run)
                    print(f"[warm-up] {side}: {run['ms']} ms {note or ''}", flush=True)
                    if note:
                        del sides[side]
                for i in range(RUNS):
                    for side, (base, ready, timeout) in sides.items():
                        run = load(base, ready, timeout)
                        runs[side].append(run)
                        note = problems_of(run) or ""
                        print(f"[run {i + 1}] {side}: {run['ms']} ms {note}", flush=True)
        finally:
            for proc in servers:
                stop(proc)

    base = summarise(runs["folium"], first["folium"])
    geo = summarise(runs["geoapp"], first["geoapp"], broken)
    geo_ms, base_ms = geo["median_ms"], base["median_ms"]
    ratio = round(base_ms / geo_ms, 2) if geo_ms and base_ms else None
    html = figures["geoapp_html_bytes"]
    figures.update(
        {
            "geoapp_ms": geo_ms,
            "folium_fastmarkercluster_ms": base_ms,
            "ratio": ratio,
            "target_ratio": TARGET_RATIO,
            "ratio_met": ratio is not None and ratio >= TARGET_RATIO,
            "geoapp_longest_task_ms": geo.get("longest_task_interaction_ms"),
            "folium_longest_task_ms": base.get("longest_task_interaction_ms"),
            "geoapp_longest_task_load_ms": geo.get("longest_task_load_ms"),
            "folium_longest_task_load_ms": base.get("longest_task_load_ms"),
            "task_limit_ms": TASK_LIMIT_MS,
            "geoapp_first_load_after_start_ms": geo.get("first_load_after_start_ms"),
            "geoapp_html_limit_bytes": HTML_LIMIT,
            "geoapp_html_met": html is not None and html < HTML_LIMIT,
            "external_requests": geo["external_requests"] + base["external_requests"],
            "geoapp_error": geo["error"],
            "folium_error": base["error"],
            "geoapp": geo,
            "folium_fastmarkercluster": base,
            "setup_s": setup["setup_s"],
            "setup": {**setup, "baseline_page": baseline_setup},
            "viewport": f"{VIEWPORT['width']}x{VIEWPORT['height']}",
            "clock": "performance.now() in the page (navigation start = 0) at the first "
            "animation frame where the page counts as drawn, logged by an init-script probe",
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    )
    write_results("map", figures)
    print(
        f"{figures['problems']:,} problems (machine shared and busy: timings under load)\n"
        f"  load, median of {RUNS}: geoapp {geo_ms} ms, folium FastMarkerCluster {base_ms} ms"
        f" -> {ratio}x (target {TARGET_RATIO}x)\n"
        f"  first geoapp load after the server started: {geo.get('first_load_after_start_ms')} ms\n"
        f"  longest main-thread task, zooming and panning: geoapp "
        f"{geo.get('longest_task_interaction_ms')} ms, folium {base.get('longest_task_interaction_ms')}"
        f" ms (limit {TASK_LIMIT_MS} ms); while loading: geoapp {geo.get('longest_task_load_ms')}"
        f" ms, folium {base.get('longest_task_load_ms')} ms\n"
        f"  HTML: geoapp {html} bytes, folium {figures['folium_html_bytes']} bytes",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-baseline":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        map_baseline.make_app(Path(sys.argv[2])).run(
            host="127.0.0.1", port=int(sys.argv[3]), threaded=True
        )
        sys.exit(0)
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(1)
