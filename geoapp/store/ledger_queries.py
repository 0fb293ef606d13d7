"""The ledger's reads (台账): its figures counted by the database, its problems in batches.

:meth:`LedgerQueries.ledger_counts` is one ``GROUP BY`` over the filtered problems (the
filters of :meth:`~geoapp.store.problem_queries.ProblemQueries.problems`) per responsible
unit, district, category, round and status; :meth:`LedgerQueries.ledger_days` counts new and
closed problems per hour; :meth:`LedgerQueries.iter_problem_frames` reads the problems a
batch at a time for lists and exports.  The rules (what is open, overdue, on time) are those
of :mod:`geoapp.core.ledger`, which adds the rows up; a test checks both against a hand count
and against the per-problem computation.  The few SQL differences (time arithmetic, hour
buckets) live in :mod:`geoapp.store.backends`.  A mixin of :class:`geoapp.store.Transaction`.
"""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError
from geoapp.store.plumbing import TransactionBase
from geoapp.store.problem_queries import frame_columns, frame_from_rows
from geoapp.store.problems import CLOSED_STATUSES

#: The keys of :meth:`LedgerQueries.ledger_counts`' rows, then its counts.
LEDGER_KEYS = ("responsible_unit_id", "district_id", "category", "round", "status")
LEDGER_COUNTS = ("problems", "duplicates", "deduction", "overdue", "rectified", "on_time")
#: Batch size of :meth:`LedgerQueries.iter_problem_frames`.
FRAME_BATCH = 10_000


class LedgerQueries(TransactionBase):
    """The ledger's figures as SQL aggregates, and its problems in batches."""

    if TYPE_CHECKING:  # of ProblemQueries, the other mixin of the same transaction

        def _problem_where(self, filters: Mapping[str, Any] | None) -> list[Any]: ...

        def _raw_rows(self, stmt: Any) -> list[Any]: ...

    def _ledger_elapsed(self, later: Any, earlier: Any) -> Any:  # pragma: no cover
        raise NotImplementedError  # backends.py

    def _ledger_duration(self, microseconds: int) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _ledger_hour(self, column: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _ledger_hour_text(self, hour: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _ledger_plain_plans(self) -> None:  # pragma: no cover
        """Before the ledger's aggregates: whatever the backend needs for them (backends.py)."""
        raise NotImplementedError

    def _ledger_per_hour(
        self, column: Any, where: list, index: str, lower: Any = None, upper: Any = None
    ) -> Any:  # pragma: no cover
        """A statement of (``YYYY-MM-DDTHH``, count) of the problems matching ``where`` and
        ``lower <= column < upper`` (each bound when given: aware datetimes) per UTC hour of
        ``column``, in order (``index``: the covering index led by ``column``)."""
        raise NotImplementedError

    def ledger_counts(
        self,
        filters: Mapping[str, Any] | None,
        deadlines_us: Mapping[str, int],
        now: datetime,
    ) -> list[tuple[Any, ...]]:
        """Counts of the problems matching ``filters`` per :data:`LEDGER_KEYS`, as tuples
        (*keys, *:data:`LEDGER_COUNTS`):

        * problems, duplicates (``duplicate_of`` set), deduction (sum of the points of the
          problems that are not duplicates);
        * overdue: reported more than their category's deadline before ``now`` (whatever
          the status: the caller keeps it for the open ones);
        * rectified: with a recorded rectification time (``rectified_at``, whatever the
          status: the caller keeps it for the closed ones); on_time: of those, rectified at
          most the category's deadline after being reported.

        ``deadlines_us``: category → its deadline in whole microseconds (categories without
        a usable deadline left out: never overdue, never on time or late).
        """
        p = S.problems
        rectified = S.problems_rectified_at
        now = V.convert(now, V.to_datetime, "ledger", "now")
        cutoff = _by_category(
            {c: now - timedelta(microseconds=us) for c, us in deadlines_us.items()},
            lambda v: sa.literal(v, S.UTCDateTime()),
        )
        limit = _by_category(deadlines_us, self._ledger_duration)
        keys = [p.c[k] for k in LEDGER_KEYS]
        zero = sa.literal(0)
        counts = [
            sa.func.count(),
            sa.func.count(p.c.duplicate_of),
            sa.func.coalesce(
                sa.func.sum(sa.case((p.c.duplicate_of.is_(None), p.c.deduction), else_=0.0)), 0.0
            ),
            zero if cutoff is None else sa.func.count(sa.case((p.c.reported_at < cutoff, 1))),
            sa.func.count(rectified),
            zero
            if limit is None
            else sa.func.count(
                sa.case(
                    (
                        sa.and_(
                            rectified.is_not(None),
                            self._ledger_elapsed(rectified, p.c.reported_at) <= limit,
                        ),
                        1,
                    )
                )
            ),
        ]
        stmt = (
            sa.select(*keys, *counts)
            .select_from(p)
            .where(*self._problem_where(filters))
            .group_by(*keys)
        )
        stmt = read_index(stmt, "ix_problems_ledger")
        self._ledger_plain_plans()
        return [tuple(r) for r in self._x(stmt)]

    def ledger_days(self, filters: Mapping[str, Any] | None) -> dict[str, list[tuple[str, int]]]:
        """New problems per UTC hour reported (``"new"``) and closed ones (status rectified
        or verified with a rectification time) per UTC hour rectified (``"closed"``), among
        the problems matching ``filters``: lists of (``YYYY-MM-DDTHH``, count)."""
        p = S.problems
        filters = dict(filters or {})
        where = self._problem_where(filters)
        # the new ones walk reported_at: its date range is given as the walk's own bounds
        # (two lower bounds on the walked column made SQLite seek from the first one)
        undated = self._problem_where(
            {k: v for k, v in filters.items() if k not in ("date_from", "date_to")}
        )
        lower, upper = (
            None if filters.get(k) is None else V.convert(filters[k], V.to_datetime, "filter", k)
            for k in ("date_from", "date_to")
        )
        closed = [S.problems_rectified_at.is_not(None), p.c.status.in_(sorted(CLOSED_STATUSES))]
        self._ledger_plain_plans()
        out = {}
        walks: tuple[tuple[str, Any, list, tuple[Any, Any], str], ...] = (
            ("new", p.c.reported_at, undated, (lower, upper), "ix_problems_ledger_days"),
            (
                "closed",
                S.problems_rectified_at,
                [*where, *closed],
                (None, None),
                "ix_problems_ledger_closed",
            ),
        )
        for name, column, conditions, bounds, index in walks:
            stmt = self._ledger_per_hour(column, conditions, index, *bounds)
            out[name] = [(str(h), int(n)) for h, n in self._x(stmt)]
        return out

    def problem_labels(self, ids: Iterable[int]) -> dict[int, str]:
        """id → problem_id (the label people know) of the problems among ``ids``."""
        keys = {V.convert(i, V.to_int, "problem", "id") for i in ids} - {None}
        p = S.problems
        return {int(k): label for k, label in self._rows_with_keys(p.c.id, keys, p.c.problem_id)}

    def problem_deductions(self, ids: Iterable[int]) -> dict[int, tuple[str, Any, bool]]:
        """id → (problem_id, deduction, is a duplicate) of the problems among ``ids``, read
        in one pass however many there are (a register's visits list thousands)."""
        keys = {V.convert(i, V.to_int, "problem", "id") for i in ids} - {None}
        p = S.problems
        rows = self._rows_with_keys(p.c.id, keys, p.c.problem_id, p.c.deduction, p.c.duplicate_of)
        return {
            int(k): (code, points, dup is not None) for k, code, points, dup in map(tuple, rows)
        }

    def iter_problem_frames(
        self,
        filters: Mapping[str, Any] | None = None,
        columns: Iterable[str] | None = None,
        batch: int = FRAME_BATCH,
    ) -> Iterator[pd.DataFrame]:
        """The problems matching ``filters`` as DataFrames of at most ``batch`` rows (as
        :meth:`problem_frame`, sorted by id) with ``rectified_at`` (UTC, NaT when none) added:
        the ledger's lists and exports read any number of problems in flat memory."""
        p = S.problems
        names = frame_columns(columns)
        batch = V.convert(batch, V.to_int, "problems", "batch")
        if not batch or batch < 1:
            raise StoreError(N_("batch must be a positive number"))
        where = self._problem_where(filters)
        selected = [*(p.c[n] for n in names), S.problems_rectified_at]
        kinds = {**{n: p.c[n].type for n in names}, "rectified_at": S.UTCDateTime()}
        last = None
        while True:
            stmt = sa.select(*selected).where(*where)
            if last is not None:
                stmt = stmt.where(p.c.id > last)
            rows = self._raw_rows(stmt.order_by(p.c.id).limit(batch))
            if not rows:
                return
            yield frame_from_rows([*names, "rectified_at"], kinds, rows)
            if len(rows) < batch:
                return
            last = rows[-1][0]


def read_index(stmt: Any, index: str) -> Any:
    """On SQLite, read ``index`` (a covering one of migration 0008): without statistics its
    planner takes a one-column index and then looks every row up in the table, three times
    slower.  PostgreSQL plans with its statistics."""
    return stmt.with_hint(S.problems, f"INDEXED BY {index}", dialect_name="sqlite")


def _by_category(values: Mapping[str, Any], literal) -> Any:
    """``CASE category WHEN ... THEN ... END`` over ``values`` (None when empty)."""
    if not values:
        return None
    whens = [(category, literal(v)) for category, v in sorted(values.items())]
    return sa.case(*whens, value=S.problems.c.category)
