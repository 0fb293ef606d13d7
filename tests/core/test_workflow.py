"""The workflow rules (pure) and the intake checks (pure): no store, no Flask."""

import pytest
from intake_helpers import png_bytes

from geoapp.core.intake import (
    Candidate,
    ReportError,
    bbox_around,
    haversine_m,
    likely_duplicates,
    parse_report,
    sniff_image,
)
from geoapp.core.model import STATUSES
from geoapp.core.workflow import (
    ACTIONS,
    ROLES,
    TRANSITIONS,
    NotPermitted,
    TransitionRefused,
    allowed_transitions,
    check_action,
    check_transition,
    is_open,
)

HAPPY_PATH = ["reported", "assigned", "rectifying", "rectified", "verified"]


def test_the_happy_path_is_allowed_step_by_step():
    for before, after in zip(HAPPY_PATH, HAPPY_PATH[1:], strict=False):
        assert check_transition(before, after).target == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("reported", "verified"),
        ("reported", "rectified"),
        ("assigned", "verified"),
        ("rectifying", "verified"),
        ("verified", "reported"),
        ("rectified", "assigned"),
    ],
)
def test_skipping_steps_is_refused(before, after):
    with pytest.raises(TransitionRefused, match="cannot become"):
        check_transition(before, after)


def test_same_or_unknown_status_is_refused():
    with pytest.raises(TransitionRefused, match="already"):
        check_transition("assigned", "assigned")
    with pytest.raises(TransitionRefused, match="unknown status"):
        check_transition("assigned", "done")
    with pytest.raises(TransitionRefused, match="unknown status"):
        check_transition("weird", "assigned")


def test_reopen_needs_a_note():
    for before in ("rectified", "verified"):
        with pytest.raises(TransitionRefused, match="note"):
            check_transition(before, "rectifying")
        with pytest.raises(TransitionRefused, match="note"):
            check_transition(before, "rectifying", note="   ")
        assert check_transition(before, "rectifying", note="垃圾又堆起来了").action == "reopen"


def test_the_store_default_open_means_reported():
    assert [t.target for t in allowed_transitions("open")] == ["assigned", "rectifying"]
    assert is_open("open") and is_open("rectifying") and not is_open("verified")


def test_every_transition_joins_known_statuses_and_roles():
    for t in TRANSITIONS:
        assert t.source in STATUSES and t.target in STATUSES
        assert t.roles <= set(ROLES)
    for roles in ACTIONS.values():
        assert roles <= set(ROLES)
    # verified is reachable from reported; every open status can move on
    for s in ("reported", "assigned", "rectifying", "rectified", "verified"):
        assert allowed_transitions(s)


def test_roles():
    # a coordinator may assign; a planner may change no status at all
    assert check_transition("reported", "assigned", role="coordinator")
    for s in STATUSES:
        assert allowed_transitions(s, role="planner") == []
    with pytest.raises(NotPermitted, match="planner"):
        check_transition("reported", "assigned", role="planner")
    # an inspector verifies and reopens, but does not assign
    assert check_transition("rectified", "verified", role="inspector")
    with pytest.raises(NotPermitted):
        check_transition("reported", "assigned", role="inspector")
    # a unit may not verify its own work
    with pytest.raises(NotPermitted):
        check_transition(
            "rectified", "verified", role="unit", actor_unit_id="U08", problem_unit_id="U08"
        )
    with pytest.raises(NotPermitted, match="unknown role"):
        check_transition("reported", "assigned", role="mayor")


def test_a_unit_acts_only_on_its_own_problems():
    own = {"role": "unit", "actor_unit_id": "U08", "problem_unit_id": "U08"}
    assert check_transition("assigned", "rectifying", **own)
    assert check_transition("rectifying", "rectified", **own)
    with pytest.raises(NotPermitted, match="own"):
        check_transition(
            "assigned", "rectifying", role="unit", actor_unit_id="U09", problem_unit_id="U08"
        )
    with pytest.raises(NotPermitted, match="own"):
        check_transition("assigned", "rectifying", role="unit", problem_unit_id="U08")
    assert [t.target for t in allowed_transitions("assigned", **own)] == ["rectifying"]
    assert allowed_transitions("assigned", "unit", "U09", "U08") == []
    check_action("add_photo", **own)
    with pytest.raises(NotPermitted):
        check_action("add_photo", role="unit", actor_unit_id="U09", problem_unit_id="U08")
    with pytest.raises(NotPermitted):
        check_action("set_deadline", role="inspector")
    check_action("report", role="inspector")
    check_action("report")  # None: not checked yet
    with pytest.raises(ValueError):
        check_action("fly")


# --- intake checks ---------------------------------------------------------------------------
CATS = {"litter": "litter", "垃圾落地": "litter"}


def report(**kw):
    base = {"lon": 114.92, "lat": 28.22, "category": "litter", "round": "市级评估"}
    return base | kw


def test_a_report_is_cleaned():
    r = parse_report(report(category="垃圾落地", deduction="2.5", description=" 纸屑 "), CATS)
    assert r["category"] == "litter" and r["deduction"] == 2.5 and r["description"] == "纸屑"
    assert r["crs"] == "wgs84" and r["problem_id"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lon": None}, "lon"),
        ({"lat": "north"}, "lat"),
        ({"lon": 181}, "lon"),
        ({"lat": -90.5}, "lat"),
        ({"lon": float("nan")}, "lon"),
        ({"lon": True}, "lon"),
        ({"category": "乱搭建"}, "category"),
        ({"category": ""}, "category"),
        ({"round": "  "}, "round"),
        ({"deduction": -1}, "deduction"),
        ({"deduction": 101}, "deduction"),
        ({"colour": "red"}, "colour"),
        ({"duplicate_of": "P1"}, "duplicate_of"),
        ({"description": "x" * 2001}, "description"),
    ],
)
def test_bad_reports_name_the_field(change, field):
    with pytest.raises(ReportError) as info:
        parse_report(report(**change), CATS)
    assert info.value.field == field


def test_not_an_object():
    with pytest.raises(ReportError, match="JSON object"):
        parse_report([1, 2], CATS)


def test_images_are_recognised_by_their_bytes():
    assert sniff_image(b"\xff\xd8\xff\xe0" + b"\0" * 20) == ("image/jpeg", "jpg")
    assert sniff_image(png_bytes()) == ("image/png", "png")
    assert sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 20) is None  # 0 x 0
    assert sniff_image(b"GIF89a....") is None
    assert sniff_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_image(b"\x89PNG\r\n\x1a\n garbage") is None
    assert sniff_image(b"") is None


def test_distances_and_duplicates():
    # one metre of latitude is about 1/111195 degree
    d = haversine_m(114.92, 28.22, 114.92, 28.22 + 29 / 111195)
    assert 28.9 < float(d) < 29.1
    box = bbox_around(114.92, 28.22, 30)
    assert box[0] < 114.92 - 30 / 98000 and box[3] > 28.22 + 30 / 111195
    near = 28.22 + 29 / 111195
    far = 28.22 + 31 / 111195
    cands = [
        Candidate(1, "litter", 114.92, near),
        Candidate(2, "litter", 114.92, far),
        Candidate(3, "red_light", 114.92, 28.22),
        Candidate(4, "litter", 114.92 + 10 / 98000, 28.22),
    ]
    found = likely_duplicates([114.92, 115.5], [28.22, 28.22], ["litter", "litter"], cands)
    assert [k for k, _ in found[0]] == [4, 1]  # nearest first; 31 m and other category out
    assert found[1] == []
    assert likely_duplicates([], [], [], cands) == []
    assert likely_duplicates([114.92], [28.22], ["litter"], []) == [[]]
