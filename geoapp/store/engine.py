"""The store: one interface over SQLite (default) and PostgreSQL + PostGIS.

All reads and writes live on :class:`Transaction`.  ``with store.transaction() as tx:`` gives
one; it commits when the block ends and rolls back if anything in it raises, so an import that
fails half-way leaves nothing behind.  Every method is also available on the :class:`Store`
itself (``store.list_units()``), each call then running in its own short transaction.

Do not nest: calling ``store.<method>`` inside a ``with store.transaction()`` block runs on a
different connection and does not see the block's uncommitted writes (and may wait on its
locks); use ``tx.<method>`` there.

:class:`Transaction` is composed of one mixin per aggregate (:mod:`~geoapp.store.reference`,
:mod:`~geoapp.store.generations`, :mod:`~geoapp.store.areas`, :mod:`~geoapp.store.problems`,
:mod:`~geoapp.store.problem_queries`, :mod:`~geoapp.store.accounts`, :mod:`~geoapp.store.audit`)
on the plumbing of :mod:`~geoapp.store.plumbing`, with SQLite's side of
:mod:`~geoapp.store.backends`; :class:`PostgisTransaction` swaps in PostGIS's side.  This module
also opens transactions, runs the schema migrations and caches the spatial index of published
generations.

Integrity: references to units, districts, areas and generations are checked before writing
(so the error names the bad value and the row using it) and enforced again by foreign keys.
Problems keep ``rule_id`` without a foreign key: rules are replaced as a set, and a problem
records the rule that applied when it was assigned.
"""

import functools
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import shapely
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from geoapp.core.messages import N_
from geoapp.store import schema as S
from geoapp.store.accounts import Accounts
from geoapp.store.areas import Areas
from geoapp.store.audit import AuditLog
from geoapp.store.backends import MIGRATE_LOCK_KEY, PostgisBackend, SqliteBackend
from geoapp.store.coverage import CoverageRecords
from geoapp.store.errors import (
    SchemaOutOfDate,
    StoreError,
    StoreUnavailable,
    _reason,
    database_error,
    safe_url,
)
from geoapp.store.field import FieldOperations
from geoapp.store.generations import Generations
from geoapp.store.inspection_points import InspectionPoints
from geoapp.store.ledger_queries import LedgerQueries
from geoapp.store.plumbing import TransactionBase
from geoapp.store.problem_bulk import ProblemBulk
from geoapp.store.problem_queries import ProblemQueries
from geoapp.store.problems import Problems
from geoapp.store.reference import ReferenceData

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Transaction(
    SqliteBackend,
    ReferenceData,
    Generations,
    Areas,
    Problems,
    ProblemBulk,
    ProblemQueries,
    LedgerQueries,
    Accounts,
    AuditLog,
    FieldOperations,
    InspectionPoints,
    CoverageRecords,
    TransactionBase,
):
    """Reads and writes inside one database transaction; get one from ``store.transaction()``.

    Rows go in and come out as dicts of plain Python values; geometries are shapely objects;
    area collections are GeoDataFrames in EPSG:4326; timestamps are UTC ``datetime`` objects
    (input timestamps must carry a UTC offset).
    """

    # ------------------------------------------------------------------ overview

    def is_empty(self) -> bool:
        """True when the store has no generations and no units (a fresh database)."""
        for table in (S.generations, S.units):
            if self._x(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                return False
        return True

    def data_version(self) -> dict[str, str]:
        """Cheap tokens that change when the data does, for caches and HTTP ETags.

        ``problems`` changes when a problem is added, removed or changed (its count, its
        highest id and the highest event id: every write of a problem records an event);
        ``generations`` when a generation is created, deleted, edited or published;
        ``reference`` when units, districts, categories or rules change (a hash of those
        small tables).  Each token is an opaque string; compare for equality only.
        """
        row = self._x(_version_counts()).one()
        # the rows' text hashed at once (one repr of them all, not one per row)
        rows = [tuple(r) for r in self._x(_reference_rows()).all()]
        digest = hashlib.sha256(repr(rows).encode())
        return {
            "problems": f"{row[0]}:{row[1] or 0}:{row[2] or 0}",
            "generations": f"{row[3]}:{row[4] or 0}:{row[5] or 0}",
            "reference": digest.hexdigest()[:16],
        }


#: The tables whose every change changes ``data_version()["reference"]``.
REFERENCE_TABLES = (S.units, S.districts, S.categories, S.rules)


@functools.cache
def _version_counts() -> sa.Select[Any]:
    """The counts and highest ids behind the ``problems`` and ``generations`` tokens (built
    once: the statement never changes)."""
    p, e, g = S.problems, S.problem_events, S.generations
    return sa.select(
        sa.select(sa.func.count()).select_from(p).scalar_subquery(),
        sa.select(sa.func.max(p.c.id)).scalar_subquery(),
        sa.select(sa.func.max(e.c.id)).scalar_subquery(),
        sa.select(sa.func.count()).select_from(g).scalar_subquery(),
        sa.select(sa.func.max(g.c.id)).scalar_subquery(),
        sa.select(sa.func.sum(g.c.version)).scalar_subquery(),
    )


@functools.cache
def _reference_rows() -> sa.CompoundSelect:
    """Every row of the reference tables in one statement (one round trip instead of one per
    table): the table's position, its key, its other values as one text (each prefixed by
    its length), and its floating point values as they are (text would round them on
    SQLite), ordered by table and key."""
    floats = max(sum(isinstance(c.type, sa.Double) for c in t.columns) for t in REFERENCE_TABLES)
    parts = []
    for n, table in enumerate(REFERENCE_TABLES):
        key = table.primary_key.columns.values()[0]
        text: Any = sa.literal("")
        kept: list[Any] = []
        for column in table.columns:
            if isinstance(column.type, sa.Double):
                kept.append(column)
            else:  # "<length>:<text>" ("N:" for NULL): no value can pass for two or for NULL
                value = sa.cast(column, sa.Text)
                size = sa.func.coalesce(sa.cast(sa.func.length(value), sa.Text), "N")
                text = text + size + ":" + sa.func.coalesce(value, "")
        kept += [sa.cast(sa.null(), sa.Double)] * (floats - len(kept))
        parts.append(
            sa.select(
                sa.literal(n).label("t"),
                sa.cast(key, sa.Text).label("k"),
                text.label("v"),
                *(c.label(f"f{i}") for i, c in enumerate(kept)),
            )
        )
    return sa.union_all(*parts).order_by("t", "k")


class PostgisTransaction(PostgisBackend, Transaction):
    """A transaction on PostgreSQL: point lookups use ``ST_Covers`` on the GiST index, bulk
    inserts ``COPY`` and publishes take an advisory lock (:mod:`geoapp.store.backends`)."""


#: Names of the Transaction methods the Store also offers directly.
OPERATIONS = tuple(
    name
    for name in dir(Transaction)
    if callable(getattr(Transaction, name)) and not name.startswith("_")
)


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@functools.cache
def _head_revision() -> str:
    """The head of the migrations folder (read once per process: it changes only with the
    code)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


class Store:
    """A database holding geoapp's data.  Create with :func:`geoapp.store.open_store`.

    ``backend`` is "sqlite" or "postgis".  Close with :meth:`close` (or use as a context
    manager) to release the connection pool.
    """

    backend = "sqlite"
    transaction_class: type[Transaction] = Transaction

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url
        self._trees: dict[tuple[Any, ...], tuple[list[str], shapely.STRtree]] = {}
        self._trees_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {safe_url(self.url)}>"

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    def _connect(self) -> Connection:
        try:
            return self.engine.connect()
        except sa_exc.DBAPIError as exc:
            raise StoreUnavailable(
                N_("cannot connect to the database at %(safe_url)s: %(reason)s"),
                safe_url=safe_url(self.url),
                reason=_reason(exc, self.url),
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A unit of work: commits when the block ends, rolls back if it raises."""
        conn = self._connect()
        try:
            trans = conn.begin()
            tx = self.transaction_class(self, conn)
            try:
                yield tx
            except BaseException:
                tx._close()
                if trans.is_active:
                    trans.rollback()
                raise
            tx._close()
            trans.commit()
        except sa_exc.DBAPIError as exc:
            raise database_error(exc, self.url) from exc
        finally:
            conn.close()

    # ------------------------------------------------------------------ schema

    def _alembic_config(self) -> Any:
        return _alembic_config()

    def upgrade(self, revision: str = "head") -> None:
        """Create or update the schema (``alembic upgrade head``); safe to call repeatedly."""
        self._migrate("upgrade", revision)

    def downgrade(self, revision: str) -> None:
        """Take the schema back to ``revision`` ("base" drops every table and its data)."""
        self._migrate("downgrade", revision)

    def _migrate(self, direction: str, revision: str) -> None:
        from alembic import command
        from alembic.util import CommandError

        cfg = self._alembic_config()
        conn = self._connect()
        try:
            # one upgrade at a time per database: a second one waits, then finds the schema
            # at head and does nothing (SQLite: BEGIN IMMEDIATE; PostGIS: an advisory lock)
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                self._lock_schema(conn)
                cfg.attributes["connection"] = conn
                getattr(command, direction)(cfg, revision)
        except sa_exc.DBAPIError as exc:
            raise StoreError(
                N_("cannot %(direction)s the schema of %(safe_url)s: %(reason)s"),
                direction=direction,
                safe_url=safe_url(self.url),
                reason=_reason(exc, self.url),
            ) from exc
        except CommandError as exc:
            raise StoreError(
                N_("cannot %(direction)s the schema to %(revision)r: %(exc)s"),
                direction=direction,
                revision=revision,
                exc=exc,
            ) from exc
        finally:
            conn.close()

    def revision(self) -> str | None:
        """The schema revision the database is at (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        conn = self._connect()
        try:
            return MigrationContext.configure(conn).get_current_revision()
        except sa_exc.DBAPIError as exc:
            raise database_error(exc, self.url) from exc
        finally:
            conn.close()

    def head_revision(self) -> str:
        """The newest schema revision this code knows."""
        return _head_revision()

    def require_head(self) -> None:
        """Raise :class:`SchemaOutOfDate` (naming the command to run) unless the database's
        schema is the one this code needs.  What an app server checks at start."""
        current, head = self.revision(), self.head_revision()
        if current == head:
            return
        if current is None:
            raise SchemaOutOfDate(
                N_(
                    "the database at %(safe_url)s has no geoapp schema yet: run "
                    "`geoapp init-db` (or `geoapp db upgrade`) once before starting the app"
                ),
                safe_url=safe_url(self.url),
            )
        from alembic.script import ScriptDirectory

        known = {
            s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
        }
        if current not in known:
            raise SchemaOutOfDate(
                N_(
                    "the database at %(safe_url)s is at schema revision %(current)s, newer than "
                    "this code (%(head)s): deploy the newer geoapp on this server"
                ),
                safe_url=safe_url(self.url),
                current=current,
                head=head,
            )
        raise SchemaOutOfDate(
            N_(
                "the database at %(safe_url)s is at schema revision %(current)s, this code "
                "needs %(head)s: run `geoapp db upgrade` (a deploy step; app servers never "
                "migrate)"
            ),
            safe_url=safe_url(self.url),
            current=current,
            head=head,
        )

    def _lock_schema(self, conn: Connection) -> None:
        """Serialise schema upgrades (SQLite's BEGIN IMMEDIATE already did)."""

    # ------------------------------------------------------------------ caches

    def _area_tree(self, tx: Transaction, gid: int) -> tuple[list[str], shapely.STRtree]:
        """Spatial index of a generation's areas, cached for published (immutable) ones.

        The cache key includes ``published_at`` and ``version`` so that a publish that was
        rolled back can never be mistaken for a later, committed one.
        """
        gen = tx._generation(gid)
        if gen["status"] != "published":
            return tx._area_tree_data(gid)
        key = (gid, gen["version"], gen["published_at"])
        with self._trees_lock:
            cached = self._trees.get(key)
        if cached is not None:
            return cached
        data = tx._area_tree_data(gid)
        with self._trees_lock:
            if len(self._trees) >= 8:
                self._trees.pop(next(iter(self._trees)))
            self._trees[key] = data
        return data


class PostgisStore(Store):
    """A store on PostgreSQL with PostGIS (``postgresql+psycopg://...``)."""

    backend = "postgis"
    transaction_class = PostgisTransaction

    def _lock_schema(self, conn: Connection) -> None:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATE_LOCK_KEY)))


def _delegate(name: str) -> Any:
    method = getattr(Transaction, name)

    @functools.wraps(method)
    def call(self: Store, *args: Any, **kwargs: Any) -> Any:
        with self.transaction() as tx:
            return getattr(tx, name)(*args, **kwargs)

    return call


for _name in OPERATIONS:
    setattr(Store, _name, _delegate(_name))
