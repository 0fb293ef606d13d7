"""The Alembic migrations build exactly the tables in ``geoapp.store.schema``."""

import pytest
import shapely
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_data import tile_box

from geoapp.store import Store
from geoapp.store import schema as S


def test_upgrade_creates_the_schema_and_is_idempotent(empty_store: Store) -> None:
    assert empty_store.revision() is None
    empty_store.upgrade()
    assert empty_store.revision() == empty_store.head_revision()
    empty_store.upgrade()  # a second upgrade is a no-op
    assert empty_store.revision() == empty_store.head_revision()
    assert empty_store.is_empty()
    names = set(sa.inspect(empty_store.engine).get_table_names())
    assert set(S.metadata.tables) <= names


# Reflecting the PostGIS geometry columns warns that SQLAlchemy does not know the type.
@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": S.include_name,
                "include_object": S.include_object,
                "compare_type": True,
                "target_metadata": S.metadata,
            },
        )
        diff = compare_metadata(context, S.metadata)
    assert diff == []


@pytest.mark.parametrize("path", ["statement", "bulk"])
def test_foreign_keys_are_enforced(store: Store, path: str) -> None:
    """The database itself refuses dangling references (the store also checks first)."""
    from geoapp.store import StoreError

    row = {"district_id": "D", "name": "d", "lead_unit_id": "nobody"}
    with (
        pytest.raises(StoreError, match="^the database refused the change: .*") as info,
        store.transaction() as tx,
    ):
        if path == "statement":
            tx._x(sa.insert(S.districts).values(**row))
        else:
            tx._insert_many(S.districts, [row])
    assert "Traceback" not in str(info.value) and "\n" not in str(info.value)
    assert store.list_districts() == []


@pytest.mark.postgis
@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_postgis_generated_columns(postgis_url: str) -> None:
    from geoapp.store import open_store

    with open_store(postgis_url, upgrade=True) as store:
        store.upsert_units([{"unit_id": "U", "name": "u"}])
        gid = store.create_generation("p", "g")
        store.put_area_versions(
            gid,
            [
                {
                    "area_id": "A",
                    "name": "a",
                    "responsible_unit_id": "U",
                    "geometry": tile_box("A-SW"),
                }
            ],
        )
        store.add_problems([{"problem_id": "P", "lon": 110.25, "lat": 30.25}, {"problem_id": "Q"}])
        with store.engine.connect() as conn:
            area = conn.exec_driver_sql(
                "SELECT ST_SRID(geom), ST_AsText(geom), GeometryType(geom) FROM area_versions"
            ).one()
            assert area[0] == 4326 and area[2] == "POLYGON"
            assert shapely.from_wkt(area[1]).equals_exact(tile_box("A-SW"), tolerance=0)
            points = conn.exec_driver_sql(
                "SELECT problem_id, ST_SRID(geom), ST_AsText(geom) FROM problems ORDER BY problem_id"
            ).all()
            assert points == [("P", 4326, "POINT(110.25 30.25)"), ("Q", None, None)]
            indexes = dict(
                conn.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%geom'"
                ).all()
            )
            assert "USING gist (geom)" in indexes["ix_area_versions_geom"]
            assert "USING gist (geom)" in indexes["ix_problems_geom"]
            generated = conn.exec_driver_sql(
                "SELECT table_name, is_generated FROM information_schema.columns "
                "WHERE column_name = 'geom' ORDER BY table_name"
            ).all()
            assert generated == [("area_versions", "ALWAYS"), ("problems", "ALWAYS")]


@pytest.mark.postgis
def test_postgis_point_lookup_can_use_the_gist_index(postgis_url: str) -> None:
    from geoapp.store import open_store

    with open_store(postgis_url, upgrade=True) as store, store.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.exec_driver_sql(
                "EXPLAIN SELECT area_id FROM area_versions WHERE generation_id = 1 AND "
                "ST_Covers(geom, ST_SetSRID(ST_MakePoint(110.2, 30.2), 4326))"
            )
        )
    assert "ix_area_versions_geom" in plan


def test_downgrade_to_base_and_back(store: Store) -> None:
    store.upsert_units([{"unit_id": "U", "name": "u"}])
    store.downgrade("base")
    assert store.revision() is None
    assert not set(S.metadata.tables) & set(sa.inspect(store.engine).get_table_names())
    store.upgrade()
    assert store.is_empty()


def test_unknown_revision(store: Store) -> None:
    from geoapp.store import StoreError

    with pytest.raises(StoreError, match="cannot upgrade the schema to 'nope'"):
        store.upgrade("nope")
