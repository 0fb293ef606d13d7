"""Importing an inspection sheet (CSV, XLSX or GeoJSON) through a preview: the upload is kept
under a random token, previewed (every new row with its assignment and likely duplicates,
every bad row with its line and reason) and imported in one transaction only when confirmed.

Reading and planning the import is :func:`geoapp.services.mapping.plan_problem_import`, the
same plan the command line uses.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path

from geoapp.core.crs import parse_crs
from geoapp.core.intake import Candidate, ReportError, likely_duplicates
from geoapp.core.messages import N_
from geoapp.core.workflow import check_action
from geoapp.io.files import display_name
from geoapp.services.intake import (
    CANDIDATE_STATUSES,
    Conflict,
    TooLarge,
    UnsupportedType,
)
from geoapp.services.problem_import import (
    import_problem_file,
    plan_problem_import,
    refuse_bad_rows,
)

IMPORT_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json")
IMPORT_TTL_S = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _clean_old_uploads(folder: Path) -> None:
    cutoff = time.time() - IMPORT_TTL_S
    for child in folder.iterdir() if folder.is_dir() else ():
        try:
            if child.is_dir() and child.stat().st_mtime < cutoff:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            pass


def save_import_upload(
    folder: Path, data: bytes, filename: str | None, max_bytes: int, crs: str | None = None
) -> str:
    """Keep an uploaded inspection sheet (and the CRS its coordinates are in) under
    ``folder`` until it is confirmed; returns the random token naming it."""
    if crs is not None and not isinstance(crs, str):
        raise ReportError("crs", N_("must be text"))
    parse_crs(crs)  # a bad CRS is refused before anything is kept
    if not data:
        raise ReportError("file", N_("the file is empty"))
    if len(data) > max_bytes:
        raise TooLarge(N_("the file is larger than %(value)s MiB"), value=max_bytes // 2**20)
    suffix = Path(filename or "").suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise UnsupportedType(
            N_("%(filename)r: send a CSV (UTF-8 or GBK), XLSX or GeoJSON file"), filename=filename
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _clean_old_uploads(folder)
    token = secrets.token_urlsafe(18)
    place = folder / token
    place.mkdir()
    (place / f"upload{suffix}").write_bytes(data)
    (place / "meta.json").write_text(
        json.dumps({"filename": (filename or "")[:200], "crs": crs or None}, ensure_ascii=False),
        encoding="utf-8",
    )
    return token


def preview_upload(
    store,
    folder: Path,
    data: bytes,
    filename: str | None,
    max_bytes: int,
    crs: str | None = None,
    locale: str = "zh",
) -> dict:
    """Keep an uploaded sheet and preview it (:func:`save_import_upload`,
    :func:`preview_import`).  An upload whose preview fails (unreadable, too large
    unpacked, bad CRS ...) is removed at once: only a previewed one waits for confirmation."""
    token = save_import_upload(folder, data, filename, max_bytes, crs)
    try:
        return preview_import(store, folder, token, locale)
    except BaseException:
        shutil.rmtree(Path(folder) / token, ignore_errors=True)
        raise


def _upload(folder: Path, token: str) -> tuple[Path, dict]:
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise ReportError("token", N_("is not an upload token"))
    place = Path(folder) / token
    files = sorted(place.glob("upload.*")) if place.is_dir() else []
    if not files:
        raise Conflict(N_("this upload has expired or was already imported; upload the file again"))
    meta = json.loads((place / "meta.json").read_text(encoding="utf-8"))
    return files[0], meta


def _kept(folder: Path, token: str) -> tuple[Path, Path, dict]:
    """The kept upload, the name messages give it (the user's file name; the bytes come
    from the kept copy) and what was kept with it."""
    path, meta = _upload(folder, token)
    shown = display_name(meta.get("filename"), path.name)
    if shown.suffix.lower() != path.suffix:
        shown = path
    return path, shown, meta


def _plan(store, folder: Path, token: str):
    path, shown, meta = _kept(folder, token)
    plan = plan_problem_import(store, shown, meta.get("crs") or None, data=path.read_bytes())
    plan.source = shown.name
    return plan


def preview_import(store, folder: Path, token: str, locale: str = "zh") -> dict:
    """What importing the upload would do: every new row with its assignment and likely
    duplicates, every bad row with its line and reason, rows already stored.  Writes
    nothing."""
    plan = _plan(store, folder, token)
    ref_units = {u["unit_id"]: u["name"] for u in store.list_units()}
    ref_districts = {d["district_id"]: d["name"] for d in store.list_districts()}
    current = store.current_generation()
    areas = store.areas(current["id"]) if current else None
    area_names = (
        dict(zip(areas["area_id"], areas["name"], strict=True)) if areas is not None else {}
    )
    categories = {c["category"]: c for c in store.list_categories()}
    zh = str(locale).startswith("zh")
    # likely duplicates: open problems in the store, and earlier rows of the same file
    dups: list[list] = [[] for _ in plan.rows]
    if plan.rows:
        lons = [r["lon"] for r in plan.rows]
        lats = [r["lat"] for r in plan.rows]
        box = (min(lons) - 0.001, min(lats) - 0.001, max(lons) + 0.001, max(lats) + 0.001)
        cats = sorted({r["category"] for r in plan.rows})
        stored = store.problems({"category": cats, "status": CANDIDATE_STATUSES, "bbox": box})
        cands = [
            Candidate(("problem", p["id"], p["problem_id"]), p["category"], p["lon"], p["lat"])
            for p in stored
            if p["duplicate_of"] is None and p["lon"] is not None
        ]
        found = likely_duplicates(lons, lats, [r["category"] for r in plan.rows], cands)
        in_file = likely_duplicates(
            lons,
            lats,
            [r["category"] for r in plan.rows],
            [
                Candidate(("row", i, r["_where"]), r["category"], r["lon"], r["lat"])
                for i, r in enumerate(plan.rows)
            ],
        )
        for i in range(len(plan.rows)):
            same_file = [(k, d) for k, d in in_file[i] if k[1] < i]
            dups[i] = [
                {
                    "kind": k[0],
                    "id": k[1] if k[0] == "problem" else None,
                    "label": k[2],
                    "distance_m": d,
                }
                for k, d in (found[i] + same_file)
            ]
    rows = []
    for r, dup in zip(plan.rows, dups, strict=True):
        cat = categories.get(r["category"], {})
        rows.append(
            {
                "line": r["_where"],
                "problem_id": r["problem_id"],
                "round": r["round"],
                "category": r["category"],
                "category_label": (cat.get("name_zh") if zh else cat.get("name_en"))
                or r["category"],
                "deduction": r["deduction"],
                "lon": round(r["lon"], 7),
                "lat": round(r["lat"], 7),
                "source_crs": r["source_crs"],
                "assigned": r["area_id"] is not None,
                "area_id": r["area_id"],
                "area_name": area_names.get(r["area_id"]),
                "district_name": ref_districts.get(r["district_id"]),
                "responsible_unit_name": ref_units.get(r["responsible_unit_id"]),
                "lead_unit_name": ref_units.get(r["lead_unit_id"]),
                "rule_id": r["rule_id"],
                "likely_duplicates": dup,
            }
        )
    return {
        "token": token,
        "filename": plan.source,
        "summary": plan.summary(),
        "rows": rows,
        # messages: the reason's (template, values) pairs, for the web layer to translate
        "bad": [{"line": b.where, "reason": b.reason, "messages": b.messages} for b in plan.bad],
        "already_stored": plan.skipped_existing,
    }


def confirm_import(
    store,
    folder: Path,
    token: str,
    actor: str | None,
    *,
    skip_bad: bool = False,
    role: str | None = None,
) -> dict:
    """Import the upload in one transaction (the same plan the preview showed, made again
    from the kept file); refuses while there are bad rows unless ``skip_bad``."""
    check_action("import", role)
    path, shown, meta = _kept(folder, token)
    plan = import_problem_file(
        store,
        shown,
        actor or "import",
        meta.get("crs") or None,
        data=path.read_bytes(),
        allow_bad=skip_bad,
        source=shown.name,
    )
    if plan.imported is None:
        raise refuse_bad_rows(plan)
    shutil.rmtree(Path(folder) / token, ignore_errors=True)
    return {"imported": plan.imported, "skipped_bad": len(plan.bad), "summary": plan.summary()}
