"""Roles and credentials: what an account may be, how tokens are made and hashed.

Pure rules; password hashing (werkzeug's scrypt) and the use cases that write accounts are in
:mod:`geoapp.services.accounts`, the permission table in :mod:`geoapp.web.permissions`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from geoapp.core.messages import N_, Explained

#: The roles, most powerful first.
ROLES = ("admin", "coordinator", "planner", "inspector", "unit")
ROLE_LABELS_ZH = {
    "admin": "管理员",
    "coordinator": "创卫办协调员",
    "planner": "规划员",
    "inspector": "检查员",
    "unit": "责任单位",
}
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "gat_"  # makes a leaked token easy to recognise (e.g. by secret scanners)


class AccountError(Explained, ValueError):
    """A bad account request: unknown role, short password, unit missing or not allowed."""


def check_role(role: str, unit_id: str | None) -> None:
    """Refuse an unknown role, a ``unit`` account without a unit, or a unit on another role."""
    if role not in ROLES:
        raise AccountError(
            N_("unknown role %(role)r; choose one of %(names)s"), role=role, names=", ".join(ROLES)
        )
    if role == "unit" and not unit_id:
        raise AccountError(N_("a unit account needs --unit ID (the unit it speaks for)"))
    if role != "unit" and unit_id:
        raise AccountError(N_("only unit accounts are bound to a unit, not %(role)r"), role=role)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            N_("the password must have at least %(min_password_length)s characters"),
            min_password_length=MIN_PASSWORD_LENGTH,
        )


def new_token() -> str:
    """A fresh API token (shown once; only :func:`token_hash` of it is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a token: tokens are long random strings, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


# --- failed sign-ins -----------------------------------------------------------------------
@dataclass(frozen=True)
class LoginPolicy:
    """How many failed sign-ins a key (a name, an address, a device) may have.

    ``limit`` failures within ``window`` seconds lock the key for ``window`` seconds; each
    further lock in a row lasts twice as long as the one before, up to ``max_lock`` seconds
    (exponential back-off with a cap).  The run of locks is forgotten when ``max_lock``
    seconds pass after a lock ends without a new one.  So a guesser gets at most ``limit``
    tries per lock, never more than ``limit`` per ``max_lock`` seconds for long, and a name
    is never locked for more than ``max_lock`` seconds past its last failure.
    """

    limit: int
    window: float
    max_lock: float


def login_locked_until(counter: dict | None, now: datetime) -> datetime | None:
    """When the lock of a counter (a row of ``login_attempts``) ends, if it is locked now."""
    until = (counter or {}).get("locked_until")
    return until if until is not None and now < until else None


def after_login_failure(counter: dict, now: datetime, policy: LoginPolicy) -> dict:
    """The counter after one more failed sign-in at ``now``."""
    failures, start = counter["failures"], counter["window_start"]
    lockouts, until = counter["lockouts"], counter["locked_until"]
    cap = timedelta(seconds=policy.max_lock)
    if lockouts and until is not None and now >= until + cap:
        lockouts = 0  # a quiet spell as long as the longest lock: start over
    if now - start >= timedelta(seconds=policy.window) or failures <= 0:
        failures, start = 0, now
    failures += 1
    if failures >= policy.limit:
        lock = min(policy.window * 2.0**lockouts, policy.max_lock)
        lockouts += 1
        until = now + timedelta(seconds=lock)
        failures, start = 0, now
    return {
        "failures": failures,
        "window_start": start,
        "lockouts": lockouts,
        "locked_until": until,
    }


def after_login_taken_back(counter: dict) -> dict:
    """The counter with one counted try taken back (its password was right); a lock that
    try started stays: the key had run out of tries by then."""
    return {**counter, "failures": max(0, int(counter["failures"]) - 1)}


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a person (``kind="user"``) or another system (``"token"``)."""

    id: int
    name: str
    role: str
    unit_id: str | None = None
    kind: str = "user"

    # Flask-Login's user protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    #: the user's session secret (``users.session_token``), part of the session cookie
    session_token: str | None = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the id and the session secret, so
        that a cookie stops working when the secret is cleared (sign-out, deactivation,
        password change)."""
        return f"{self.id}:{self.session_token or ''}"

    def with_session(self, session_token: str) -> Principal:
        return replace(self, session_token=session_token)
