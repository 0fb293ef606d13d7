"""Intake of problem points, the pure part: checking a report, sniffing photos, finding likely
duplicates.  No Flask, no SQL.

A *likely duplicate* is a new problem within :data:`DUPLICATE_RADIUS_M` metres of an open
problem of the same category.  Distances are great-circle (haversine) metres; candidates are
first narrowed with an STRtree over local metric coordinates (an equirectangular projection
around the points' mean latitude, good to millimetres at this scale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from geoapp.core.messages import N_, Explained, Translate, fill, untranslated

DUPLICATE_RADIUS_M = 30.0
EARTH_RADIUS_M = 6_371_008.8
MAX_TEXT = 2000
MAX_DEDUCTION = 100.0

#: Image types accepted for photos, by their first bytes (never by the file's name).
IMAGE_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


class ReportError(Explained, ValueError):
    """A report (or an edit) is incomplete or malformed; ``field`` names the bad field."""

    message_arg = 1

    def __init__(self, field: str, message: str, /, **values) -> None:
        self.field = field
        super().__init__(message, **values)

    def render(self, translate: Translate = untranslated) -> str:
        where = {"field": self.field, "message": super().render(translate)}
        return fill(translate(N_("%(field)s: %(message)s")), where)


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """``(content_type, extension)`` of a JPEG or PNG by its content; None otherwise."""
    for magic, content_type, ext in IMAGE_SIGNATURES:
        if not data.startswith(magic):
            continue
        if ext == "png":
            # the first chunk is a 13-byte IHDR with a non-zero width and height
            if len(data) < 33 or data[8:16] != b"\0\0\0\rIHDR":
                return None
            if data[16:20] == b"\0\0\0\0" or data[20:24] == b"\0\0\0\0":
                return None
        elif len(data) < 4 or not (0xC0 <= data[3] <= 0xFE):
            return None  # SOI must be followed by a marker
        return content_type, ext
    return None


def _text(payload: Mapping, field: str, required: bool = False) -> str | None:
    value = payload.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ReportError(field, N_("is required"))
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ReportError(field, N_("must be text, got %(name)s"), name=type(value).__name__)
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ReportError(field, N_("is longer than %(max_text)s characters"), max_text=MAX_TEXT)
    return text


def _number(payload: Mapping, field: str, required: bool = False) -> float | None:
    value = payload.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ReportError(field, N_("is required"))
        return None
    if isinstance(value, bool):
        raise ReportError(field, N_("must be a number, got %(value)r"), value=value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ReportError(field, N_("must be a number, got %(value)r"), value=value) from None
    if not math.isfinite(number):
        raise ReportError(field, N_("must be a finite number, got %(value)r"), value=value)
    return number


def check_position(lon: float, lat: float, field_prefix: str = "") -> None:
    """Longitude in [-180, 180], latitude in [-90, 90] (in the input CRS, before conversion)."""
    if not -180.0 <= lon <= 180.0:
        raise ReportError(
            f"{field_prefix}lon", N_("%(lon)s is not a longitude (-180 to 180)"), lon=lon
        )
    if not -90.0 <= lat <= 90.0:
        raise ReportError(
            f"{field_prefix}lat", N_("%(lat)s is not a latitude (-90 to 90)"), lat=lat
        )


def parse_report(payload: object, categories: Mapping[str, str]) -> dict:
    """Check a report's fields; returns them cleaned.

    ``categories`` maps every accepted spelling (code, Chinese name) to the category code.
    Returns lon, lat (as given, in ``crs``), crs, category, round, deduction, description,
    reported_at (text, parsed by the caller), reporter, problem_id, duplicate_of.
    """
    if not isinstance(payload, Mapping):
        raise ReportError("body", N_("expected a JSON object"))
    known = {
        "lon",
        "lat",
        "crs",
        "category",
        "round",
        "deduction",
        "description",
        "reported_at",
        "reporter",
        "problem_id",
        "duplicate_of",
    }
    unknown = sorted(set(payload) - known)
    if unknown:
        raise ReportError(
            unknown[0], N_("unknown field (known: %(names)s)"), names=", ".join(sorted(known))
        )
    lon = _number(payload, "lon", required=True)
    lat = _number(payload, "lat", required=True)
    assert lon is not None and lat is not None
    check_position(lon, lat)
    cat_text = _text(payload, "category", required=True)
    category = categories.get(cat_text or "")
    if category is None:
        raise ReportError("category", N_("unknown category %(cat_text)r"), cat_text=cat_text)
    deduction = _number(payload, "deduction")
    deduction = 0.0 if deduction is None else deduction
    if not 0 <= deduction <= MAX_DEDUCTION:
        raise ReportError(
            "deduction",
            N_("%(deduction)s is not between 0 and %(max_deduction)s"),
            deduction=deduction,
            max_deduction=format(MAX_DEDUCTION, "g"),
        )
    dup = payload.get("duplicate_of")
    if dup is not None and (isinstance(dup, bool) or not isinstance(dup, int) or dup <= 0):
        raise ReportError(
            "duplicate_of", N_("must be a problem id (a positive integer), got %(dup)r"), dup=dup
        )
    return {
        "lon": lon,
        "lat": lat,
        "crs": _text(payload, "crs") or "wgs84",
        "category": category,
        "round": _text(payload, "round", required=True),
        "deduction": deduction,
        "description": _text(payload, "description") or "",
        "reported_at": _text(payload, "reported_at"),
        "reporter": _text(payload, "reporter"),
        "problem_id": _text(payload, "problem_id"),
        "duplicate_of": dup,
    }


# --- distances and likely duplicates --------------------------------------------------------
def haversine_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bbox_around(lon: float, lat: float, radius_m: float = DUPLICATE_RADIUS_M) -> tuple:
    """A lon/lat box surely containing every point within ``radius_m`` of (lon, lat), for a
    prefilter in SQL."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.01
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


@dataclass(frozen=True)
class Candidate:
    """An open problem a new one may duplicate."""

    key: object  # the problem's id (or a row label for rows of the same file)
    category: str
    lon: float
    lat: float


def likely_duplicates(
    lon: Sequence[float],
    lat: Sequence[float],
    categories: Sequence[str],
    candidates: Sequence[Candidate],
    radius_m: float = DUPLICATE_RADIUS_M,
) -> list[list[tuple[object, float]]]:
    """For each new point, the candidates of its category within ``radius_m`` metres,
    nearest first, as ``(key, distance_m)``."""
    n = len(lon)
    out: list[list[tuple[object, float]]] = [[] for _ in range(n)]
    if n == 0 or not candidates:
        return out
    x_new = np.asarray(lon, dtype=float)
    y_new = np.asarray(lat, dtype=float)
    cx = np.array([c.lon for c in candidates], dtype=float)
    cy = np.array([c.lat for c in candidates], dtype=float)
    lat0 = math.radians(float(np.nanmean(np.concatenate([y_new, cy]))))
    kx = EARTH_RADIUS_M * math.cos(lat0) * math.pi / 180
    ky = EARTH_RADIUS_M * math.pi / 180
    tree = shapely.STRtree(shapely.points(cx * kx, cy * ky))
    ok = np.isfinite(x_new) & np.isfinite(y_new)
    pts = shapely.points(np.where(ok, x_new, 0) * kx, np.where(ok, y_new, 0) * ky)
    # 1 % slack for the local projection; the exact test below decides
    pairs = tree.query(pts, predicate="dwithin", distance=radius_m * 1.01 + 1.0)
    if pairs.size == 0:
        return out
    i_new, i_cand = pairs
    dist = haversine_m(x_new[i_new], y_new[i_new], cx[i_cand], cy[i_cand])
    for i, j, d in zip(i_new.tolist(), i_cand.tolist(), dist.tolist(), strict=True):
        if ok[i] and d <= radius_m and candidates[j].category == categories[i]:
            out[i].append((candidates[j].key, round(d, 1)))
    for found in out:
        found.sort(key=lambda kd: kd[1])
    return out
