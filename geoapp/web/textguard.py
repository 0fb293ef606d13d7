"""Text the app cannot store is refused at the edge with a 400 naming the field.

* JSON bodies: the app's JSON provider parses, then checks the value
  (:func:`geoapp.core.textcheck.first_fault_of_text`): a NUL character, a lone surrogate or
  nesting deeper than :data:`geoapp.core.textcheck.MAX_DEPTH` is a :class:`BadText`.  Python's parser
  gives up on very deep nesting with a RecursionError; that is a :class:`BadText` too.
  :class:`BadText` is not a ValueError, so ``request.get_json(silent=True)`` does not turn
  it into "no body".
* URL path parts, query arguments, form fields and upload file names: checked by a
  ``before_request`` hook that runs after authentication and the permission check and
  before the view.  (Werkzeug decodes them with replacement characters, so only NUL can
  occur there.)
"""

from __future__ import annotations

from flask import request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext

from geoapp.core.textcheck import (
    MAX_DEPTH,
    NUL,
    SURROGATE,
    first_fault_of_text,
    text_fault,
)


class BadText(Exception):
    """A request value that cannot be stored; ``field`` names it.  Answered 400."""

    def __init__(self, field: str, fault: str) -> None:
        # named as it can be shown: a key's own lone surrogate as a backslash escape
        self.field = (field or "body").encode("utf-8", "backslashreplace").decode("utf-8")
        if fault == NUL:
            reason = gettext("%(field)s: contains a NUL character (U+0000)", field=self.field)
        elif fault == SURROGATE:
            reason = gettext(
                "%(field)s: contains a lone surrogate (U+D800 to U+DFFF), which is not "
                "valid Unicode",
                field=self.field,
            )
        else:
            reason = gettext(
                "%(field)s: the JSON is nested deeper than %(depth)s levels",
                field=self.field,
                depth=MAX_DEPTH,
            )
        super().__init__(reason)


def _source_text(source) -> str | None:
    """The JSON source as text (None when it is bytes in an encoding other than UTF-8)."""
    if isinstance(source, str):
        return source
    try:
        return bytes(source).decode("utf-8")
    except UnicodeDecodeError:
        return None


class CheckedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, refusing decoded values that cannot be stored."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise BadText("body", "too_deep") from None
        fault = first_fault_of_text(_source_text(s), value)
        if fault is not None:
            raise BadText(*fault)
        return value


def _check(kind: str, name: str, value: str) -> None:
    for text in (name, value):
        fault = text_fault(text) if isinstance(text, str) else None
        if fault:
            raise BadText(f"{name!r} ({kind})", fault)


def check_request_text() -> None:
    """The ``before_request`` hook: path parts, query arguments, form fields, file names."""
    for name, value in (request.view_args or {}).items():
        _check(gettext("URL part"), name, value)
    if text_fault(request.path):
        raise BadText(gettext("URL path"), NUL)
    for name, value in request.args.items(multi=True):
        _check(gettext("query argument"), name, value)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.form.items(multi=True):
            _check(gettext("form field"), name, value)
        for name, upload in request.files.items(multi=True):
            _check(gettext("uploaded file name"), name, upload.filename or "")


def init_app(app) -> None:
    app.before_request(check_request_text)
