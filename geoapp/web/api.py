"""The JSON API. Thin: parse, call one service, serialise."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from .. import services
from ..crs import CRSError
from ..domain import AREA_KINDS
from . import get_store

bp = Blueprint("api", __name__)


def _float_arg(name: str) -> float:
    raw = request.args.get(name)
    if raw is None or not raw.strip():
        raise CRSError(f"the query parameter {name!r} is required")
    try:
        value = float(raw)
    except ValueError:
        raise CRSError(f"{name}={raw!r} is not a number") from None
    return value


@bp.get("/lookup")
def lookup():
    """Who is responsible at ``lon``/``lat`` (optional ``crs``, ``generation``)."""
    lon, lat = _float_arg("lon"), _float_arg("lat")
    generation = request.args.get("generation", type=int)
    result = services.lookup(get_store(), lon, lat, request.args.get("crs"), generation)
    if result["area"]:
        result["area"]["kind_label"] = AREA_KINDS.get(result["area"]["kind"])
    return jsonify(result)


@bp.get("/problems.geojson")
def problems_geojson():
    """Every problem as GeoJSON points with the names the map's popups show."""
    store = get_store()
    areas = {
        a["area_id"]: a["name"]
        for a in store.areas().drop(columns="geometry").to_dict(orient="records")
    }
    units = {u["unit_id"]: u["name"] for u in store.list_units()}
    cats = {c["category"]: c["name_zh"] for c in store.list_categories()}
    features = []
    for p in store.problems():
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                "properties": {
                    "id": p["id"],
                    "problem_id": p["problem_id"],
                    "round": p["round"],
                    "category": p["category"],
                    "category_label": cats.get(p["category"]),
                    "description": p["description"],
                    "deduction": p["deduction"],
                    "reported_at": p["reported_at"],
                    "status": p["status"],
                    "area_id": p["area_id"],
                    "area_name": areas.get(p["area_id"]),
                    "responsible_unit": units.get(p["responsible_unit_id"]),
                    "generation": p["generation_id"],
                    "rule": p["rule_id"],
                },
            }
        )
    resp = jsonify({"type": "FeatureCollection", "features": features})
    resp.mimetype = "application/geo+json"
    return resp
