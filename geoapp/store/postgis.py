"""The PostgreSQL + PostGIS backend: the few operations that run better in SQL."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.dialects.postgresql import ARRAY

from geoapp.core.messages import N_
from geoapp.store import schema as S
from geoapp.store.engine import Store, Transaction, _chunks, _point, _reason
from geoapp.store.errors import StoreError

#: Key of the transaction-level advisory lock that serialises publishes.
PUBLISH_LOCK_KEY = 0x6765_6F61_7070  # "geoapp"


class PostgisTransaction(Transaction):
    """A transaction on PostgreSQL: point lookups use ``ST_Covers`` on the GiST index."""

    def areas_covering(self, lon: float, lat: float, generation_id: int | None = None) -> list[str]:
        """The area_ids (sorted) whose geometry covers the point: the edge and vertices count.

        ``generation_id`` None means the current generation; no current generation gives [].
        Runs ``ST_Covers(geom, ST_SetSRID(ST_MakePoint(lon, lat), 4326))`` in the database.
        """
        point = _point(lon, lat)
        gid = self._generation_for_read(generation_id)
        if gid is None:
            return []
        av = S.area_versions
        geom = sa.literal_column("area_versions.geom")
        where_point = sa.func.ST_SetSRID(
            sa.func.ST_MakePoint(
                sa.bindparam("lon", point.x, type_=sa.Double),
                sa.bindparam("lat", point.y, type_=sa.Double),
            ),
            4326,
        )
        stmt = (
            sa.select(av.c.area_id)
            .where(av.c.generation_id == gid)
            .where(sa.func.ST_Covers(geom, where_point))
            .order_by(av.c.area_id)
        )
        return list(self._x(stmt).scalars())

    def _rows_with_keys(
        self, key: sa.Column[Any], keys: Iterable[Any], *columns: sa.Column[Any]
    ) -> Iterator[sa.Row[Any]]:
        """As on SQLite, but one array parameter per 50,000 keys: ``key = ANY(:keys)``."""
        wanted = sorted({k for k in keys if k is not None})
        for chunk in _chunks(wanted, 50_000):
            param = sa.bindparam("keys", list(chunk), type_=ARRAY(key.type))
            yield from self._x(sa.select(key, *columns).where(key == sa.any_(param)))

    def _bulk_insert(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """PostgreSQL: ``COPY ... FROM STDIN`` in the transaction's own connection."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        raw = self._conn.connection.dbapi_connection
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        except psycopg.Error as exc:
            raise StoreError(
                N_("the database refused the change: %(reason)s"), reason=_reason(exc)
            ) from exc

    def _lock_publishing(self) -> None:
        self._x(sa.select(sa.func.pg_advisory_xact_lock(PUBLISH_LOCK_KEY)))


class PostgisStore(Store):
    """A store on PostgreSQL with PostGIS (``postgresql+psycopg://...``)."""

    backend = "postgis"
    transaction_class = PostgisTransaction
