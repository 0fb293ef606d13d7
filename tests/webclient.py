"""Test clients that sign in and send CSRF tokens (see the fixtures in tests/conftest.py)."""

from __future__ import annotations

import json
import uuid

from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from werkzeug.datastructures import Headers

from geoapp import create_app
from geoapp.core.accounts import ROLES
from geoapp.store import open_store

#: The demo databases' accounts: one per role, named after it, with these passwords.
TEST_PASSWORDS = {role: f"{role}-password" for role in ROLES}

#: How the test databases hash the demo accounts' passwords: werkzeug's scrypt with a cost of
#: 2**10 instead of its default 2**15 (checking one takes ~1 ms instead of ~230 ms).  Signing
#: in runs the same code (werkzeug reads the method and cost from the stored hash); the
#: accounts tests create their own accounts with the real cost.
TEST_HASH_METHOD = "scrypt:1024:8:1"


def seed_test_accounts(store) -> None:
    """The demo accounts of ``TEST_PASSWORDS`` in ``store``, their passwords hashed with
    ``TEST_HASH_METHOD``."""
    from geoapp.services.accounts import seed_demo_accounts

    seed_demo_accounts(store, TEST_PASSWORDS, method=TEST_HASH_METHOD)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class GeoappClient(FlaskClient):
    """A test client that sends its session's CSRF token on state-changing requests."""

    csrf_token: str | None = None
    role: str = "anonymous"
    unit_id: str | None = None

    def open(self, *args, csrf: bool = True, **kwargs):
        method = str(kwargs.get("method", "GET")).upper()
        if csrf and self.csrf_token and method in UNSAFE_METHODS:
            headers = Headers(kwargs.get("headers") or {})
            headers.setdefault("X-CSRFToken", self.csrf_token)
            kwargs["headers"] = headers
        response = super().open(*args, **kwargs)
        # The answers a test reads (``r.get_json()`` / ``r.json``) are parsed by the standard
        # library: Flask would parse them with the app's JSON provider, which checks every
        # string of the value for text the app cannot store (geoapp/web/textguard.py), a
        # check meant for request bodies.  Request bodies still go through the app's provider.
        response.json_module = json
        return response


def sign_in(client: GeoappClient, role: str | None) -> GeoappClient:
    """Make ``client`` a session of the demo account named ``role`` (None: anonymous)."""
    token = uuid.uuid4().hex
    user = None
    if role is not None:
        user = client.application.extensions["geoapp.store"].get_user(role)
    with client.session_transaction() as session:
        session.clear()
        session["_csrf"] = token
        if user is not None:  # Flask-Login's "<id>:<session secret>" (Principal.get_id)
            secret = client.application.extensions["geoapp.store"].user_session_token(user["id"])
            session["_user_id"] = f"{user['id']}:{secret}"
            session["_fresh"] = True
    client.csrf_token = token
    client.role = role or "anonymous"
    client.unit_id = user["unit_id"] if user else None
    return client


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for every app of the test process: each app has
    its own Jinja environment, which would compile again every template a test renders.
    Jinja checks each template's source checksum before using the code kept here."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


def upgraded(url: str) -> str:
    """``url`` after the deploy step ``geoapp db upgrade`` (app servers never migrate: they
    refuse a store whose schema is behind); a store already at head is left as it is."""
    with open_store(url) as store:
        if store.revision() != store.head_revision():
            store.upgrade()
    return url


def make_app(url: str, **config):
    """The app on the database at ``url``, its schema brought to head first as a deploy
    would (test clients sign in and send CSRF tokens)."""
    upgraded(url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, **config})
    app.test_client_class = GeoappClient
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    return app
