"""What a view asks of the running app during a request: the store, the present time and the
reader's language.

Imports nothing of ``geoapp.web`` (every view and hook may import it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, request

LANGUAGES = ("zh", "en")


def get_store():
    return current_app.extensions["geoapp.store"]


def clock_now() -> datetime:
    """The present, from the app's ``CLOCK`` (a callable returning an aware datetime, which
    tests set) or the system clock."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


def select_locale() -> str:
    """``?lang=`` first (remembered in a cookie), then the cookie, then the browser."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return cookie
    best = request.accept_languages.best_match(LANGUAGES)
    return best or current_app.config["DEFAULT_LOCALE"]
