"""Signing in and out (Flask-Login sessions), with failed attempts rate-limited."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, login_user, logout_user

from .. import services_accounts
from . import get_store

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


class AttemptLimiter:
    """At most ``limit`` failed sign-ins per key (a name, an address) in ``window`` seconds.

    Kept in memory, per process: enough for one county office's server; a restart forgets.
    """

    def __init__(self) -> None:
        self.failures: dict[str, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        q = self.failures[key]
        while q and q[0] <= now - window:
            q.popleft()
        return q

    def blocked(self, keys: list[str], limit: int, window: float) -> bool:
        now = time.monotonic()
        with self.lock:
            return any(len(self._recent(k, window, now)) >= limit for k in keys)

    def fail(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self.lock:
            for k in keys:
                self.failures[k].append(now)
            if len(self.failures) > 10_000:  # forget the oldest keys rather than grow
                for k in list(self.failures)[:5_000]:
                    del self.failures[k]

    def forget(self, keys: list[str]) -> None:
        with self.lock:
            for k in keys:
                self.failures.pop(k, None)


@login_manager.user_loader
def _load_user(user_id: str):
    return services_accounts.load_user(get_store(), user_id)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no ``//``): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page; POST checks the name and password."""
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error=None, name="")
    name = (request.form.get("name") or "").strip()
    password = request.form.get("password") or ""
    cfg = current_app.config
    limiter: AttemptLimiter = current_app.extensions["geoapp.login_limiter"]
    keys = [f"name:{name.lower()}", f"addr:{request.remote_addr}"]
    limit, window = int(cfg["LOGIN_MAX_ATTEMPTS"]), float(cfg["LOGIN_WINDOW_SECONDS"])
    if limiter.blocked(keys[:1], limit, window) or limiter.blocked(keys[1:], limit * 4, window):
        message = _("Too many failed attempts; wait a few minutes and try again.")
        return render_template("login.html", next_url=next_url, error=message, name=name), 429
    user = (
        services_accounts.authenticate(get_store(), name, password)
        if name and len(password) <= 1024
        else None
    )
    if user is None:
        limiter.fail(keys)
        message = _("Wrong name or password.")
        return render_template("login.html", next_url=next_url, error=message, name=name), 401
    limiter.forget(keys[:1])
    session.clear()  # a new session on sign-in (no fixation); a new CSRF token with it
    login_user(user)
    return redirect(next_url)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (a POST carrying the CSRF token, from the header's button)."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.extensions["geoapp.login_limiter"] = AttemptLimiter()
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
