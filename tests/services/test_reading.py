"""geoapp.services.reading: what its caches keep is read again when another connection (as
another process or server would) changes the store."""

from geoapp.services import etags, map_features
from geoapp.services.reading import _generation, _reading
from geoapp.store import open_store


def _publish_copy(url: str) -> int:
    """Another connection publishes a copy of the current generation; its id."""
    with open_store(url) as other, other.transaction() as tx:
        current = tx.current_generation()
        gid = tx.create_generation("someone", "a copy", current["id"])
        tx.publish_generation(gid, "someone", "published elsewhere")
    return gid


def test_the_current_generation_published_by_another_connection_is_seen(demo_url):
    with open_store(demo_url) as store:
        with _reading(store) as read:
            before = _generation(read, {})
        tag = etags.etag(store, "api.areas", {}, "zh")
        assert map_features.page_facts(store)["generation"]["id"] == before["id"]
        # asked again with nothing changed: the same (from the cache)
        with _reading(store) as read:
            assert _generation(read, {}) == before
        assert etags.etag(store, "api.areas", {}, "zh") == tag

        gid = _publish_copy(demo_url)
        assert gid != before["id"]
        with _reading(store) as read:
            now = _generation(read, {})
        assert now["id"] == gid and now["is_current"]
        assert now["area_count"] == before["area_count"]
        assert etags.etag(store, "api.areas", {}, "zh") != tag
        assert map_features.page_facts(store)["generation"]["id"] == gid
        # a caller changing the dict it was given does not change the cached one
        now["id"] = -1
        with _reading(store) as read:
            assert _generation(read, {})["id"] == gid


def test_a_conditional_get_asks_the_store_only_for_its_data_version(demo_url):
    """With nothing changed, an ETag costs the data version's statements and nothing else
    (the current generation comes from the cache, checked against that version)."""
    from sqlalchemy import event

    with open_store(demo_url) as store:
        etags.etag(store, "api.areas", {}, "zh")  # fills the caches
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        with store.transaction() as tx:
            tx.data_version()  # the statements a data version takes, whatever the backend
        event.listen(store.engine, "before_cursor_execute", count)
        try:
            with store.transaction() as tx:
                tx.data_version()
            version_only = len(statements)
            statements.clear()
            etags.etag(store, "api.areas", {}, "zh")
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        assert len(statements) == version_only, statements


def test_a_reference_change_by_another_connection_changes_the_etag(demo_url):
    """A unit's phone number changed elsewhere (a text value), then its position (a float
    value): each gives a new ETag."""
    with open_store(demo_url) as store:
        unit = store.list_units()[0]
        tags = {etags.etag(store, "api.units", {}, "zh")}
        for change in ({"phone": "0791-0000000"}, {"lon": (unit.get("lon") or 114.9) + 1e-9}):
            with open_store(demo_url) as other, other.transaction() as tx:
                tx.upsert_units([{**unit, **change}])
            unit = {**unit, **change}
            tags.add(etags.etag(store, "api.units", {}, "zh"))
        assert len(tags) == 3
