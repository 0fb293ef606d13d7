"""Store contract for the field pages (geoapp/store/field.py), on SQLite and PostGIS: a report
by its client id (unique), a photo by its content, a photo's stage."""

import pytest

from geoapp.store import NotFound, Store, StoreError

PHOTO = {"stored_name": "a.jpg", "content_type": "image/jpeg", "size_bytes": 3, "sha256": "ab" * 32}


def test_a_client_id_names_one_problem(seeded: Store) -> None:
    with seeded.transaction() as tx:
        (pk,) = tx.add_problems(
            [{"problem_id": "F1", "lon": 110.1, "lat": 30.1, "client_id": "phone-0001",
              "location_accuracy_m": 7.5}],
            actor="inspector",
        )  # fmt: skip
    got = seeded.problem_by_client_id("phone-0001")
    assert got["id"] == pk and got["location_accuracy_m"] == 7.5
    assert seeded.problem_by_client_id("phone-0002") is None
    # a second problem under the same id is refused by the database, and nothing is kept
    before = seeded.count_problems()
    with pytest.raises(StoreError), seeded.transaction() as tx:
        tx.add_problems(
            [{"problem_id": "F2", "lon": 110.1, "lat": 30.1, "client_id": "phone-0001"}]
        )
    assert seeded.count_problems() == before
    # many problems without a client id (every problem before the field pages) are fine
    seeded.add_problems([{"problem_id": f"N{i}", "lon": 110.1, "lat": 30.1} for i in range(3)])
    assert seeded.count_problems() == before + 3


def test_a_photo_by_its_content_and_its_stage(seeded: Store) -> None:
    (pk,) = seeded.add_problems([{"problem_id": "F1", "lon": 110.1, "lat": 30.1}])
    (other,) = seeded.add_problems([{"problem_id": "F2", "lon": 110.1, "lat": 30.1}])
    photo_id = seeded.add_photo(pk, PHOTO, "unit")
    assert seeded.photo_by_content(pk, "ab" * 32)["id"] == photo_id
    assert seeded.photo_by_content(other, "ab" * 32) is None  # the same bytes, another problem
    assert seeded.photo_by_content(pk, "cd" * 32) is None
    assert seeded.get_photo(photo_id)["stage"] is None
    seeded.set_photo_stage(photo_id, "after")
    assert seeded.problem_photos(pk)[0]["stage"] == "after"
    with pytest.raises(StoreError, match="unknown photo stage"):
        seeded.set_photo_stage(photo_id, "during")
    with pytest.raises(NotFound):
        seeded.set_photo_stage(999_999, "after")
