"""Reference data: units, districts, categories (with their deadlines) and assignment rules.

Small tables an administrator maintains: units and districts are upserted by their key,
categories and rules are replaced as a whole set.  A mixin of :class:`geoapp.store.Transaction`.
"""

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from geoapp.core.deadlines import MAX_DEADLINE_HOURS
from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import InvalidValue, NotFound, StoreError
from geoapp.store.plumbing import _CHUNK, TransactionBase, _chunks, _names, _short


def _check_deadline(hours: int | None, where: str) -> None:
    """A category's deadline is None or 1 to MAX_DEADLINE_HOURS whole hours."""
    if hours is not None and not 0 < hours <= MAX_DEADLINE_HOURS:
        raise InvalidValue(
            N_("%(where)s: deadline_hours must be between 1 and %(limit)s, got %(hours)s"),
            where=where,
            limit=MAX_DEADLINE_HOURS,
            hours=hours,
        )


class ReferenceData(TransactionBase):
    """Units, districts, categories and rules."""

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
