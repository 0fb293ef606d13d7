"""What differs between SQLite and PostgreSQL + PostGIS, gathered in one place.

Everything else in the store is written once for both backends.  Each backend here is a mixin
that fills in the few hooks of a transaction where the two differ, and opens its engine its
own way:

- bulk inserts (``_bulk_insert``): one driver-level ``executemany`` on SQLite; ``COPY ... FROM
  STDIN`` on PostgreSQL; a bulk load into a table no larger than it (``_drop_indexes``,
  ``_create_indexes``) drops the secondary indexes and builds them again at its end on
  SQLite, keeps them on PostgreSQL (where dropping one locks the readers out);
- a bulk insert of problems refusing a stored problem_id (``_BULK_SAVEPOINT``): under a
  savepoint on PostgreSQL; after a look-up of the ids on SQLite (a large savepoint slows
  the rest of the transaction down there);
- rows by many keys (``_rows_with_keys``): ``IN (...)`` in chunks of 500 (under SQLite's
  bound-parameter limit); one array parameter, ``= ANY(:keys)``, per 50,000 keys on PostgreSQL;
- the areas covering a point (``areas_covering``): shapely over a cached STRtree of the
  generation's areas on SQLite; ``ST_Covers`` on the GiST index on PostGIS;
- serialising publishes (``_lock_publishing``): nothing on SQLite (one writer commits at a
  time); a transaction-level advisory lock on PostgreSQL;
- a filter's exact spatial test of problem points (``_point_intersects``): a SQL function
  over a prepared shapely geometry registered on each SQLite connection; ``ST_Intersects``
  on the GiST-indexed ``problems.geom`` on PostGIS;
- insert-or-ignore (``_dialect_insert``): each dialect's own ``INSERT ... ON CONFLICT``;
- opening (:func:`geoapp.store.opening.sqlite_engine`, :func:`~geoapp.store.opening.postgis_engine`,
  in a module of their own): on SQLite real transactions (SQLAlchemy emits ``BEGIN``),
  foreign keys on, write-ahead log and a busy timeout; on PostgreSQL the psycopg driver and
  a pre-ping of pooled connections.

The differences that must stay next to what they describe: :class:`geoapp.store.schema.UTCDateTime`
stores fixed-width ISO text on SQLite and ``timestamptz`` on PostgreSQL; ``get_problem(...,
for_update=True)`` locks the row on PostgreSQL only (SQLite serialises writers anyway); the
migrations run in batch mode on SQLite (``migrations/env.py``) and add the PostGIS geometry
columns and their GiST indexes on PostgreSQL only (``0001_initial_schema``).
"""

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

import psycopg
import shapely
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from geoapp.core.messages import N_
from geoapp.store import schema as S
from geoapp.store.areas import _point
from geoapp.store.errors import StoreError, _reason, database_error
from geoapp.store.plumbing import _CHUNK, TransactionBase, _chunks

#: Rows from which SQLite inserts them with a larger page cache (:data:`BULK_CACHE_KIB`, as
#: ``PRAGMA cache_size`` takes it: negative KiB), set back when the insert is done.
BULK_ROWS = 10_000
BULK_CACHE_KIB = -65_536
#: Key of the transaction-level advisory lock that serialises publishes.
PUBLISH_LOCK_KEY = 0x6765_6F61_7070  # "geoapp"
#: Key of the transaction-level advisory lock that serialises schema upgrades.
MIGRATE_LOCK_KEY = PUBLISH_LOCK_KEY + 1
#: The SQL function SQLite connections get for a filter's exact point-in-geometry test.
SQLITE_POINT_INTERSECTS = "geoapp_point_intersects"
#: ... and for an area's geometry (WKB) against a filter's.
SQLITE_SHAPES_INTERSECT = "geoapp_shapes_intersect"


@lru_cache(maxsize=32)
def _prepared(wkb: bytes) -> Any:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _sqlite_point_intersects(wkb: bytes | None, lon: float | None, lat: float | None) -> int:
    """1 when the point (lon, lat) intersects the WKB geometry, else 0 (0 without a point)."""
    if wkb is None or lon is None or lat is None:
        return 0
    return int(shapely.intersects_xy(_prepared(bytes(wkb)), float(lon), float(lat)))


def _sqlite_shapes_intersect(wkb: bytes | None, other: bytes | None) -> int:
    """1 when two WKB geometries intersect (the second, a filter's, is prepared once)."""
    if wkb is None or other is None:
        return 0
    return int(shapely.intersects(_prepared(bytes(other)), shapely.from_wkb(bytes(wkb))))


def _with_large_cache(tx: Any, rows: int, work: Any) -> None:
    """SQLite: ``work()`` with a :data:`BULK_CACHE_KIB` page cache from :data:`BULK_ROWS`
    rows on, set back afterwards; the driver's errors as the store's."""
    try:
        if rows < BULK_ROWS:
            work()
            return
        before = tx._conn.exec_driver_sql("PRAGMA cache_size").scalar()
        tx._conn.exec_driver_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
        try:
            work()
        finally:
            tx._conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
    except sa_exc.DBAPIError as exc:
        raise database_error(exc, tx._store.url) from exc


class SqliteBackend(TransactionBase):
    """SQLite's side of the differences (the default backend)."""

    #: No savepoint around a bulk insert of problems (the stored ids are looked up first;
    #: one writer at a time: none can add one in between).  A savepoint that changes more
    #: than 64 KiB of pages moves SQLite's statement journal from memory to a temporary
    #: file for the rest of the transaction, and each later row of an ``executemany`` into
    #: a table with foreign keys or triggers then wrote its pages to that file: 750 MB of
    #: writes for the 90,000 events of a 50,000-row batch into 300,000 problems, a tenth of
    #: the import's CPU time (half of it in the kernel).
    _BULK_SAVEPOINT = False

    def areas_covering(self, lon: float, lat: float, generation_id: int | None = None) -> list[str]:
        """The area_ids (sorted) whose geometry covers the point: the edge and vertices count.

        ``generation_id`` None means the current generation; no current generation gives [].
        On SQLite this runs in shapely over the generation's areas.
        """
        point = _point(lon, lat)
        gid = self._generation_for_read(generation_id)
        if gid is None:
            return []
        ids, tree = self._store._area_tree(self, gid)
        hits = tree.query(point, predicate="covered_by")
        return sorted(ids[i] for i in hits)

    def _bulk_insert(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """SQLite: one driver-level executemany, bypassing per-row statement processing."""
        dialect = self._conn.dialect
        procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        values = []
        for c, proc in zip(columns, procs, strict=True):
            column = [r[c] for r in rows]
            if proc is not None:
                cache: dict[Any, Any] = {None: None}  # bulk rows repeat timestamps a lot
                for i, v in enumerate(column):
                    try:
                        column[i] = cache[v]
                    except KeyError:
                        column[i] = cache[v] = proc(v)
            values.append(column)
        self._insert_columns(table, columns, values)

    def _insert_columns(
        self, table: sa.Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
    ) -> None:
        """SQLite: one driver-level executemany of the rows."""
        if not self._open:
            raise StoreError(N_("this transaction has ended; use it only inside its `with` block"))
        quote = self._conn.dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        rows = list(zip(*values, strict=True))
        # a large batch updates a dozen indexes at random places: with SQLite's default
        # 2 MiB page cache their pages would be written out and read back again and again
        # (a fifth of the insert's time at 100,000 problems)
        _with_large_cache(self, len(rows), lambda: self._conn.exec_driver_sql(sql, rows))

    def _drop_indexes(self, tables: Sequence[sa.Table], incoming: int) -> list[str]:
        """SQLite: when ``incoming`` rows are at least as many as the first table holds,
        drop the secondary indexes of ``tables`` (not those of UNIQUE or PRIMARY KEY
        constraints) and return their ``CREATE INDEX`` statements for
        :meth:`_create_indexes`; else drop nothing and return [].

        Adding N rows one index entry at a time costs a B-tree search per entry at a random
        place of each of the dozen indexes; building an index afresh sorts its entries once,
        about three times as fast.  That wins while the rows added are at least as many as
        those already there (an empty or young store: a county's first import), and loses
        when a few rows join a large table, so then nothing is dropped.  Inside the
        transaction: readers (write-ahead log) keep seeing the indexes until the commit, and
        a rollback brings them back."""
        names = [t.name for t in tables]
        stored = self._conn.exec_driver_sql(f'SELECT count(*) FROM "{names[0]}"').scalar()
        if incoming < max(int(stored), 1):
            return []
        marks = ", ".join("?" for _ in names)
        found = self._conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            tuple(names),
        ).all()
        for name, _ in found:
            self._conn.exec_driver_sql(f'DROP INDEX "{name}"')
        return [create for _, create in found]

    def _create_indexes(self, statements: Sequence[str], rows: int) -> None:
        """SQLite: run the ``CREATE INDEX`` statements :meth:`_drop_indexes` returned (their
        sort with the large page cache when the tables hold ``rows`` rows or more)."""

        def create() -> None:
            for statement in statements:
                self._conn.exec_driver_sql(statement)

        if statements:
            _with_large_cache(self, rows, create)

    def _rows_with_keys(
        self, key: sa.Column[Any], keys: Iterable[Any], *columns: sa.Column[Any]
    ) -> Iterator[sa.Row[Any]]:
        """Rows (key, *columns) of key's table whose key is one of ``keys``."""
        wanted = sorted({k for k in keys if k is not None})
        if len(wanted) > _CHUNK and all(type(k) in (str, int) for k in wanted):
            # many keys: one JSON array parameter, unpacked by json_each, per 50,000 keys
            for chunk in _chunks(wanted, 50_000):
                listed = sa.func.json_each(sa.bindparam("keys", json.dumps(list(chunk))))
                values = sa.select(listed.table_valued("value").c.value).scalar_subquery()
                yield from self._x(sa.select(key, *columns).where(key.in_(values)))
            return
        for chunk in _chunks(wanted, _CHUNK):
            yield from self._x(sa.select(key, *columns).where(key.in_(chunk)))

    def _point_intersects(self, table: sa.Table, wkb: bytes) -> Any:
        """SQLite: the function registered on every connection (after the envelope test on
        the lon/lat index has narrowed the rows)."""
        shape = sa.literal(wkb, sa.LargeBinary)
        return getattr(sa.func, SQLITE_POINT_INTERSECTS)(shape, table.c.lon, table.c.lat) == 1

    def _shape_intersects(self, table: sa.Table, wkb: bytes) -> Any:
        """SQLite: the function registered on every connection, on ``geom_wkb``."""
        shape = sa.literal(wkb, sa.LargeBinary)
        return getattr(sa.func, SQLITE_SHAPES_INTERSECT)(table.c.geom_wkb, shape) == 1

    def _lock_publishing(self) -> None:
        """Serialise publishes.  SQLite already lets one writer at a time commit."""

    def _dialect_insert(self, table: sa.Table) -> Any:
        """An INSERT into ``table`` that can say ``ON CONFLICT DO NOTHING``."""
        return sqlite_insert(table)

    # the ledger (geoapp.store.ledger_queries): times are fixed-width ISO text in UTC

    def _ledger_elapsed(self, later: Any, earlier: Any) -> Any:
        """Microseconds from ``earlier`` to ``later`` (an integer: exact, unlike julianday)."""
        return _sqlite_microseconds(later) - _sqlite_microseconds(earlier)

    def _ledger_duration(self, microseconds: int) -> Any:
        return sa.literal(int(microseconds), sa.BigInteger())

    def _ledger_hour(self, column: Any) -> Any:
        """``YYYY-MM-DDTHH`` of a time, in UTC: a prefix of the stored text (its own label)."""
        return sa.func.substr(column, 1, 13, type_=sa.String())

    def _ledger_hour_text(self, hour: Any) -> Any:
        return hour

    def _ledger_plain_plans(self) -> None:
        """SQLite: nothing (it compiles no plans to machine code)."""

    def _ledger_per_hour(
        self, column: Any, where: list, index: str, lower: Any = None, upper: Any = None
    ) -> Any:
        """Per UTC hour without sorting: a ``GROUP BY`` of the hour's text sorted all the
        matching rows (a million at a million problems, 0.4 s of CPU, most of the ledger's
        time), though ``index`` holds them in time order already.  Instead a recursive CTE
        walks the hours that hold a matching problem (each next one found by a seek in
        ``index``: the first match at or after the end of the previous hour) and counts each
        hour's range of the index.  An hour ``H`` (``YYYY-MM-DDTHH``) is the text range
        ``[H, H;)``: every stored time in it is ``H:MM:SS...`` and ``:`` sorts just before
        ``;``.  Each seek and count has one lower and one upper bound on ``column`` (with
        two, SQLite seeks from one of them and filters by the other: from the date filter's
        start, every hour, which took minutes).
        """
        from geoapp.store.ledger_queries import read_index

        p = S.problems
        text = sa.String()

        def hour_of(value: Any) -> Any:
            return sa.func.substr(value, 1, 13, type_=text)

        def end_of(hour: Any) -> Any:
            return sa.type_coerce(hour, text) + sa.literal(";", text)  # SQL's ||

        def first(*bounds: Any) -> Any:
            stmt = sa.select(sa.func.min(column)).select_from(p).where(*where, *bounds)
            return read_index(stmt, index).scalar_subquery()

        low = None if lower is None else sa.literal(lower, S.UTCDateTime())
        high = None if upper is None else sa.literal(upper, S.UTCDateTime())
        start = sa.select(hour_of(first(*_time_bounds(column, low, high))).label("hour"))
        hours = start.cte("ledger_hours", recursive=True)
        # the next hour starts after this one, itself at or after ``lower``
        step = sa.select(hour_of(first(*_time_bounds(column, end_of(hours.c.hour), high))))
        hours = hours.union_all(step.where(hours.c.hour.is_not(None)))
        since: Any = hours.c.hour
        until: Any = end_of(hours.c.hour)
        if low is not None:
            since = sa.func.max(since, low, type_=text)
        if high is not None:
            until = sa.func.min(until, high, type_=text)
        count = sa.select(sa.func.count()).select_from(p)
        count = count.where(*where, column >= since, column < until)
        count = read_index(count, index).scalar_subquery()
        stmt = sa.select(hours.c.hour, count).where(hours.c.hour.is_not(None))
        return stmt.order_by(hours.c.hour)


class PostgisBackend(TransactionBase):
    """PostgreSQL + PostGIS's side of the differences."""

    #: A bulk insert of problems (one ``COPY``) under a savepoint: a refused one leaves the
    #: transaction usable.
    _BULK_SAVEPOINT = True

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
        self._insert_columns(table, columns, [[row[c] for row in rows] for c in columns])

    def _insert_columns(
        self, table: sa.Table, columns: Sequence[str], values: Sequence[Sequence[Any]]
    ) -> None:
        """PostgreSQL: ``COPY ... FROM STDIN`` of the rows."""
        if not self._open:
            raise StoreError(N_("this transaction has ended; use it only inside its `with` block"))
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        raw: psycopg.Connection = self._conn.connection.dbapi_connection  # type: ignore[assignment]
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in zip(*values, strict=True):
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise StoreError(
                N_("the database refused the change: %(reason)s"), reason=_reason(exc)
            ) from exc

    def _drop_indexes(self, tables: Sequence[sa.Table], incoming: int) -> list[str]:
        """PostgreSQL: none (``DROP INDEX`` would lock every reader out of the table until
        the commit; ``COPY`` keeps the indexes up to date fast enough)."""
        return []

    def _create_indexes(self, statements: Sequence[str], rows: int) -> None:
        """PostgreSQL: nothing was dropped."""

    def _point_intersects(self, table: sa.Table, wkb: bytes) -> Any:
        """PostGIS: ``ST_Intersects`` of the indexed ``geom`` column (problems) or of the
        point made of lon/lat (units) and the geometry."""
        if (table.name, "geom") in S.POSTGIS_ONLY_COLUMNS:
            geom = sa.literal_column(f"{table.name}.geom")
        else:
            geom = sa.func.ST_SetSRID(sa.func.ST_MakePoint(table.c.lon, table.c.lat), 4326)
        shape = sa.func.ST_GeomFromWKB(sa.literal(wkb, sa.LargeBinary), 4326)
        return sa.func.ST_Intersects(geom, shape)

    def _shape_intersects(self, table: sa.Table, wkb: bytes) -> Any:
        """PostGIS: ``ST_Intersects`` of the indexed ``geom`` column and the geometry."""
        return self._point_intersects(table, wkb)

    def _lock_publishing(self) -> None:
        self._x(sa.select(sa.func.pg_advisory_xact_lock(PUBLISH_LOCK_KEY)))

    def _dialect_insert(self, table: sa.Table) -> Any:
        """An INSERT into ``table`` that can say ``ON CONFLICT DO NOTHING``."""
        return postgresql_insert(table)

    def _ledger_elapsed(self, later: Any, earlier: Any) -> Any:
        """The interval from ``earlier`` to ``later`` (exact to the microsecond)."""
        return later - earlier

    def _ledger_duration(self, microseconds: int) -> Any:
        return sa.literal(timedelta(microseconds=int(microseconds)), sa.Interval())

    def _ledger_hour(self, column: Any) -> Any:
        """The UTC hour a time falls in (whatever the session's time zone), as a timestamp:
        grouped by in a hash, where ``to_char`` on every row and a sort of a million rows
        took a second at a million problems."""
        return sa.func.date_trunc("hour", sa.func.timezone("UTC", column), type_=sa.DateTime())

    def _ledger_hour_text(self, hour: Any) -> Any:
        """``YYYY-MM-DDTHH`` of an hour of :meth:`_ledger_hour` (once per group)."""
        return sa.func.to_char(hour, 'YYYY-MM-DD"T"HH24', type_=sa.String())

    def _ledger_plain_plans(self) -> None:
        """No JIT for the rest of the (read) transaction (``SET LOCAL jit = off``): at a
        million problems the ledger's aggregates cost enough for PostgreSQL (``jit`` on by
        default) to compile them to machine code on every request, more than it saved
        (EXPLAIN ANALYZE under load: counts 6.36 s with 0.43 s of JIT, 5.08 s without; new
        per hour 1.73 s with 0.14 s of JIT, 1.24 s without)."""
        self._x(sa.text("SET LOCAL jit = off"))

    def _ledger_per_hour(
        self, column: Any, where: list, index: str, lower: Any = None, upper: Any = None
    ) -> Any:
        """``GROUP BY`` the hour (a hash aggregate), its text made once per group."""
        hour = self._ledger_hour(column).label("hour")
        select = sa.select(hour, sa.func.count().label("n")).select_from(S.problems)
        select = select.where(*where, *_time_bounds(column, lower, upper))
        groups = select.group_by(hour).subquery()
        text = self._ledger_hour_text(groups.c.hour)
        return sa.select(text, groups.c.n).order_by(groups.c.hour)


def _time_bounds(column: Any, lower: Any, upper: Any) -> list:
    """``lower <= column < upper``, each side when given."""
    return [
        *([] if lower is None else [column >= lower]),
        *([] if upper is None else [column < upper]),
    ]


def _sqlite_microseconds(column: Any) -> Any:
    """A stored time (``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``) as integer POSIX microseconds."""
    seconds = sa.cast(sa.func.strftime("%s", sa.func.substr(column, 1, 19)), sa.BigInteger())
    return seconds * 1_000_000 + sa.cast(sa.func.substr(column, 21, 6), sa.BigInteger())
