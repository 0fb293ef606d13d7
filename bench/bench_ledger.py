"""Ledger benchmark: the ledger of 100,000 problems, its exports and its page.

Setup (not timed): a SQLite store with the demo county plus synthetic problems up to N
(``bench/make_problems.py``), a third of the closed ones given a rectification event.
Timed, best of three (the XLSX once): ``services_ledger.build`` with no filter and with one district, the
XLSX and CSV exports, and ``GET /ledger`` through the Flask test client.

``python bench/bench_ledger.py [N]`` (default 100,000) writes bench/results/ledger.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import best_of, peak_rss_mb, write_results  # noqa: E402
from make_problems import make_store  # noqa: E402

from geoapp import create_app  # noqa: E402
from geoapp.services import ledger as services_ledger
from geoapp.services import ledger_files as ledger_export
from geoapp.store import open_store  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def add_rectifications(url: str) -> int:
    """Status events for every third closed problem, a few hours after it was reported."""
    with open_store(url) as store, store.transaction() as tx:
        rows = tx.problems({"status": ["rectified", "verified"]})[::3]
        for i, r in enumerate(rows):
            at = r["reported_at"] + timedelta(hours=6 + (i % 60))
            tx.add_event(
                r["id"], "status", "bench", {"before": "rectifying", "after": "rectified"}, at=at
            )
        return len(rows)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        url, info = make_store(Path(tmp), N)
        events = add_rectifications(url)
        setup = time.perf_counter() - start
        with open_store(url) as store:
            count = store.count_problems()
            led = services_ledger.build(store, {})
            figures = {
                "problems": count,
                "rectification_events": events,
                "setup_s": round(setup, 1),
                "build_all_s": round(best_of(lambda: services_ledger.build(store, {})), 3),
                "build_one_district_s": round(
                    best_of(lambda: services_ledger.build(store, {"district": ["D1"]})), 3
                ),
                "xlsx_s": round(best_of(lambda: ledger_export.xlsx_bytes(led), repeat=1), 1),
                "xlsx_bytes": len(ledger_export.xlsx_bytes(led)),
                "csv_s": round(best_of(lambda: ledger_export.csv_bytes(led)), 4),
            }
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        client = app.test_client()
        assert client.get("/ledger").status_code == 200
        figures["page_s"] = round(best_of(lambda: client.get("/ledger")), 3)
        app.extensions["geoapp.store"].close()
        figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    write_results("ledger", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
