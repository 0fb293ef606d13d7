"""The deduction ledger (台账) of the filtered problems, grouped by unit, district or
category."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from geoapp.core import ledger
from geoapp.services import ledger as services_ledger
from geoapp.web.schemas.base import Answer, Route
from geoapp.web.schemas.map import ProblemFilters

Group = Literal[tuple(ledger.GROUPS)]  # type: ignore[valid-type]


class LedgerQuery(ProblemFilters):
    group: Group = Field(
        services_ledger.DEFAULT_GROUP,
        description="how the rows are grouped: per responsible unit, district, category or round",
    )


class LedgerTotals(Answer):
    problems: int
    duplicates: int
    deduction: float
    open: int
    overdue: int
    closed: int
    on_time: int
    late: int
    closed_unknown: int
    on_time_rate: float | None


class LedgerRow(LedgerTotals):
    id: str | None
    name: str | None
    lead_unit_id: str | None = None
    lead_unit_name: str | None = None
    deadline_hours: float | None = None


class Day(Answer):
    date: str
    new: int
    closed: int


class Ranking(Answer):
    accountability: list[str]
    commendation: list[str]
    ranks: dict[str, int | None]
    ranked_units: int
    shown_units: list[str] | None


class Ledger(Answer):
    group: Group
    filters: dict[str, list[str]]
    generated_at: str
    totals: LedgerTotals
    rows: list[LedgerRow]
    daily: list[Day]
    ranking: Ranking | None = Field(None, description="grouped by unit only")


ROUTES = [
    Route(
        "get",
        "/api/ledger",
        "api.ledger",
        "The deduction ledger (台账) of the filtered problems",
        Ledger,
        LedgerQuery,
        description="Per group: problems, duplicates, deduction points (a duplicate's count "
        "0), open, overdue (open past the category's deadline), closed, rectified on time or "
        "late, on-time rate; the daily new/closed counts; by unit, the ranking.",
    )
]
