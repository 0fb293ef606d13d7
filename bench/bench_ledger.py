"""Ledger benchmark: the ledger of N problems (default 100,000), its exports and its page, on
SQLite and (with ``GEOAPP_BENCH_POSTGIS_URL``, a database it empties) PostGIS.

Setup (not timed): the demo county plus synthetic problems up to N (``make_problems.py``), a
third of the closed ones given a rectification event.  Timed, best of three (exports and
baselines once), each against its named baseline measured in the same run:

* ``build_*``: ``services.ledger.build`` (the store counts: SQL GROUP BY) with no filter, with
  status and dates, with one unit — baseline ``python``: the previous per-problem pandas
  computation (``ledger_baseline.python_ledger``);
* ``api_*_s`` / ``page_s``: ``GET /api/ledger`` (no filter, status and dates, one unit) and
  ``GET /ledger`` (Flask test client);
* ``xlsx_*``: the workbook of ~100,000 problems (all of them at 100k, a date range at 1M)
  streamed by ``geoapp.io.xlsx_stream`` (problems read in batches, made a column at a time)
  — baseline ``openpyxl``: openpyxl's write-only mode from a list of every row
  (``ledger_baseline.write_openpyxl``); second baseline ``xlsxwriter``: XlsxWriter's
  constant-memory mode, a call per cell, a record per problem
  (``ledger_baseline.write_xlsxwriter``, what the export did before); seconds of wall time
  and of CPU time (steadier on a shared machine); memory: each writer run again in a process
  of its own (``ledger_memory.py``), its peak resident set (``VmHWM``) and what the write
  added to it (``xlsx*_write_mb``), C allocations included and no tracing overhead
  (tracemalloc made the three writers take over a quarter of an hour at a million);
* ``csv_problems_s``: the problem list CSV, streamed.

``GEOAPP_BENCH_STORE_URL``: measure a store an earlier run made instead (no setup);
``GEOAPP_BENCH_KEEP``: a folder to build the SQLite store in and keep (``sqlite/bench.sqlite``)
instead of a temporary one.
``python bench/bench_ledger.py [N]`` writes bench/results/ledger.json (ledger-N.json when N is
not 100,000) and prints ratios (baseline / new).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # webclient: signs in

from common import best_of, peak_rss_mb, write_results  # noqa: E402
from ledger_baseline import python_ledger, write_openpyxl, write_xlsxwriter  # noqa: E402
from make_problems import make_store  # noqa: E402
from webclient import make_app, sign_in  # noqa: E402

from geoapp.services import ledger as services_ledger  # noqa: E402
from geoapp.services import ledger_files as ledger_export  # noqa: E402
from geoapp.services.accounts import create_user  # noqa: E402
from geoapp.store import open_store  # noqa: E402
from geoapp.store import schema as S  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
BIG = N >= 500_000
REPEAT = 1  # the baselines (seconds each under load): once


def add_rectifications(url: str) -> int:
    """Status events for every third closed problem, a few hours after it was reported
    (written in bulk; the database's trigger notes each on its problem)."""
    with open_store(url) as store, store.transaction() as tx:
        frame = tx.problem_frame({"status": ["rectified", "verified"]}, ["reported_at"])
        picked = frame.iloc[::3]
        events = [
            {
                "problem_pk": int(pk),
                "at": at.to_pydatetime() + timedelta(hours=6 + (i % 60)),
                "actor": "bench",
                "kind": "status",
                "detail": '{"after": "rectified", "before": "rectifying"}',
                "note": None,
            }
            for i, (pk, at) in enumerate(zip(picked["id"], picked["reported_at"], strict=True))
        ]
        tx._insert_many(S.problem_events, events)
        return len(events)


def export_filter(store) -> dict:
    """All problems at 100k; at 1M a date range holding about 100,000."""
    if not BIG:
        return {}
    days = 1
    while True:
        args = {"date_from": ["2024-04-01"], "date_to": [f"2024-04-{days:02d}"]}
        if days >= 30 or services_ledger.build(store, args).totals["problems"] >= 95_000:
            return args
        days += 1


def writer_memory(url: str, writer: str, args: dict, led) -> dict:
    """Peak memory of one writer, run in a child process (``ledger_memory.py``) on the same
    ledger (same filter, same ``now``)."""
    script = Path(__file__).resolve().parent / "ledger_memory.py"
    now = led.generated_at.isoformat()
    out = subprocess.run(
        [sys.executable, str(script), url, writer, json.dumps(args), now],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    if figures["problems"] != led.totals["problems"]:
        raise AssertionError(f"the memory run wrote another ledger: {figures}")
    return figures


def timed(fn) -> tuple[float, float]:
    """Seconds of wall time and of this process's CPU time that ``fn()`` took, once."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def ratio(base: float, new: float) -> float:
    return round(base / new, 1) if new else float("inf")


def bench_store(url: str, info: dict) -> dict:
    figures: dict = {"setup": info}
    filtered = {
        "status": ["reported", "assigned"],
        "date_from": ["2024-05-01"],
        "date_to": ["2024-06-30"],
    }
    with open_store(url) as store:
        figures["problems"] = store.count_problems()
        unit = sorted(u["unit_id"] for u in store.list_units())[0]
        for name, args in (("all", {}), ("status_dates", filtered), ("one_unit", {"unit": [unit]})):
            new = best_of(lambda a=args: services_ledger.build(store, a))
            old = best_of(lambda a=args: python_ledger(store, a), repeat=REPEAT)
            figures[f"build_{name}_s"] = round(new, 3)
            figures[f"build_{name}_python_s"] = round(old, 3)
            figures[f"build_{name}_ratio"] = ratio(old, new)
            print(name, new, old, flush=True)
        args = export_filter(store)
        led = services_ledger.build(store, args)
        figures["xlsx_problems"] = led.totals["problems"]
        figures["xlsx_filter"] = args
        writers = {
            "": ledger_export.write_xlsx,
            "_openpyxl": write_openpyxl,
            "_xlsxwriter": write_xlsxwriter,
        }
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ledger.xlsx"
            for name, write in writers.items():
                wall, cpu = timed(lambda w=write: w(store, led, str(path)))
                figures[f"xlsx{name}_s"] = round(wall, 2)
                figures[f"xlsx{name}_cpu_s"] = round(cpu, 2)
                figures[f"xlsx{name}_bytes"] = path.stat().st_size
                print("xlsx", name or "stream", wall, cpu, flush=True)
        for name in writers:
            memory = writer_memory(url, name.lstrip("_") or "stream", args, led)
            figures[f"xlsx{name}_peak_mb"] = memory["peak_mb"]
            figures[f"xlsx{name}_write_mb"] = memory["write_mb"]
            print("xlsx memory", memory, flush=True)
        for base in ("openpyxl", "xlsxwriter"):
            figures[f"xlsx_{base}_ratio"] = ratio(figures[f"xlsx_{base}_s"], figures["xlsx_s"])
            figures[f"xlsx_{base}_cpu_ratio"] = ratio(
                figures[f"xlsx_{base}_cpu_s"], figures["xlsx_cpu_s"]
            )
            figures[f"xlsx_{base}_memory_ratio"] = ratio(
                figures[f"xlsx_{base}_write_mb"], figures["xlsx_write_mb"]
            )
        figures["csv_problems_s"] = round(
            best_of(lambda: sum(map(len, ledger_export.iter_csv(store, led, "problems"))), 1), 2
        )
    with open_store(url) as store:
        if not any(u["name"] == "admin" for u in store.list_users()):
            create_user(store, "admin", "bench-password-1234", "admin")
    app = make_app(url)
    client = sign_in(app.test_client(), "admin")
    assert client.get("/ledger").status_code == 200
    figures["api_all_s"] = round(best_of(lambda: client.get("/api/ledger")), 3)
    figures["api_status_dates_s"] = round(
        best_of(lambda: client.get("/api/ledger", query_string=filtered)), 3
    )
    figures["api_one_unit_s"] = round(
        best_of(lambda: client.get("/api/ledger", query_string={"unit": unit})), 3
    )
    figures["page_s"] = round(best_of(lambda: client.get("/ledger")), 3)
    app.extensions["geoapp.store"].close()
    return figures


def main() -> int:
    results: dict = {"n": N, "note": "timings taken on a shared, busy 2-core machine"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.environ.get("GEOAPP_BENCH_KEEP") or tmp
        targets = [("sqlite", None)]
        ready = os.environ.get("GEOAPP_BENCH_STORE_URL")  # a store made by an earlier run
        if ready:
            targets = [("sqlite" if ready.startswith("sqlite") else "postgis", ready)]
        elif os.environ.get("GEOAPP_BENCH_POSTGIS_URL"):
            targets.append(("postgis", os.environ["GEOAPP_BENCH_POSTGIS_URL"]))
        for name, where in targets:
            if ready:
                url, info = ready, {"reused": True}
            else:
                start = time.perf_counter()
                url, info = make_store(Path(tmp) / name, N, url=where)
                info["rectification_events"] = add_rectifications(url)
                info["setup_s"] = round(time.perf_counter() - start, 1)
            print(f"{name}: {N} problems ready", flush=True)
            results[name] = bench_store(url, info)
            print(name, {k: v for k, v in results[name].items() if k.endswith("ratio")})
            write_results("ledger" if N == 100_000 else f"ledger-{N}", results)
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)  # of the whole run, baselines included
    write_results("ledger" if N == 100_000 else f"ledger-{N}", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
