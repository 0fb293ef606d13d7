"""Problems by the ten thousand: :meth:`ProblemBulk.add_problem_columns` stores a batch of
problems given column by column (as an import reads them), with the same rows and events
:meth:`~geoapp.store.problems.Problems.add_problems` would write for them, in a few
statements: one bulk insert of the problems (``executemany`` on SQLite, ``COPY`` on
PostgreSQL), one query for the range of their new ids, one bulk insert of their events.
Inside :meth:`ProblemBulk.loading_problems` (an import) a load into a table no larger than
its first batch builds the tables' indexes once at the end instead of row by row (SQLite).

A mixin of :class:`geoapp.store.Transaction`.
"""

import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError, StoreUnavailable
from geoapp.store.plumbing import TransactionBase, _json, _now, _short
from geoapp.store.problems import (
    ASSIGNMENT_FIELDS,
    CLOSED_STATUSES,
    DEFAULT_STATUS,
    _plain_texts,
)

#: The text columns :meth:`ProblemBulk.add_problem_columns` takes (None allowed).
_TEXT = (
    "problem_id",
    "round",
    "category",
    "description",
    "status",
    "reporter",
    "source_crs",
    "district_id",
    "area_id",
    "responsible_unit_id",
    "lead_unit_id",
    "rule_id",
)
_FLOAT = ("deduction", "lon", "lat", "source_x", "source_y")
#: characters a JSON string must escape
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f]')


def utc_texts(seconds: np.ndarray) -> np.ndarray:
    """Seconds since 1970 UTC as the store's fixed-width UTC text
    (``2024-04-01T00:30:00.000000+00:00``, what :class:`~geoapp.store.schema.UTCDateTime`
    writes on SQLite; PostgreSQL reads it as a ``timestamptz``)."""
    stamps = np.datetime_as_string(np.asarray(seconds, dtype="datetime64[s]"), unit="s")
    return np.char.add(stamps.astype(object).astype(str), ".000000+00:00").astype(object)


def _rectified_texts(rectified_s: np.ndarray) -> np.ndarray:
    """The stored rectification times (None where there is none: ``rectified_s`` -1)."""
    texts = np.full(len(rectified_s), None, dtype=object)
    given = np.flatnonzero(rectified_s >= 0)
    texts[given] = utc_texts(rectified_s[given])
    return texts


def _utc_text(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


class ProblemBulk(TransactionBase):
    """Adding a batch of problems column by column."""

    #: whether :meth:`add_problem_columns` inserts a batch under a savepoint (a backend's
    #: choice: :mod:`geoapp.store.backends`)
    _BULK_SAVEPOINT = True
    #: inside :meth:`loading_problems`: the indexes to build again at its end (None:
    #: nothing decided yet); outside: no attribute, or False
    _problem_load: list[str] | None | bool = False

    @contextmanager
    def loading_problems(self) -> Iterator[None]:
        """A bulk load of problems: the :meth:`add_problem_columns` calls inside the block
        may leave the indexes of problems and their events out and build them once at its
        end (SQLite, when the first batch is at least as large as the table: see
        ``_drop_indexes`` in :mod:`geoapp.store.backends`).  When the block raises, nothing
        is built: the transaction's rollback brings the old indexes back."""
        self._problem_load = None
        try:
            yield
        except BaseException:
            self._problem_load = False
            raise
        dropped, self._problem_load = self._problem_load, False
        if dropped:
            count = self._x(sa.select(sa.func.count()).select_from(S.problems)).scalar_one()
            self._create_indexes(dropped, int(count))

    def add_problem_columns(
        self,
        columns: Mapping[str, Sequence[Any]],
        *,
        actor: str,
        now: datetime | None = None,
    ) -> list[int]:
        """Insert a batch of problems given as columns of equal length; returns their new
        ids in input order.

        Columns: the text fields of :data:`_TEXT` (problem_id None: one is generated),
        ``deduction``, ``lon``, ``lat``, ``source_x``, ``source_y`` (floats),
        ``generation_id`` (one int or None for all), ``reported_s`` and ``rectified_s``
        (seconds since 1970 UTC; ``rectified_s`` -1 where there is none).  The values must
        be checked already (as an import's are); the store still refuses a problem_id
        stored or repeated, unknown references, text it cannot store and a rectification
        time on an open problem or before the report, naming the problem.  Events as
        :meth:`add_problems` records them: "created", "assigned" when area_id is set, and
        the imported "status" event at the rectification time, by ``actor``; ``now``
        (default: the clock) is every row's created_at, updated_at and event time.
        """
        n = len(columns["lon"])
        if n == 0:
            return []
        now = now or _now()
        stamp = _utc_text(now)
        text = {c: np.array(columns.get(c, [None] * n), dtype=object) for c in _TEXT}
        for values in text.values():
            values[pd.isna(values)] = None  # NaN, pd.NA: missing
        missing = np.flatnonzero(pd.isna(text["problem_id"]))
        for i in missing:
            text["problem_id"][i] = f"P-{uuid.uuid4().hex[:16]}"
        status = text["status"]
        status[pd.isna(status)] = DEFAULT_STATUS
        ids = text["problem_id"]
        dup = pd.Series(ids).duplicated().to_numpy()
        if dup.any():
            raise StoreError(
                N_("duplicate problem_id %(problem_id)r in the input"),
                problem_id=ids[np.flatnonzero(dup)[0]],
            )
        for field, values in text.items():
            if not _plain_texts(values[pd.notna(values)].tolist()):
                for k, value in enumerate(values):  # the first bad one, named as one by one
                    V.convert(value, V.to_text, f"problem {ids[k]!r}", field)
        reported_s = np.asarray(columns["reported_s"], dtype=np.int64)
        rectified_s = np.asarray(columns.get("rectified_s", np.full(n, -1)), dtype=np.int64)
        self._check_bulk_rectified(ids, status, reported_s, rectified_s)
        floats = {c: np.array(columns.get(c, np.full(n, np.nan)), dtype=float) for c in _FLOAT}
        deduction = floats["deduction"]
        deduction[np.isnan(deduction)] = 0.0
        # as an import's rows always were: the generation they were assigned under, also
        # when no area covers them
        gen_col = np.full(n, columns.get("generation_id"), dtype=object)
        assigned = pd.notna(text["area_id"])
        refs = {"problem_id": ids, "generation_id": gen_col} | {
            f: text[f] for f in ASSIGNMENT_FIELDS if f != "generation_id"
        }
        # the first row of each assignment met (missing values are None already): the
        # references are checked once per assignment, a missing one named by its first row
        first = np.flatnonzero(~pd.DataFrame({f: refs[f] for f in ASSIGNMENT_FIELDS}).duplicated())
        chosen = [values[first].tolist() for values in refs.values()]
        self._check_problem_refs(
            [dict(zip(refs, row, strict=True)) for row in zip(*chosen, strict=True)]
        )
        p = S.problems
        if self._problem_load is None:  # the first batch of a bulk load
            self._problem_load = self._drop_indexes((p, S.problem_events), n)
        before = self._x(sa.select(sa.func.coalesce(sa.func.max(p.c.id), 0))).scalar_one()
        out = {
            **{c: text[c].tolist() for c in _TEXT},
            **{c: floats[c].tolist() for c in _FLOAT},
            "reported_at": utc_texts(reported_s).tolist(),
            # what the trigger on problem_events would set once the status event is in
            # (migration 0011: it then leaves the row alone, not writing it a second time)
            "rectified_at": _rectified_texts(rectified_s).tolist(),
            "generation_id": gen_col.tolist(),
            "created_at": [stamp] * n,
            "updated_at": [stamp] * n,
        }
        names = list(out)
        self._insert_new_problems(names, [out[c] for c in names])
        pks = self._new_ids(before, out["problem_id"])
        self._add_import_events(pks, out, assigned, rectified_s, actor, stamp)
        return pks

    def _insert_new_problems(self, names: list[str], values: list[list]) -> None:
        """Insert the rows, all or none: the unique problem_id refuses one already stored,
        named (the transaction goes on).  Under a savepoint where the backend keeps one
        (``_BULK_SAVEPOINT``, PostgreSQL: ``COPY`` is one statement), the stored ids looked
        up only once it has refused (an import has set its stored ids aside already: no
        second look-up of every id of every batch).  Without one (SQLite) the stored ids
        are looked up first (an id repeated in the batch was refused before any insert)."""
        ids = values[names.index("problem_id")]
        if not self._BULK_SAVEPOINT:
            self._refuse_stored(ids)
            self._insert_columns(S.problems, names, values)
            return
        try:
            with self._conn.begin_nested():
                self._insert_columns(S.problems, names, values)
        except StoreError as refused:
            if isinstance(refused, StoreUnavailable):
                raise
            self._refuse_stored(ids)
            raise

    def _refuse_stored(self, ids: list[str]) -> None:
        """Raise a StoreError naming the ids of ``ids`` already stored, if any."""
        stored = self._existing(S.problems.c.problem_id, ids)
        if stored:
            raise StoreError(
                N_("problem_id already stored: %(short)s"), short=_short(sorted(stored))
            ) from None

    def _new_ids(self, before: int, problem_ids: list[str]) -> list[int]:
        """The ids of the problems just inserted (``problem_ids``, in insert order): the
        rows past the largest id ``before``.  The ids a table gives one insert's rows rise
        in the rows' order, so when exactly that many rows fill the range from the
        smallest new id to the largest, row k has the smallest + k (no id list read back);
        else (another writer's rows in between, on PostgreSQL) each is matched by its
        problem_id."""
        p = S.problems
        low, high, count = self._x(
            sa.select(sa.func.min(p.c.id), sa.func.max(p.c.id), sa.func.count()).where(
                p.c.id > before
            )
        ).one()
        n = len(problem_ids)
        if count == n and low is not None and high - low + 1 == n:
            return list(range(low, high + 1))
        new = self._x(sa.select(p.c.problem_id, p.c.id).where(p.c.id > before))
        id_of = dict(new.all())
        return [id_of[k] for k in problem_ids]

    def _check_bulk_rectified(self, ids, status, reported_s, rectified_s) -> None:
        given = rectified_s >= 0
        open_ = given & ~np.isin(status, list(CLOSED_STATUSES))
        if open_.any():
            i = np.flatnonzero(open_)[0]
            raise StoreError(
                N_(
                    "%(where)s: rectified_at is given but the status is %(status)r (only a rectified or verified problem has a rectification time)"
                ),
                where=f"problem {ids[i]!r}",
                status=status[i],
            )
        early = given & (rectified_s < reported_s)
        if early.any():
            i = np.flatnonzero(early)[0]
            raise StoreError(
                N_(
                    "%(where)s: rectified_at %(rectified_at)s is before reported_at %(reported_at)s"
                ),
                where=f"problem {ids[i]!r}",
                rectified_at=datetime.fromtimestamp(int(rectified_s[i]), UTC).isoformat(),
                reported_at=datetime.fromtimestamp(int(reported_s[i]), UTC).isoformat(),
            )

    def _add_import_events(self, pks, out, assigned, rectified_s, actor, stamp) -> None:
        """The events of newly added problems, each problem's in the order
        :meth:`add_problems` writes them (created, assigned, status), with the same
        details (JSON with sorted keys)."""
        n = len(pks)
        ids = np.asarray(out["problem_id"], dtype=object)
        if _NEEDS_ESCAPE.search("".join(ids)):
            created = np.array([_json({"problem_id": i}) for i in ids], dtype=object)
        else:  # the common case: the id is its own JSON string body
            created = '{"problem_id": "' + ids + '"}'
        has = np.flatnonzero(assigned)
        details: dict[tuple, str] = {}  # one JSON text per assignment met
        assigned_detail = np.empty(len(has), dtype=object)
        chosen = [np.asarray(out[f], dtype=object)[has] for f in ASSIGNMENT_FIELDS]
        for k, key in enumerate(zip(*chosen, strict=True)):
            detail = details.get(key)
            if detail is None:
                detail = details[key] = _json(dict(zip(ASSIGNMENT_FIELDS, key, strict=True)))
            assigned_detail[k] = detail
        given = np.flatnonzero(rectified_s >= 0)
        row = np.concatenate([np.arange(n), has, given])
        order = np.concatenate([np.zeros(n), np.ones(len(has)), np.full(len(given), 2)])
        at = np.concatenate(
            [np.full(n + len(has), stamp, dtype=object), utc_texts(rectified_s[given])]
        )
        kind = np.repeat(
            np.array(["created", "assigned", "status"], dtype=object), [n, len(has), len(given)]
        )
        event_detail = np.concatenate(
            [
                created,
                assigned_detail,
                np.full(
                    len(given),
                    _json({"before": None, "after": "rectified", "imported": True}),
                    dtype=object,
                ),
            ]
        )
        sort = np.lexsort((order, row))
        self._insert_columns(
            S.problem_events,
            ["problem_pk", "at", "actor", "kind", "detail"],
            [
                np.asarray(pks, dtype=np.int64)[row[sort]].tolist(),
                at[sort].tolist(),
                [actor] * len(sort),
                kind[sort].tolist(),
                event_detail[sort].tolist(),
            ],
        )
