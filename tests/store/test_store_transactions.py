"""Contract: units of work commit together or not at all."""

import pytest
from store_data import UNITS

from geoapp.store import Store, StoreError
from geoapp.store.engine import OPERATIONS, Transaction


class Boom(Exception):
    pass


def test_exception_in_block_rolls_everything_back(store: Store) -> None:
    with pytest.raises(Boom), store.transaction() as tx:
        tx.upsert_units(UNITS)
        assert len(tx.list_units()) == len(UNITS)  # visible inside the transaction
        gid = tx.create_generation("me", "draft")
        assert tx.get_generation(gid)["status"] == "draft"
        raise Boom
    assert store.is_empty()
    assert store.list_units() == []
    assert store.list_generations() == []


def test_store_error_inside_block_rolls_back_earlier_writes(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction() as tx:
        tx.upsert_units(UNITS)
        tx.upsert_districts([{"district_id": "D", "name": "d", "lead_unit_id": "U-404"}])
    assert store.list_units() == []


def test_block_commits_on_success(store: Store) -> None:
    with store.transaction() as tx:
        tx.upsert_units(UNITS[:1])
    assert [u["unit_id"] for u in store.list_units()] == [UNITS[0]["unit_id"]]


def test_transaction_is_unusable_after_its_block(store: Store) -> None:
    with store.transaction() as tx:
        pass
    with pytest.raises(StoreError, match="transaction has ended"):
        tx.list_units()


def test_every_operation_is_also_on_the_store() -> None:
    expected = {
        "is_empty",
        "upsert_units",
        "list_units",
        "get_unit",
        "upsert_districts",
        "list_districts",
        "replace_categories",
        "list_categories",
        "replace_rules",
        "list_rules",
        "create_generation",
        "put_area_versions",
        "publish_generation",
        "current_generation",
        "get_generation",
        "list_generations",
        "areas",
        "add_problems",
        "problems",
        "count_problems",
        "get_problem",
        "update_assignment",
        "problem_events",
        "areas_covering",
    }
    assert expected <= set(OPERATIONS)
    for name in OPERATIONS:
        assert callable(getattr(Store, name))
        assert getattr(Store, name).__doc__ == getattr(Transaction, name).__doc__
