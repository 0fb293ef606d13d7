"""Load test: ``geoapp serve --workers 4`` on PostGIS under 50 concurrent clients for 60 s,
then the same load with PostgreSQL restarted in the middle.

Setup (not timed): a PostGIS server of its own (scripts/pg-test-server on a free port, a
data folder under /tmp; its own so the fault phase may stop it), ``init-db``, ``load-demo``,
an inspector's API token, ``geoapp serve --workers 4`` in a subprocess.

The load comes from bench/loadgen.py, a closed-loop threaded driver (each client sends its
next request as soon as the last answer is read): map layer reads, lookups at random points
of the county and problem reports with unique ids. Figures: requests/s overall and per
kind, p50/p95/p99 latency, statuses; then the store is checked: every report that got a
2xx is stored exactly once.

Baselines, measured in the same run: each endpoint's latency unloaded (one client, one
request at a time), the loaded p50 reported as a ratio against it; and the same load
against ``--workers 1``, the requests/s reported as a ratio against it.

Fault phase: the same load on a fresh app, with the PostGIS server stopped (``pg_ctl stop
-m fast``) after a third of the time and started again a few seconds later. Every answer
during the outage must be 503; no other 5xx; the first 2xx after the database is back gives
the recovery time; no acknowledged report may be lost.

Environment: GEOAPP_LOAD_SECONDS (60), GEOAPP_LOAD_CLIENTS (50), GEOAPP_LOAD_WORKERS (4),
GEOAPP_LOAD_OUTAGE (5 s). Writes bench/results/load.json; exits 1 if a check fails.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
from common import write_results  # noqa: E402

SECONDS = float(os.environ.get("GEOAPP_LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("GEOAPP_LOAD_CLIENTS", "50"))
WORKERS = int(os.environ.get("GEOAPP_LOAD_WORKERS", "4"))
OUTAGE = float(os.environ.get("GEOAPP_LOAD_OUTAGE", "5"))
BASELINE_WORKERS = 1


def unloaded_p50(base: str, token: str, bbox, seconds: float = 8.0) -> dict:
    """One client, one request at a time: the latency of each endpoint without load."""
    result = loadgen.run_load(base, token, bbox, clients=1, seconds=seconds, seed=99)
    by_path = {}
    for s in result.samples:
        if 200 <= s.status < 300:
            by_path.setdefault(s.path, []).append(s)
    return {
        "all": loadgen.latency_ms([s for v in by_path.values() for s in v])["p50_ms"],
        **{p: loadgen.latency_ms(v)["p50_ms"] for p, v in sorted(by_path.items())},
    }


def main() -> int:
    pg = loadgen.PgServer()
    failures = []
    figures: dict = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "workers": WORKERS,
        "threads_per_worker": 4,
        "cpus": os.cpu_count(),
        "mix": loadgen.MIX,
        "driver": "bench/loadgen.py (closed-loop threads, keep-alive, nearest-rank percentiles)",
    }
    try:
        url = pg.start()
        token = loadgen.prepare_database(url)

        # 1. steady load
        app = loadgen.AppServer(url, WORKERS)
        try:
            app.wait_up(token)
            bbox = loadgen.county_bbox(app.base, token)
            baseline = unloaded_p50(app.base, token, bbox)
            result = loadgen.run_load(app.base, token, bbox, CLIENTS, SECONDS)
        finally:
            log = app.stop()
        load = loadgen.summarize(result)
        check = loadgen.check_store(url, result)
        load["store_check"] = {k: (len(v) if isinstance(v, list) else v) for k, v in check.items()}
        load["baseline_unloaded_p50_ms"] = baseline
        load["ratio_loaded_p50_to_unloaded_p50"] = round(
            load["latency_2xx"]["p50_ms"] / baseline["all"], 2
        )
        figures["load"] = load
        if load["errors"]:
            failures.append(f"load: {load['errors']} errors {load['statuses']}")
        if not loadgen.store_ok(check):
            failures.append(f"load: store check failed {load['store_check']}")
        if "Traceback" in log:
            failures.append("load: a traceback in the server log")

        # 1b. baseline: the same load against one worker process
        app = loadgen.AppServer(url, BASELINE_WORKERS)
        try:
            app.wait_up(token)
            result = loadgen.run_load(app.base, token, bbox, CLIENTS, SECONDS, seed=3)
        finally:
            app.stop()
        one = loadgen.summarize(result)
        check = loadgen.check_store(url, result)
        one["store_check"] = {k: (len(v) if isinstance(v, list) else v) for k, v in check.items()}
        figures["baseline_workers"] = {"workers": BASELINE_WORKERS, **one}
        load["ratio_rps_to_baseline_workers"] = round(
            load["requests_per_second"] / one["requests_per_second"], 2
        )
        if one["errors"] or not loadgen.store_ok(check):
            failures.append(f"baseline: {one['statuses']} {one['store_check']}")

        # 2. the same load with PostgreSQL restarted in the middle
        app = loadgen.AppServer(url, WORKERS)
        try:
            app.wait_up(token)
            thread, outage = loadgen.restart_during(pg, SECONDS / 3, OUTAGE)
            result = loadgen.run_load(app.base, token, bbox, CLIENTS, SECONDS, seed=2)
            thread.join(120)
        finally:
            log = app.stop()
        fault = loadgen.summarize(result)
        fault["outage"] = loadgen.fault_figures(result, outage)
        check = loadgen.check_store(url, result)
        fault["store_check"] = {k: (len(v) if isinstance(v, list) else v) for k, v in check.items()}
        figures["fault"] = fault
        o = fault["outage"]
        bad_during = {k: v for k, v in o["during_outage_statuses"].items() if k not in ("503",)}
        if o["other_5xx"] or o["no_answer"] or not o["recovered"] or o["errors_after_recovery"]:
            failures.append(f"fault: {o}")
        if any(not k.startswith("2") for k in bad_during):
            failures.append(f"fault: during the outage {o['during_outage_statuses']}")
        if not loadgen.store_ok(check):
            failures.append(f"fault: store check failed {fault['store_check']}")
        if "Traceback" in log:
            tail = log[log.index("Traceback") :][:2000]
            failures.append(f"fault: a traceback in the server log:\n{tail}")
    finally:
        pg.remove()
    figures["failures"] = failures
    write_results("load", figures)
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    start = time.perf_counter()
    rc = main()
    print(f"bench_load: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    sys.exit(rc)
