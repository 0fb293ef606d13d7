"""Category rules (专项责任规则): which unit a problem goes to whatever the place.

Pure: plain data in, NumPy arrays out.

Semantics
---------
Rules are tried in ascending ``priority`` (then ``rule_id``); the first rule that
matches wins. A rule matches a problem when its ``category`` equals the problem's
category and its ``area_kind`` is empty or equals the kind of the area the problem
fell in. A rule never applies to an unassigned problem (no area). When no rule
matches, the area's responsible unit stands and the rule is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, order=True)
class Rule:
    priority: int
    rule_id: str
    category: str
    area_kind: str | None
    unit_id: str
    note: str = ""

    @classmethod
    def from_mapping(cls, row: Mapping) -> Rule:
        kind = row.get("area_kind") or None
        return cls(
            priority=int(row.get("priority") or 0),
            rule_id=str(row["rule_id"]),
            category=str(row["category"]),
            area_kind=str(kind) if kind else None,
            unit_id=str(row["unit_id"]),
            note=str(row.get("note") or ""),
        )


def as_rules(rows: Iterable[Mapping | Rule]) -> list[Rule]:
    """Normalise rule rows and sort them into evaluation order."""
    return sorted(r if isinstance(r, Rule) else Rule.from_mapping(r) for r in rows)


def apply_rules(
    categories: np.ndarray,
    area_kinds: np.ndarray,
    assigned: np.ndarray,
    rules: Iterable[Mapping | Rule],
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(rule_ids, unit_ids)`` for each problem.

    Both are object arrays holding ``None`` where no rule applied.

    >>> import numpy as np
    >>> idx, units = apply_rules(np.array(["red_light", "litter"], dtype=object),
    ...     np.array(["main_road", "main_road"], dtype=object), np.array([True, True]),
    ...     [{"rule_id": "R1", "priority": 1, "category": "red_light", "unit_id": "U9"}])
    >>> idx.tolist(), units.tolist()
    (['R1', None], ['U9', None])
    """
    ordered = as_rules(rules)
    n = len(categories)
    rule_ids = np.full(n, None, dtype=object)
    units = np.full(n, None, dtype=object)
    if not ordered or n == 0:
        return rule_ids, units
    categories = np.asarray(categories, dtype=object)
    area_kinds = np.asarray(area_kinds, dtype=object)
    open_ = np.asarray(assigned, dtype=bool).copy()
    for rule in ordered:
        mask = open_ & (categories == rule.category)
        if rule.area_kind is not None:
            mask &= area_kinds == rule.area_kind
        if mask.any():
            rule_ids[mask] = rule.rule_id
            units[mask] = rule.unit_id
            open_ &= ~mask
    return rule_ids, units


def rule_matrix(rules: Iterable[Mapping | Rule], categories, kinds) -> np.ndarray:
    """Which rule applies to each (category, area kind) pair: a table of rule positions.

    ``result[c, k]`` is the position in :func:`as_rules` order of the first rule matching
    category ``categories[c]`` in an area of kind ``kinds[k]``, or -1. A final row of -1
    stands for "no category". Lets the engine route millions of points with one lookup.
    """
    ordered = as_rules(rules)
    cat_pos = {c: i for i, c in enumerate(categories)}
    kind_pos = {k: i for i, k in enumerate(kinds)}
    table = np.full((len(categories) + 1, max(len(kinds), 1)), -1, dtype=np.int64)
    for r_pos in range(len(ordered) - 1, -1, -1):  # the first rule is written last and wins
        rule = ordered[r_pos]
        c = cat_pos.get(rule.category)
        if c is None:
            continue
        if rule.area_kind is None:
            table[c, :] = r_pos
        elif rule.area_kind in kind_pos:
            table[c, kind_pos[rule.area_kind]] = r_pos
    return table
