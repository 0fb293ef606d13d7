"""The responsible units of the demo county: their people and contacts, and where their
yards are placed on the map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Transformer
from shapely.geometry import Point

from geoapp.demo.areas import Area
from geoapp.demo.catalogue import ROUNDS
from geoapp.demo.county import (
    COMPANIES,
    DISTRICTS,
    GIVEN,
    RESPONSIBLE_UNITS,
    SPECIAL_GROUPS,
    SURNAMES,
    UNIT_YARDS,
)
from geoapp.demo.lonlat import _random_points_in, _round_ll


@dataclass
class Unit:
    unit_id: str
    name: str
    kind: str
    contact: str
    phone: str
    lead_district: str | None
    point: tuple[float, float] | None = None


def _weighted_choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _make_units(rng: np.random.Generator) -> list[Unit]:
    used_names: set[str] = {name for r in ROUNDS for name in r[4]}  # not an inspector's name

    def person() -> str:
        while True:
            name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
            if name not in used_names:
                used_names.add(name)
                return name

    units: list[Unit] = []
    entries: list[tuple[str, str, str | None]] = []
    for did, _n, lead, _t in DISTRICTS:
        entries.append((lead, "lead", did))
    entries += [(u, "responsible", None) for u in RESPONSIBLE_UNITS]
    entries += [(u, "special_group", None) for u in SPECIAL_GROUPS]
    entries += [(u, "company", None) for u in COMPANIES]
    phones: set[str] = set()
    for k, (name, kind, did) in enumerate(entries, start=1):
        while True:
            if kind == "company":
                phone = f"1380795{int(rng.integers(10000)):04d}"
            else:
                phone = f"0795-25{int(rng.integers(100000)):05d}"
            if phone not in phones:
                phones.add(phone)
                break
        units.append(Unit(f"U{k:02d}", name, kind, person(), phone, did))
    return units


def _place_units(
    units: list[Unit], areas: list[Area], rng: np.random.Generator, tr: Transformer
) -> None:
    did_index = {d[0]: k for k, d in enumerate(DISTRICTS)}
    gov = next(a for a in areas if a.name == UNIT_YARDS[0][0])
    compound_kinds = ("compound_managed", "compound_unmanaged", "open_compound")
    for u in units:
        own = [a for a in areas if a.owner == u.name]
        if u.kind == "lead":
            d = did_index[u.lead_district or ""]
            mine = [a for a in own if a.district == d and a.kind == "unit_yard"]
            if mine:
                target = mine[0]
            else:
                cands = [a for a in areas if a.district == d and a.kind in compound_kinds]
                target = cands[int(rng.integers(len(cands)))]
        elif u.kind == "special_group":
            target = gov
        elif own:
            yards = [a for a in own if a.kind == "unit_yard"]
            nonlinear = [a for a in own if a.kind not in ("main_road", "back_alley")]
            pick = yards or nonlinear or own
            target = pick[int(rng.integers(len(pick)))]
        elif u.name == "县城管大队":
            target = next(a for a in areas if a.owner == "县城管局" and a.kind == "unit_yard")
        else:
            cands = [a for a in areas if a.district == 0 and a.kind in compound_kinds]
            target = cands[int(rng.integers(len(cands)))]
        xy = _random_points_in(target.geom, 1, rng, margin=3.0)
        ll = _round_ll(xy, tr)[0]
        if not target.ll.contains(Point(ll)):
            raise RuntimeError(f"unit point of {u.name} left its area")
        u.point = (float(ll[0]), float(ll[1]))
