"""``add_problem_columns`` (the import's bulk insert): a problem_id already stored (before the
transaction or by an earlier batch of it) is refused by name and nothing of the batch is
written, though the store no longer looks every id up before inserting; the transaction goes
on after the refusal (the insert ran under a savepoint)."""

from __future__ import annotations

from contextlib import nullcontext

import pytest

from geoapp.store.errors import StoreError


def problem_columns(ids: list[str]) -> dict:
    """Unassigned problems, column by column, as an import hands them to the store."""
    n = len(ids)
    return {
        "problem_id": ids,
        "round": ["第1轮"] * n,
        "category": ["c"] * n,
        "reported_s": [1_711_929_600 + 60 * i for i in range(n)],
        "lon": [114.9] * n,
        "lat": [28.2] * n,
    }


@pytest.mark.parametrize("load", [False, True], ids=["plain", "bulk-load"])
def test_a_stored_problem_id_is_refused_by_name_and_the_batch_left_out(tiny_county, load):
    store = tiny_county
    stored = sorted(p["problem_id"] for p in store.problems({}))[:2]
    before = store.count_problems()
    with store.transaction() as tx, tx.loading_problems() if load else nullcontext():
        first = tx.add_problem_columns(problem_columns([f"N-{i}" for i in range(30)]), actor="t")
        assert len(first) == 30
        for clash in (["N-x", stored[1], "N-y", stored[0]], ["N-z", "N-7"]):
            with pytest.raises(StoreError) as refused:
                tx.add_problem_columns(problem_columns(clash), actor="t")
            named = sorted(set(clash) - {"N-x", "N-y", "N-z"})
            assert str(refused.value) == "problem_id already stored: " + ", ".join(
                repr(i) for i in named
            )
        # the transaction is still usable: a good batch after the refusals goes in
        assert len(tx.add_problem_columns(problem_columns(["N-last"]), actor="t")) == 1
    assert store.count_problems() == before + 31
    assert store.existing_problem_ids(["N-x", "N-y", "N-z", "N-last"]) == {"N-last"}
