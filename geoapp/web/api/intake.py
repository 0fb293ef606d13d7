"""The writing side of the JSON API: report, edit, move through the workflow, photos,
duplicates, deadlines and imports through a preview.  Thin: parse, call one service in
:mod:`geoapp.services.intake`, answer.  Routes are added to the ``api`` blueprint, so
their endpoint names are ``api.<name>``; their bodies and answers are the models of
:mod:`geoapp.web.schemas.intake`.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, request, url_for

from geoapp import config
from geoapp.core.intake import ReportError
from geoapp.core.messages import N_
from geoapp.services import deadlines, intake, photos, problem_workflow, sheet_import
from geoapp.web.actor import current_actor, current_role, current_unit_id
from geoapp.web.answers import _json, _locale
from geoapp.web.api import bp
from geoapp.web.context import get_store
from geoapp.web.errors import bad_row_text, where_text
from geoapp.web.schemas import body
from geoapp.web.schemas.intake import (
    Change,
    Deadline,
    Duplicate,
    ImportConfirm,
    Note,
    Report,
    Transition,
)


def upload_dir(kind: str) -> Path:
    """``instance/uploads/<kind>`` (or under GEOAPP_UPLOAD_DIR)."""
    return config.upload_root(current_app.config) / kind


def _sent(model) -> dict:
    """The fields the body sent, checked by ``model``; the domain checks their values."""
    return body(model).model_dump(exclude_unset=True)


def _with_links(detail: dict) -> dict:
    pk = detail["problem"]["id"]
    detail["links"] = {
        "self": url_for("api.problem", problem_pk=pk),
        "page": url_for("intake.problem_page", problem_pk=pk),
    }
    for photo in detail.get("photos", []):
        photo["url"] = url_for("intake.photo", photo_id=photo["id"])
    return detail


def _file(field: str):
    upload = request.files.get(field)
    if upload is None:
        raise ReportError(
            field, N_("send the file as multipart/form-data field %(field)r"), field=field
        )
    try:
        return upload.read(), upload.filename
    finally:
        upload.close()  # large uploads are spooled to a temporary file


@bp.post("/problems")
def create_problem():
    """Report a problem point; answers 201 with the problem and its assignment."""
    detail = intake.create_problem(
        get_store(), _sent(Report), current_actor(), role=current_role(), locale=_locale()
    )
    response = _json(_with_links(detail))
    response.status_code = 201
    response.headers["Location"] = detail["links"]["self"]
    return response


@bp.patch("/problems/<int:problem_pk>")
def patch_problem(problem_pk: int):
    """Change a problem's position, category, round, deduction or description."""
    detail = problem_workflow.patch_problem(
        get_store(),
        problem_pk,
        _sent(Change),
        current_actor(),
        role=current_role(),
        actor_unit_id=current_unit_id(),
        locale=_locale(),
    )
    return _json(_with_links(detail))


@bp.post("/problems/<int:problem_pk>/transitions")
def problem_transition(problem_pk: int):
    """Move a problem to another status (``{"to", "note"}``)."""
    data = body(Transition)
    detail = problem_workflow.transition(
        get_store(),
        problem_pk,
        data.to,
        data.note,
        current_actor(),
        role=current_role(),
        actor_unit_id=current_unit_id(),
    )
    return _json(_with_links(detail))


@bp.post("/problems/<int:problem_pk>/photos")
def add_problem_photo(problem_pk: int):
    """Attach a JPEG or PNG photo (multipart field ``photo``)."""
    data, filename = _file("photo")
    store = get_store()
    photo = photos.add_photo(
        store,
        problem_pk,
        data,
        filename,
        upload_dir("photos"),
        int(current_app.config["MAX_PHOTO_MB"]) * 2**20,
        current_actor(),
        role=current_role(),
        actor_unit_id=current_unit_id(),
    )
    photo["url"] = url_for("intake.photo", photo_id=photo["id"])
    response = _json(photo)
    response.status_code = 201
    response.headers["Location"] = photo["url"]
    return response


@bp.put("/problems/<int:problem_pk>/duplicate")
def link_duplicate(problem_pk: int):
    """Link a problem to the one it duplicates (``{"duplicate_of": id, "note"}``)."""
    data = body(Duplicate)
    if data.duplicate_of is None:
        raise ReportError("duplicate_of", N_("use DELETE to remove the link"))
    detail = problem_workflow.link_duplicate(
        get_store(),
        problem_pk,
        data.duplicate_of,
        current_actor(),
        data.note,
        role=current_role(),
    )
    return _json(_with_links(detail))


@bp.delete("/problems/<int:problem_pk>/duplicate")
def unlink_duplicate(problem_pk: int):
    """Remove a problem's duplicate link."""
    note = body(Note, optional=True).note
    detail = problem_workflow.link_duplicate(
        get_store(), problem_pk, None, current_actor(), note, role=current_role()
    )
    return _json(_with_links(detail))


@bp.put("/categories/<category>")
def set_category_deadline(category: str):
    """Change a category's rectification deadline (``{"deadline": "3d"}``)."""
    deadline = body(Deadline).deadline
    row = deadlines.set_deadline(
        get_store(), category, deadline, role=current_role(), actor=current_actor()
    )
    return _json(row)


@bp.post("/imports")
def import_preview():
    """Upload an inspection sheet (multipart ``file``, optional ``crs``); answers with the
    preview and the token that confirms it.  Nothing is imported yet."""
    data, filename = _file("file")
    crs = request.form.get("crs") or None
    preview = sheet_import.preview_upload(
        get_store(),
        upload_dir("imports"),
        data,
        filename,
        int(current_app.config["MAX_UPLOAD_MB"]) * 2**20,
        crs,
        _locale(),
    )
    preview["confirm"] = url_for("api.import_confirm", token=preview["token"])
    for bad in preview["bad"]:
        bad["reason_text"] = bad_row_text(bad.pop("messages")) or bad["reason"]
        bad["line_text"] = where_text(bad["line"])
    for row in preview["rows"]:
        row["line_text"] = where_text(row["line"])
        for dup in row["likely_duplicates"]:
            dup["label_text"] = where_text(dup["label"]) if dup["kind"] == "row" else dup["label"]
    return _json(preview)


@bp.post("/imports/<token>")
def import_confirm(token: str):
    """Import a previewed upload in one transaction (``{"skip_bad": false}``)."""
    skip_bad = body(ImportConfirm, optional=True).skip_bad
    result = sheet_import.confirm_import(
        get_store(),
        upload_dir("imports"),
        token,
        current_actor(),
        skip_bad=skip_bad,
        role=current_role(),
    )
    return _json(result)
