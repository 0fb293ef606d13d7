"""JSON API of the boundary editor (drafts, validation, preview, publish, history).

Thin: parse the request (bodies by the models of :mod:`geoapp.web.schemas.editor`), call one
function of :mod:`geoapp.services.editor`, answer JSON.
State-changing requests carry the draft's ``version``; a stale one is a 409 with
``current_version`` (see :class:`geoapp.services.editor.DraftConflict`).
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _

from geoapp.core.messages import N_
from geoapp.services import editor, editor_edits, editor_review
from geoapp.services.errors import ServiceError
from geoapp.web.actor import current_actor
from geoapp.web.api import bp
from geoapp.web.context import get_store
from geoapp.web.schemas import body
from geoapp.web.schemas.editor import DraftStart, Edit, Publish, Rollback, Versioned


def _options() -> dict:
    return {
        "sliver_m2": float(current_app.config["SLIVER_M2"]),
        "reassign_closed": bool(current_app.config["REASSIGN_CLOSED"]),
    }


@bp.get("/drafts")
def drafts():
    """The open drafts."""
    return jsonify({"drafts": editor.list_drafts(get_store())})


@bp.post("/drafts")
def draft_create():
    """Start a draft from the current generation (or ``parent_id``)."""
    data = body(DraftStart, optional=True)
    state = editor.start_draft(get_store(), current_actor(), data.parent_id, data.message)
    return jsonify(state), 201


@bp.post("/drafts/upload")
def draft_upload():
    """A whole boundary set from an uploaded file becomes a new draft."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(N_("choose a file (GeoJSON, GeoPackage or zipped Shapefile)"))
    with upload.stream:
        data = upload.read()
    state = editor.upload_draft(
        get_store(), upload.filename, data, current_actor(), request.form.get("message")
    )
    return jsonify(state), 201


@bp.get("/drafts/<int:generation_id>")
def draft(generation_id: int):
    """A draft (or any generation) with its areas and undo/redo state."""
    return jsonify(editor.draft_state(get_store(), generation_id))


@bp.delete("/drafts/<int:generation_id>")
def draft_discard(generation_id: int):
    """Throw a draft away."""
    editor.discard_draft(get_store(), generation_id)
    return jsonify({"deleted": generation_id})


@bp.post("/drafts/<int:generation_id>/edits")
def draft_edit(generation_id: int):
    """Apply one edit (``op``) to the draft at ``version``."""
    data = body(Edit)
    state = editor_edits.apply_edit(
        get_store(), generation_id, data.op, data.version, current_actor()
    )
    return jsonify(state)


@bp.post("/drafts/<int:generation_id>/undo")
def draft_undo(generation_id: int):
    """Undo the draft's last edit."""
    data = body(Versioned)
    return jsonify(
        editor_edits.undo_redo(get_store(), generation_id, data.version, current_actor())
    )


@bp.post("/drafts/<int:generation_id>/redo")
def draft_redo(generation_id: int):
    """Redo the last undone edit."""
    data = body(Versioned)
    return jsonify(
        editor_edits.undo_redo(get_store(), generation_id, data.version, current_actor(), redo=True)
    )


@bp.get("/drafts/<int:generation_id>/validation")
def draft_validation(generation_id: int):
    """Errors and warnings of a generation's boundaries, each with where it is."""
    return jsonify(
        editor_review.validate_generation(get_store(), generation_id, _options()["sliver_m2"])
    )


@bp.get("/drafts/<int:generation_id>/preview")
def draft_preview(generation_id: int):
    """What publishing would change: areas, problems, unit totals."""
    return jsonify(editor_review.preview(get_store(), generation_id, _options()["reassign_closed"]))


@bp.post("/drafts/<int:generation_id>/publish")
def draft_publish(generation_id: int):
    """Publish the draft at ``version`` with a ``message``."""
    data = body(Publish)
    result = editor.publish(
        get_store(),
        generation_id,
        data.version,
        current_actor(),
        data.message,
        accept_warnings=data.accept_warnings,
        note=data.note,
        **_options(),
    )
    return jsonify(result)


@bp.get("/generations")
def generations():
    """Every generation, drafts too, oldest first."""
    return jsonify({"generations": editor.history(get_store())})


@bp.get("/generations/compare")
def generations_compare():
    """Areas that differ between generations ``a`` and ``b``."""
    a = request.args.get("a", type=int)
    b = request.args.get("b", type=int)
    if a is None or b is None:
        raise ServiceError(N_("give two generation ids: ?a=…&b=…"))
    return jsonify(editor_review.compare(get_store(), a, b))


@bp.post("/generations/<int:generation_id>/rollback")
def generation_rollback(generation_id: int):
    """Publish an old generation's boundaries again as a new generation."""
    data = body(Rollback, optional=True)
    opts = _options()
    result = editor.rollback(
        get_store(),
        generation_id,
        current_actor(),
        # the new generation's message is kept and shown to everyone: in the reader's language
        data.message or _("Roll back to generation %(id)s", id=generation_id),
        accept_warnings=True,
        note=data.note or "rollback",
        **opts,
    )
    return jsonify(result)


def _export(generation_id: int, fmt: str) -> Response:
    body, mimetype, name = editor.export(get_store(), generation_id, fmt)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/generations/<int:generation_id>/areas.geojson")
def generation_export_geojson(generation_id: int):
    """A generation's areas as a GeoJSON file, for QGIS."""
    return _export(generation_id, "geojson")


@bp.get("/generations/<int:generation_id>/areas.gpkg")
def generation_export_gpkg(generation_id: int):
    """A generation's areas as a GeoPackage file, for QGIS."""
    return _export(generation_id, "gpkg")
