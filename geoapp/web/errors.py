"""Domain errors → HTTP answers, in one place. JSON for /api, a page elsewhere."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from geoapp.core.accounts import AccountError
from geoapp.core.crs import CRSError
from geoapp.core.intake import ReportError
from geoapp.core.messages import N_, Explained, fill, place
from geoapp.core.workflow import NotPermitted, TransitionRefused
from geoapp.io.readers import InputError
from geoapp.services.editor import DraftConflict, Unchanged
from geoapp.services.mapping import ServiceError
from geoapp.services.queries import BadParameter
from geoapp.store import InvalidValue, NotFound, StaleVersion, StoreError, StoreUnavailable
from geoapp.web.textguard import BadText

# exception class → (HTTP status, machine-readable code)
ERROR_MAP: list[tuple[type[Exception], int, str]] = [
    (NotFound, 404, "not_found"),
    (StaleVersion, 409, "stale_version"),
    (DraftConflict, 409, "stale_version"),
    (Unchanged, 400, "unchanged"),
    (CRSError, 400, "bad_crs"),
    (BadParameter, 400, "bad_parameter"),
    (InputError, 400, "bad_input"),
    (BadText, 400, "bad_input"),
    (ReportError, 400, "bad_input"),
    (NotPermitted, 403, "forbidden"),
    (TransitionRefused, 409, "transition_refused"),
    (ServiceError, 400, "refused"),
    (AccountError, 400, "bad_account"),
    (InvalidValue, 400, "bad_value"),
    (StoreError, 503, "store_unavailable"),
]
#: The database cannot be reached (down, restarting, connection lost): 503 with Retry-After,
#: whichever layer noticed.  The connection pool checks connections before use
#: (pool_pre_ping), so the app answers again by itself once the database is back.
UNAVAILABLE: tuple[type[Exception], ...] = (
    StoreUnavailable,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
)
RETRY_AFTER_S = 5
#: HTTP errors raised without a message of ours (werkzeug's English descriptions), in words
#: the catalogue translates
HTTP_MESSAGES = {
    400: N_("The request is not valid."),
    404: N_("There is nothing at this address."),
    405: N_("This address does not accept this method."),
    413: N_("The upload is too large."),
    415: N_("This kind of content is not accepted here."),
}


def _translated(template: str) -> str:
    return _(template) if template else ""


def message_of(exc: BaseException) -> str:
    """An error's message in the reader's language: a domain error (:class:`Explained`) is
    rendered from its template; anything else is shown as its text."""
    return exc.render(_translated) if isinstance(exc, Explained) else str(exc)


def bad_row_text(messages) -> str:
    """A bad row's reason in the reader's language (its templates are N_-marked where the row
    is judged: readers.py, services.py)."""
    sep = "；" if str(get_locale()) == "zh" else "; "
    return sep.join(fill(_translated(t), v) for t, v in messages) if messages else ""


def where_text(where: str) -> str:
    """A bad row's place ("line 12", "row 3", "feature 7") in the reader's language."""
    return place(where, _translated)


def details_of(exc: BaseException, limit: int = 100) -> list[str] | None:
    """The bad rows an error lists (InputError.bad), each in the reader's language."""
    rows = list(getattr(exc, "bad", []))[:limit]
    out = []
    for row in rows:
        messages = getattr(row, "messages", ())
        if messages:
            values = {"where": where_text(row.where), "reason": bad_row_text(messages)}
            out.append(fill(_translated(N_("%(where)s: %(reason)s")), values))
        else:
            out.append(str(row))
    return out or None


def _wants_json() -> bool:
    return (
        request.path.startswith(("/api/", "/ogc/", "/field/api/"))
        or request.accept_mimetypes.best == "application/json"
    )


def _printable(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (a lone surrogate echoed from the input)
    written as a backslash escape, so that the answer itself can be sent."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _answer(status: int, code: str, message: str, details=None, payload=None):
    message = _printable(message)
    details = [_printable(d) for d in details] if details else details
    if _wants_json():
        body = {"error": code, "message": message}
        if details:
            body["details"] = details
        if payload:
            body.update({k: v for k, v in payload.items() if k not in body})
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, details=details), status


def register(app) -> None:
    for exc_class, status, code in ERROR_MAP:

        def handler(exc, status=status, code=code):
            status_ = getattr(exc, "status", status) if isinstance(exc, ServiceError) else status
            payload = getattr(exc, "payload", None)
            return _answer(status_, code, message_of(exc), details_of(exc), payload)

        app.register_error_handler(exc_class, handler)

    def unavailable(exc):
        current_app.logger.warning("database unavailable: %s", exc)
        message = _("The database cannot be reached at the moment. Please try again shortly.")
        response, status = _answer(503, "database_unavailable", message)
        response = current_app.make_response((response, status))
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        response.cache_control.no_store = True
        return response

    for exc_class in UNAVAILABLE:
        app.register_error_handler(exc_class, unavailable)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description
        if message == type(exc).description and exc.code in HTTP_MESSAGES:
            message = _(HTTP_MESSAGES[exc.code])  # werkzeug's default text: say it in ours
        return _answer(exc.code or 500, exc.name.lower().replace(" ", "_"), message)
