"""Contract: accounts, API tokens and the audit log on every backend."""

from datetime import UTC, datetime, timedelta

import pytest

from geoapp.services.audit import audit
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


def test_session_tokens_are_made_once_and_cleared_by_sign_out_and_account_changes(
    seeded: Store,
) -> None:
    user = seeded.create_user("ann", "hash-1", "planner")
    token = seeded.user_session_token(user["id"])
    assert len(token) >= 40 and seeded.user_session_token(user["id"]) == token
    assert seeded.session_user(user["id"], token)["name"] == "ann"
    assert "session_token" not in seeded.session_user(user["id"], token)
    assert seeded.session_user(user["id"], token + "x") is None
    assert seeded.session_user(user["id"] + 1, token) is None
    assert "session_token" not in seeded.get_user("ann") and all(
        "session_token" not in u for u in seeded.list_users()
    )
    for end in (
        lambda: seeded.end_user_sessions(user["id"]),
        lambda: seeded.set_user_password("ann", "hash-2"),
        lambda: seeded.set_account_active("user", "ann", False),
    ):
        seeded.set_account_active("user", "ann", True)
        token = seeded.user_session_token(user["id"])
        end()
        assert seeded.session_user(user["id"], token) is None
        seeded.set_account_active("user", "ann", True)
        assert seeded.session_user(user["id"], token) is None  # not revived
        assert seeded.user_session_token(user["id"]) != token
    with pytest.raises(NotFound):
        seeded.user_session_token(user["id"] + 1)


def test_login_attempt_counters(seeded: Store) -> None:
    t0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with seeded.transaction() as tx:
        got = tx.lock_login_attempts(["name:a", "addr:1"], t0)
        assert got == {
            k: {"failures": 0, "window_start": t0, "lockouts": 0, "locked_until": None}
            for k in ("addr:1", "name:a")
        }
        got["name:a"] |= {"failures": 2, "lockouts": 1, "locked_until": t0 + timedelta(hours=1)}
        tx.put_login_attempts(got)
    later = t0 + timedelta(minutes=5)
    with seeded.transaction() as tx:  # existing counters are kept, not reset
        again = tx.lock_login_attempts(["name:a", "addr:2"], later)
    assert again["name:a"]["failures"] == 2 and again["name:a"]["window_start"] == t0
    assert again["name:a"]["locked_until"] == t0 + timedelta(hours=1)
    assert again["addr:2"]["window_start"] == later
    assert set(seeded.login_attempts(["name:a", "addr:1", "addr:9"])) == {"name:a", "addr:1"}
    seeded.forget_login_attempts(["addr:1"])
    assert set(seeded.login_attempts(["name:a", "addr:1", "addr:2"])) == {"name:a", "addr:2"}
    # pruning keeps what failed since, or is locked past, the moment given
    assert seeded.prune_login_attempts(t0 + timedelta(minutes=1)) == 0  # name:a is locked
    assert seeded.prune_login_attempts(t0 + timedelta(hours=2)) == 2
    assert seeded.login_attempts(["name:a", "addr:2"]) == {}
    assert seeded.lock_login_attempts([], t0) == {}
