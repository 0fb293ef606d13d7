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
