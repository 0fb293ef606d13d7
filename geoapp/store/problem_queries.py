"""Reading many problems at once: the problem filters (as SQL) and the read models.

:data:`PROBLEM_FILTERS` and ``_problem_where`` turn a filter mapping into SQL conditions;
on them stand the lists, counts, totals, the ledger's DataFrame, the map's NumPy columns and
the change tokens that let caches reload only what changed.  A mixin of
:class:`geoapp.store.Transaction`.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError, database_error
from geoapp.store.ogc_queries import FilterQueries
from geoapp.store.plumbing import _CHUNK, _CONV, TransactionBase, _chunks, _names

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
        "cql",
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
#: Time columns :meth:`Transaction.problem_points` can add, as float64 POSIX seconds.
POINT_TIME_COLUMNS = ("reported_at",)
#: Columns :meth:`Transaction.problem_points` can add to id, lon, lat, status and deduction.
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


def _posix_seconds(values: Sequence[Any]) -> np.ndarray:
    """Stored times as the driver gives them (datetimes, or ISO text in SQLite) as float64
    POSIX seconds, NaN where empty."""
    if not len(values):
        return np.array([], dtype=np.float64)
    stamps = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return ((stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).to_numpy(np.float64)


def frame_columns(columns: Iterable[str] | None) -> list[str]:
    """The problem columns asked for (default: all), ``id`` first if missing; StoreError
    naming an unknown one."""
    p = S.problems
    names = list(dict.fromkeys(columns or _names(p)))
    unknown = [n for n in names if n not in p.c]
    if unknown:
        raise StoreError(N_("problem_frame: unknown column %(value)r"), value=unknown[0])
    if "id" not in names:
        names.insert(0, "id")
    return names


def frame_from_rows(names: list[str], kinds: Mapping[str, Any], rows: list[Any]) -> pd.DataFrame:
    """Driver rows of ``names`` (SQL types ``kinds``) as a DataFrame: UTC ``datetime64``
    timestamps (NaT when empty), floats, and objects for the rest (None when empty)."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    out = {}
    for name, values in zip(names, columns, strict=True):
        kind = kinds[name]
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


class ProblemQueries(FilterQueries, TransactionBase):
    """Problems by filter, and the read models built on the same filter."""

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
        if filters.get("cql") is not None:
            clauses.append(self._filter_clause(p, filters["cql"]))
        return clauses

    def problems(
        self,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort: Sequence[tuple[str, bool]] = (),
    ) -> list[dict[str, Any]]:
        """Problems matching ``filters``, sorted by id (after ``sort``, a list of ``(column,
        descending)``), as dicts of every column.

        Filters (all optional; None is ignored; a list/tuple/set means "any of"): round,
        category, status, district_id, area_id, responsible_unit_id, lead_unit_id,
        generation_id; date_from (inclusive) and date_to (exclusive) on reported_at, aware
        datetimes or ISO text with offset; bbox=(minx, miny, maxx, maxy) on lon/lat, edges
        included; assigned=True/False (area_id set or not); cql: a filter tree of
        :mod:`geoapp.store.ogc_queries`.
        """
        p = S.problems
        order = [*self._sort_order(p, sort), p.c.id]
        stmt = sa.select(p).where(*self._problem_where(filters)).order_by(*order)
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

    def problem_frame(
        self, filters: Mapping[str, Any] | None = None, columns: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """The problems matching ``filters`` (as in :meth:`problems`) as a DataFrame of
        ``columns`` (default: every column), sorted by id.  Timestamps are UTC
        ``datetime64`` (NaT when empty), text and ids are objects (None when empty).

        One query read without per-row processing, so 100,000 rows load in well under a
        second: this feeds the ledger."""
        p = S.problems
        names = frame_columns(columns)
        stmt = sa.select(*(p.c[n] for n in names)).where(*self._problem_where(filters))
        rows = self._raw_rows(stmt.order_by(p.c.id))
        return frame_from_rows(names, {n: p.c[n].type for n in names}, rows)

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
