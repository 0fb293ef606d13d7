"""Map clusters show open and overdue problems first: counts per status, per urgency class
and the worst class, against a hand count on the tiny county of tests/hand_county.py
(statuses and deadlines in its docstring), on SQLite and PostGIS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hand_county import NOW

from geoapp.core.model import URGENCY, urgency_class
from geoapp.services import problem_reads


@pytest.fixture
def county(tiny_county):
    return tiny_county


def _clusters(store, now=NOW, **filters):
    args = {"zoom": ["8"], **{k: [v] if isinstance(v, str) else v for k, v in filters.items()}}
    return [
        f["properties"] for f in problem_reads.problem_clusters(store, args, now=now)["features"]
    ]


def test_urgency_classes():
    assert URGENCY[0] == "overdue" and URGENCY.index("reported") < URGENCY.index("verified")
    assert urgency_class("verified", True) == "overdue"
    assert urgency_class("open", False) == "reported"  # the store's default status
    assert urgency_class("mystery", False) == "other"


def test_one_cluster_counts_statuses_overdue_and_worst(county):
    # at zoom 8 the ten problems (1 km apart) fall in one 60-pixel cell
    (c,) = _clusters(county)
    assert c["count"] == 10
    # verified P1 P5 P8 P9; rectified P2 P6; reported P3; assigned P4; rectifying P7 P10
    assert c["statuses"] == {
        "verified": 4,
        "rectified": 2,
        "reported": 1,
        "assigned": 1,
        "rectifying": 2,
    }
    # overdue at NOW (01-03 12:00): P4 (due 01-01 10:00), P7 (01-03 08:00), P10 (01-03 09:00);
    # P3 is due 01-04 10:00.  Each problem once in the ring, most urgent first.
    assert c["overdue"] == 3
    assert c["ring"] == [["overdue", 3], ["reported", 1], ["rectified", 2], ["verified", 4]]
    assert c["worst"] == "overdue"


def test_mostly_closed_with_one_overdue_shows_overdue(county):
    # P1 P5 P8 P9 verified and P4 assigned, overdue: the most common status is verified,
    # but the cluster must be drawn as overdue
    (c,) = _clusters(county, status=["verified", "assigned"])
    assert c["statuses"] == {"verified": 4, "assigned": 1}
    assert c["ring"] == [["overdue", 1], ["verified", 4]]
    assert c["worst"] == "overdue"
    # a day before P4's deadline it is merely assigned: still drawn before the closed ones
    (early,) = _clusters(
        county, now=NOW - timedelta(days=2, hours=3), status=["verified", "assigned"]
    )
    assert early["ring"] == [["assigned", 1], ["verified", 4]] and early["worst"] == "assigned"
    # closed only: the least closed status leads
    (closed,) = _clusters(county, status=["verified", "rectified"])
    assert closed["ring"] == [["rectified", 2], ["verified", 4]] and closed["worst"] == "rectified"


def test_single_problems_carry_overdue_and_worst(county):
    args = {"zoom": ["18"]}
    feats = problem_reads.problem_clusters(county, args, now=NOW)["features"]
    labels = {p["id"]: p["problem_id"] for p in county.problems({})}
    singles = {labels[f["properties"]["id"]]: f["properties"] for f in feats}
    assert len(singles) == 10 and all(p["count"] == 1 for p in singles.values())
    assert sorted(k for k, p in singles.items() if p["overdue"]) == ["P10", "P4", "P7"]
    assert singles["P4"]["worst"] == "overdue" and singles["P3"]["worst"] == "reported"
    assert singles["P1"]["worst"] == "verified"


def test_points_carry_report_times_as_posix_seconds(county):
    with county.transaction() as tx:
        pts = tx.problem_points(extra=["reported_at", "category"])
        labels = {p["id"]: p["problem_id"] for p in tx.problems({})}
    names = [labels[i] for i in pts["id"].tolist()]
    at = dict(zip(names, pts["reported_at"].tolist(), strict=True))
    # P4: 2024-12-31 10:00 Beijing = 02:00 UTC
    assert at["P4"] == datetime(2024, 12, 31, 2, 0, tzinfo=UTC).timestamp()
    assert pts["reported_at"].dtype.kind == "f"


def test_clusters_follow_a_status_change(county):
    (before,) = _clusters(county, status=["verified", "assigned", "rectified"])
    assert before["ring"] == [["overdue", 1], ["rectified", 2], ["verified", 4]]
    pk = next(p["id"] for p in county.problems({}) if p["problem_id"] == "P4")
    with county.transaction() as tx:  # the overdue P4 is dealt with
        tx.set_problem_status(pk, "rectifying", "t")
        tx.set_problem_status(pk, "rectified", "t")
    (after,) = _clusters(county, status=["verified", "assigned", "rectified"])
    assert after["ring"] == [["rectified", 3], ["verified", 4]]
    assert after["worst"] == "rectified" and after["overdue"] == 0
