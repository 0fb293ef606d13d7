"""Roles and credentials: what an account may be, how secrets are hashed.

Pure rules plus werkzeug's password hashing; the use cases that write accounts are in
:mod:`geoapp.services_accounts`, the permission table in :mod:`geoapp.web.permissions`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from .messages import N_, Explained

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


def hash_password(password: str) -> str:
    """A salted, slow hash (scrypt) of a password."""
    return generate_password_hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


#: A hash of nothing anyone can type: verified against when the user does not exist, so
#: that a wrong name costs as much time as a wrong password.
DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def new_token() -> str:
    """A fresh API token (shown once; only :func:`token_hash` of it is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a token: tokens are long random strings, so a fast hash is enough."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


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

    def get_id(self) -> str:
        return str(self.id)
