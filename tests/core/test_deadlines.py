from datetime import UTC, datetime, timedelta

import pytest

from geoapp.core.deadlines import (
    MAX_DEADLINE_HOURS,
    deadline,
    is_overdue,
    parse_duration_hours,
    rectified_on_time,
    usable_hours,
)


@pytest.mark.parametrize(
    ("text", "hours"),
    [("48", 48), ("48h", 48), ("2d", 48), ("2天", 48), ("36小时", 36), (24, 24), ("1.5 days", 36)],
)
def test_durations_in_hours_or_days(text, hours):
    assert parse_duration_hours(text) == hours


@pytest.mark.parametrize("text", ["", "soon", "-3d", "0", True, "3 weeks"])
def test_bad_durations_are_refused_by_name(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration_hours(text)


def test_overdue_only_while_open_and_past_the_deadline():
    t0 = datetime(2026, 5, 1, 8, tzinfo=UTC)
    due = deadline(t0, 24)
    assert due == t0 + timedelta(hours=24)
    assert is_overdue("assigned", due, t0 + timedelta(hours=25))
    assert not is_overdue("assigned", due, t0 + timedelta(hours=23))
    assert not is_overdue("rectified", due, t0 + timedelta(hours=25))
    assert not is_overdue("assigned", None, t0 + timedelta(days=99))
    assert rectified_on_time(due, due) is True
    assert rectified_on_time(due + timedelta(seconds=1), due) is False
    assert rectified_on_time(None, due) is None


@pytest.mark.parametrize("text", ["365d", "8760", "8760h", 8760, "365天"])
def test_a_deadline_may_be_a_year(text):
    assert parse_duration_hours(text) == MAX_DEADLINE_HOURS == 8760


@pytest.mark.parametrize(
    "text",
    ["8761", "366d", "100000000h", "1" + "0" * 400, 1e300, 10**400, "9" * 5000 + "d"],
)
def test_longer_than_a_year_is_refused_naming_the_limit(text):
    with pytest.raises(ValueError, match="8760 hours"):
        parse_duration_hours(text)


@pytest.mark.parametrize("hours", [None, 0, -5, -1e300, 8761, 1e8, 10**30, float("nan"), "x"])
def test_an_unusable_stored_deadline_counts_as_none(hours):
    """Defence in depth: a value stored before the limit never overflows the arithmetic."""
    t0 = datetime(2026, 5, 1, 8, tzinfo=UTC)
    assert usable_hours(hours) is None
    assert deadline(t0, hours) is None


def test_a_usable_deadline_near_the_end_of_time_does_not_overflow():
    assert deadline(datetime.max.replace(tzinfo=UTC) - timedelta(hours=1), 24) is None
    assert usable_hours(24) == 24.0 and usable_hours(8760) == 8760.0
