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
from geoapp.io.errors import InputError
from geoapp.services.editor import DraftConflict
from geoapp.services.editor_edits import Unchanged
from geoapp.services.errors import ServiceError
from geoapp.services.query_params import BadParameter
from geoapp.store import InvalidValue, NotFound, StaleVersion, StoreError, StoreUnavailable
from geoapp.web.requestlog import request_id
from geoapp.web.schemas.base import BadBody
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
    500: N_("Something went wrong on the server. The error is logged under the number below."),
}
#: pydantic's error types → what is wrong with the field, in words the catalogue translates
#: (values: ``value`` the value sent, ``name`` its JSON type, ``limit``, ``names``)
FIELD_MESSAGES = {
    "missing": N_("is required"),
    "extra_forbidden": N_("unknown field (known: %(names)s)"),
    "model_type": N_("expected a JSON object"),
    "model_attributes_type": N_("expected a JSON object"),
    "dict_type": N_("expected a JSON object"),
    "string_type": N_("must be text, got %(name)s"),
    "float_type": N_("must be a number, got %(value)r"),
    "float_parsing": N_("must be a number, got %(value)r"),
    "finite_number": N_("must be a number, got %(value)r"),
    "int_type": N_("must be a whole number, got %(value)r"),
    "int_parsing": N_("must be a whole number, got %(value)r"),
    "int_from_float": N_("must be a whole number, got %(value)r"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "list_type": N_("must be a list, got %(name)s"),
    "greater_than": N_("must be more than %(limit)s, got %(value)r"),
    "greater_than_equal": N_("must be at least %(limit)s, got %(value)r"),
    "less_than": N_("must be less than %(limit)s, got %(value)r"),
    "less_than_equal": N_("must be at most %(limit)s, got %(value)r"),
}
OTHER_FIELD_MESSAGE = N_("is not valid: %(value)r")
#: JSON's names of Python's types, for "got …"
JSON_TYPES = {"dict": "object", "list": "array", "str": "text", "NoneType": "null"}
#: the parts of a pydantic error location that name a union's member, not a field
_MEMBER_TAGS = {"str", "int", "float", "bool", "none", "list", "dict", "bytes"}


class _Echo:
    """A value sent, echoed in a message as its repr, cut short (a body may be large)."""

    def __init__(self, value, limit: int = 60):
        self.text = repr(value)
        if len(self.text) > limit:
            self.text = self.text[: limit - 1] + "…"

    def __repr__(self) -> str:
        return self.text


def _field_path(loc: tuple) -> str:
    """``("op", "polygon", 2)`` → ``op.polygon[2]``; the whole body is ``body``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in _MEMBER_TAGS and "[" not in part:
            path += f".{part}" if path else part
    return path or "body"


def field_errors(exc: BadBody) -> list[str]:
    """Each of a request body's faults as ``field: what is wrong``, in the reader's language."""
    out: dict[str, str] = {}  # the first fault of each field (a union lists one per member)
    fields = [f.alias or name for name, f in exc.model.model_fields.items()]
    for err in exc.error.errors(include_url=False):
        field = _field_path(err["loc"])
        if field in out:
            continue
        ctx = err.get("ctx") or {}
        value = err.get("input")
        values = {
            "value": _Echo(value),
            "name": JSON_TYPES.get(type(value).__name__, type(value).__name__),
            "limit": next((ctx[k] for k in ("gt", "ge", "lt", "le") if k in ctx), ""),
            "names": ", ".join(fields),
        }
        template = FIELD_MESSAGES.get(err["type"], OTHER_FIELD_MESSAGE)
        where = {"field": field, "message": fill(_(template), values)}
        out[field] = fill(_(N_("%(field)s: %(message)s")), where)
    return list(out.values())


def _translated(template: str) -> str:
    return _(template) if template else ""


def message_of(exc: BaseException) -> str:
    """An error's message in the reader's language: a domain error (:class:`Explained`) is
    rendered from its template; anything else is shown as its text."""
    return exc.render(_translated) if isinstance(exc, Explained) else str(exc)


def bad_row_text(messages) -> str:
    """A bad row's reason in the reader's language (its templates are N_-marked where the row
    is judged: geoapp/io, services)."""
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
        if status >= 500:
            body["request_id"] = request_id()
        if payload:
            body.update({k: v for k, v in payload.items() if k not in body})
        return jsonify(body), status
    page = render_template(
        "error.html", status=status, message=message, details=details, request_id=request_id()
    )
    return page, status


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

    @app.errorhandler(BadBody)
    def bad_body(exc: BadBody):
        """The one place a request body refused by its model becomes an answer: 400, the
        first fault as the message, every fault in the details."""
        faults = field_errors(exc)
        return _answer(400, "bad_input", faults[0], faults[1:] and faults)

    for exc_class in UNAVAILABLE:
        app.register_error_handler(exc_class, unavailable)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description
        if message == type(exc).description and exc.code in HTTP_MESSAGES:
            message = _(HTTP_MESSAGES[exc.code])  # werkzeug's default text: say it in ours
        return _answer(exc.code or 500, exc.name.lower().replace(" ", "_"), message)
