"""A sign-in with a name nobody has costs what a wrong password of the store's accounts costs:
the password is checked against a dummy hash made the way the store's passwords are hashed
(their method and cost), not with werkzeug's default of the day, on both backends.

(With the default, a store whose accounts were hashed another way, say under an older
werkzeug, answered unknown names in another time than known ones: a way to tell which names
exist.  No clock is read here: the hashes' own method strings say what a check costs.)"""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash, generate_password_hash

from geoapp.services import accounts
from geoapp.store import open_store

METHODS = ["scrypt:1024:8:1", "scrypt:2048:4:2", "pbkdf2:sha256:1000", "pbkdf2:sha512:2000"]


def method_of(password_hash: str) -> str:
    return password_hash.split("$", 1)[0]


@pytest.fixture
def store(store_url):
    s = open_store(store_url, upgrade=True)
    yield s
    s.close()


def test_an_unknown_name_is_checked_the_way_the_accounts_are_hashed(store):
    for i, method in enumerate(METHODS):  # each new account the newest
        store.create_user(f"user-{i}", generate_password_hash(f"password-{i}", method), "admin")
        assert store.password_hash_method() == method
        dummy = accounts.dummy_hash(store.password_hash_method())
        assert method_of(dummy) == method
        assert not check_password_hash(dummy, f"password-{i}")
        assert accounts.authenticate(store, "nobody", f"password-{i}") is None
        assert accounts.authenticate(store, f"user-{i}", f"password-{i}").name == f"user-{i}"


def test_without_accounts_or_with_an_unknown_method_the_default_is_used(store):
    default = method_of(generate_password_hash("x"))
    assert store.password_hash_method() is None
    assert method_of(accounts.dummy_hash(None)) == default
    assert accounts.authenticate(store, "nobody", "password") is None
    for stored in ("md5", "scrypt:notanumber:8:1", "scrypt:1000:8:1", "pbkdf2:nohash:10"):
        assert method_of(accounts.dummy_hash(stored)) == default, stored
    store.create_user("odd", "md5$salt$0000", "admin")  # a method werkzeug does not make
    assert store.password_hash_method() == "md5"
    assert accounts.authenticate(store, "nobody", "password") is None
