"""The app factory: configuration, Babel, the store, the JSON provider, the hooks and the
blueprints.  ``geoapp.create_app`` calls :func:`build_app` (through ``geoapp.web``)."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, request
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from geoapp import config as settings
from geoapp import logging_setup
from geoapp.core.model import DB_INT_MAX
from geoapp.io.mbtiles import TilePackage
from geoapp.store import open_store
from geoapp.web import (
    answers,
    cors,
    errors,
    filebodies,
    permissions,
    requestlog,
    security,
    textguard,
)
from geoapp.web.api import bp as api_bp
from geoapp.web.api import coverage as api_coverage
from geoapp.web.api import docs as api_docs
from geoapp.web.api import editor as api_editor
from geoapp.web.api import intake as api_intake
from geoapp.web.api import ledger as api_ledger
from geoapp.web.api import map as api_map
from geoapp.web.assets import make_folium_offline
from geoapp.web.context import LANGUAGES, select_locale
from geoapp.web.textguard import CheckedJSONProvider
from geoapp.web.views import (
    admin,
    auth,
    common,
    coverage,
    editor,
    field,
    field_coverage,
    health,
    intake,
    ledger,
    ogc,
)
from geoapp.web.views import map as map_pages
from geoapp.web.warmup import warm_app

#: The API's route modules: importing one adds its routes to the ``api`` blueprint.
API_ROUTES = (api_map, api_ledger, api_intake, api_editor, api_coverage, api_docs)


def digits_up_to(top: int) -> str:
    """A regular expression matching exactly the decimal numbers 0..``top`` (leading zeros
    allowed): ``digits_up_to(215)`` is
    ``0*(?:0|[1-9]\\d{0,1}|1\\d{2}|20\\d{1}|21[0-4]|215)``."""
    s = str(top)
    options = ["0"]
    if len(s) > 1:
        options.append(rf"[1-9]\d{{0,{len(s) - 2}}}" if len(s) > 2 else "[1-9]")
    for i, digit in enumerate(s):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            below = f"[{low}-{int(digit) - 1}]" if int(digit) - 1 > low else str(low)
            rest = len(s) - i - 1
            options.append(s[:i] + below + (rf"\d{{{rest}}}" if rest else ""))
    options.append(s)
    return "0*(?:" + "|".join(options) + ")"


class DbIntConverter(IntegerConverter):
    """``<int:...>`` limited to what a database integer holds on both backends.

    The limit is in the pattern, not only in ``to_python``: a larger number matches no rule
    at all, so every method answers 404.  (A converter refusing a value after the path matched
    would give 405 or 404 depending on the order the routes of that path were registered.)"""

    regex = digits_up_to(DB_INT_MAX)

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def build_app(overrides: dict | None = None) -> Flask:
    config = {**settings.from_env(), **(overrides or {})}  # SettingError: a wrong type
    # before Flask makes its logger: with our handler on the root, it adds none of its own
    logging_setup.configure(config["LOG_LEVEL"], bool(config["LOG_JSON"]))
    for problem in settings.unknown():
        logging.getLogger("geoapp.config").warning("%s", problem)
    app = Flask(
        "geoapp",
        static_folder=str(settings.REPO_ROOT / "static"),
        static_url_path="/static",
        template_folder="templates",
        root_path=str(settings.REPO_ROOT / "geoapp"),
    )
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies < 0:
        raise ValueError(f"GEOAPP_PROXY_COUNT must be 0 or more, not {proxies}")
    if proxies:  # the client's address, scheme and host as the trusted proxies forwarded them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    hosts = app.config.get("TRUSTED_HOSTS") or ""
    if isinstance(hosts, str):  # Flask checks every request's Host against this list
        hosts = [h.strip() for h in hosts.split(",") if h.strip()]
    app.config["TRUSTED_HOSTS"] = list(hosts) or None
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["DEFAULT_LOCALE"]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(
        settings.REPO_ROOT / "geoapp" / "translations"
    )
    app.json = CheckedJSONProvider(app)
    app.json.ensure_ascii = False
    Babel(app, locale_selector=select_locale)

    store = app.config.get("STORE") or open_store(app.config.get("DATABASE_URL"))
    try:  # a schema upgrade is a deploy step (`geoapp db upgrade`), never a server's
        store.require_head()
    except BaseException:
        if not app.config.get("STORE"):
            store.close()
        raise
    app.extensions["geoapp.store"] = store

    make_folium_offline()
    if app.config.get("TILES_PACKAGE"):  # a bad package stops the start, saying why
        app.extensions["geoapp.tiles"] = TilePackage(app.config["TILES_PACKAGE"])

    requestlog.init_app(app)  # first: its line covers every later hook
    filebodies.init_app(app)  # no answer leaves holding an open file
    errors.register(app)
    app.extensions["geoapp.answers"] = answers.AnswerCache()  # answers by ETag, per app
    auth.init_app(app)
    cors.init_app(app)  # before_request: a read preflight from a listed origin (opt-in)
    permissions.init_app(app)  # before_request: authenticate, permission table, CSRF
    textguard.init_app(app)  # before_request: no NUL in path, query, form (400)
    security.init_app(app)  # after_request: CSP and the other security headers
    common.init_app(app)  # what every template may use
    # ids in URLs are database integers: a larger number matches no route (404)
    app.url_map.converters["int"] = DbIntConverter
    for page_blueprint in (
        map_pages,
        ledger,
        intake,
        editor,
        admin,
        auth,
        field,
        coverage,
        field_coverage,
        health,
    ):
        app.register_blueprint(page_blueprint.bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(ogc.bp, url_prefix="/ogc")

    @app.after_request
    def remember_language(response):
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            response.set_cookie("lang", asked, max_age=365 * 24 * 3600, samesite="Lax")
        return response

    if app.config.get("WARM_CACHES"):  # geoapp serve, geoapp.wsgi: before serving
        warm_app(app)
    return app
