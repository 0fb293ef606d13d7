"""The ledger counted by the store (SQL ``GROUP BY``) equals the ledger counted per problem
in Python (the previous code, kept as ``bench/ledger_baseline.py``) on the demo county, under
every kind of filter, on SQLite and PostGIS."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from geoapp.services import ledger as services_ledger
from geoapp.store import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from ledger_baseline import figures_of, python_ledger, strip  # noqa: E402

NOW = datetime(2024, 5, 20, 4, 0, tzinfo=UTC)
FILTERS = [
    {},
    {"status": ["reported"]},
    {"status": ["rectified", "verified"]},
    {"round": ["市级评估"]},
    {"district": ["D1"]},
    {"unit": ["U08"]},
    {"unit": ["U08", "U11"]},
    {"category": ["litter", "overflowing_bin"]},
    {"date_from": ["2024-04-10"], "date_to": ["2024-04-30"]},
    {"status": ["assigned", "rectifying"], "date_from": ["2024-04-15"], "district": ["D2"]},
    {"unit": ["U11"], "category": ["litter"], "round": ["市级评估"]},
    {"date_from": ["2031-01-01"]},  # nothing
]


@pytest.fixture
def demo(demo_url):
    store = open_store(demo_url)
    # some history: rectifications on time and late, a reopened one, duplicates
    with store.transaction() as tx:
        closed = tx.problems({"status": ["rectified", "verified"]}, limit=40)
        for i, p in enumerate(closed):
            at = p["reported_at"] + timedelta(hours=3 + 11 * i)
            tx.add_event(p["id"], "status", "t", {"before": "x", "after": "rectified"}, at=at)
        opened = tx.problems({"status": ["reported"]}, limit=3)
        tx.set_problem_status(opened[0]["id"], "rectified", "t")
        tx.set_problem_status(opened[0]["id"], "rectifying", "t")  # reopened
        tx.update_problem(closed[1]["id"], {"duplicate_of": closed[0]["id"]}, "t")
        tx.update_problem(opened[1]["id"], {"duplicate_of": closed[0]["id"]}, "t")
    yield store
    store.close()


@pytest.mark.parametrize("args", FILTERS, ids=lambda a: ",".join(a) or "none")
def test_sql_counts_equal_the_per_problem_reference(demo, args):
    expected = strip(python_ledger(demo, args, NOW))
    got = figures_of(services_ledger.build(demo, args, "zh", NOW))
    for key in ("totals", "by_unit", "by_district", "by_category", "by_round", "daily"):
        assert got[key] == expected[key], key
    assert got["ranking"] == expected["ranking"]
    if args == {"date_from": ["2031-01-01"]}:
        assert got["totals"]["problems"] == 0 and got["daily"] == []
    else:
        assert got["totals"]["problems"] > 0
