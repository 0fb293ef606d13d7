"""Domain errors carry an N_-marked English template with named fields and their values
(geoapp/core/messages.py): English as str(), any language through render(translate)."""

import pickle

from geoapp.core.intake import ReportError
from geoapp.core.messages import N_, Explained
from geoapp.io.errors import InputError
from geoapp.services.editor import DraftConflict
from geoapp.services.errors import ServiceError
from geoapp.services.query_params import BadParameter

UPPER = {
    "no area %(id)s": "NO AREA %(id)s",
    "%(field)s: %(message)s": "[%(field)s] %(message)s",
    "cannot read %(name)s: %(error)s": "%(error)s <- %(name)s",
    "status:rectified": "RECTIFIED!",
    "status:verified": "VERIFIED!",
    "action:edit": "EDIT!",
}


def shout(template: str) -> str:
    return UPPER.get(template, template)


def test_the_template_is_filled_after_translation_so_fields_can_move():
    exc = ServiceError(N_("cannot read %(name)s: %(error)s"), name="a.csv", error="empty")
    assert str(exc) == "cannot read a.csv: empty"
    assert exc.render(shout) == "empty <- a.csv"
    assert exc.template == "cannot read %(name)s: %(error)s"
    assert exc.values == {"name": "a.csv", "error": "empty"}


def test_a_wrapped_error_is_rendered_in_the_same_language():
    inner = ServiceError(N_("no area %(id)s"), id="A1")
    outer = ServiceError(N_("cannot read %(name)s: %(error)s"), name="b.csv", error=inner)
    assert str(outer) == "cannot read b.csv: no area A1"
    assert outer.render(shout) == "NO AREA A1 <- b.csv"


def test_the_one_argument_form_still_works_and_a_percent_sign_is_kept():
    exc = ServiceError("100% plain English")
    assert str(exc) == "100% plain English"
    assert exc.render(shout) == "100% plain English"


def test_errors_with_a_leading_argument_keep_it():
    report = ReportError("lon", N_("no area %(id)s"), id=3)
    assert str(report) == "lon: no area 3" and report.field == "lon"
    assert report.render(shout) == "[lon] NO AREA 3"
    param = BadParameter("bbox", N_("no area %(id)s"), id="x")
    assert (str(param), param.param, param.render(shout)) == ("no area x", "bbox", "NO AREA x")
    conflict = DraftConflict(N_("no area %(id)s"), 7, op="split", id="B")
    assert conflict.payload == {"current_version": 7, "op": "split"}
    assert conflict.render(shout) == "NO AREA B"
    bad = InputError(N_("no area %(id)s"), ["row"], id="C")
    assert bad.bad == ["row"] and str(bad) == "no area C"


def test_every_domain_error_is_explained_and_survives_pickling():
    for exc in (
        ServiceError(N_("no area %(id)s"), id="A"),
        ReportError("lon", N_("no area %(id)s"), id=1),
    ):
        copy = pickle.loads(pickle.dumps(exc))
        assert (type(copy), str(copy), copy.render(shout)) == (
            type(exc),
            str(exc),
            exc.render(shout),
        )
    for cls in (ReportError, BadParameter, InputError, ServiceError, DraftConflict):
        assert issubclass(cls, Explained)


def test_a_term_is_the_readers_word_for_a_code_and_the_code_in_english():
    from geoapp.core.messages import Term
    from geoapp.core.workflow import NotPermitted, TransitionRefused, check_action, check_transition

    try:
        check_transition("rectifying", "verified", "admin")
    except TransitionRefused as exc:
        refused = exc
    assert "cannot become verified (allowed: rectified)" in str(refused)
    assert "cannot become VERIFIED! (allowed: RECTIFIED!)" in refused.render(shout)
    try:
        check_action("edit", "unit", "U1", "U1")
    except NotPermitted as exc:
        assert str(exc) == "the role 'unit' may not edit"
        assert exc.render(shout) == "the role 'unit' may not EDIT!"
    assert pickle.loads(pickle.dumps(Term("status", "verified"))).key == "status:verified"
