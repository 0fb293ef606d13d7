"""A 12 MP camera photo reported from the phone page on a throttled "slow 3G" network,
against uploading the original file: bytes sent and time until the server acknowledged.

Setup (not timed): the demo county in a SQLite store in a temporary folder, the app served
by werkzeug on 127.0.0.1, headless Chromium at 393 x 851 signed in as the demo inspector.
The photo is drawn and encoded by Chromium (4000 x 3000, JPEG quality 0.92, a photo's
grain), with EXIF orientation 6 and GPS in front, as a phone camera saves it.

Network: Chromium DevTools' emulation (``Network.emulateNetworkConditions``) with the
classic "Slow 3G" preset: 2,000 ms latency, 50,000 bytes/s down and up (400 kbit/s).

- ``shrunk`` (geoapp): the phone page as an inspector uses it: the photo is picked in
  ``#photos`` (shrunk on the phone: the time is ``shrink_s``, this machine's CPU, not a
  phone's), the report is sent from the queue; the figure is the time from the click on
  "send" to the queue item being acknowledged (``data-queue=0``) and the bytes of the
  request body.
- ``original`` (the named baseline): the same report with the original file, posted from the
  same page to the same route by ``fetch`` (what a form with a file input does), timed to the
  server's answer.
Each side runs RUNS times (default 3), alternating, every run a new report (client id); the
figure is the median.  Ratios are original / shrunk.  Figures go to
bench/results/field.json.  Environment: GEOAPP_BENCH_FIELD_RUNS, GEOAPP_CHROMIUM.
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from common import write_results  # noqa: E402
from field_helpers import CANVAS_PHOTO_JS, exif_block, segment  # noqa: E402

RUNS = int(os.environ.get("GEOAPP_BENCH_FIELD_RUNS", "3"))
CHROMIUM = os.environ.get("GEOAPP_CHROMIUM", "/usr/bin/chromium")
SLOW_3G = {
    "offline": False,
    "latency": 2000,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
PASSWORD = "bench-inspector"
SIZES: list[int] = []  # request body bytes of each POST /field/api/reports

POST_ORIGINAL = """async ([url, b64, report]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const form = new FormData();
  form.append('report', JSON.stringify(report));
  form.append('photo', new Blob([bytes], {type: 'image/jpeg'}), 'IMG_0001.jpg');
  const start = performance.now();
  const r = await fetch(url, {method: 'POST', body: form, headers: {Accept: 'application/json'}});
  const body = await r.json();
  return {status: r.status, seconds: (performance.now() - start) / 1000, message: body.message};
}"""


def serve(folder: Path) -> tuple[str, object]:
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from geoapp import create_app
    from geoapp.services import mapping
    from geoapp.services.accounts import seed_demo_accounts
    from geoapp.store import open_store

    url = f"sqlite:///{folder / 'field.sqlite'}"
    with open_store(url, upgrade=True) as store:
        mapping.load_county(store)
        seed_demo_accounts(store, {"inspector": PASSWORD})
    app = create_app({"DATABASE_URL": url, "UPLOAD_DIR": str(folder / "up")})
    inner = app.wsgi_app

    def counting(environ, start_response):
        """The bytes of every report's request body, as they arrive."""
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/field/api/reports":
            SIZES.append(int(environ.get("CONTENT_LENGTH") or 0))
        return inner(environ, start_response)

    app.wsgi_app = counting
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", (server, app)


def a_point(app) -> tuple[float, float]:
    import shapely

    areas = app.extensions["geoapp.store"].areas()
    pt = shapely.maximum_inscribed_circle(areas.geometry.iloc[0], 1e-6).coords[0]
    return float(pt[0]), float(pt[1])


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        base, (server, app) = serve(folder)
        lon, lat = a_point(app)
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 393, "height": 851},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            permissions=["geolocation"],
            geolocation={"longitude": lon, "latitude": lat, "accuracy": 10},
        )
        context.set_default_timeout(600_000)
        page = context.new_page()
        page.goto(f"{base}/login?next=/field/")
        page.fill("input[name=name]", "inspector")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form.login-form button[type=submit]")
        page.wait_for_selector("body[data-map-ready]")
        jpeg = base64.b64decode(page.evaluate(CANVAS_PHOTO_JS, [4000, 3000, 0.92]))
        original = jpeg[:2] + segment(0xE1, exif_block(6, (lon, lat))) + jpeg[2:]
        photo = folder / "IMG_0001.jpg"
        photo.write_bytes(original)
        page.click("#locate")
        page.wait_for_selector("body[data-located][data-lookup=done]")
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        shrunk_runs, original_runs, shrink_runs = [], [], []
        for run in range(RUNS):
            # geoapp: pick the photo (shrunk on the phone), send, wait for the acknowledgement
            page.click("#sheet-handle")
            start = time.perf_counter()
            page.set_input_files("#photos", str(photo))
            page.wait_for_selector("body[data-photos='1']")
            shrink_runs.append(time.perf_counter() - start)
            page.select_option("#category", "litter")
            page.fill("#description", f"bench {run}")
            cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            start = time.perf_counter()
            page.click("#send")
            page.wait_for_selector(
                "body[data-queue='0'] #queue-list li[data-state=sent]", state="attached"
            )
            shrunk_runs.append((time.perf_counter() - start, SIZES[-1]))
            # the baseline: the original file to the same route
            report = {
                "client_id": f"bench-original-{run}-{time.time_ns()}",
                "lon": lon,
                "lat": lat,
                "crs": "wgs84",
                "category": "litter",
                "round": page.input_value("#round"),
                "description": f"bench original {run}",
                "accuracy_m": 10,
            }
            answer = page.evaluate(
                POST_ORIGINAL,
                [f"{base}/field/api/reports", base64.b64encode(original).decode(), report],
            )
            if answer["status"] != 201:
                raise RuntimeError(
                    f"the original upload answered {answer['status']}: {answer['message']}"
                )
            original_runs.append((answer["seconds"], SIZES[-1]))
            cdp.send(
                "Network.emulateNetworkConditions",
                {**SLOW_3G, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            )
        browser.close()
        server.shutdown()
        app.extensions["geoapp.store"].close()

    def median(runs, i):
        return statistics.median(r[i] for r in runs)

    shrunk_s, shrunk_b = median(shrunk_runs, 0), median(shrunk_runs, 1)
    orig_s, orig_b = median(original_runs, 0), median(original_runs, 1)
    write_results(
        "field",
        {
            "network": "slow 3G (2000 ms, 50,000 B/s up and down)",
            "runs": RUNS,
            "photo_bytes": len(original),
            "photo_pixels": "4000x3000",
            "shrunk": {
                "request_bytes": int(shrunk_b),
                "seconds_to_acknowledged": round(shrunk_s, 2),
                "shrink_seconds_on_this_cpu": round(statistics.median(shrink_runs), 2),
            },
            "baseline_original": {
                "request_bytes": int(orig_b),
                "seconds_to_acknowledged": round(orig_s, 2),
            },
            "ratio_bytes_original_over_shrunk": round(orig_b / shrunk_b, 1),
            "ratio_seconds_original_over_shrunk": round(orig_s / shrunk_s, 1),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
