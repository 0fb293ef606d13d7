"""Messages for people, in the reader's language, without Flask.

A message is an English template marked with ``N_`` (pybabel's keyword, a no-op here) whose
fields are NAMED (``%(name)s``), plus the values of those fields.  The template is what the
catalogue translates; the values are filled in after translation, so a translation may put
them wherever its grammar wants.  A domain error carries its message this way
(:class:`Explained`): ``str(exc)`` is the English text (for the CLI and the logs) and the
web layer (``geoapp/web/errors.py``) renders it in the reader's language with
``exc.render(gettext)``.

Pure: imports nothing from the web, the database or the file readers.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def N_(template: str) -> str:
    """Mark a message template for translation (pybabel's ``N_`` keyword): returns it as is;
    whoever shows the message translates it."""
    return template


def fill(template: str, values: dict) -> str:
    """``template % values`` (the template alone when there are no values)."""
    return template % values if values else template


def plain(value):
    """A value as JSON can carry it: strings, numbers, booleans and None as they are (numpy's
    numbers as Python numbers), anything else as its text."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float):  # numpy's numbers too
        return value.item() if hasattr(value, "item") else value
    return str(value)


Translate = Callable[[str], str]

#: where a bad input row is, as the readers name it ("line 12", "row 3", "feature 7")
PLACES = {
    "line": N_("line %(number)s"),
    "row": N_("row %(number)s"),
    "feature": N_("feature %(number)s"),
}
_PLACE = re.compile(r"^(line|row|feature) (\d+)$")


def untranslated(template: str) -> str:
    return template


def place(where: str, translate: Translate) -> str:
    """A bad row's place ("line 12", "row 3" of a sheet, "feature 7") in another language;
    any other text as it is."""
    match = _PLACE.match(str(where))
    if not match:
        return str(where)
    return fill(translate(PLACES[match[1]]), {"number": match[2]})


class Term(str):
    """A code inside a message (a status, an action) shown as the reader's word for it.

    Its word is the catalogue's entry ``"<kind>:<code>"`` (N_-marked where the codes are
    defined, e.g. ``N_("status:verified")``); where there is none (English) the code itself
    is shown.  A tuple of terms is shown as a list."""

    key: str

    def __new__(cls, kind: str, code: str) -> Term:
        term = super().__new__(cls, code)
        term.key = f"{kind}:{code}"
        return term

    def __reduce__(self):
        return (Term, (self.key.split(":", 1)[0], str(self)))

    def render(self, translate: Translate) -> str:
        word = translate(self.key)
        return str(self) if word == self.key else word


def _value(value, translate: Translate):
    if isinstance(value, Explained | Term):
        return value.render(translate)
    if isinstance(value, tuple) and value and all(isinstance(v, Term) for v in value):
        return ", ".join(v.render(translate) for v in value)
    return value


class Explained(Exception):
    """Base of the domain errors: a message template (N_-marked, named ``%(name)s`` fields)
    and its values, given as keywords: ``ServiceError(N_("no area %(id)s"), id=area_id)``.

    ``str(exc)`` is the English text.  ``render(translate)`` is the text in another language
    (``translate`` maps an English template to its translation, e.g. Flask-Babel's gettext);
    a value that is itself an :class:`Explained` error, or a :class:`Term`, is rendered in
    the same language.
    The one-argument form ``ServiceError("plain English")`` still works (shown untranslated
    unless the catalogue has that exact text); tests/test_architecture.py keeps geoapp's own
    raise sites on the template form.
    """

    #: index of the template among the constructor's positional arguments
    message_arg = 0

    def __init__(self, message: str = "", /, **values) -> None:
        self.template = str(message)
        self.values = values
        super().__init__(self.render())

    def __reduce__(self):
        # rebuilt without calling __init__, whose signature differs between subclasses
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))

    def render(self, translate: Translate = untranslated) -> str:
        template = translate(self.template) if self.template else ""
        return fill(template, {k: _value(v, translate) for k, v in self.values.items()})


def _rebuild(cls: type[Explained], args: tuple, state: dict) -> Explained:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc
