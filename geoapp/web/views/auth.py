"""Signing in and out (Flask-Login sessions, revocable), with failed attempts rate-limited.

Sessions
    The session cookie holds the user's id and the user's session secret
    (``users.session_token``, see :meth:`geoapp.core.accounts.Principal.get_id`); each request
    loads the user only while the secret is still theirs.  Signing out clears it, and so do
    deactivation and a password change: every session of that user ends, on every browser
    (a copied cookie included).

Failed sign-ins
    Counted in the store (table ``login_attempts``), so every worker process and server
    shares them: per name (``LOGIN_MAX_ATTEMPTS`` in ``LOGIN_WINDOW_SECONDS``) and per client
    address (four times as many), each with exponential back-off up to
    ``LOGIN_MAX_LOCK_SECONDS`` (:class:`geoapp.core.accounts.LoginPolicy`).  A locked key answers
    429 with ``Retry-After``.  Each try is counted when it starts, in the same transaction as
    the lock check, before the password is checked (so guesses sent at once cannot all pass
    the check); a right password takes its try back.  The client address is the socket's, or with
    ``GEOAPP_PROXY_COUNT`` set the one the trusted proxies put in ``X-Forwarded-For``.
    So that strangers cannot lock a person out by failing on their name, a browser the name
    signed in from before carries a signed device cookie; its attempts are counted against
    that device alone (same limit), not against the name or the address.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from geoapp.core.accounts import LoginPolicy, Principal
from geoapp.services import accounts as services_accounts
from geoapp.web.context import clock_now, get_store

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

DEVICE_COOKIE = "geoapp_device"
DEVICE_DAYS = 180


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="geoapp.login-device")


def _trusted_device(name: str) -> str | None:
    """The id of this browser's device cookie when it was given by a sign-in as ``name``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 400:
        return None
    try:
        data = _devices().loads(raw)
    except BadSignature:
        return None
    if isinstance(data, dict) and data.get("n") == name.lower() and data.get("d"):
        return str(data["d"])
    return None


def _policies() -> tuple[LoginPolicy, LoginPolicy]:
    """The policies of a name (and a device) and of a client address."""
    cfg = current_app.config
    limit = int(cfg["LOGIN_MAX_ATTEMPTS"])
    window, cap = float(cfg["LOGIN_WINDOW_SECONDS"]), float(cfg["LOGIN_MAX_LOCK_SECONDS"])
    return LoginPolicy(limit, window, cap), LoginPolicy(limit * 4, window, cap)


@login_manager.user_loader
def _load_user(session_id: str):
    return services_accounts.load_user(get_store(), session_id)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("map.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page; POST checks the name and password."""
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error=None, name="")
    name = (request.form.get("name") or "").strip()[:200]
    password = request.form.get("password") or ""
    store, now = get_store(), clock_now()
    per_name, per_address = _policies()
    name_key = f"name:{name.lower()}"
    address_key = f"addr:{request.remote_addr}"
    device = _trusted_device(name)
    if device is not None:  # this browser signed in as the name before: its own counter
        keys = {f"device:{device}": per_name}
    else:
        keys = {name_key: per_name, address_key: per_address}
    # the try is counted before the password is checked (tries sent at once cannot all
    # pass the lock check); a right password takes it back
    until, counted = services_accounts.login_try(store, keys, now)
    if until is not None:
        message = _("Too many failed attempts; wait a few minutes and try again.")
        page = render_template("login.html", next_url=next_url, error=message, name=name)
        response = current_app.make_response((page, 429))
        response.headers["Retry-After"] = str(max(1, math.ceil((until - now).total_seconds())))
        return response
    user = (
        services_accounts.authenticate(store, name, password)
        if name and len(password) <= 1024
        else None
    )
    if user is None:
        message = _("Wrong name or password.")
        return render_template("login.html", next_url=next_url, error=message, name=name), 401
    # forget the counter that let this sign-in through: the device's, else the name's (a
    # name locked by strangers stays locked for them when its owner signs in elsewhere);
    # the address only gets this try back
    forget = [f"device:{device}"] if device is not None else [name_key]
    services_accounts.login_succeeded(store, forget, counted, now)
    session.clear()  # a new session on sign-in (no fixation); a new CSRF token with it
    login_user(services_accounts.start_session(store, user))
    response = redirect(next_url)
    device_id = device or services_accounts.new_device_id()
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps({"n": name.lower(), "d": device_id}),
        max_age=DEVICE_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=bool(int(current_app.config.get("SECURE_COOKIES") or 0)),
    )
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (a POST carrying the CSRF token, from the header's button): every session of
    the user ends, a copy of this one's cookie included."""
    user = current_user._get_current_object() if current_user else None
    if isinstance(user, Principal) and user.kind == "user":
        services_accounts.end_sessions(get_store(), user)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    # Flask's defaults hold the keys (SameSite None): set them unless the caller chose
    for key, value in (
        ("SESSION_COOKIE_HTTPONLY", True),
        ("SESSION_COOKIE_SAMESITE", "Lax"),
        ("REMEMBER_COOKIE_HTTPONLY", True),
        ("REMEMBER_COOKIE_SAMESITE", "Lax"),
    ):
        if app.config.get(key) is None:
            app.config[key] = value
    if int(app.config.get("SECURE_COOKIES") or 0):
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
