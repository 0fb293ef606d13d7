"""Use cases: load the demo county, look up a point, import areas and problems, assign files.

Services glue the pure core (:mod:`geoapp.core.assignment`, :mod:`geoapp.core.zoning`,
:mod:`geoapp.core.routing`) to the store. The CLI and the web views call these and nothing
below them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import pickle
import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from geoapp.core import grid
from geoapp.core.assignment import Zoning
from geoapp.core.crs import parse_crs, to_wgs84
from geoapp.core.messages import N_, Explained
from geoapp.core.model import PROBLEM_COLUMNS, status_code
from geoapp.core.textcheck import text_fault
from geoapp.core.zoning import Finding, check_areas, diff_areas
from geoapp.io.boundaries import read_areas
from geoapp.io.errors import BadRow, InputError
from geoapp.io.points import PointTable, read_points
from geoapp.io.tables import find_column
from geoapp.io.writers import write_points
from geoapp.services.audit import audit
from geoapp.version import __version__

if TYPE_CHECKING:  # geopandas is slow to import; only types need it here
    import geopandas as gpd

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "geojson"
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / "instance" / "cache"
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class ServiceError(Explained):
    """A use case cannot go ahead; the message (a template, see messages.py) says why, for a
    person to read."""

    status = 400


class NothingPublished(ServiceError):
    status = 409


# --- the assignment index, built once per generation -----------------------------------
# store → {generation id → (reference token, Zoning)}.  A published generation's areas never
# change, but its index also holds the districts' lead units and the rules: the entry is
# used only while the store's reference data (units, districts, categories, rules) is the
# one it was built with.  The token is read from the database on every call, so an index
# built in one process is dropped when any other process (another app server, the CLI)
# changes the rules or districts, and a generation another process publishes is picked up
# on the next call.
_zoning_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_zoning_lock = threading.Lock()


def _reference_token(store) -> str:
    return store.data_version()["reference"]


def zoning_for(store, generation_id: int | None = None) -> Zoning:
    """The assignment index for a generation (default: the current one), cached while the
    generation and the reference data stay as they are (checked in the database)."""
    if generation_id is None:
        current = store.current_generation()
        if current is None:
            raise NothingPublished(
                N_(
                    "no boundary generation is published yet; run `geoapp load-demo` or `geoapp import-areas FILE --commit`"
                )
            )
        generation_id = current["id"]
    generation_id = int(generation_id)
    token = _reference_token(store)
    with _zoning_lock:
        cached = _zoning_cache.get(store, {}).get(generation_id)
    if cached is not None and cached[0] == token:
        return cached[1]
    gen = store.get_generation(generation_id)
    zoning = Zoning.build(
        store.areas(generation_id),
        store.list_districts(),
        store.list_rules(),
        generation=generation_id,
    )
    if gen.get("status") == "published":
        remember_zoning(store, generation_id, zoning, token)
    return zoning


def remember_zoning(store, generation_id: int, zoning: Zoning, token: str | None = None) -> None:
    """Cache the index of a published generation (publishing builds it anyway); ``token``:
    the reference data version it was built with (default: the store's now)."""
    zoning.generation = int(generation_id)
    token = token if token is not None else _reference_token(store)
    with _zoning_lock:
        per_store = _zoning_cache.setdefault(store, {})
        if len(per_store) > 8:
            per_store.clear()
        per_store[int(generation_id)] = (token, zoning)


def forget_zonings(store=None) -> None:
    """Drop cached indexes (not needed for correctness: entries check the data version)."""
    with _zoning_lock:
        if store is None:
            _zoning_cache.clear()
        else:
            _zoning_cache.pop(store, None)


# --- lookup ---------------------------------------------------------------------------
def lookup(
    store, lon: float, lat: float, crs: str | None = None, generation_id: int | None = None
) -> dict:
    """Who is responsible for one point."""
    x, y = to_wgs84([lon], [lat], parse_crs(crs))
    zoning = zoning_for(store, generation_id)
    row = zoning.assign_one(float(x[0]), float(y[0]))
    result = {
        "lon": float(x[0]),
        "lat": float(y[0]),
        "generation": zoning.generation,
        "area": None,
        "district": None,
        "responsible_unit": None,
        "lead_unit": None,
    }
    if row["area_id"] is None:
        return result
    area = zoning.area_record(row["area_id"])
    districts = {d["district_id"]: d for d in store.list_districts()}
    units = {u["unit_id"]: u for u in store.list_units()}
    d = districts.get(row["district_id"], {})
    result["area"] = {"id": area["area_id"], "name": area["name"], "kind": area["kind"]}
    result["district"] = {"id": row["district_id"], "name": d.get("name")}
    result["responsible_unit"] = _unit_summary(units.get(area["responsible_unit_id"]))
    result["lead_unit"] = _unit_summary(units.get(row["lead_unit_id"]))
    result["covering_areas"] = zoning.covering(float(x[0]), float(y[0]))
    return result


def _unit_summary(unit: dict | None) -> dict | None:
    if unit is None:
        return None
    return {
        "id": unit["unit_id"],
        "name": unit["name"],
        "contact": unit.get("contact"),
        "phone": unit.get("phone"),
    }


# --- problems: parsing rows -------------------------------------------------------------
#: The years a time may fall in (as the date filters' range).
FIRST_YEAR, LAST_YEAR = 1900, 9998


def parse_time(value) -> str | None:
    """An ISO 8601 string with an offset; naive times are Beijing time. None if unreadable
    or outside the years FIRST_YEAR to LAST_YEAR."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    for fmt in (
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y年%m月%d日 %H:%M",
        "%Y年%m月%d日",
    ):
        try:
            dt = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if not FIRST_YEAR <= dt.year <= LAST_YEAR:
        return None  # year 1 or 9999 with an offset leaves datetime's range in UTC
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=LOCAL_TZ)
    return dt.isoformat(timespec="seconds")


@dataclass
class ProblemPlan:
    """What an import of problems would do."""

    source: str
    rows: list[dict]
    bad: list[BadRow]
    skipped_existing: list[str] = field(default_factory=list)
    generation: int | None = None

    @property
    def assigned(self) -> int:
        return sum(1 for r in self.rows if r["area_id"] is not None)

    @property
    def unassigned(self) -> int:
        return len(self.rows) - self.assigned

    def summary(self) -> dict:
        by_district = Counter(r["district_id"] or "未分配" for r in self.rows)
        return {
            "source": self.source,
            "new": len(self.rows),
            "assigned": self.assigned,
            "unassigned_outside_county": self.unassigned,
            "bad_rows": len(self.bad),
            "already_in_store": len(self.skipped_existing),
            "generation": self.generation,
            "by_district": dict(sorted(by_district.items())),
            "deduction_total": round(sum(r["deduction"] for r in self.rows), 2),
        }


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


def plan_problem_import(
    store, path, crs: str | None = None, data: bytes | None = None
) -> ProblemPlan:
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
    return ProblemPlan(str(path), fresh, bad, skipped, zoning.generation)


def _existing_problem_ids(store, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    return set(store.existing_problem_ids(ids))


def commit_problem_import(
    store, plan: ProblemPlan, actor: str, allow_bad: bool = False
) -> list[int]:
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


# --- areas -----------------------------------------------------------------------------
@dataclass
class AreaPlan:
    source: str
    areas: gpd.GeoDataFrame
    findings: list[Finding]
    changes: pd.DataFrame
    reassigned: int
    base_generation: int | None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def summary(self) -> dict:
        counts = Counter(self.changes["change"]) if len(self.changes) else Counter()
        return {
            "source": self.source,
            "areas": len(self.areas),
            "base_generation": self.base_generation,
            "changes": dict(sorted(counts.items())),
            "errors": len(self.errors),
            "warnings": len(self.findings) - len(self.errors),
            "open_problems_reassigned": self.reassigned,
        }


def plan_area_import(store, path, data: bytes | None = None) -> AreaPlan:
    """Read and validate a boundary set; compare it with the current generation."""
    areas = read_areas(path, data=data)
    units = [u["unit_id"] for u in store.list_units()]
    districts = [d["district_id"] for d in store.list_districts()]
    findings = check_areas(areas, units, districts)
    current = store.current_generation()
    reassigned = 0
    if current is not None:
        old = store.areas(current["id"])
        if len(old) and _far_apart(old, areas):
            findings.append(
                Finding(
                    "error",
                    "elsewhere",
                    "the new boundaries do not even overlap the current county: is the file's CRS "
                    "right (coordinates in one CRS declared as another)?",
                )
            )
        changes = diff_areas(old, areas)
        if not any(f.level == "error" for f in findings):
            reassigned = len(
                _reassignments(
                    store, Zoning.build(areas, store.list_districts(), store.list_rules())
                )
            )
    else:
        changes = pd.DataFrame({"area_id": sorted(areas["area_id"]), "change": "added"})
    return AreaPlan(
        str(path), areas, findings, changes, reassigned, current["id"] if current else None
    )


def _far_apart(old, new) -> bool:
    """True when two boundary sets' bounding boxes do not even overlap."""
    a = old.total_bounds
    b = new.total_bounds
    return bool(a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _reassignments(store, zoning: Zoning, statuses=("reported", "assigned", "rectifying")):
    """Open problems whose assignment would change under ``zoning``: (problem, new)."""
    problems = [p for p in store.problems({"status": list(statuses)})]
    if not problems:
        return []
    new = zoning.assign(
        [p["lon"] for p in problems],
        [p["lat"] for p in problems],
        [p["category"] for p in problems],
    )
    out = []
    for p, a in zip(problems, new.itertuples(index=False), strict=True):
        after = {
            "district_id": a.district_id,
            "area_id": a.area_id,
            "responsible_unit_id": a.responsible_unit_id,
            "lead_unit_id": a.lead_unit_id,
            "rule_id": a.rule,
        }
        if any(p.get(k) != v for k, v in after.items()):
            out.append((p, after))
    return out


def commit_area_import(store, plan: AreaPlan, author: str, message: str) -> dict:
    """Publish the boundary set as a new generation and re-assign open problems to it."""
    if plan.errors:
        raise ServiceError(
            N_("%(count)s error(s) in the boundary set; nothing was changed"),
            count=len(plan.errors),
        )
    zoning = Zoning.build(plan.areas, store.list_districts(), store.list_rules())
    moves = _reassignments(store, zoning)
    with store.transaction() as tx:
        gen = tx.create_generation(author, message)
        tx.put_area_versions(gen, plan.areas.drop(columns=["_where"], errors="ignore"))
        published = tx.publish_generation(gen, author, message)
        audit(
            tx,
            author,
            "areas.import",
            plan.source,
            {"generation": plan.base_generation},
            {"generation": gen, "areas": len(plan.areas), "reassigned": len(moves)},
        )
        if moves:
            tx.update_assignments(
                {problem["id"]: after | {"generation_id": gen} for problem, after in moves},
                author,
                f"boundary generation {gen} published: {message}",
            )
    remember_zoning(store, gen, zoning)
    return published | {"reassigned": len(moves)}


# --- demo ---------------------------------------------------------------------------------
def read_csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(fh)]


def read_units(path: Path) -> list[dict]:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for f in doc["features"]:
        p = dict(f["properties"])
        lon, lat = f["geometry"]["coordinates"][:2]
        rows.append(p | {"lon": lon, "lat": lat})
    return rows


def load_county(
    store,
    data_dir: Path = DEMO_DIR,
    author: str = "demo",
    message: str = "演示县城初始边界（合成数据）",
) -> dict:
    """Load a county folder laid out like ``data/geojson`` in one transaction."""
    data_dir = Path(data_dir)
    units = read_units(data_dir / "units.geojson")
    districts = read_csv_rows(data_dir / "districts.csv")
    categories = read_csv_rows(data_dir / "categories.csv")
    for c in categories:
        c["deadline_hours"] = int(c["deadline_hours"]) if c.get("deadline_hours") else None
    rules = read_csv_rows(data_dir / "rules.csv")
    for r in rules:
        r["priority"] = int(r["priority"])
    areas = read_areas(data_dir / "areas.geojson")
    findings = check_areas(
        areas, [u["unit_id"] for u in units], [d["district_id"] for d in districts]
    )
    errors = [f for f in findings if f.level == "error"]
    if errors:
        raise ServiceError(
            N_("%(data_dir)s: the areas are not a valid partition: %(value)s"),
            data_dir=data_dir,
            value=errors[0],
        )
    table = read_points(data_dir / "problems.geojson")
    rows, bad = problem_rows(table, categories)
    if bad:
        raise ServiceError(
            N_("%(data_dir)s/problems.geojson: %(value)s"), data_dir=data_dir, value=bad[0]
        )
    zoning = Zoning.build(areas, districts, rules)
    with store.transaction() as tx:
        tx.upsert_units(units)
        tx.upsert_districts(districts)
        tx.replace_categories(categories)
        tx.replace_rules(rules)
        gen = tx.create_generation(author, message)
        tx.put_area_versions(gen, areas.drop(columns=["_where"]))
        tx.publish_generation(gen, author, message)
        zoning.generation = gen
        _attach_assignment(rows, zoning)
        clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
        tx.add_problems(clean, actor=author)
        audit(
            tx,
            author,
            "demo.load",
            str(data_dir),
            None,
            {"units": len(units), "areas": len(areas), "problems": len(rows), "generation": gen},
        )
    forget_zonings(store)
    return {
        "units": len(units),
        "districts": len(districts),
        "areas": len(areas),
        "rules": len(rules),
        "problems": len(rows),
        "generation": gen,
        "unassigned": sum(1 for r in rows if r["area_id"] is None),
    }


ZONE_FILES = ("areas.geojson", "districts.csv", "rules.csv")


def zoning_from_folder(folder: Path, cache_dir: Path | None = None) -> Zoning:
    """A :class:`Zoning` straight from files (areas.geojson, districts.csv, rules.csv).

    The built index is kept in ``cache_dir`` (default ``$GEOAPP_CACHE_DIR`` or
    ``instance/cache``), named by a hash of the three files and of the engine's version, so
    the next run with the same files loads it instead of building it again.
    """
    folder = Path(folder)
    if not (folder / "areas.geojson").is_file():
        raise InputError(N_("%(folder)s: no areas.geojson in this folder"), folder=folder)
    cache_dir = Path(cache_dir or os.environ.get("GEOAPP_CACHE_DIR") or DEFAULT_CACHE_DIR)
    digest = hashlib.sha256(f"{__version__} {grid.STEP} {grid.MARGIN}".encode())
    for name in ZONE_FILES:
        path = folder / name
        digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"-"))
    cached = cache_dir / f"zoning-{digest.hexdigest()[:32]}.pickle"
    try:
        with open(cached, "rb") as fh:
            zoning = pickle.load(fh)  # our own file, written below
        if isinstance(zoning, Zoning):
            return zoning
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    areas = read_areas(folder / "areas.geojson")
    districts = (
        read_csv_rows(folder / "districts.csv") if (folder / "districts.csv").exists() else []
    )
    rules = read_csv_rows(folder / "rules.csv") if (folder / "rules.csv").exists() else []
    zoning = Zoning.build(areas, districts, rules)
    _ = zoning.grid
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(zoning, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    except OSError:
        pass  # a read-only place: no cache, same answer
    return zoning


# --- stateless file assignment --------------------------------------------------------------
def assign_file(
    input_path,
    output_path,
    zoning: Zoning,
    crs: str | None = None,
    category_column: str | None = None,
) -> dict:
    """Read points, assign them, write the same rows with the assignment columns added."""
    table = read_points(input_path, crs)
    if table.bad:
        raise InputError(
            N_("%(name)s: %(count)s row(s) have no usable position; nothing was written"),
            table.bad,
            name=Path(input_path).name,
            count=len(table.bad),
        )
    names = table.column_names()
    cat_col = category_column or find_column(names, PROBLEM_COLUMNS["category"])
    if category_column and category_column not in names:
        raise InputError(
            N_("%(name)s: no column %(category_column)r"),
            name=Path(input_path).name,
            category_column=category_column,
        )
    categories = table.categorical(cat_col) if cat_col else None
    result = zoning.assign_codes(table.lon, table.lat, categories).to_frame(categorical=True)
    write_points(table, result, Path(output_path))
    assigned = int((result["area_id"].cat.codes >= 0).sum())
    return {
        "rows": len(table),
        "assigned": assigned,
        "unassigned": len(table) - assigned,
        "crs": table.crs.code,
        "output": str(output_path),
    }
