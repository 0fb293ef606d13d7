"""Use cases for accounts: create users and tokens, switch them off (and on), change a
password, check a login (with failed sign-ins counted in the store), start and end sessions,
seed demo accounts."""

from __future__ import annotations

import contextlib
import functools
import secrets
from datetime import datetime, timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.core import accounts
from geoapp.core.accounts import AccountError, Principal
from geoapp.services.audit import audit
from geoapp.store import NotFound

DEMO_ROLES = accounts.ROLES


def hash_password(password: str, method: str | None = None) -> str:
    """A salted, slow hash (scrypt) of a password (``method``: werkzeug's method and cost,
    default werkzeug's own)."""
    return generate_password_hash(password, method) if method else generate_password_hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@functools.lru_cache(maxsize=8)
def dummy_hash(method: str | None) -> str:
    """A hash of nothing anyone can type, made with ``method`` (werkzeug's default when None
    or not a method werkzeug knows): verified against when the user does not exist, so that
    a wrong name costs as much time as a wrong password of the store's accounts (their hashes
    carry their own method and cost, which need not be today's default: accounts made under
    an older werkzeug, or with another cost)."""
    secret = secrets.token_hex(16)
    if method:
        with contextlib.suppress(ValueError, TypeError):
            return generate_password_hash(secret, method)
    return generate_password_hash(secret)


def create_user(
    store,
    name: str,
    password: str,
    role: str,
    unit_id: str | None = None,
    actor: str | None = None,
    method: str | None = None,
) -> dict:
    """Add a person's account; raises AccountError (bad role/password) or StoreError.
    ``method``: how its password is hashed (see :func:`hash_password`)."""
    accounts.check_role(role, unit_id)
    accounts.check_password(password)
    with store.transaction() as tx:
        user = tx.create_user(name, hash_password(password, method), role, unit_id)
        audit(tx, actor, "user.create", f"user:{user['name']}", None, _public(user))
    return user


def create_token(
    store, name: str, role: str, unit_id: str | None = None, actor: str | None = None
) -> str:
    """Make an API token for another system and return it (it is not stored, only its hash)."""
    accounts.check_role(role, unit_id)
    token = accounts.new_token()
    with store.transaction() as tx:
        row = tx.create_api_token(name, accounts.token_hash(token), role, unit_id)
        audit(tx, actor, "token.create", f"token:{row['name']}", None, _public(row))
    return token


def set_active(store, kind: str, name: str, active: bool, actor: str | None = None) -> dict:
    """Switch a user or an API token (``kind``) on or off, with an audit entry; returns the
    account as it was before.  Raises NotFound for an unknown name."""
    verb = "activate" if active else "deactivate" if kind == "user" else "revoke"
    with store.transaction() as tx:
        before = tx.set_account_active(kind, name, active)
        after = {**_public(before), "active": bool(active)}
        was = {**_public(before), "active": bool(before["active"])}
        audit(tx, actor, f"{kind}.{verb}", f"{kind}:{name}", was, after)
    return before


def set_password(store, name: str, password: str, actor: str | None = None) -> None:
    """Give a user a new password (audited); every session of the user ends.  Raises
    AccountError (too short) or NotFound (unknown user)."""
    accounts.check_password(password)
    with store.transaction() as tx:
        user = tx.get_user(name)
        tx.set_user_password(name, hash_password(password))
        audit(tx, actor, "user.password", f"user:{name}", None, _public(user))


def _public(row: dict) -> dict:
    return {k: row.get(k) for k in ("name", "role", "unit_id")}


def authenticate(store, name: str, password: str) -> Principal | None:
    """The account if the name and password match an active user, else None."""
    try:
        row = store.get_user(name, with_hash=True)
    except NotFound:
        password_matches(dummy_hash(store.password_hash_method()), password)  # as a miss
        return None
    if not row["active"] or not password_matches(row["password_hash"], password):
        return None
    return principal(row)


def principal(row: dict, kind: str = "user") -> Principal:
    return Principal(row["id"], row["name"], row["role"], row.get("unit_id"), kind)


def start_session(store, user: Principal) -> Principal:
    """The user with the session secret a new sign-in session carries (see Principal.get_id);
    all sessions of a user share it until it is cleared."""
    return user.with_session(store.user_session_token(user.id))


def end_sessions(store, user: Principal) -> None:
    """Sign-out: every session of the user ends (on every browser and device)."""
    store.end_user_sessions(user.id)


def load_user(store, session_id: str) -> Principal | None:
    """The user of a session cookie's ``"<id>:<secret>"``; None when the secret is no longer
    the user's (signed out, deactivated, password changed), or for an old id-only cookie."""
    user_id, sep, token = str(session_id).partition(":")
    if not sep or not token or not user_id.isdigit():
        return None
    row = store.session_user(int(user_id), token)
    return principal(row).with_session(token) if row else None


# --- failed sign-ins ------------------------------------------------------------------------
def login_try(
    store, keys: dict[str, accounts.LoginPolicy], now: datetime
) -> tuple[datetime | None, dict[str, tuple[dict, dict]]]:
    """Start a sign-in try: ``(until, counted)``.  When a key is locked at ``now``, ``until``
    is when its lock ends (the latest among ``keys``) and nothing is counted.  Else
    ``until`` is None and the try is already counted as a failure against each key under
    its own policy; ``counted`` maps each key to its counter before and after.

    The check and the count are one transaction on the locked counters, shared by every
    worker and thread, and come BEFORE the password is checked: tries sent at once cannot
    all pass the check while none has been counted yet.  A try whose password turns out
    right is taken back by :func:`login_succeeded`."""
    with store.transaction() as tx:
        counters = tx.lock_login_attempts(keys, now)
        ends = [e for c in counters.values() if (e := accounts.login_locked_until(c, now))]
        if ends:
            return max(ends), {}
        after = {k: accounts.after_login_failure(c, now, keys[k]) for k, c in counters.items()}
        tx.put_login_attempts(after)
        longest = max((p.window + p.max_lock for p in keys.values()), default=0)
        tx.prune_login_attempts(now - timedelta(seconds=2 * longest))
    return None, {k: (counters[k], after[k]) for k in counters}


def new_device_id() -> str:
    """A fresh id for a browser's device cookie (see geoapp.web.views.auth)."""
    return secrets.token_urlsafe(16)


def login_succeeded(store, forget, counted: dict[str, tuple[dict, dict]], now: datetime) -> None:
    """A try :func:`login_try` counted had the right password: forget the counters of
    ``forget`` (the name or the device signed in with) and take the try back from the
    other keys it was ``counted`` against (the address: never reset, since one good
    account must not clear an address that guesses at others): a counter nobody changed
    since is put back as it was (a lock this try started included), else it loses one
    failure."""
    with store.transaction() as tx:
        tx.forget_login_attempts(forget)
        rest = {k: v for k, v in counted.items() if k not in set(forget)}
        if rest:
            current = tx.lock_login_attempts(rest, now)
            tx.put_login_attempts(
                {
                    k: before if current[k] == after else accounts.after_login_taken_back(c)
                    for k, c in current.items()
                    for before, after in [rest[k]]
                }
            )


def token_principal(store, token: str) -> Principal | None:
    if not token or len(token) > 200:
        return None
    row = store.api_token_by_hash(accounts.token_hash(token))
    return principal(row, "token") if row else None


def demo_unit(store) -> str | None:
    """The unit given to the demo ``unit`` account: the one answering for most problems."""
    pts = store.problem_points(extra=["responsible_unit_id"])
    counts: dict[str, int] = {}
    for uid in pts["responsible_unit_id"]:
        if uid:
            counts[uid] = counts.get(uid, 0) + 1
    if counts:
        return max(sorted(counts), key=lambda u: counts[u])
    units = store.list_units()
    return units[0]["unit_id"] if units else None


def seed_demo_accounts(
    store, passwords: dict[str, str] | None = None, method: str | None = None
) -> list[dict]:
    """One account per role, named after it, with a fresh random password (or the one in
    ``passwords``); an existing demo account gets its new password.  Demo mode only.
    ``method``: how the passwords are hashed (see :func:`hash_password`)."""
    unit_id = demo_unit(store)
    out = []
    for role in DEMO_ROLES:
        password = (passwords or {}).get(role) or secrets.token_urlsafe(9)
        uid = unit_id if role == "unit" else None
        if role == "unit" and uid is None:
            continue
        try:
            store.get_user(role)
        except NotFound:
            create_user(store, role, password, role, uid, actor="demo", method=method)
        else:
            store.set_user_password(role, hash_password(password, method))
        out.append({"name": role, "role": role, "unit_id": uid, "password": password})
    return out


__all__ = [
    "AccountError",
    "authenticate",
    "create_token",
    "create_user",
    "seed_demo_accounts",
]
