"""Reference data as the read side shows it: units, districts and categories by id
(:class:`Reference`, read once per data version by :mod:`geoapp.services.reading`), and the
labels of codes (statuses, kinds) in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from geoapp.core.model import STATUSES
from geoapp.core.palette import DISTRICT_COLOURS
from geoapp.store import DEFAULT_STATUS

#: Statuses a filter may name: the domain's, plus the store's default for new problems.
KNOWN_STATUSES = (*STATUSES, DEFAULT_STATUS)


@dataclass
class Reference:
    """Units, districts and categories, by id (districts in id order)."""

    units: dict[str, dict]
    districts: dict[str, dict]
    categories: dict[str, dict]

    def colour(self, district_id: str | None) -> str | None:
        ids = list(self.districts)
        if district_id not in self.districts:
            return None
        return DISTRICT_COLOURS[ids.index(district_id) % len(DISTRICT_COLOURS)]

    def unit_name(self, unit_id: str | None) -> str | None:
        return self.units.get(unit_id, {}).get("name") if unit_id else None

    def district_name(self, district_id: str | None) -> str | None:
        return self.districts.get(district_id, {}).get("name") if district_id else None

    def category_label(self, category: str | None, locale: str) -> str | None:
        c = self.categories.get(category) if category else None
        if c is None:
            return category
        label = c.get("name_zh") if _zh(locale) else c.get("name_en")
        return label or category

    def known(self, param: str) -> Sequence[str] | None:
        """The values a list filter may take (None: any)."""
        return {
            "status": KNOWN_STATUSES,
            "category": list(self.categories),
            "district": list(self.districts),
            "unit": list(self.units),
        }.get(param)


def _zh(locale: str | None) -> bool:
    return str(locale or "zh").lower().startswith("zh")


def _label(code: str | None, labels: Mapping[str, str], locale: str) -> str | None:
    if code is None:
        return None
    if _zh(locale):
        return labels.get(code, code)
    return code.replace("_", " ")


def status_label(status: str | None, locale: str) -> str | None:
    return _label(status, STATUSES, locale)
