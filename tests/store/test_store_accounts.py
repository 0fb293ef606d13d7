"""Contract: accounts, API tokens and the audit log on every backend."""

from datetime import datetime

import pytest

from geoapp.audit import audit
from geoapp.store import NotFound, Store, StoreError


def test_users_round_trip_without_their_hash(seeded: Store) -> None:
    user = seeded.create_user("王敏", "hash-1", "coordinator")
    assert set(user) == {"id", "name", "role", "unit_id", "active", "created_at"}
    assert user["name"] == "王敏" and user["active"] is True
    assert isinstance(user["created_at"], datetime)
    unit = seeded.create_user("cgj", "hash-2", "unit", "U-CGJ")
    assert seeded.get_user("cgj")["unit_id"] == "U-CGJ"
    assert seeded.get_user("cgj", with_hash=True)["password_hash"] == "hash-2"
    assert seeded.get_user_by_id(unit["id"])["name"] == "cgj"
    assert [u["name"] for u in seeded.list_users()] == sorted(["王敏", "cgj"])
    assert all("password_hash" not in u for u in seeded.list_users())
    seeded.set_user_password("cgj", "hash-3")
    assert seeded.get_user("cgj", with_hash=True)["password_hash"] == "hash-3"


def test_bad_users_are_refused_and_nothing_is_written(seeded: Store) -> None:
    seeded.create_user("a", "h", "admin")
    with pytest.raises(StoreError, match="exists already"):
        seeded.create_user("a", "h", "admin")
    with pytest.raises(NotFound, match="unknown unit"):
        seeded.create_user("b", "h", "unit", "U-NOPE")
    with pytest.raises(StoreError, match="name is required"):
        seeded.create_user("  ", "h", "admin")
    with pytest.raises(NotFound):
        seeded.get_user("nobody")
    with pytest.raises(NotFound):
        seeded.set_user_password("nobody", "h")
    assert [u["name"] for u in seeded.list_users()] == ["a"]


def test_tokens_are_found_by_hash_only(seeded: Store) -> None:
    row = seeded.create_api_token("gis", "0" * 64, "coordinator")
    assert "token_hash" not in row
    assert seeded.api_token_by_hash("0" * 64)["name"] == "gis"
    assert seeded.api_token_by_hash("1" * 64) is None
    with pytest.raises(StoreError, match="exists already"):
        seeded.create_api_token("gis", "2" * 64, "admin")
    assert [t["name"] for t in seeded.list_api_tokens()] == ["gis"]


def test_audit_entries_are_written_with_their_transaction(seeded: Store) -> None:
    with seeded.transaction() as tx:
        audit(tx, "李", "problem.status", "problem:1", {"status": "reported"}, {"status": "x"})
    with pytest.raises(RuntimeError), seeded.transaction() as tx:
        audit(tx, "李", "rolled.back", None, None, None)
        raise RuntimeError("boom")
    entries = seeded.audit_entries()
    assert [e["action"] for e in entries] == ["problem.status"]
    e = entries[0]
    assert e["actor"] == "李" and e["target"] == "problem:1"
    assert e["before"] == {"status": "reported"} and e["after"] == {"status": "x"}
    assert seeded.count_audit() == 1
    seeded.add_audit(None, "demo.load", None, after={"at": datetime(2026, 1, 1).astimezone()})
    assert [e["action"] for e in seeded.audit_entries(limit=1)] == ["demo.load"]
    assert [e["action"] for e in seeded.audit_entries(action="problem.status")] == [
        "problem.status"
    ]
    with pytest.raises(StoreError, match="action is required"):
        seeded.add_audit("x", "", None)
