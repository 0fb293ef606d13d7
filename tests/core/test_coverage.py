"""The coverage rules: ranking edge cases, the check-in distance rule, map classes."""

import pytest
from shapely.geometry import box

from geoapp.core import coverage


def unit(uid, registered, inspected, clean, deduction=0.0, overdue=0):
    return {
        "id": uid,
        "registered": registered,
        "inspected": inspected,
        "clean": clean,
        "deduction": deduction,
        "overdue": overdue,
    }


def statuses(rows):
    return {r["id"]: r["status"] for r in rows}


def test_figures_of_one_row():
    row = coverage.finish_row(unit("U", 10, 8, 6, 4.0))
    assert (row["coverage"], row["clean_rate"], row["deduction_per_point"]) == (0.8, 0.75, 0.5)
    empty = coverage.finish_row(unit("U", 0, 0, 0))
    assert (empty["coverage"], empty["clean_rate"], empty["deduction_per_point"]) == (
        None,
        None,
        None,
    )


def test_no_coverage_commends_nobody():
    rows = coverage.rank_coverage([unit("A", 5, 0, 0), unit("B", 3, 0, 0)])
    assert statuses(rows) == {"A": "insufficient", "B": "insufficient"}
    assert not any(r["commended"] for r in rows)
    assert all(r["criticism_rank"] is None for r in rows)


def test_best_results_with_enough_coverage_are_commended():
    rows = coverage.rank_coverage(
        [
            unit("A", 10, 10, 9, 1.0),  # clean 90 %
            unit("B", 10, 8, 8, 0.0),  # clean 100 %, coverage exactly 80 %
            unit("C", 10, 7, 7, 0.0),  # clean 100 % but coverage 70 %: 检查不足
        ]
    )
    assert statuses(rows) == {"A": "ranked", "B": "commended", "C": "insufficient"}
    assert [r["id"] for r in rows] == ["B", "A", "C"]


def test_ties_are_all_commended_and_share_a_criticism_rank():
    rows = coverage.rank_coverage(
        [
            unit("A", 4, 4, 3, 2.0),
            unit("B", 8, 8, 6, 4.0),  # same clean rate and deductions per point as A
            unit("C", 4, 4, 3, 4.0),  # same clean rate, more deductions per point
        ]
    )
    assert statuses(rows) == {"A": "commended", "B": "commended", "C": "ranked"}
    ranks = {r["id"]: r["criticism_rank"] for r in rows}
    assert ranks == {"C": 1, "A": 2, "B": 2}


def test_unit_with_points_but_no_visits_is_insufficient_never_commended():
    rows = coverage.rank_coverage([unit("A", 6, 0, 0), unit("B", 2, 2, 1, 1.0)])
    assert statuses(rows) == {"A": "insufficient", "B": "commended"}
    assert rows[-1]["clean_rate"] is None


def test_unit_with_visits_but_no_points_is_not_ranked_but_can_be_criticised():
    rows = coverage.rank_coverage([unit("A", 0, 0, 0, 3.0, overdue=1), unit("B", 2, 2, 2)])
    assert statuses(rows) == {"A": "no_points", "B": "commended"}
    a = next(r for r in rows if r["id"] == "A")
    assert a["criticism_rank"] == 1 and not a["commended"]


def test_criticism_orders_by_deductions_per_point_then_overdue():
    rows = coverage.rank_coverage(
        [
            unit("A", 2, 2, 0, 2.0, overdue=0),  # 1.0 per point
            unit("B", 4, 4, 0, 4.0, overdue=3),  # 1.0 per point, more overdue
            unit("C", 1, 1, 0, 3.0),  # 3.0 per point
            unit("D", 1, 1, 1, 0.0, overdue=2),  # only overdue
            unit("E", 1, 1, 1),  # nothing: not criticised
        ]
    )
    ranks = {r["id"]: r["criticism_rank"] for r in rows}
    assert ranks == {"C": 1, "B": 2, "A": 3, "D": 4, "E": None}


def test_threshold_is_a_setting():
    rows = coverage.rank_coverage([unit("A", 10, 5, 5)], min_coverage=0.5)
    assert statuses(rows) == {"A": "commended"}
    rows = coverage.rank_coverage([unit("A", 10, 5, 5)], min_coverage=0.6)
    assert statuses(rows) == {"A": "insufficient"}


def test_checkin_inside_on_the_edge_near_and_far():
    area = box(117.0, 28.0, 117.01, 28.01)
    assert coverage.checkin_decision(area, 117.005, 28.005, 50) == coverage.CheckinDecision(
        True, 0.0
    )
    assert coverage.checkin_decision(area, 117.01, 28.005, 0).accepted  # on the edge
    # 0.0003° of longitude at 28°N is about 29.4 m
    near = coverage.checkin_decision(area, 117.0103, 28.005, 50)
    assert near.accepted and near.distance_m == pytest.approx(29.4, abs=0.5)
    assert not coverage.checkin_decision(area, 117.0103, 28.005, 20).accepted
    far = coverage.checkin_decision(area, 117.03, 28.005, 50)
    assert not far.accepted and far.distance_m == pytest.approx(1962, rel=0.01)


@pytest.mark.parametrize(
    ("days", "label"),
    [(0, "today or yesterday"), (1, "today or yesterday"), (2, "2–3 days"), (7, "4–7 days")],
)
def test_age_classes(days, label):
    assert coverage.age_class(days)[1] == label


def test_never_is_its_own_class():
    assert coverage.age_class(None) == (coverage.NEVER_COLOUR, coverage.NEVER_LABEL)
    assert coverage.age_class(30)[1] == "more than 7 days"
    assert len(coverage.legend()) == 5
