"""The store: one interface over SQLite (default) and PostgreSQL + PostGIS.

All reads and writes live on :class:`Transaction`.  ``with store.transaction() as tx:`` gives
one; it commits when the block ends and rolls back if anything in it raises, so an import that
fails half-way leaves nothing behind.  Every method is also available on the :class:`Store`
itself (``store.list_units()``), each call then running in its own short transaction.

Do not nest: calling ``store.<method>`` inside a ``with store.transaction()`` block runs on a
different connection and does not see the block's uncommitted writes (and may wait on its
locks); use ``tx.<method>`` there.

The backend-specific part is small: :class:`geoapp.store.postgis.PostgisStore` swaps in a
transaction class whose :meth:`Transaction.areas_covering` runs in SQL on the GiST index,
whose bulk inserts use ``COPY``, and which serialises publishes with an advisory lock.

Integrity: references to units, districts, areas and generations are checked before writing
(so the error names the bad value and the row using it) and enforced again by foreign keys.
Problems keep ``rule_id`` without a foreign key: rules are replaced as a set, and a problem
records the rule that applied when it was assigned.
"""

import functools
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from geoapp.core.deadlines import MAX_DEADLINE_HOURS
from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import InvalidValue, NotFound, StaleVersion, StoreError, StoreUnavailable
from geoapp.store.field import FieldOperations

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Columns of an area collection, in order (plus ``geometry``).
AREA_COLUMNS = ("area_id", "name", "kind", "district_id", "responsible_unit_id")
#: The fields of a problem's assignment.  All None means unassigned.
ASSIGNMENT_FIELDS = (
    "generation_id",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
)
#: Problem fields a caller may give to :meth:`Transaction.add_problems`.
PROBLEM_INPUT_FIELDS = frozenset(
    c.name for c in S.problems.columns if c.name not in {"id", "created_at", "updated_at"}
)
#: Problem fields :meth:`Transaction.update_problem` may change.
PROBLEM_EDIT_FIELDS = frozenset(
    {
        "round",
        "category",
        "description",
        "deduction",
        "reporter",
        "lon",
        "lat",
        "source_crs",
        "source_x",
        "source_y",
        "duplicate_of",
    }
)
#: Keys accepted in the ``filters`` of :meth:`Transaction.problems`.
PROBLEM_FILTERS = frozenset(
    {
        "round",
        "category",
        "status",
        "district_id",
        "area_id",
        "responsible_unit_id",
        "lead_unit_id",
        "generation_id",
        "date_from",
        "date_to",
        "bbox",
        "assigned",
    }
)
_EQUALITY_FILTERS = (
    "round",
    "category",
    "status",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "generation_id",
)
DEFAULT_STATUS = "open"
#: Columns :meth:`Transaction.problem_points` can add to id, lon, lat, status and deduction.
#: Time columns :meth:`Transaction.problem_points` can add, as float64 POSIX seconds.
POINT_TIME_COLUMNS = ("reported_at",)
POINT_EXTRA_COLUMNS = (
    "problem_id",
    "round",
    "category",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "generation_id",
    "rule_id",
    "duplicate_of",
)

_CONV = {name: V.converters(table) for name, table in S.metadata.tables.items()}
_PROBLEM_INPUT_CONV = {
    **{k: v for k, v in _CONV["problems"].items() if k in PROBLEM_INPUT_FIELDS},
    "rectified_at": V.to_datetime,  # not a column: recorded as a "status" event
}
#: Statuses of a closed problem (rectified, possibly verified since).
CLOSED_STATUSES = frozenset({"rectified", "verified"})
_CHUNK = 500  # keys per IN (...) lookup: well under SQLite's bound-parameter limit
_INSERT_BATCH = 10_000  # rows per executemany call


def _now() -> datetime:
    return datetime.now(UTC)


def _check_rectified_at(where: str, row: Mapping[str, Any], rectified_at: datetime | None):
    """A rectification time belongs to a closed problem and cannot precede its report."""
    if rectified_at is None:
        return
    if row.get("status") not in CLOSED_STATUSES:
        raise StoreError(
            N_(
                "%(where)s: rectified_at is given but the status is %(status)r (only a rectified or verified problem has a rectification time)"
            ),
            where=where,
            status=row.get("status"),
        )
    reported = row.get("reported_at")
    if isinstance(reported, datetime) and rectified_at < reported:
        raise StoreError(
            N_("%(where)s: rectified_at %(rectified_at)s is before reported_at %(reported_at)s"),
            where=where,
            rectified_at=rectified_at.isoformat(),
            reported_at=reported.isoformat(),
        )


def _posix_seconds(values: Sequence[Any]) -> np.ndarray:
    """Stored times as the driver gives them (datetimes, or ISO text in SQLite) as float64
    POSIX seconds, NaN where empty."""
    if not len(values):
        return np.array([], dtype=np.float64)
    stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return ((stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).to_numpy(np.float64)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _names(table: sa.Table) -> list[str]:
    return [c.name for c in table.columns]


def _json(value: Any) -> str:
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(N_("event detail is not JSON-serialisable: %(exc)s"), exc=exc) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in an event detail")


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_json_default)


def _short(values: Iterable[Any], limit: int = 5) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    more = len(values) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def safe_url(url: sa.URL) -> str:
    """The URL as text with any password masked."""
    return url.render_as_string(hide_password=True)


def _reason(exc: BaseException, url: sa.URL | None = None) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    line = text.splitlines()[0].strip() if text else type(orig).__name__
    if url is not None and url.password:
        line = line.replace(str(url.password), "***")
    return line


def database_error(exc: sa_exc.DBAPIError, url: sa.URL) -> StoreError:
    """A StoreError for a driver error: its first line, no SQL, no parameters, no password."""
    if isinstance(exc, sa_exc.IntegrityError):
        return StoreError(
            N_("the database refused the change: %(reason)s"), reason=_reason(exc, url)
        )
    if isinstance(exc, sa_exc.DataError) and not exc.connection_invalidated:
        # a value the database cannot take (NUL in text, a number out of range): the
        # caller's input, not an outage; retrying cannot help
        return InvalidValue(
            N_("the database refused a value: %(reason)s"), reason=_reason(exc, url)
        )
    if exc.connection_invalidated or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    ):
        return StoreUnavailable(
            N_("database unavailable (%(safe_url)s): %(reason)s"),
            safe_url=safe_url(url),
            reason=_reason(exc, url),
        )
    return StoreError(
        N_("database error (%(safe_url)s): %(reason)s"),
        safe_url=safe_url(url),
        reason=_reason(exc, url),
    )


def _check_deadline(hours: int | None, where: str) -> None:
    """A category's deadline is None or 1 to MAX_DEADLINE_HOURS whole hours."""
    if hours is not None and not 0 < hours <= MAX_DEADLINE_HOURS:
        raise InvalidValue(
            N_("%(where)s: deadline_hours must be between 1 and %(limit)s, got %(hours)s"),
            where=where,
            limit=MAX_DEADLINE_HOURS,
            hours=hours,
        )


class Transaction(FieldOperations):
    """Reads and writes inside one database transaction; get one from ``store.transaction()``.

    Rows go in and come out as dicts of plain Python values; geometries are shapely objects;
    area collections are GeoDataFrames in EPSG:4326; timestamps are UTC ``datetime`` objects
    (input timestamps must carry a UTC offset).
    """

    def __init__(self, store: "Store", connection: Connection) -> None:
        self._store = store
        self._conn = connection
        self._open = True

    # ------------------------------------------------------------------ plumbing

    def _close(self) -> None:
        self._open = False

    def _x(self, statement: Any, params: Any = None) -> sa.CursorResult[Any]:
        if not self._open:
            raise StoreError(N_("this transaction has ended; use it only inside its `with` block"))
        try:
            if params is None:
                return self._conn.execute(statement)
            return self._conn.execute(statement, params)
        except sa_exc.StatementError as exc:
            if isinstance(exc, sa_exc.DBAPIError):
                raise database_error(exc, self._store.url) from exc
            raise StoreError(
                N_("cannot run the statement: %(reason)s"), reason=_reason(exc.orig or exc)
            ) from exc

    def _dicts(self, statement: Any) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in self._x(statement)]

    def _insert_many(self, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many rows (all with the same keys, values already converted) fast."""
        if not rows:
            return
        if not self._open:
            raise StoreError(N_("this transaction has ended; use it only inside its `with` block"))
        columns = list(rows[0])
        for batch in _chunks(rows, _INSERT_BATCH):
            self._bulk_insert(table, columns, batch)

    def _bulk_insert(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """SQLite: one driver-level executemany, bypassing per-row statement processing."""
        dialect = self._conn.dialect
        quote = dialect.identifier_preparer.quote
        procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
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
        params = list(zip(*values, strict=True))
        try:
            self._conn.exec_driver_sql(sql, params)
        except sa_exc.DBAPIError as exc:
            raise database_error(exc, self._store.url) from exc

    def _rows_with_keys(
        self, key: sa.Column[Any], keys: Iterable[Any], *columns: sa.Column[Any]
    ) -> Iterator[sa.Row[Any]]:
        """Rows (key, *columns) of key's table whose key is one of ``keys``."""
        wanted = sorted({k for k in keys if k is not None})
        for chunk in _chunks(wanted, _CHUNK):
            yield from self._x(sa.select(key, *columns).where(key.in_(chunk)))

    def _ids_by_key(self, column: sa.Column[Any], keys: Iterable[Any]) -> dict[Any, int]:
        """Map unique-key values to the ``id`` of their rows."""
        return {k: i for k, i in self._rows_with_keys(column, keys, column.table.c.id)}

    def _existing(self, column: sa.Column[Any], values: Iterable[Any]) -> set[Any]:
        return {row[0] for row in self._rows_with_keys(column, values)}

    def _check_refs(
        self,
        column: sa.Column[Any],
        rows: Sequence[Mapping[str, Any]],
        field: str,
        what: str,
        where: Callable[[Mapping[str, Any]], str],
    ) -> None:
        """Raise a StoreError naming the values of ``field`` in ``rows`` missing from
        ``column``, and the first row (described by ``where(row)``) that uses one."""
        values = {r.get(field) for r in rows}
        values.discard(None)
        if not values:
            return
        missing = values - self._existing(column, values)
        if missing:
            first = next(r for r in rows if r.get(field) in missing)
            ordered = list(dict.fromkeys(r[field] for r in rows if r.get(field) in missing))
            raise StoreError(
                N_("unknown %(what)s %(short)s (first referenced by %(where)s)"),
                what=what,
                short=_short(ordered),
                where=where(first),
            )

    def _upsert(
        self, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: str, what: str
    ) -> None:
        """Insert rows whose key is new; update only the given fields of the others.

        Required (NOT NULL) fields may be left out of an update but not set to None, and
        must be given for a new row.
        """
        existing = self._existing(table.c[key], (r[key] for r in rows))
        required = [c.name for c in table.columns if not c.nullable and c.name != key]
        for row in rows:
            for field in required:
                if row.get(field) is None and (field in row or row[key] not in existing):
                    new = "" if row[key] in existing else f" for a new {what}"
                    raise StoreError(
                        N_("%(what)s %(value)r: %(field)s is required%(new)s"),
                        what=what,
                        value=row[key],
                        field=field,
                        new=new,
                    )
        groups: dict[tuple[bool, tuple[str, ...]], list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault((row[key] in existing, tuple(sorted(row))), []).append(row)
        for (is_update, fields), group in groups.items():
            if not is_update:
                self._insert_many(table, group)
                continue
            values = {f: sa.bindparam(f"_{f}", type_=table.c[f].type) for f in fields if f != key}
            if not values:
                continue
            stmt = sa.update(table).where(table.c[key] == sa.bindparam("_key")).values(values)
            params = [
                {"_key": r[key], **{f"_{f}": r[f] for f in fields if f != key}} for r in group
            ]
            for batch in _chunks(params, _INSERT_BATCH):
                self._x(stmt, list(batch))

    def _prepare(
        self,
        rows: Iterable[Mapping[str, Any]],
        table: sa.Table,
        key: str,
        what: str,
        required: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        if isinstance(rows, (Mapping, str | bytes)):
            raise StoreError(
                N_("expected a list of %(what)s rows, got %(name)s"),
                what=what,
                name=type(rows).__name__,
            )
        if isinstance(rows, pd.DataFrame):
            rows = rows.to_dict("records")
        convs = _CONV[table.name]
        out: list[dict[str, Any]] = []
        seen: set[Any] = set()
        for i, row in enumerate(rows, start=1):
            label = row.get(key) if isinstance(row, Mapping) else None
            where = f"{what} {label!r}" if label is not None else f"{what} row {i}"
            r = V.coerce_row(row, convs, where=where, required=(key, *required))
            if r[key] in seen:
                raise StoreError(
                    N_("%(what)s %(value)r appears more than once in the input"),
                    what=what,
                    value=r[key],
                )
            seen.add(r[key])
            out.append(r)
        return out

    # ------------------------------------------------------------------ overview

    def is_empty(self) -> bool:
        """True when the store has no generations and no units (a fresh database)."""
        for table in (S.generations, S.units):
            if self._x(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                return False
        return True

    # ------------------------------------------------------------------ units

    def upsert_units(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert units or update them by ``unit_id``; only the fields given are updated.

        Fields: unit_id, name (both required for a new unit), kind, contact, phone, lon, lat,
        lead_district_id.  Returns the number of rows given.
        """
        prepared = self._prepare(rows, S.units, "unit_id", "unit")
        self._upsert(S.units, prepared, "unit_id", "unit")
        return len(prepared)

    def list_units(self) -> list[dict[str, Any]]:
        """All units, sorted by unit_id."""
        return self._dicts(sa.select(S.units).order_by(S.units.c.unit_id))

    def get_unit(self, unit_id: str) -> dict[str, Any]:
        """One unit; raises NotFound."""
        rows = self._dicts(sa.select(S.units).where(S.units.c.unit_id == unit_id))
        if not rows:
            raise NotFound(N_("unknown unit %(unit_id)r"), unit_id=unit_id)
        return rows[0]

    # ------------------------------------------------------------------ districts

    def upsert_districts(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert districts or update them by ``district_id`` (fields: district_id, name,
        lead_unit_id).  The lead unit must exist."""
        prepared = self._prepare(rows, S.districts, "district_id", "district")
        self._check_refs(
            S.units.c.unit_id,
            prepared,
            "lead_unit_id",
            "lead unit",
            lambda r: f"district {r['district_id']!r}",
        )
        self._upsert(S.districts, prepared, "district_id", "district")
        return len(prepared)

    def list_districts(self) -> list[dict[str, Any]]:
        """All districts, sorted by district_id."""
        return self._dicts(sa.select(S.districts).order_by(S.districts.c.district_id))

    def get_district(self, district_id: str) -> dict[str, Any]:
        """One district; raises NotFound."""
        rows = self._dicts(sa.select(S.districts).where(S.districts.c.district_id == district_id))
        if not rows:
            raise NotFound(N_("unknown district %(district_id)r"), district_id=district_id)
        return rows[0]

    # ------------------------------------------------------------------ categories, rules

    def replace_categories(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Make the category table exactly ``rows`` (fields: category, name_zh, name_en,
        deadline_hours).  A category still used by a rule cannot be removed."""
        prepared = self._prepare(rows, S.categories, "category", "category")
        for r in prepared:
            _check_deadline(r.get("deadline_hours"), f"category {r['category']!r}")
        keep = {r["category"] for r in prepared}
        existing = set(self._x(sa.select(S.categories.c.category)).scalars())
        removed = sorted(existing - keep)
        if removed:
            used = self._dicts(
                sa.select(S.rules.c.rule_id, S.rules.c.category)
                .where(S.rules.c.category.in_(removed))
                .order_by(S.rules.c.rule_id)
            )
            if used:
                raise StoreError(
                    N_(
                        "cannot remove category %(category)r: rule(s) %(short)s use it; replace the rules first"
                    ),
                    category=used[0]["category"],
                    short=_short(r["rule_id"] for r in used),
                )
            for chunk in _chunks(removed, _CHUNK):
                self._x(sa.delete(S.categories).where(S.categories.c.category.in_(chunk)))
        full = [{c: r.get(c) for c in _names(S.categories)} for r in prepared]
        if full:
            self._upsert(S.categories, full, "category", "category")
        return len(prepared)

    def list_categories(self) -> list[dict[str, Any]]:
        """All categories, sorted by category."""
        return self._dicts(sa.select(S.categories).order_by(S.categories.c.category))

    def replace_rules(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Make the rule table exactly ``rows`` (fields: rule_id, priority, category,
        area_kind, unit_id, note).  Units and categories must exist; a NULL category means
        every category."""
        prepared = self._prepare(rows, S.rules, "rule_id", "rule", required=("priority", "unit_id"))

        def rule(r: Mapping[str, Any]) -> str:
            return f"rule {r['rule_id']!r}"

        self._check_refs(S.units.c.unit_id, prepared, "unit_id", "unit", rule)
        self._check_refs(S.categories.c.category, prepared, "category", "category", rule)
        self._x(sa.delete(S.rules))
        full = [{c: r.get(c) for c in _names(S.rules)} for r in prepared]
        if full:
            self._insert_many(S.rules, full)
        return len(prepared)

    def list_rules(self) -> list[dict[str, Any]]:
        """All rules, sorted by priority then rule_id."""
        return self._dicts(sa.select(S.rules).order_by(S.rules.c.priority, S.rules.c.rule_id))

    # ------------------------------------------------------------------ generations

    def _generation(self, generation_id: Any, *, for_update: bool = False) -> dict[str, Any]:
        gid = V.convert(generation_id, V.to_int, "generation", "id")
        if gid is None:
            raise StoreError(N_("a generation id is required"))
        stmt = sa.select(S.generations).where(S.generations.c.id == gid)
        if for_update:
            stmt = stmt.with_for_update()
        rows = self._dicts(stmt)
        if not rows:
            raise NotFound(N_("unknown generation %(gid)s"), gid=gid)
        return rows[0]

    def _current_id(self) -> int | None:
        return self._x(
            sa.select(sa.func.max(S.generations.c.id)).where(S.generations.c.status == "published")
        ).scalar_one()

    def _generation_for_read(self, generation_id: Any) -> int | None:
        """The generation to read: the given one (must exist) or the current one (or None)."""
        if generation_id is None:
            return self._current_id()
        return self._generation(generation_id)["id"]

    def _require_draft(self, generation_id: Any, expected_version: int | None) -> dict[str, Any]:
        gen = self._generation(generation_id, for_update=True)
        if gen["status"] != "draft":
            raise StoreError(
                N_(
                    "generation %(id)s is published and read-only; create a new draft from it (parent_id=%(id)s) to change boundaries"
                ),
                id=gen["id"],
            )
        if expected_version is not None and gen["version"] != expected_version:
            raise StaleVersion(
                N_(
                    "generation %(id)s is at version %(version)s, not %(expected_version)s: someone else changed it; reload and try again"
                ),
                id=gen["id"],
                version=gen["version"],
                expected_version=expected_version,
            )
        return gen

    def _lock_publishing(self) -> None:
        """Serialise publishes.  SQLite already lets one writer at a time commit."""

    def create_generation(
        self, author: str | None, message: str | None, parent_id: int | None = None
    ) -> int:
        """Start a draft generation, copying the area versions of ``parent_id`` if given.

        Returns the new generation id.
        """
        parent = None if parent_id is None else self._generation(parent_id)["id"]
        gid = self._x(
            sa.insert(S.generations)
            .values(
                status="draft",
                author=V.convert(author, V.to_text, "generation", "author"),
                message=V.convert(message, V.to_text, "generation", "message"),
                created_at=_now(),
                parent_id=parent,
                version=1,
            )
            .returning(S.generations.c.id)
        ).scalar_one()
        if parent is not None:
            av = S.area_versions
            cols = [c.name for c in av.columns if c.name != "generation_id"]
            self._x(
                sa.insert(av).from_select(
                    ["generation_id", *cols],
                    sa.select(sa.literal(gid, sa.Integer), *(av.c[c] for c in cols)).where(
                        av.c.generation_id == parent
                    ),
                )
            )
        return gid

    def put_area_versions(
        self,
        generation_id: int,
        areas: gpd.GeoDataFrame | Iterable[Mapping[str, Any]],
        *,
        expected_version: int | None = None,
    ) -> int:
        """Replace all area versions of a draft generation.

        ``areas`` is a GeoDataFrame (reprojected to EPSG:4326 if it has another CRS; no CRS
        means EPSG:4326) or rows of dicts, with area_id and name (required), kind,
        district_id, responsible_unit_id and geometry (a shapely geometry, stored in 2-D).
        Other columns are ignored.  Districts and units must exist.  New area_ids get a stable
        ``areas`` row.  Returns the number of areas stored.
        """
        gen = self._require_draft(generation_id, expected_version)
        gid = gen["id"]
        rows = _area_rows(areas)

        def area(r: Mapping[str, Any]) -> str:
            return f"area {r['area_id']!r}"

        self._check_refs(S.districts.c.district_id, rows, "district_id", "district", area)
        self._check_refs(S.units.c.unit_id, rows, "responsible_unit_id", "responsible unit", area)
        ids = [r["area_id"] for r in rows]
        known = self._existing(S.areas.c.area_id, ids)
        now = _now()
        new = [{"area_id": a, "created_at": now} for a in ids if a not in known]
        if new:
            self._insert_many(S.areas, new)
        self._x(sa.delete(S.area_versions).where(S.area_versions.c.generation_id == gid))
        if rows:
            self._insert_many(S.area_versions, [{"generation_id": gid, **r} for r in rows])
        self._x(
            sa.update(S.generations)
            .where(S.generations.c.id == gid)
            .values(version=S.generations.c.version + 1)
        )
        return len(rows)

    def publish_generation(
        self,
        generation_id: int,
        author: str | None,
        message: str | None,
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Publish a draft; it becomes the current generation.  Returns the generation.

        Refused (StaleVersion) when another generation was published after this draft was
        created, so that a publish never silently undoes a redraw the draft did not see:
        create a new draft from this one (or from the current generation) and publish that.
        """
        self._lock_publishing()
        gen = self._require_draft(generation_id, expected_version)
        gid = gen["id"]
        g = S.generations
        later = self._x(
            sa.select(g.c.id)
            .where(g.c.status == "published")
            .where(sa.or_(g.c.published_at >= gen["created_at"], g.c.id > gid))
            .order_by(g.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if later is not None:
            raise StaleVersion(
                N_(
                    "generation %(later)s was published after draft %(gid)s was started; create a new draft (parent_id=%(gid)s to keep these boundaries) and publish that"
                ),
                later=later,
                gid=gid,
            )
        count = self._x(
            sa.select(sa.func.count())
            .select_from(S.area_versions)
            .where(S.area_versions.c.generation_id == gid)
        ).scalar_one()
        if not count:
            raise StoreError(
                N_("generation %(gid)s has no areas; put area versions before publishing"), gid=gid
            )
        previous = self._current_id()
        self._x(
            sa.update(g)
            .where(g.c.id == gid)
            .values(
                status="published",
                published_at=_now(),
                published_by=V.convert(author, V.to_text, "generation", "author"),
                publish_message=V.convert(message, V.to_text, "generation", "message"),
                version=g.c.version + 1,
            )
        )
        # every publish is audited here, whichever use case publishes
        self.add_audit(
            author,
            "generation.publish",
            f"generation:{gid}",
            {"current_generation": previous},
            {"current_generation": gid, "areas": count, "message": message},
        )
        return self.get_generation(gid)

    def delete_generation(self, generation_id: int) -> None:
        """Delete a draft generation and its area versions (published ones stay forever)."""
        gen = self._require_draft(generation_id, None)
        gid = gen["id"]
        used = self._x(
            sa.select(sa.func.count())
            .select_from(S.problems)
            .where(S.problems.c.generation_id == gid)
        ).scalar_one()
        if used:
            raise StoreError(
                N_("generation %(gid)s cannot be deleted: %(used)s problem(s) refer to it"),
                gid=gid,
                used=used,
            )
        # Drafts started from this one now descend from its parent.
        self._x(
            sa.update(S.generations)
            .where(S.generations.c.parent_id == gid)
            .values(parent_id=gen["parent_id"])
        )
        self._x(sa.delete(S.draft_edits).where(S.draft_edits.c.generation_id == gid))
        self._x(sa.delete(S.area_versions).where(S.area_versions.c.generation_id == gid))
        self._x(sa.delete(S.generations).where(S.generations.c.id == gid))

    # ------------------------------------------------------------------ draft edit history

    def add_draft_edit(
        self,
        generation_id: int,
        op: Mapping[str, Any],
        before: Sequence[Mapping[str, Any]],
        after: Sequence[Mapping[str, Any]],
        actor: str | None,
    ) -> int:
        """Record one edit of a draft (JSON-able ``op``, area rows before and after) on top
        of its undo stack, dropping the redo stack.  Returns the edit's id."""
        gid = self._generation(generation_id)["id"]
        e = S.draft_edits
        self._x(sa.delete(e).where(e.c.generation_id == gid).where(e.c.undone == 1))
        return self._x(
            sa.insert(e)
            .values(
                generation_id=gid,
                at=_now(),
                actor=V.convert(actor, V.to_text, "edit", "actor"),
                op=_json(dict(op)),
                before=_json(list(before)),
                after=_json(list(after)),
                undone=0,
            )
            .returning(e.c.id)
        ).scalar_one()

    def draft_edits(self, generation_id: int) -> list[dict[str, Any]]:
        """A draft's edits, oldest first: id, at, actor, op, before, after (parsed), undone."""
        gid = self._generation(generation_id)["id"]
        e = S.draft_edits
        rows = self._dicts(sa.select(e).where(e.c.generation_id == gid).order_by(e.c.id))
        for row in rows:
            for key in ("op", "before", "after"):
                row[key] = json.loads(row[key])
            row["undone"] = bool(row["undone"])
        return rows

    def set_draft_edit_undone(self, edit_id: int, undone: bool) -> None:
        """Move an edit between the undo stack (False) and the redo stack (True)."""
        e = S.draft_edits
        done = self._x(sa.update(e).where(e.c.id == int(edit_id)).values(undone=int(bool(undone))))
        if not done.rowcount:
            raise NotFound(N_("unknown draft edit %(edit_id)s"), edit_id=edit_id)

    def _generation_select(self) -> sa.Select[Any]:
        g, av = S.generations, S.area_versions
        count = (
            sa.select(sa.func.count())
            .select_from(av)
            .where(av.c.generation_id == g.c.id)
            .scalar_subquery()
            .label("area_count")
        )
        return sa.select(g, count)

    def _with_current(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        current = self._current_id()
        for row in rows:
            row["is_current"] = row["id"] == current
        return rows

    def current_generation(self) -> dict[str, Any] | None:
        """The published generation with the highest id, or None before the first publish."""
        current = self._current_id()
        return None if current is None else self.get_generation(current)

    def get_generation(self, generation_id: int) -> dict[str, Any]:
        """One generation: id, status, author, message, created_at, published_at,
        published_by, publish_message, parent_id, version, area_count, is_current.
        Raises NotFound."""
        gid = self._generation(generation_id)["id"]
        rows = self._dicts(self._generation_select().where(S.generations.c.id == gid))
        return self._with_current(rows)[0]

    def list_generations(self) -> list[dict[str, Any]]:
        """All generations (drafts too), sorted by id."""
        return self._with_current(
            self._dicts(self._generation_select().order_by(S.generations.c.id))
        )

    # ------------------------------------------------------------------ areas

    def areas(self, generation_id: int | None = None) -> gpd.GeoDataFrame:
        """The areas of a generation (None: the current one) as a GeoDataFrame in EPSG:4326
        with columns area_id, name, kind, district_id, responsible_unit_id, geometry, sorted
        by area_id.  Empty (same columns) when there is no current generation."""
        gid = self._generation_for_read(generation_id)
        if gid is None:
            return _area_frame([], [])
        av = S.area_versions
        rows = self._x(
            sa.select(*(av.c[c] for c in AREA_COLUMNS), av.c.geom_wkb)
            .where(av.c.generation_id == gid)
            .order_by(av.c.area_id)
        ).all()
        return _area_frame([r[:-1] for r in rows], [r[-1] for r in rows])

    def first_generations(self, area_ids: Iterable[str]) -> dict[str, int]:
        """``area_id → the lowest generation id holding a version of it`` (drafts count, a
        discarded draft's versions are gone); ids never stored are left out."""
        ids = sorted({str(a) for a in area_ids})
        if not ids:
            return {}
        av = S.area_versions
        rows = self._x(
            sa.select(av.c.area_id, sa.func.min(av.c.generation_id))
            .where(av.c.area_id.in_(ids))
            .group_by(av.c.area_id)
        ).all()
        return {str(a): int(g) for a, g in rows}

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

    def _area_tree_data(self, gid: int) -> tuple[list[str], shapely.STRtree]:
        av = S.area_versions
        rows = self._x(
            sa.select(av.c.area_id, av.c.geom_wkb)
            .where(av.c.generation_id == gid)
            .order_by(av.c.area_id)
        ).all()
        geoms = shapely.from_wkb([r[1] for r in rows]) if rows else []
        return [r[0] for r in rows], shapely.STRtree(geoms)

    # ------------------------------------------------------------------ problems

    def add_problems(
        self, rows: Iterable[Mapping[str, Any]], *, actor: str | None = None
    ) -> list[int]:
        """Insert problems; returns their new ids (``id``, the internal key), in input order.

        Each row may carry every problem field except id/created_at/updated_at: problem_id
        (external id, unique; generated when missing), round, category, description,
        deduction (default 0), reported_at (aware datetime or ISO text with offset; default
        now), status (default "open"), reporter, lon, lat (WGS84), source_crs, source_x,
        source_y, the assignment (generation_id, district_id, area_id, responsible_unit_id,
        lead_unit_id, rule_id) and duplicate_of.  Records a "created" event per problem and an
        "assigned" event when area_id is set; ``actor`` (default: the reporter) is the events'
        actor.  A problem_id already stored or repeated in ``rows`` is a StoreError naming it.

        ``rectified_at`` (optional, not a column) is when a problem that arrives closed
        (rectified or verified) was rectified, e.g. from an imported spreadsheet: it is
        recorded as a "status" event to ``rectified`` at that time (``{"before": null,
        "after": "rectified", "imported": true}``), which is where :meth:`rectified_times`
        and so the ledger's on-time figures read it.  Given on an open problem, or earlier
        than ``reported_at``, it is a StoreError naming the problem.
        """
        if isinstance(rows, pd.DataFrame):
            rows = rows.to_dict("records")
        now = _now()
        convs = _PROBLEM_INPUT_CONV
        cols = [c.name for c in S.problems.columns if c.name != "id"]
        prepared: list[dict[str, Any]] = []
        rectified: list[datetime | None] = []
        seen: set[str] = set()
        for i, row in enumerate(rows, start=1):
            label = row.get("problem_id") if isinstance(row, Mapping) else None
            where = f"problem {label!r}" if label is not None else f"problem row {i}"
            r = V.coerce_row(row, convs, where=where)
            rectified.append(r.pop("rectified_at", None))
            if r.get("problem_id") is None:
                r["problem_id"] = f"P-{uuid.uuid4().hex[:16]}"
            elif r["problem_id"] in seen:
                raise StoreError(
                    N_("duplicate problem_id %(problem_id)r in the input"),
                    problem_id=r["problem_id"],
                )
            seen.add(r["problem_id"])
            if r.get("deduction") is None:
                r["deduction"] = 0.0
            if r.get("status") is None:
                r["status"] = DEFAULT_STATUS
            if r.get("reported_at") is None:
                r["reported_at"] = now
            r["created_at"] = r["updated_at"] = now
            _check_rectified_at(where, r, rectified[-1])
            prepared.append({c: r.get(c) for c in cols})
        if not prepared:
            return []
        dup = self._existing(S.problems.c.problem_id, seen)
        if dup:
            raise StoreError(N_("problem_id already stored: %(short)s"), short=_short(sorted(dup)))
        self._check_problem_refs(prepared)
        self._insert_many(S.problems, prepared)
        id_of = self._ids_by_key(S.problems.c.problem_id, [r["problem_id"] for r in prepared])
        ids = [id_of[r["problem_id"]] for r in prepared]
        events = []
        for pk, r, done in zip(ids, prepared, rectified, strict=True):
            who = actor if actor is not None else r["reporter"]
            created = _json({"problem_id": r["problem_id"]})
            events.append(
                {"problem_pk": pk, "at": now, "actor": who, "kind": "created", "detail": created}
            )
            if r["area_id"] is not None:
                assigned = _json({f: r[f] for f in ASSIGNMENT_FIELDS})
                events.append(
                    {
                        "problem_pk": pk,
                        "at": now,
                        "actor": who,
                        "kind": "assigned",
                        "detail": assigned,
                    }
                )
            if done is not None:  # after the others: history lists events in this order
                events.append(
                    {
                        "problem_pk": pk,
                        "at": done,
                        "actor": who,
                        "kind": "status",
                        "detail": _json({"before": None, "after": "rectified", "imported": True}),
                    }
                )
        self._insert_many(S.problem_events, events)
        return ids

    def existing_problem_ids(self, problem_ids: Iterable[str]) -> set[str]:
        """Which of these external problem_ids are already stored (e.g. to skip re-imports)."""
        keys = [V.convert(p, V.to_text, "problem", "problem_id") for p in problem_ids]
        return self._existing(S.problems.c.problem_id, keys)

    def _check_problem_refs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        def problem(r: Mapping[str, Any]) -> str:
            return f"problem {r['problem_id']!r}"

        for column, field, what in (
            (S.generations.c.id, "generation_id", "generation"),
            (S.districts.c.district_id, "district_id", "district"),
            (S.areas.c.area_id, "area_id", "area"),
            (S.units.c.unit_id, "responsible_unit_id", "responsible unit"),
            (S.units.c.unit_id, "lead_unit_id", "lead unit"),
            (S.problems.c.id, "duplicate_of", "problem id (duplicate_of)"),
        ):
            self._check_refs(column, rows, field, what, problem)

    def _problem_where(self, filters: Mapping[str, Any] | None) -> list[Any]:
        if not filters:
            return []
        if not isinstance(filters, Mapping):
            raise StoreError(
                N_("filters must be a mapping, got %(name)s"), name=type(filters).__name__
            )
        unknown = sorted(set(filters) - PROBLEM_FILTERS)
        if unknown:
            raise StoreError(
                N_("unknown problem filter %(value)r (known: %(names)s)"),
                value=unknown[0],
                names=", ".join(sorted(PROBLEM_FILTERS)),
            )
        p = S.problems
        convs = _CONV["problems"]
        clauses: list[Any] = []
        for key in _EQUALITY_FILTERS:
            value = filters.get(key)
            if value is None:
                continue
            conv = convs[key]
            if isinstance(value, list | tuple | set | frozenset):
                values = [V.convert(v, conv, "filter", key) for v in value]
                clauses.append(p.c[key].in_(values))
            else:
                clauses.append(p.c[key] == V.convert(value, conv, "filter", key))
        if filters.get("date_from") is not None:
            clauses.append(
                p.c.reported_at
                >= V.convert(filters["date_from"], V.to_datetime, "filter", "date_from")
            )
        if filters.get("date_to") is not None:
            clauses.append(
                p.c.reported_at < V.convert(filters["date_to"], V.to_datetime, "filter", "date_to")
            )
        bbox = filters.get("bbox")
        if bbox is not None:
            try:
                minx, miny, maxx, maxy = (float(v) for v in bbox)
            except (TypeError, ValueError):
                raise StoreError(
                    N_("filter: bbox must be four numbers (minx, miny, maxx, maxy), got %(bbox)r"),
                    bbox=bbox,
                ) from None
            if not (minx <= maxx and miny <= maxy):
                raise StoreError(N_("filter: bbox has min greater than max: %(bbox)r"), bbox=bbox)
            clauses += [p.c.lon.between(minx, maxx), p.c.lat.between(miny, maxy)]
        assigned = filters.get("assigned")
        if assigned is not None:
            clauses.append(p.c.area_id.is_not(None) if assigned else p.c.area_id.is_(None))
        return clauses

    def problems(
        self,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Problems matching ``filters``, sorted by id, as dicts of every column.

        Filters (all optional; None is ignored; a list/tuple/set means "any of"): round,
        category, status, district_id, area_id, responsible_unit_id, lead_unit_id,
        generation_id; date_from (inclusive) and date_to (exclusive) on reported_at, aware
        datetimes or ISO text with offset; bbox=(minx, miny, maxx, maxy) on lon/lat, edges
        included; assigned=True/False (area_id set or not).
        """
        stmt = sa.select(S.problems).where(*self._problem_where(filters)).order_by(S.problems.c.id)
        limit = V.convert(limit, V.to_int, "problems", "limit")
        offset = V.convert(offset, V.to_int, "problems", "offset") or 0
        if (limit is not None and limit < 0) or offset < 0:
            raise StoreError(N_("limit and offset must not be negative"))
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        return self._dicts(stmt)

    def count_problems(self, filters: Mapping[str, Any] | None = None) -> int:
        """How many problems match ``filters`` (same keys as :meth:`problems`)."""
        return self._x(
            sa.select(sa.func.count()).select_from(S.problems).where(*self._problem_where(filters))
        ).scalar_one()

    def problem_totals_by_unit(self, unit_ids: Iterable[str]) -> dict[str, tuple[int, float]]:
        """Per responsible unit: (number of problems, sum of deductions), over all problems."""
        p = S.problems
        units = [V.convert(u, V.to_text, "filter", "responsible_unit_id") for u in unit_ids]
        if not units:
            return {}
        rows = self._x(
            sa.select(p.c.responsible_unit_id, sa.func.count(), sa.func.sum(p.c.deduction))
            .where(p.c.responsible_unit_id.in_(units))
            .group_by(p.c.responsible_unit_id)
        ).all()
        return {r[0]: (int(r[1]), float(r[2] or 0.0)) for r in rows}

    def get_problem(self, problem_pk: int, *, for_update: bool = False) -> dict[str, Any]:
        """One problem by its internal id; raises NotFound.  ``for_update`` locks its row
        until the transaction ends (PostgreSQL; SQLite serialises writers anyway), so a
        check-then-change (a status transition) cannot interleave with another."""
        pk = V.convert(problem_pk, V.to_int, "problem", "id")
        stmt = sa.select(S.problems).where(S.problems.c.id == pk)
        if for_update:
            stmt = stmt.with_for_update()
        rows = self._dicts(stmt)
        if not rows:
            raise NotFound(N_("unknown problem id %(problem_pk)r"), problem_pk=problem_pk)
        return rows[0]

    def update_assignment(
        self,
        problem_pk: int,
        assignment: Mapping[str, Any],
        actor: str | None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Change a problem's assignment; returns the updated problem.

        ``assignment`` holds any of generation_id, district_id, area_id, responsible_unit_id,
        lead_unit_id, rule_id; fields not given keep their value, None clears one.  Records a
        "reassigned" event whose detail is ``{"before": {...}, "after": {...}}`` (all six
        fields) unless nothing changes.
        """
        self.update_assignments({problem_pk: assignment}, actor, note)
        return self.get_problem(problem_pk)

    def update_assignments(
        self,
        changes: Mapping[int, Mapping[str, Any]] | Iterable[tuple[int, Mapping[str, Any]]],
        actor: str | None,
        note: str | None = None,
    ) -> int:
        """Bulk :meth:`update_assignment`: ``{problem_pk: assignment}``.  Returns how many
        problems actually changed (and got a "reassigned" event)."""
        allowed = frozenset(ASSIGNMENT_FIELDS)
        convs = _CONV["problems"]
        wanted: dict[int, dict[str, Any]] = {}
        pairs = changes.items() if isinstance(changes, Mapping) else changes
        for pk, assignment in pairs:
            key = V.convert(pk, V.to_int, "problem", "id")
            wanted[key] = V.coerce_row(
                assignment, convs, where=f"assignment of problem {pk!r}", allowed=allowed
            )
        if not wanted:
            return 0
        p = S.problems
        before: dict[int, dict[str, Any]] = {}
        keys = sorted(wanted)
        for chunk in _chunks(keys, _CHUNK):
            for row in self._x(
                sa.select(p.c.id, p.c.problem_id, *(p.c[f] for f in ASSIGNMENT_FIELDS)).where(
                    p.c.id.in_(chunk)
                )
            ):
                before[row.id] = dict(row._mapping)
        missing = [k for k in keys if k not in before]
        if missing:
            raise NotFound(N_("unknown problem id %(short)s"), short=_short(missing))
        now = _now()
        updates, events = [], []
        for pk in keys:
            old = {f: before[pk][f] for f in ASSIGNMENT_FIELDS}
            new = {**old, **wanted[pk]}
            if new == old:
                continue
            updates.append({"_pk": pk, "_now": now, **{f"_{f}": new[f] for f in ASSIGNMENT_FIELDS}})
            events.append(
                {
                    "problem_pk": pk,
                    "at": now,
                    "actor": V.convert(actor, V.to_text, "event", "actor"),
                    "kind": "reassigned",
                    "detail": _json({"before": old, "after": new}),
                    "note": V.convert(note, V.to_text, "event", "note"),
                }
            )
        if not updates:
            return 0
        labels = {pk: before[pk]["problem_id"] for pk in keys}
        refs = [
            {"problem_id": labels[u["_pk"]], **{f: u[f"_{f}"] for f in ASSIGNMENT_FIELDS}}
            for u in updates
        ]
        self._check_problem_refs(refs)
        stmt = (
            sa.update(p)
            .where(p.c.id == sa.bindparam("_pk"))
            .values(
                updated_at=sa.bindparam("_now", type_=S.UTCDateTime()),
                **{f: sa.bindparam(f"_{f}", type_=p.c[f].type) for f in ASSIGNMENT_FIELDS},
            )
        )
        for batch in _chunks(updates, _INSERT_BATCH):
            self._x(stmt, list(batch))
        self._insert_many(S.problem_events, events)
        return len(updates)

    def set_problem_status(
        self, problem_pk: int, status: str, actor: str | None, note: str | None = None
    ) -> dict[str, Any]:
        """Change a problem's status (e.g. to "rectified"), recording a "status" event with
        before/after.  Returns the updated problem."""
        old = self.get_problem(problem_pk)
        status = V.convert(status, V.to_text, "problem", "status")
        if not status:
            raise StoreError(N_("status is required"))
        if status != old["status"]:
            now = _now()
            self._x(
                sa.update(S.problems)
                .where(S.problems.c.id == old["id"])
                .values(status=status, updated_at=now)
            )
            self.add_event(
                old["id"],
                "status",
                actor,
                {"before": old["status"], "after": status},
                note,
                at=now,
            )
            # every status change is audited here, whichever use case makes it
            self.add_audit(
                actor,
                "problem.status",
                f"problem:{old['problem_id']}",
                {"status": old["status"]},
                {"status": status, "note": note},
            )
        return self.get_problem(old["id"])

    def add_event(
        self,
        problem_pk: int,
        kind: str,
        actor: str | None,
        detail: Mapping[str, Any] | None = None,
        note: str | None = None,
        *,
        at: datetime | None = None,
    ) -> int:
        """Append an event to a problem's history (e.g. "rectification_reported"); returns its id."""
        pk = self.get_problem(problem_pk)["id"]
        kind = V.convert(kind, V.to_text, "event", "kind")
        if not kind:
            raise StoreError(N_("event kind is required"))
        return self._x(
            sa.insert(S.problem_events)
            .values(
                problem_pk=pk,
                at=V.convert(at, V.to_datetime, "event", "at") or _now(),
                actor=V.convert(actor, V.to_text, "event", "actor"),
                kind=kind,
                detail=None if detail is None else _json(dict(detail)),
                note=V.convert(note, V.to_text, "event", "note"),
            )
            .returning(S.problem_events.c.id)
        ).scalar_one()

    def problem_events(self, problem_pk: int) -> list[dict[str, Any]]:
        """A problem's history, oldest first: dicts with id, problem_pk, at, actor, kind,
        detail (parsed JSON, or None) and note.  Raises NotFound for an unknown problem."""
        pk = self.get_problem(problem_pk)["id"]
        e = S.problem_events
        rows = self._dicts(sa.select(e).where(e.c.problem_pk == pk).order_by(e.c.id))
        for row in rows:
            if row["detail"] is not None:
                row["detail"] = json.loads(row["detail"])
        return rows

    def update_problem(
        self,
        problem_pk: int,
        fields: Mapping[str, Any],
        actor: str | None,
        note: str | None = None,
        *,
        kind: str = "edited",
    ) -> dict[str, Any]:
        """Change a problem's own fields (not its assignment nor its status); returns the
        updated problem.

        ``fields`` holds any of :data:`PROBLEM_EDIT_FIELDS`.  Records one event of ``kind``
        (default "edited") whose detail is ``{"before": {...}, "after": {...}}`` naming only
        the fields that changed; nothing is written when nothing changes.
        """
        old = self.get_problem(problem_pk)
        row = V.coerce_row(
            fields,
            _CONV["problems"],
            where=f"problem {old['problem_id']!r}",
            allowed=PROBLEM_EDIT_FIELDS,
        )
        changed = {k: v for k, v in row.items() if old[k] != v}
        if not changed:
            return old
        if changed.get("duplicate_of") is not None:
            if changed["duplicate_of"] == old["id"]:
                raise StoreError(
                    N_("problem %(problem_id)r cannot duplicate itself"),
                    problem_id=old["problem_id"],
                )
            self._check_problem_refs([{"problem_id": old["problem_id"], **changed}])
        now = _now()
        self._x(
            sa.update(S.problems)
            .where(S.problems.c.id == old["id"])
            .values(updated_at=now, **changed)
        )
        self.add_event(
            old["id"],
            kind,
            actor,
            {"before": {k: old[k] for k in changed}, "after": changed},
            note,
            at=now,
        )
        return self.get_problem(old["id"])

    def add_photo(self, problem_pk: int, photo: Mapping[str, Any], actor: str | None) -> int:
        """Record a photo file of a problem (stored_name, content_type, size_bytes, sha256,
        original_name); records a "photo_added" event.  Returns the photo's id."""
        pk = self.get_problem(problem_pk)["id"]
        row = V.coerce_row(
            photo,
            _CONV["problem_photos"],
            where="photo",
            allowed=frozenset(
                {"stored_name", "content_type", "size_bytes", "sha256", "original_name"}
            ),
            required=("stored_name", "content_type", "size_bytes", "sha256"),
        )
        now = _now()
        photo_id = self._x(
            sa.insert(S.problem_photos)
            .values(problem_pk=pk, uploaded_at=now, uploaded_by=actor, **row)
            .returning(S.problem_photos.c.id)
        ).scalar_one()
        self.add_event(
            pk,
            "photo_added",
            actor,
            {"photo": photo_id, "content_type": row["content_type"], "bytes": row["size_bytes"]},
            at=now,
        )
        return photo_id

    def problem_photos(self, problem_pk: int) -> list[dict[str, Any]]:
        """A problem's photos, oldest first (every column of problem_photos)."""
        pk = self.get_problem(problem_pk)["id"]
        ph = S.problem_photos
        return self._dicts(sa.select(ph).where(ph.c.problem_pk == pk).order_by(ph.c.id))

    def problems_duplicating(self, problem_pk: int) -> list[dict[str, Any]]:
        """The problems linked to this one as their original (``duplicate_of``): id and
        problem_id, by id."""
        p = S.problems
        pk = V.convert(problem_pk, V.to_int, "problem", "id")
        return self._dicts(
            sa.select(p.c.id, p.c.problem_id).where(p.c.duplicate_of == pk).order_by(p.c.id)
        )

    def get_photo(self, photo_id: int) -> dict[str, Any]:
        """One photo record by id; raises NotFound."""
        pid = V.convert(photo_id, V.to_int, "photo", "id")
        rows = self._dicts(sa.select(S.problem_photos).where(S.problem_photos.c.id == pid))
        if not rows:
            raise NotFound(N_("unknown photo id %(photo_id)r"), photo_id=photo_id)
        return rows[0]

    def set_category_deadline(self, category: str, hours: int | None) -> dict[str, Any]:
        """Change a category's rectification deadline (whole hours; None: no deadline)."""
        code = V.convert(category, V.to_text, "category", "category")
        value = V.convert(hours, V.to_int, "category", "deadline_hours")
        _check_deadline(value, f"category {code!r}")
        c = S.categories
        done = self._x(sa.update(c).where(c.c.category == code).values(deadline_hours=value))
        if done.rowcount == 0:
            raise NotFound(N_("unknown category %(category)r"), category=category)
        return self._dicts(sa.select(c).where(c.c.category == code))[0]

    # ------------------------------------------------------------------ accounts

    _USER_PUBLIC = ("id", "name", "role", "unit_id", "active", "created_at")

    def _account_values(
        self, what: str, name: Any, role: Any, unit_id: Any
    ) -> tuple[str, str, str | None]:
        name = V.convert(name, V.to_text, what, "name")
        role = V.convert(role, V.to_text, what, "role")
        unit_id = V.convert(unit_id, V.to_text, what, "unit_id")
        if not name or not name.strip():
            raise StoreError(N_("%(what)s: a name is required"), what=what)
        if not role:
            raise StoreError(N_("%(what)s %(name)r: a role is required"), what=what, name=name)
        if unit_id is not None:
            self.get_unit(unit_id)
        return name.strip(), role, unit_id

    def create_user(
        self, name: str, password_hash: str, role: str, unit_id: str | None = None
    ) -> dict[str, Any]:
        """Add a person's account (``password_hash`` already hashed; the store never sees a
        password).  Raises StoreError when the name is taken, NotFound for an unknown unit.
        Returns the account without its hash."""
        name, role, unit_id = self._account_values("user", name, role, unit_id)
        if not password_hash:
            raise StoreError(N_("user %(name)r: a password hash is required"), name=name)
        if self._dicts(sa.select(S.users.c.id).where(S.users.c.name == name)):
            raise StoreError(N_("user %(name)r exists already"), name=name)
        pk = self._x(
            sa.insert(S.users)
            .values(
                name=name,
                password_hash=password_hash,
                role=role,
                unit_id=unit_id,
                active=True,
                created_at=_now(),
            )
            .returning(S.users.c.id)
        ).scalar_one()
        return self.get_user_by_id(pk)

    def set_user_password(self, name: str, password_hash: str) -> None:
        """Replace a user's password hash and end all their sessions; raises NotFound for an
        unknown user."""
        done = self._x(
            sa.update(S.users)
            .where(S.users.c.name == name)
            .values(password_hash=password_hash, session_token=None)
        )
        if not done.rowcount:
            raise NotFound(N_("unknown user %(name)r"), name=name)

    def set_account_active(self, kind: str, name: str, active: bool) -> dict[str, Any]:
        """Switch a user (``kind`` "user") or an API token ("token") on or off; returns the
        account as it was before (without its hash).  Raises NotFound for an unknown name.
        An account switched off can no longer sign in or be used, and a signed-in user's
        session ends at their next request."""
        table = {"user": S.users, "token": S.api_tokens}.get(kind)
        if table is None:
            raise StoreError(
                N_("set_account_active: kind must be user or token, not %(kind)r"), kind=kind
            )
        before = self._dicts(
            sa.select(*[table.c[k] for k in self._USER_PUBLIC]).where(table.c.name == name)
        )
        if not before:
            raise NotFound(N_("unknown %(kind)s %(name)r"), kind=kind, name=name)
        values: dict[str, Any] = {"active": bool(active)}
        if kind == "user":
            values["session_token"] = None  # every session of the account ends
        self._x(sa.update(table).where(table.c.name == name).values(values))
        return before[0]

    def user_session_token(self, user_id: int) -> str:
        """The secret the sessions of a user carry (a new random one if they have none);
        raises NotFound for an unknown user."""
        u = S.users
        uid = V.convert(user_id, V.to_int, "user", "id")
        token = self._x(sa.select(u.c.session_token).where(u.c.id == uid)).first()
        if token is None:
            raise NotFound(N_("unknown user id %(user_id)r"), user_id=user_id)
        if token[0]:
            return token[0]
        fresh = secrets.token_urlsafe(32)
        # only if still none: two sign-ins at once agree on one token
        self._x(
            sa.update(u)
            .where(u.c.id == uid, u.c.session_token.is_(None))
            .values(session_token=fresh)
        )
        return self._x(sa.select(u.c.session_token).where(u.c.id == uid)).scalar_one()

    def session_user(self, user_id: int, session_token: str) -> dict[str, Any] | None:
        """The account (without its hash) whose sessions carry ``session_token``, if it is
        active; None otherwise (signed out, deactivated, password changed, unknown)."""
        u = S.users
        try:
            uid = V.convert(user_id, V.to_int, "user", "id")
        except StoreError:
            return None
        rows = self._dicts(
            sa.select(u).where(u.c.id == uid, u.c.active.is_(True), u.c.session_token.is_not(None))
        )
        if not rows or not hmac.compare_digest(
            str(rows[0]["session_token"]).encode(), str(session_token).encode()
        ):
            return None
        return {k: rows[0][k] for k in self._USER_PUBLIC}

    def end_user_sessions(self, user_id: int) -> None:
        """End every session of a user (their cookies no longer sign anyone in)."""
        uid = V.convert(user_id, V.to_int, "user", "id")
        self._x(sa.update(S.users).where(S.users.c.id == uid).values(session_token=None))

    # ------------------------------------------------------------------ failed sign-ins

    def lock_login_attempts(self, keys: Iterable[str], now: datetime) -> dict[str, dict]:
        """The failed-sign-in counters of ``keys``, made (empty) where missing and locked
        until the transaction ends, so that workers counting at once do not lose a count.
        Each is ``{"failures", "window_start", "lockouts", "locked_until"}``."""
        t = S.login_attempts
        wanted = sorted({str(k) for k in keys})
        if not wanted:
            return {}
        fresh = [
            {"key": k, "failures": 0, "window_start": now, "lockouts": 0, "locked_until": None}
            for k in wanted
        ]
        insert = postgresql_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        self._x(insert(t).values(fresh).on_conflict_do_nothing(index_elements=["key"]))
        rows = self._dicts(
            sa.select(t).where(t.c.key.in_(wanted)).order_by(t.c.key).with_for_update()
        )
        return {r.pop("key"): r for r in rows}

    def login_attempts(self, keys: Iterable[str]) -> dict[str, dict]:
        """The failed-sign-in counters of those of ``keys`` that have one (no lock)."""
        t = S.login_attempts
        wanted = sorted({str(k) for k in keys})
        if not wanted:
            return {}
        rows = self._dicts(sa.select(t).where(t.c.key.in_(wanted)))
        return {r.pop("key"): r for r in rows}

    def put_login_attempts(self, counters: Mapping[str, Mapping[str, Any]]) -> None:
        """Write counters as returned by :meth:`lock_login_attempts` (after changing them)."""
        t = S.login_attempts
        fields = ("failures", "window_start", "lockouts", "locked_until")
        for key, row in sorted(counters.items()):
            self._x(sa.update(t).where(t.c.key == key).values({f: row[f] for f in fields}))

    def forget_login_attempts(self, keys: Iterable[str]) -> None:
        """Drop the counters of ``keys`` (after a successful sign-in)."""
        wanted = sorted({str(k) for k in keys})
        if wanted:
            self._x(sa.delete(S.login_attempts).where(S.login_attempts.c.key.in_(wanted)))

    def prune_login_attempts(self, before: datetime) -> int:
        """Drop counters with no failure since ``before`` and no lock lasting past it."""
        t = S.login_attempts
        stale = sa.and_(
            t.c.window_start < before, sa.or_(t.c.locked_until.is_(None), t.c.locked_until < before)
        )
        return self._x(sa.delete(t).where(stale)).rowcount

    def get_user(self, name: str, *, with_hash: bool = False) -> dict[str, Any]:
        """One account by name (with ``password_hash`` only when asked); raises NotFound."""
        rows = self._dicts(sa.select(S.users).where(S.users.c.name == name))
        if not rows:
            raise NotFound(N_("unknown user %(name)r"), name=name)
        row = rows[0]
        return row if with_hash else {k: row[k] for k in self._USER_PUBLIC}

    def get_user_by_id(self, user_id: int) -> dict[str, Any]:
        """One account by id, without its hash; raises NotFound."""
        cols = [S.users.c[k] for k in self._USER_PUBLIC]
        rows = self._dicts(sa.select(*cols).where(S.users.c.id == user_id))
        if not rows:
            raise NotFound(N_("unknown user id %(user_id)r"), user_id=user_id)
        return rows[0]

    def list_users(self) -> list[dict[str, Any]]:
        """Every account, by name, without hashes."""
        cols = [S.users.c[k] for k in self._USER_PUBLIC]
        return self._dicts(sa.select(*cols).order_by(S.users.c.name))

    def create_api_token(
        self, name: str, token_hash: str, role: str, unit_id: str | None = None
    ) -> dict[str, Any]:
        """Record an API token by the hash of its secret; returns the row without the hash."""
        name, role, unit_id = self._account_values("token", name, role, unit_id)
        t = S.api_tokens
        if self._dicts(sa.select(t.c.id).where(t.c.name == name)):
            raise StoreError(N_("token %(name)r exists already"), name=name)
        pk = self._x(
            sa.insert(t)
            .values(
                name=name,
                token_hash=token_hash,
                role=role,
                unit_id=unit_id,
                active=True,
                created_at=_now(),
            )
            .returning(t.c.id)
        ).scalar_one()
        return self._dicts(sa.select(*[t.c[k] for k in self._USER_PUBLIC]).where(t.c.id == pk))[0]

    def api_token_by_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The active token with this hash (without the hash), or None."""
        t = S.api_tokens
        rows = self._dicts(
            sa.select(*[t.c[k] for k in self._USER_PUBLIC]).where(
                t.c.token_hash == token_hash, t.c.active.is_(True)
            )
        )
        return rows[0] if rows else None

    def list_api_tokens(self) -> list[dict[str, Any]]:
        """Every API token, by name, without hashes."""
        t = S.api_tokens
        return self._dicts(sa.select(*[t.c[k] for k in self._USER_PUBLIC]).order_by(t.c.name))

    # ------------------------------------------------------------------ audit log

    def add_audit(
        self,
        actor: str | None,
        action: str,
        target: str | None,
        before: Any = None,
        after: Any = None,
    ) -> int:
        """Append one entry to the audit log (``before``/``after`` as JSON); returns its id."""
        action = V.convert(action, V.to_text, "audit", "action")
        if not action:
            raise StoreError(N_("audit: an action is required"))
        return self._x(
            sa.insert(S.audit_log)
            .values(
                at=_now(),
                actor=V.convert(actor, V.to_text, "audit", "actor"),
                action=action,
                target=V.convert(target, V.to_text, "audit", "target"),
                before=None if before is None else _json(before),
                after=None if after is None else _json(after),
            )
            .returning(S.audit_log.c.id)
        ).scalar_one()

    def audit_entries(
        self,
        limit: int = 100,
        offset: int = 0,
        action: str | None = None,
        target: str | None = None,
    ) -> list[dict[str, Any]]:
        """Audit entries, newest first (``before``/``after`` parsed from JSON)."""
        a = S.audit_log
        stmt = sa.select(a).order_by(a.c.id.desc()).limit(max(0, limit)).offset(max(0, offset))
        if action:
            stmt = stmt.where(a.c.action == action)
        if target is not None:
            stmt = stmt.where(a.c.target == target)
        rows = self._dicts(stmt)
        for row in rows:
            for key in ("before", "after"):
                if row[key] is not None:
                    row[key] = json.loads(row[key])
        return rows

    def count_audit(self) -> int:
        """How many entries the audit log holds."""
        return self._x(sa.select(sa.func.count()).select_from(S.audit_log)).scalar_one()

    def problem_frame(
        self, filters: Mapping[str, Any] | None = None, columns: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """The problems matching ``filters`` (as in :meth:`problems`) as a DataFrame of
        ``columns`` (default: every column), sorted by id.  Timestamps are UTC
        ``datetime64`` (NaT when empty), text and ids are objects (None when empty).

        One query read without per-row processing, so 100,000 rows load in well under a
        second: this feeds the ledger."""
        p = S.problems
        names = list(dict.fromkeys(columns or _names(p)))
        unknown = [n for n in names if n not in p.c]
        if unknown:
            raise StoreError(N_("problem_frame: unknown column %(value)r"), value=unknown[0])
        if "id" not in names:
            names.insert(0, "id")
        stmt = sa.select(*(p.c[n] for n in names)).where(*self._problem_where(filters))
        rows = self._raw_rows(stmt.order_by(p.c.id))
        columns_ = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        out = {}
        for name, values in zip(names, columns_, strict=True):
            kind = p.c[name].type
            if isinstance(kind, S.UTCDateTime):
                series = pd.Series(values, dtype=object)
                out[name] = (
                    pd.to_datetime(series, utc=True, format="ISO8601")
                    if len(series)
                    else pd.Series([], dtype="datetime64[ns, UTC]")
                )
            elif isinstance(kind, sa.Double):
                out[name] = pd.Series(values, dtype=object).astype(float)
            else:
                out[name] = pd.Series(values, dtype=object)
        frame = pd.DataFrame(out)
        frame["id"] = frame["id"].astype("int64")
        return frame

    def rectified_times(self, filters: Mapping[str, Any] | None = None) -> dict[int, datetime]:
        """problem id → when its latest "status" event moved it to ``rectified``, for the
        problems matching ``filters`` (as in :meth:`problems`) that have such an event.

        One query: the status events of the filtered problems, in event order."""
        p, e = S.problems, S.problem_events
        stmt = (
            sa.select(e.c.problem_pk, e.c.at, e.c.detail)
            .select_from(e.join(p, p.c.id == e.c.problem_pk))
            .where(e.c.kind == "status", *self._problem_where(filters))
            .order_by(e.c.id)
        )
        out: dict[int, datetime] = {}
        for pk, at, detail in self._x(stmt):
            try:
                after = json.loads(detail).get("after") if detail else None
            except (ValueError, AttributeError):
                continue
            if after == "rectified":
                out[pk] = at
        return out

    # ------------------------------------------------------------------ read models

    def problem_reports(
        self, statuses: Iterable[str], *, ids: Iterable[int] | None = None
    ) -> list[tuple[int, datetime, str | None]]:
        """``(id, reported_at, category)`` of every problem whose status is one of
        ``statuses`` (only those among ``ids`` when given), in no particular order: what the
        deadlines of the open problems are made of (the moments at which "overdue" flags
        change with the clock alone)."""
        p = S.problems
        wanted = sorted({str(s) for s in statuses})
        if not wanted:
            return []
        stmt = sa.select(p.c.id, p.c.reported_at, p.c.category).where(p.c.status.in_(wanted))
        if ids is None:
            return [(r[0], r[1], r[2]) for r in self._x(stmt)]
        keys = sorted({V.convert(i, V.to_int, "problem", "id") for i in ids} - {None})
        out: list[tuple[int, datetime, str | None]] = []
        for chunk in _chunks(keys, _CHUNK):
            out += [(r[0], r[1], r[2]) for r in self._x(stmt.where(p.c.id.in_(chunk)))]
        return out

    def problem_points(
        self,
        filters: Mapping[str, Any] | None = None,
        extra: Iterable[str] = (),
        *,
        ids: Iterable[int] | None = None,
    ) -> dict[str, np.ndarray]:
        """The problems matching ``filters`` (as in :meth:`problems`) as columns, sorted by id.

        Returns a dict of NumPy arrays of one length: ``id`` (int64), ``lon`` and ``lat``
        (float64, NaN when missing), ``status`` (object: str) and ``deduction`` (float64), plus
        one object array per name in ``extra`` (any of :data:`POINT_EXTRA_COLUMNS`; None where
        empty) or, for :data:`POINT_TIME_COLUMNS`, a float64 array of POSIX seconds (NaN where
        empty).  Only these columns are read, so 100,000 problems load in one quick query:
        this feeds map clustering and summaries.  ``ids`` restricts the answer to those
        problems (e.g. the ones :meth:`problem_changes` names).

        >>> from geoapp.store import open_store
        >>> with open_store("sqlite://", upgrade=True) as store:
        ...     with store.transaction() as tx:
        ...         tx.add_problems([{"problem_id": "P1", "lon": 114.9, "lat": 28.2}])
        ...         pts = tx.problem_points(extra=["round"])
        [1]
        >>> sorted(pts), pts["id"].tolist(), pts["round"].tolist()
        (['deduction', 'id', 'lat', 'lon', 'round', 'status'], [1], [None])
        """
        extra = list(dict.fromkeys(extra))
        known = (*POINT_EXTRA_COLUMNS, *POINT_TIME_COLUMNS)
        unknown = [c for c in extra if c not in known]
        if unknown:
            raise StoreError(
                N_("problem_points: unknown column %(column)r (known: %(known)s)"),
                column=unknown[0],
                known=", ".join(known),
            )
        p = S.problems
        names = ["id", "lon", "lat", "status", "deduction", *extra]
        where = self._problem_where(filters)
        if ids is None:
            rows = self._raw_rows(sa.select(*(p.c[n] for n in names)).where(*where))
        else:
            keys = sorted({V.convert(i, V.to_int, "problem", "id") for i in ids} - {None})
            rows = []
            for chunk in _chunks(keys, _CHUNK):
                stmt = sa.select(*(p.c[n] for n in names)).where(p.c.id.in_(chunk), *where)
                rows += self._raw_rows(stmt)
        rows.sort(key=lambda r: r[0])
        n = len(rows)
        columns = list(zip(*rows, strict=True)) if n else [()] * len(names)
        out: dict[str, np.ndarray] = {
            "id": np.fromiter(columns[0], dtype=np.int64, count=n),
            "lon": np.array(columns[1], dtype=np.float64),
            "lat": np.array(columns[2], dtype=np.float64),
            "deduction": np.array(columns[4], dtype=np.float64),
        }
        for i, name in enumerate(names):
            if name in POINT_TIME_COLUMNS:
                out[name] = _posix_seconds(columns[i])
            elif name in ("status", *extra):
                column = np.empty(n, dtype=object)
                column[:] = columns[i]
                out[name] = column
        return out

    def _raw_rows(self, stmt: Any) -> list[Any]:
        """The rows of a select as the driver's tuples, without SQLAlchemy's per-row
        processing (only for columns that need none: numbers and text)."""
        result = self._x(stmt)
        try:
            return list(result.cursor.fetchall())
        except sa_exc.DBAPIError as exc:  # pragma: no cover - the driver fails mid-fetch
            raise database_error(exc, self._store.url) from exc
        finally:
            result.close()

    def problem_changes(self, since: str, limit: int = 10_000) -> list[int] | None:
        """The ids (sorted) of the problems added or changed since ``since``, an earlier
        ``data_version()["problems"]`` token; an empty list if none.

        None when that cannot be told cheaply: problems were deleted since, more than
        ``limit`` changed, or ``since`` is not such a token.  Callers then reload everything.
        Cheap: two range scans on primary keys.
        """
        try:
            count, max_id, max_event = (int(v) for v in since.split(":"))
        except (AttributeError, ValueError):
            return None
        p, e = S.problems, S.problem_events
        added, now = self._x(
            sa.select(
                sa.select(sa.func.count()).where(p.c.id > max_id).scalar_subquery(),
                sa.select(sa.func.count()).select_from(p).scalar_subquery(),
            )
        ).one()
        if now != count + added:
            return None
        changed = sa.union(
            sa.select(e.c.problem_pk.label("id")).where(e.c.id > max_event),
            sa.select(p.c.id).where(p.c.id > max_id),
        ).subquery()
        ids = list(self._x(sa.select(changed.c.id).limit(limit + 1)).scalars())
        if len(ids) > limit:
            return None
        return sorted(ids)

    def distinct_problem_values(
        self, field: str, filters: Mapping[str, Any] | None = None
    ) -> list[Any]:
        """The distinct non-empty values of one problem field (``round``, ``status``, any of
        :data:`POINT_EXTRA_COLUMNS`) among the problems matching ``filters``, sorted."""
        if field != "status" and field not in POINT_EXTRA_COLUMNS:
            raise StoreError(
                N_("distinct_problem_values: unknown field %(field)r (known: status, %(names)s)"),
                field=field,
                names=", ".join(POINT_EXTRA_COLUMNS),
            )
        column = S.problems.c[field]
        stmt = (
            sa.select(column)
            .distinct()
            .where(column.is_not(None), *self._problem_where(filters))
            .order_by(column)
        )
        return list(self._x(stmt).scalars())

    def data_version(self) -> dict[str, str]:
        """Cheap tokens that change when the data does, for caches and HTTP ETags.

        ``problems`` changes when a problem is added, removed or changed (its count, its
        highest id and the highest event id: every write of a problem records an event);
        ``generations`` when a generation is created, deleted, edited or published;
        ``reference`` when units, districts, categories or rules change (a hash of those
        small tables).  Each token is an opaque string; compare for equality only.
        """
        p, e, g = S.problems, S.problem_events, S.generations
        row = self._x(
            sa.select(
                sa.select(sa.func.count()).select_from(p).scalar_subquery(),
                sa.select(sa.func.max(p.c.id)).scalar_subquery(),
                sa.select(sa.func.max(e.c.id)).scalar_subquery(),
                sa.select(sa.func.count()).select_from(g).scalar_subquery(),
                sa.select(sa.func.max(g.c.id)).scalar_subquery(),
                sa.select(sa.func.sum(g.c.version)).scalar_subquery(),
            )
        ).one()
        digest = hashlib.sha256()
        for table in (S.units, S.districts, S.categories, S.rules):
            key = table.primary_key.columns.values()[0]
            for r in self._x(sa.select(table).order_by(key)):
                digest.update(repr(tuple(r)).encode())
            digest.update(b"|")
        return {
            "problems": f"{row[0]}:{row[1] or 0}:{row[2] or 0}",
            "generations": f"{row[3]}:{row[4] or 0}:{row[5] or 0}",
            "reference": digest.hexdigest()[:16],
        }


#: Names of the Transaction methods the Store also offers directly.
OPERATIONS = tuple(
    name
    for klass in (Transaction, *Transaction.__bases__)
    for name, value in vars(klass).items()
    if callable(value) and not name.startswith("_")
)


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
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        return cfg

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
            with conn.begin():
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
        finally:
            conn.close()

    def head_revision(self) -> str:
        """The newest schema revision this code knows."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

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


def _delegate(name: str) -> Any:
    method = getattr(Transaction, name)

    @functools.wraps(method)
    def call(self: Store, *args: Any, **kwargs: Any) -> Any:
        with self.transaction() as tx:
            return getattr(tx, name)(*args, **kwargs)

    return call


for _name in OPERATIONS:
    setattr(Store, _name, _delegate(_name))


# ---------------------------------------------------------------------- helpers


def _point(lon: Any, lat: Any) -> shapely.Point:
    x = V.convert(lon, V.to_float, "point", "lon")
    y = V.convert(lat, V.to_float, "point", "lat")
    if x is None or y is None or not (np.isfinite(x) and np.isfinite(y)):
        raise StoreError(
            N_("a point needs finite lon and lat, got (%(lon)r, %(lat)r)"), lon=lon, lat=lat
        )
    return shapely.Point(x, y)


def _area_frame(rows: Sequence[Sequence[Any]], wkbs: Sequence[bytes]) -> gpd.GeoDataFrame:
    data = {
        col: pd.Series([r[i] for r in rows], dtype=object) for i, col in enumerate(AREA_COLUMNS)
    }
    geometry = gpd.GeoSeries(
        shapely.from_wkb(list(wkbs)) if wkbs else np.array([], dtype=object), crs="EPSG:4326"
    )
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


def _area_rows(areas: Any) -> list[dict[str, Any]]:
    """Validate and convert area input (GeoDataFrame or dict rows) to area_versions rows."""
    if isinstance(areas, gpd.GeoDataFrame):
        frame = areas
        if "area_id" not in frame.columns and frame.index.name == "area_id":
            frame = frame.reset_index()
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs("EPSG:4326")
        geometry_name = frame.geometry.name
        missing = [c for c in ("area_id", "name") if c not in frame.columns]
        if missing:
            raise StoreError(N_("areas: missing column(s) %(names)s"), names=", ".join(missing))
        records = []
        columns = {c: frame[c].tolist() for c in AREA_COLUMNS if c in frame.columns}
        geoms = frame[geometry_name].tolist()
        for i in range(len(frame)):
            rec = {c: values[i] for c, values in columns.items()}
            rec["geometry"] = geoms[i]
            records.append(rec)
    elif isinstance(areas, (Mapping, str | bytes)):
        raise StoreError(
            N_("areas: expected a GeoDataFrame or a list of rows, got %(name)s"),
            name=type(areas).__name__,
        )
    else:
        records = list(areas)
    convs = _CONV["area_versions"]
    allowed = set(AREA_COLUMNS)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    geoms = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise StoreError(
                N_("area row %(i)s: expected a mapping, got %(name)s"), i=i, name=type(rec).__name__
            )
        label = rec.get("area_id")
        where = (
            f"area {label!r}" if label is not None and not V.is_missing(label) else f"area row {i}"
        )
        fields = {k: rec[k] for k in AREA_COLUMNS if k in rec}
        row = V.coerce_row(
            fields, convs, where=where, allowed=allowed, required=("area_id", "name")
        )
        if row["area_id"] in seen:
            raise StoreError(
                N_("area %(area_id)r appears more than once in the input"), area_id=row["area_id"]
            )
        seen.add(row["area_id"])
        geom = rec.get("geometry")
        if geom is None or not isinstance(geom, shapely.Geometry):
            raise StoreError(
                N_("%(where)s: geometry must be a shapely geometry, got %(geom)r"),
                where=where,
                geom=geom,
            )
        if geom.is_empty:
            raise StoreError(N_("%(where)s: geometry is empty"), where=where)
        geoms.append(geom)
        out.append({c: row.get(c) for c in AREA_COLUMNS})
    if out:
        wkbs = shapely.to_wkb(np.array(geoms, dtype=object), output_dimension=2)
        for row, wkb in zip(out, wkbs, strict=True):
            row["geom_wkb"] = bytes(wkb)
    return out
