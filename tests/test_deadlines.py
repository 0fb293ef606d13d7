from datetime import UTC, datetime, timedelta

import pytest

from geoapp.deadlines import deadline, is_overdue, parse_duration_hours, rectified_on_time


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
