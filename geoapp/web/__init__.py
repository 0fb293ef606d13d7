"""The Flask side: the app factory, blueprints by capability, error mapping, security,
language selection and the API's request/response schemas.

Views are thin: they parse the request, call a use case of ``geoapp.services`` and shape the
answer.  May import: ``geoapp.core``, ``geoapp.io``, ``geoapp.services``, the store's interface
``geoapp.store`` (never its modules), flask and folium.  Never ``geoapp.cli``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import Flask, request
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from geoapp import config as settings
from geoapp.core.model import DB_INT_MAX
from geoapp.store import open_store

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    """``?lang=`` first (remembered in a cookie), then the cookie, then the browser."""
    from flask import current_app

    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in LANGUAGES:
        return cookie
    best = request.accept_languages.best_match(LANGUAGES)
    return best or current_app.config["DEFAULT_LOCALE"]


class DbIntConverter(IntegerConverter):
    """``<int:...>`` limited to what a database integer holds on both backends."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def build_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        "geoapp",
        static_folder=str(settings.REPO_ROOT / "static"),
        static_url_path="/static",
        template_folder="templates",
        root_path=str(settings.REPO_ROOT / "geoapp"),
    )
    app.config.update(settings.from_env())
    app.config.update(overrides or {})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies < 0:
        raise ValueError(f"GEOAPP_PROXY_COUNT must be 0 or more, not {proxies}")
    if proxies:  # the client's address, scheme and host as the trusted proxies forwarded them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(
        settings.REPO_ROOT / "geoapp" / "translations"
    )
    from geoapp.web.textguard import CheckedJSONProvider

    app.json = CheckedJSONProvider(app)
    app.json.ensure_ascii = False
    Babel(app, locale_selector=select_locale)

    store = app.config.get("STORE") or open_store(app.config.get("DATABASE_URL"))
    store.upgrade()
    app.extensions["geoapp.store"] = store

    from geoapp.web.assets import make_folium_offline

    make_folium_offline()

    # the *_editor and *_intake modules add routes to the api and pages blueprints
    from geoapp.web import (  # noqa: F401 (routes)
        admin,
        api,
        api_editor,
        api_intake,
        auth,
        errors,
        field,
        ogc,
        pages,
        pages_editor,
        pages_intake,
        permissions,
        security,
        textguard,
    )

    errors.register(app)
    app.extensions["geoapp.answers"] = api.AnswerCache()  # answers by ETag, per app
    auth.init_app(app)
    permissions.init_app(app)  # before_request: authenticate, permission table, CSRF
    textguard.init_app(app)  # before_request: no NUL in path, query, form (400)
    security.init_app(app)  # after_request: CSP and the other security headers
    # ids in URLs are database integers: a larger number matches no route (404)
    app.url_map.converters["int"] = DbIntConverter
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(ogc.bp, url_prefix="/ogc")
    app.register_blueprint(field.bp)  # the phone pages, /field/

    @app.after_request
    def remember_language(response):
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            response.set_cookie("lang", asked, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    return app


def clock_now() -> datetime:
    """The present, from the app's ``CLOCK`` (a callable returning an aware datetime, which
    tests set) or the system clock."""
    from flask import current_app

    clock = current_app.config.get("CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


def get_store():
    from flask import current_app

    return current_app.extensions["geoapp.store"]
