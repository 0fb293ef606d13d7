"""Import problems from a file, a batch at a time: read (a CSV or XLSX sheet is streamed),
check the rows column by column (:mod:`geoapp.services.problem_checks`), set aside the rows
already stored and those repeating an id of the file, assign the rest with the current
generation's raster index, then either report what an import would do
(:func:`plan_problem_import`, a :class:`ProblemPlan`, nothing written) or write it
(:func:`import_problem_file`).  Memory stays flat in the file's size: a batch is dropped
once counted (or written); only the bad rows, the ids already stored and 16 bytes per id
(hashes, for repeats) are kept.  Times without an offset are Beijing time
(:func:`parse_time`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from geoapp.core.assignment import Zoning
from geoapp.core.messages import N_
from geoapp.io.errors import BadRow
from geoapp.io.points import PointTable, point_batches
from geoapp.io.tables import BATCH_ROWS
from geoapp.services.audit import audit
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import zoning_for
from geoapp.services.problem_checks import (
    FIRST_YEAR,
    LAST_YEAR,
    category_codes,
    check_batch,
    parse_time,
)

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "ProblemPlan",
    "commit_problem_import",
    "import_problem_file",
    "parse_time",
    "plan_problem_import",
    "problem_rows",
]

#: The fields of a planned row besides the assignment (and ``_where``, its line).
ROW_FIELDS = (
    "problem_id",
    "round",
    "category",
    "description",
    "deduction",
    "reported_at",
    "status",
    "reporter",
    "rectified_at",
    "lon",
    "lat",
    "source_crs",
    "source_x",
    "source_y",
    "_where",
)
_ASSIGNED = ("district_id", "area_id", "responsible_unit_id", "lead_unit_id", "rule_id")


@dataclass
class ProblemPlan:
    """What an import of problems would do (or did: ``imported``).

    ``rows`` holds every new row (a dict of :data:`ROW_FIELDS` and its assignment) when the
    plan was made to keep them (the web preview); counting plans leave it None."""

    source: str
    rows: list[dict] | None
    bad: list[BadRow]
    skipped_existing: list[str] = field(default_factory=list)
    generation: int | None = None
    new: int = 0
    assigned: int = 0
    by_district: Counter = field(default_factory=Counter)
    deduction_total: float = 0.0
    first_problem_ids: list = field(default_factory=list)
    #: problems written by :func:`import_problem_file`; None when nothing was
    imported: int | None = None

    @property
    def unassigned(self) -> int:
        return self.new - self.assigned

    def summary(self) -> dict:
        return {
            "source": self.source,
            "new": self.new,
            "assigned": self.assigned,
            "unassigned_outside_county": self.unassigned,
            "bad_rows": len(self.bad),
            "already_in_store": len(self.skipped_existing),
            "generation": self.generation,
            "by_district": dict(sorted(self.by_district.items())),
            "deduction_total": round(self.deduction_total, 2),
        }


def problem_rows(table: PointTable, categories: list[dict]) -> tuple[list[dict], list[BadRow]]:
    """Validate the attribute columns of a point table; return clean rows and bad ones."""
    clean, bad = check_batch(table, category_codes(categories))
    return clean[list(ROW_FIELDS)].to_dict("records"), bad


class _SeenIds:
    """The problem ids of a file's earlier batches, as two 64-bit hashes each (16 bytes an
    id, where a set of strings takes about 80): an id is taken as seen when both hashes
    match, which two different ids do with a chance of about n² / 2¹²⁹."""

    _KEYS = ("geoapp-seen-id-1", "geoapp-seen-id-2")

    def __init__(self) -> None:
        self.first = np.empty(0, dtype=np.uint64)  # sorted
        self.second = np.empty(0, dtype=np.uint64)  # in the order of ``first``

    def hashes(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return tuple(pd.util.hash_array(ids, hash_key=k, categorize=False) for k in self._KEYS)

    def contains(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(self.first, first, side="left")
        hi = np.searchsorted(self.first, first, side="right")
        found = np.zeros(len(first), dtype=bool)
        for i in np.flatnonzero(hi > lo):
            found[i] = bool((self.second[lo[i] : hi[i]] == second[i]).any())
        return found

    def add(self, first: np.ndarray, second: np.ndarray) -> None:
        both_first = np.concatenate([self.first, first])
        order = np.argsort(both_first, kind="stable")  # two sorted runs: linear
        self.first = both_first[order]
        self.second = np.concatenate([self.second, second])[order]


def _fresh(clean: pd.DataFrame, seen: _SeenIds, existing) -> tuple[np.ndarray, list, list]:
    """Which clean rows are new: (mask, ids already stored, bad rows repeating an id of the
    file).  As the row-by-row check: an id of an earlier row of the file is a repeat; else
    an id already stored is skipped; else a repeat within the batch is bad from its second
    row on."""
    ids = clean["problem_id"].to_numpy(dtype=object)
    has = np.flatnonzero(pd.notna(ids))
    keep = np.ones(len(ids), dtype=bool)
    if not len(has):
        return keep, [], []
    given = ids[has]
    first, second = seen.hashes(given)
    repeat = seen.contains(first, second)
    stored = existing(given[~repeat].tolist())
    in_store = np.zeros(len(has), dtype=bool)
    in_store[~repeat] = [i in stored for i in given[~repeat]]
    candidate = ~repeat & ~in_store
    repeat[candidate] = pd.Series(given[candidate]).duplicated().to_numpy()
    keep[has[repeat | in_store]] = False
    where = clean["_where"].to_numpy(dtype=object)
    dup_bad = [
        BadRow.of(
            where[has[k]], (N_("problem id %(id)s appears twice in the file"), {"id": given[k]})
        )
        for k in np.flatnonzero(repeat)
    ]
    new = ~repeat & ~in_store
    seen.add(first[new], second[new])
    return keep, given[in_store].tolist(), dup_bad


def _plan_batches(store, path, crs, data, plan: ProblemPlan, batch_rows: int, existing=None):
    """Each batch's new rows with their assignment (a frame), counted into ``plan`` (bad
    rows, ids already stored, new, assigned, per district, deduction total).  ``existing``
    tells which ids are stored (default: the store's; an import passes its transaction's).
    The zoning and the categories are read before the first batch is."""
    zoning = zoning_for(store)
    plan.generation = zoning.generation
    by_code = category_codes(store.list_categories())
    existing = existing or store.existing_problem_ids
    return _batches(zoning, by_code, path, crs, data, plan, batch_rows, existing)


def _batches(zoning, by_code, path, crs, data, plan, batch_rows, existing):
    seen = _SeenIds()
    repeats: list[BadRow] = []
    for table in point_batches(path, crs, data=data, batch_rows=batch_rows):
        clean, bad = check_batch(table, by_code)
        plan.bad.extend(bad)
        keep, stored, dup_bad = _fresh(clean, seen, existing)
        plan.skipped_existing.extend(stored)
        repeats.extend(dup_bad)
        fresh = clean[keep].reset_index(drop=True)
        result = zoning.assign_codes(fresh["lon"], fresh["lat"], fresh["category"].to_numpy())
        frame = result.to_frame().rename(columns={"rule": "rule_id"})
        for column in _ASSIGNED:
            # object columns: None stays None (not NaN) for "unassigned"
            fresh[column] = pd.Series(frame[column].to_numpy(dtype=object), dtype=object)
        fresh["generation_id"] = zoning.generation
        plan.new += len(fresh)
        assigned = frame["area_id"].notna().to_numpy()
        plan.assigned += int(assigned.sum())
        codes, vocab = result.codes("district_id")
        counts = np.bincount(codes.astype(np.int64) + 1, minlength=len(vocab) + 1)
        if counts[0]:
            plan.by_district["未分配"] += int(counts[0])
        for name, count in zip(vocab, counts[1:], strict=True):
            if count:
                plan.by_district[name] += int(count)
        # added one by one, in file order, as the row-by-row sum did (the same rounding)
        plan.deduction_total = sum(fresh["deduction"].tolist(), plan.deduction_total)
        if len(plan.first_problem_ids) < 20:
            plan.first_problem_ids += fresh["problem_id"].head(20).tolist()
            del plan.first_problem_ids[20:]
        yield fresh
    plan.bad.extend(repeats)  # after the others, as the row-by-row check listed them


def plan_problem_import(
    store,
    path,
    crs: str | None = None,
    data: bytes | None = None,
    *,
    keep_rows: bool = True,
    batch_rows: int = BATCH_ROWS,
) -> ProblemPlan:
    """Read a problems file and work out what importing it would do; writes nothing.
    ``keep_rows`` False counts the new rows without keeping them (a dry run of a large
    file: memory flat in its size)."""
    plan = ProblemPlan(str(path), [] if keep_rows else None, [])
    for fresh in _plan_batches(store, path, crs, data, plan, batch_rows):
        if keep_rows:
            columns = [*ROW_FIELDS, "generation_id", *_ASSIGNED]
            plan.rows.extend(fresh[columns].to_dict("records"))
    return plan


class _Refused(Exception):
    """Rolls the import's transaction back: the file has bad rows and they were not to be
    skipped."""


def import_problem_file(
    store,
    path,
    actor: str,
    crs: str | None = None,
    data: bytes | None = None,
    *,
    allow_bad: bool = False,
    source: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ProblemPlan:
    """Import a problems file batch by batch in ONE transaction; returns its plan, with
    ``imported`` the number of problems written, or None when nothing was because the file
    has bad rows and ``allow_bad`` is False (then every bad row is still named: the file is
    read to its end, writing stops at the first bad row and the transaction is rolled back).

    One transaction rather than resumable batches: an import either happens or not, so a
    failure (a bad row, a full disk, a lost connection) leaves nothing to clean up and the
    same command can simply run again.  Batches committed one by one could not be resumed
    safely: a row without a problem id gets a new one each time and would be stored twice.
    The price is that the import holds SQLite's write lock while it runs (about a second
    per 20,000 rows).
    """
    plan = ProblemPlan(source or str(path), None, [])
    now = datetime.now(UTC)
    within: list = []  # the transaction, once open: ids already stored as it sees them
    batches = _plan_batches(
        store, path, crs, data, plan, batch_rows, lambda ids: within[0].existing_problem_ids(ids)
    )
    try:
        with store.transaction() as tx:
            within.append(tx)
            with tx.loading_problems():
                for fresh in batches:
                    if plan.bad and not allow_bad:
                        continue  # refused: only read on, to name every bad row
                    columns = {c: fresh[c].to_numpy() for c in fresh.columns}
                    columns["generation_id"] = plan.generation
                    tx.add_problem_columns(columns, actor=actor, now=now)
                if plan.bad and not allow_bad:
                    raise _Refused
            audit(tx, actor, "problems.import", plan.source, None, _audit_detail(plan))
    except _Refused:
        return plan
    plan.imported = plan.new
    return plan


def refuse_bad_rows(plan: ProblemPlan) -> ServiceError:
    """The error for an import refused because of its bad rows."""
    return ServiceError(
        N_("%(count)s bad row(s): fix them, or skip them explicitly; nothing was imported"),
        count=len(plan.bad),
    )


def _audit_detail(plan: ProblemPlan) -> dict:
    return {
        "added": plan.new,
        "skipped_bad": len(plan.bad),
        "skipped_existing": len(plan.skipped_existing),
        "first_problem_ids": plan.first_problem_ids,
    }


def _attach_assignment(rows: list[dict], zoning: Zoning) -> None:
    if not rows:
        return
    result = zoning.assign(
        [r["lon"] for r in rows], [r["lat"] for r in rows], [r["category"] for r in rows]
    )
    for r, a in zip(rows, result.itertuples(index=False), strict=True):
        r.update(
            {
                "generation_id": zoning.generation,
                "district_id": a.district_id,
                "area_id": a.area_id,
                "responsible_unit_id": a.responsible_unit_id,
                "lead_unit_id": a.lead_unit_id,
                "rule_id": a.rule,
            }
        )


def commit_problem_import(
    store, plan: ProblemPlan, actor: str, allow_bad: bool = False
) -> list[int]:
    """Write every row of a plan that kept its rows in one transaction; refuse if it has
    bad rows.  (A file of any size: :func:`import_problem_file`.)"""
    if plan.bad and not allow_bad:
        raise refuse_bad_rows(plan)
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in plan.rows or []]
    with store.transaction() as tx:
        ids = tx.add_problems(rows, actor=actor)
        audit(tx, actor, "problems.import", plan.source, None, _audit_detail(plan))
        plan.imported = len(ids)
        return ids
