"""Accounts: users, their sessions, API tokens and the failed-sign-in counters.

The store keeps password and token hashes, never a secret itself; hashing and the sign-in
rules are in :mod:`geoapp.core.accounts` and :mod:`geoapp.services.accounts`.  A mixin of
:class:`geoapp.store.Transaction`.
"""

import functools
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import NotFound, StoreError
from geoapp.store.plumbing import TransactionBase, _now


class Accounts(TransactionBase):
    """Users, sessions, API tokens, failed sign-ins."""

    # ------------------------------------------------------------------ accounts

    _USER_PUBLIC = ("id", "name", "role", "unit_id", "active", "created_at")

    def _account_values(
        self, what: str, name: Any, role: Any, unit_id: Any
    ) -> tuple[str, str, str | None]:
        name = V.convert(name, V.to_text, what, "name")
        role = V.convert(role, V.to_text, what, "role")
        unit_id = V.convert(unit_id, V.to_text, what, "unit_id")
        if not name or not name.strip():
            raise StoreError(N_("%(what)s: a name is required"), what=what)
        if not role:
            raise StoreError(N_("%(what)s %(name)r: a role is required"), what=what, name=name)
        if unit_id is not None:
            self.get_unit(unit_id)
        return name.strip(), role, unit_id

    def create_user(
        self, name: str, password_hash: str, role: str, unit_id: str | None = None
    ) -> dict[str, Any]:
        """Add a person's account (``password_hash`` already hashed; the store never sees a
        password).  Raises StoreError when the name is taken, NotFound for an unknown unit.
        Returns the account without its hash."""
        name, role, unit_id = self._account_values("user", name, role, unit_id)
        if not password_hash:
            raise StoreError(N_("user %(name)r: a password hash is required"), name=name)
        if self._dicts(sa.select(S.users.c.id).where(S.users.c.name == name)):
            raise StoreError(N_("user %(name)r exists already"), name=name)
        pk = self._x(
            sa.insert(S.users)
            .values(
                name=name,
                password_hash=password_hash,
                role=role,
                unit_id=unit_id,
                active=True,
                created_at=_now(),
            )
            .returning(S.users.c.id)
        ).scalar_one()
        return self.get_user_by_id(pk)

    def set_user_password(self, name: str, password_hash: str) -> None:
        """Replace a user's password hash and end all their sessions; raises NotFound for an
        unknown user."""
        done = self._x(
            sa.update(S.users)
            .where(S.users.c.name == name)
            .values(password_hash=password_hash, session_token=None)
        )
        if not done.rowcount:
            raise NotFound(N_("unknown user %(name)r"), name=name)

    def set_account_active(self, kind: str, name: str, active: bool) -> dict[str, Any]:
        """Switch a user (``kind`` "user") or an API token ("token") on or off; returns the
        account as it was before (without its hash).  Raises NotFound for an unknown name.
        An account switched off can no longer sign in or be used, and a signed-in user's
        session ends at their next request."""
        table = {"user": S.users, "token": S.api_tokens}.get(kind)
        if table is None:
            raise StoreError(
                N_("set_account_active: kind must be user or token, not %(kind)r"), kind=kind
            )
        before = self._dicts(
            sa.select(*[table.c[k] for k in self._USER_PUBLIC]).where(table.c.name == name)
        )
        if not before:
            raise NotFound(N_("unknown %(kind)s %(name)r"), kind=kind, name=name)
        values: dict[str, Any] = {"active": bool(active)}
        if kind == "user":
            values["session_token"] = None  # every session of the account ends
        self._x(sa.update(table).where(table.c.name == name).values(values))
        return before[0]

    def user_session_token(self, user_id: int) -> str:
        """The secret the sessions of a user carry (a new random one if they have none);
        raises NotFound for an unknown user."""
        u = S.users
        uid = V.convert(user_id, V.to_int, "user", "id")
        token = self._x(sa.select(u.c.session_token).where(u.c.id == uid)).first()
        if token is None:
            raise NotFound(N_("unknown user id %(user_id)r"), user_id=user_id)
        if token[0]:
            return token[0]
        fresh = secrets.token_urlsafe(32)
        # only if still none: two sign-ins at once agree on one token
        self._x(
            sa.update(u)
            .where(u.c.id == uid, u.c.session_token.is_(None))
            .values(session_token=fresh)
        )
        return self._x(sa.select(u.c.session_token).where(u.c.id == uid)).scalar_one()

    def session_user(self, user_id: int, session_token: str) -> dict[str, Any] | None:
        """The account (without its hash) whose sessions carry ``session_token``, if it is
        active; None otherwise (signed out, deactivated, password changed, unknown)."""
        try:
            uid = V.convert(user_id, V.to_int, "user", "id")
        except StoreError:
            return None
        rows = [dict(r._mapping) for r in self._x(_session_user_query(), {"uid": uid})]
        if not rows or not hmac.compare_digest(
            str(rows[0]["session_token"]).encode(), str(session_token).encode()
        ):
            return None
        return {k: rows[0][k] for k in self._USER_PUBLIC}

    def end_user_sessions(self, user_id: int) -> None:
        """End every session of a user (their cookies no longer sign anyone in)."""
        uid = V.convert(user_id, V.to_int, "user", "id")
        self._x(sa.update(S.users).where(S.users.c.id == uid).values(session_token=None))

    # ------------------------------------------------------------------ failed sign-ins

    def lock_login_attempts(self, keys: Iterable[str], now: datetime) -> dict[str, dict]:
        """The failed-sign-in counters of ``keys``, made (empty) where missing and locked
        until the transaction ends, so that workers counting at once do not lose a count.
        Each is ``{"failures", "window_start", "lockouts", "locked_until"}``."""
        t = S.login_attempts
        wanted = sorted({str(k) for k in keys})
        if not wanted:
            return {}
        fresh = [
            {"key": k, "failures": 0, "window_start": now, "lockouts": 0, "locked_until": None}
            for k in wanted
        ]
        self._x(
            self._dialect_insert(t).values(fresh).on_conflict_do_nothing(index_elements=["key"])
        )
        rows = self._dicts(
            sa.select(t).where(t.c.key.in_(wanted)).order_by(t.c.key).with_for_update()
        )
        return {r.pop("key"): r for r in rows}

    def login_attempts(self, keys: Iterable[str]) -> dict[str, dict]:
        """The failed-sign-in counters of those of ``keys`` that have one (no lock)."""
        t = S.login_attempts
        wanted = sorted({str(k) for k in keys})
        if not wanted:
            return {}
        rows = self._dicts(sa.select(t).where(t.c.key.in_(wanted)))
        return {r.pop("key"): r for r in rows}

    def put_login_attempts(self, counters: Mapping[str, Mapping[str, Any]]) -> None:
        """Write counters as returned by :meth:`lock_login_attempts` (after changing them)."""
        t = S.login_attempts
        fields = ("failures", "window_start", "lockouts", "locked_until")
        for key, row in sorted(counters.items()):
            self._x(sa.update(t).where(t.c.key == key).values({f: row[f] for f in fields}))

    def forget_login_attempts(self, keys: Iterable[str]) -> None:
        """Drop the counters of ``keys`` (after a successful sign-in)."""
        wanted = sorted({str(k) for k in keys})
        if wanted:
            self._x(sa.delete(S.login_attempts).where(S.login_attempts.c.key.in_(wanted)))

    def prune_login_attempts(self, before: datetime) -> int:
        """Drop counters with no failure since ``before`` and no lock lasting past it."""
        t = S.login_attempts
        stale = sa.and_(
            t.c.window_start < before, sa.or_(t.c.locked_until.is_(None), t.c.locked_until < before)
        )
        return self._x(sa.delete(t).where(stale)).rowcount

    def get_user(self, name: str, *, with_hash: bool = False) -> dict[str, Any]:
        """One account by name (with ``password_hash`` only when asked); raises NotFound."""
        rows = self._dicts(sa.select(S.users).where(S.users.c.name == name))
        if not rows:
            raise NotFound(N_("unknown user %(name)r"), name=name)
        row = rows[0]
        return row if with_hash else {k: row[k] for k in self._USER_PUBLIC}

    def password_hash_method(self) -> str | None:
        """How the newest account's password is hashed: the method part of its hash (the
        text before the first ``$``, e.g. ``scrypt:32768:8:1``), or None without accounts.
        Checking a password costs what its method says (see geoapp.services.accounts)."""
        newest = sa.select(S.users.c.password_hash).order_by(S.users.c.id.desc()).limit(1)
        rows = self._dicts(newest)
        return rows[0]["password_hash"].split("$", 1)[0] if rows else None

    def get_user_by_id(self, user_id: int) -> dict[str, Any]:
        """One account by id, without its hash; raises NotFound."""
        cols = [S.users.c[k] for k in self._USER_PUBLIC]
        rows = self._dicts(sa.select(*cols).where(S.users.c.id == user_id))
        if not rows:
            raise NotFound(N_("unknown user id %(user_id)r"), user_id=user_id)
        return rows[0]

    def list_users(self) -> list[dict[str, Any]]:
        """Every account, by name, without hashes."""
        cols = [S.users.c[k] for k in self._USER_PUBLIC]
        return self._dicts(sa.select(*cols).order_by(S.users.c.name))

    def create_api_token(
        self, name: str, token_hash: str, role: str, unit_id: str | None = None
    ) -> dict[str, Any]:
        """Record an API token by the hash of its secret; returns the row without the hash."""
        name, role, unit_id = self._account_values("token", name, role, unit_id)
        t = S.api_tokens
        if self._dicts(sa.select(t.c.id).where(t.c.name == name)):
            raise StoreError(N_("token %(name)r exists already"), name=name)
        pk = self._x(
            sa.insert(t)
            .values(
                name=name,
                token_hash=token_hash,
                role=role,
                unit_id=unit_id,
                active=True,
                created_at=_now(),
            )
            .returning(t.c.id)
        ).scalar_one()
        return self._dicts(sa.select(*[t.c[k] for k in self._USER_PUBLIC]).where(t.c.id == pk))[0]

    def api_token_by_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The active token with this hash (without the hash), or None."""
        t = S.api_tokens
        rows = self._dicts(
            sa.select(*[t.c[k] for k in self._USER_PUBLIC]).where(
                t.c.token_hash == token_hash, t.c.active.is_(True)
            )
        )
        return rows[0] if rows else None

    def list_api_tokens(self) -> list[dict[str, Any]]:
        """Every API token, by name, without hashes."""
        t = S.api_tokens
        return self._dicts(sa.select(*[t.c[k] for k in self._USER_PUBLIC]).order_by(t.c.name))


@functools.cache
def _session_user_query() -> sa.Select:
    """An active account with a session token, by id (``uid``): built once, since every
    request of a signed-in reader runs it."""
    u = S.users
    return sa.select(u).where(
        u.c.id == sa.bindparam("uid"), u.c.active.is_(True), u.c.session_token.is_not(None)
    )
