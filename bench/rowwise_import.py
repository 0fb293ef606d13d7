"""The row-by-row import as it was before batches (geoapp 2026-12, ``problem_import``):
every cell read through ``DataFrame.iloc``, each time parsed by ``strptime``, every row
converted by the store one at a time (the assignment of the rows, ``_attach_assignment``,
is the one the package still uses for single reports).  Kept as the named baseline of
``bench/bench_import.py`` and as the reference the tests compare the batch import with
(``tests/services/test_bulk_import.py``): same rows, same assignments, same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from geoapp.core.messages import N_
from geoapp.core.model import PROBLEM_COLUMNS, status_code
from geoapp.core.textcheck import text_fault
from geoapp.io.errors import BadRow, InputError
from geoapp.io.points import PointTable, read_points
from geoapp.io.tables import find_column
from geoapp.services.audit import audit
from geoapp.services.errors import ServiceError
from geoapp.services.mapping import zoning_for
from geoapp.services.problem_import import _attach_assignment, parse_time


@dataclass
class RowPlan:
    """What the row-by-row import would do."""

    source: str
    rows: list[dict]
    bad: list[BadRow]
    skipped_existing: list[str] = field(default_factory=list)
    generation: int | None = None


def problem_rows(table: PointTable, categories: list[dict]) -> tuple[list[dict], list[BadRow]]:
    """Validate the attribute columns of a point table; return clean rows and bad ones."""
    frame = table.frame
    cols = {f: find_column(frame.columns, names) for f, names in PROBLEM_COLUMNS.items()}
    for required in ("round", "category"):
        if cols[required] is None:
            names = "/".join(PROBLEM_COLUMNS[required])
            raise InputError(
                N_("the file has no %(required)s column (named %(names)s)"),
                required=required,
                names=names,
            )
    by_code = {c["category"]: c["category"] for c in categories}
    by_code.update({c["name_zh"]: c["category"] for c in categories if c.get("name_zh")})
    bad_where = {b.where for b in table.bad}
    bad: list[BadRow] = list(table.bad)
    rows: list[dict] = []

    def value(i, f):
        c = cols[f]
        if c is None:
            return None
        v = frame[c].iloc[i]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        s = str(v).strip()
        return s or None

    for i in range(len(frame)):
        where = table.where[i]
        if where in bad_where:
            continue
        reasons = []
        rnd = value(i, "round")
        if rnd is None:
            reasons.append((N_("the inspection round is empty"), {}))
        cat_text = value(i, "category")
        category = by_code.get(cat_text) if cat_text else None
        if category is None:
            reasons.append(
                (N_("unknown category %(value)r"), {"value": cat_text})
                if cat_text
                else (N_("the category is empty"), {})
            )
        ded_text = value(i, "deduction")
        try:
            deduction = float(ded_text) if ded_text is not None else 0.0
            if not np.isfinite(deduction) or deduction < 0 or deduction > 100:
                raise ValueError
        except ValueError:
            reasons.append(
                (N_("deduction %(value)r is not a number between 0 and 100"), {"value": ded_text})
            )
            deduction = 0.0
        when_text = value(i, "reported_at")
        reported_at = parse_time(when_text) if when_text else None
        if reported_at is None:
            reasons.append(
                (N_("reported time %(value)r is not a date and time"), {"value": when_text})
                if when_text
                else (N_("the reported time is empty"), {})
            )
        status = status_code(value(i, "status"))
        if status is None:
            reasons.append((N_("unknown status %(value)r"), {"value": value(i, "status")}))
        rectified_at, reason = _rectified_time(value(i, "rectified_at"), status, reported_at)
        if reason:
            reasons.append(reason)
        for column in cols:
            text = value(i, column)
            if text is not None and text_fault(text):
                reasons.append(
                    (
                        N_(
                            "the %(field)s holds a NUL character or a lone surrogate, "
                            "which cannot be stored"
                        ),
                        {"field": column},
                    )
                )
        if reasons:
            bad.append(BadRow.of(where, *reasons))
            continue
        rows.append(
            {
                "problem_id": value(i, "problem_id"),
                "round": rnd,
                "category": category,
                "description": value(i, "description") or "",
                "deduction": deduction,
                "reported_at": reported_at,
                "status": status,
                "reporter": value(i, "reporter") or "",
                "rectified_at": rectified_at,
                "lon": float(table.lon[i]),
                "lat": float(table.lat[i]),
                "source_crs": table.row_crs[i] if table.row_crs else table.crs.code,
                "source_x": float(table.src_x[i]),
                "source_y": float(table.src_y[i]),
                "_where": where,
            }
        )
    bad.sort(key=lambda b: int(b.where.rsplit(" ", 1)[1]) if b.where[-1].isdigit() else 0)
    return rows, bad


def _rectified_time(
    text: str | None, status: str | None, reported_at: str | None
) -> tuple[str | None, tuple[str, dict] | None]:
    """The rectification time of an imported row (ISO text) and the reason it is bad, if it is:
    not a time, given on a problem that is not rectified/verified, or before the report."""
    if text is None:
        return None, None
    when = parse_time(text)
    if when is None:
        return None, (N_("rectified time %(value)r is not a date and time"), {"value": text})
    if status not in ("rectified", "verified"):
        return None, (
            N_("a rectified time is given but the status is %(status)s (not rectified)"),
            {"status": status},
        )
    if reported_at is not None and datetime.fromisoformat(when) < datetime.fromisoformat(
        reported_at
    ):
        return None, (
            N_("rectified time %(value)r is before the reported time %(reported)r"),
            {"value": text, "reported": reported_at},
        )
    return when, None


def plan_problem_import(store, path, crs: str | None = None, data: bytes | None = None):
    """Read a problems file and work out what importing it would do; writes nothing."""
    table = read_points(path, crs, data=data)
    rows, bad = problem_rows(table, store.list_categories())
    zoning = zoning_for(store)
    existing = _existing_problem_ids(store, [r["problem_id"] for r in rows if r["problem_id"]])
    seen: set[str] = set()
    fresh, skipped = [], []
    for r in rows:
        pid = r["problem_id"]
        if pid and pid in existing:
            skipped.append(pid)
            continue
        if pid and pid in seen:
            bad.append(
                BadRow.of(
                    r["_where"], (N_("problem id %(id)s appears twice in the file"), {"id": pid})
                )
            )
            continue
        if pid:
            seen.add(pid)
        fresh.append(r)
    _attach_assignment(fresh, zoning)
    return RowPlan(str(path), fresh, bad, skipped, zoning.generation)


def _existing_problem_ids(store, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(store.existing_problem_ids(ids))


def commit_problem_import(store, plan, actor: str, allow_bad: bool = False) -> list[int]:
    """Write every row of a plan in one transaction; refuse if it has bad rows."""
    if plan.bad and not allow_bad:
        raise ServiceError(
            N_("%(count)s bad row(s): fix them, or skip them explicitly; nothing was imported"),
            count=len(plan.bad),
        )
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in plan.rows]
    with store.transaction() as tx:
        ids = tx.add_problems(rows, actor=actor)
        audit(
            tx,
            actor,
            "problems.import",
            plan.source,
            None,
            {
                "added": len(ids),
                "skipped_bad": len(plan.bad),
                "skipped_existing": len(plan.skipped_existing),
                "first_problem_ids": [r.get("problem_id") for r in rows[:20]],
            },
        )
        return ids
