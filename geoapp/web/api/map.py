"""The read side of the map: lookups, districts, areas, units, problems, clusters, search and
summary (conditional GETs, see :mod:`geoapp.web.answers`)."""

from __future__ import annotations

from flask import jsonify, request, url_for

from geoapp.core.model import AREA_KINDS
from geoapp.services import map_features, mapping, problem_reads
from geoapp.web import permissions
from geoapp.web.answers import _args, _float_arg, _geojson, _json, _locale, answer_time, conditional
from geoapp.web.api import bp
from geoapp.web.context import get_store


def _own_problem(problem_pk: int) -> None:
    """A unit account's scope check for one problem, before any cache (see conditional)."""
    if permissions.own_unit() is not None:
        permissions.require_own_unit(problem_reads.problem_unit(get_store(), problem_pk))


@bp.get("/lookup")
def lookup():
    """Who is responsible at ``lon``/``lat`` (optional ``crs``, ``generation``)."""
    lon, lat = _float_arg("lon"), _float_arg("lat")
    generation = request.args.get("generation", type=int)
    result = mapping.lookup(get_store(), lon, lat, request.args.get("crs"), generation)
    if result["area"]:
        result["area"]["kind_label"] = AREA_KINDS.get(result["area"]["kind"])
    return jsonify(result)


@bp.get("/districts")
@conditional
def districts():
    """The districts, each the union of its areas."""
    return _geojson(map_features.districts(get_store(), _args(), _locale()))


@bp.get("/areas")
@conditional
def areas():
    """The contracted areas."""
    return _geojson(map_features.areas(get_store(), _args(), _locale()))


@bp.get("/units")
@conditional
def units():
    """The units at their offices."""
    return _geojson(map_features.units(get_store(), _args(), _locale()))


@bp.get("/problems")
@conditional
def problems():
    """Problem points, filtered and paged."""
    return _geojson(
        problem_reads.problems(
            get_store(), _args(), _locale(), url=request.base_url, now=answer_time()
        )
    )


@bp.get("/problems.geojson")
@conditional
def problems_geojson():
    """All problem points matching the filters, unpaged (kept for the old map page)."""
    return _geojson(
        problem_reads.problems(get_store(), _args(), _locale(), paged=False, now=answer_time())
    )


@bp.get("/problems/<int:problem_pk>")
@conditional(guard=_own_problem)
def problem(problem_pk: int):
    """One problem with its photos and history."""
    feature = problem_reads.problem(get_store(), problem_pk, _args(), _locale(), answer_time())
    permissions.require_own_problem(feature)
    for photo in feature["properties"]["photos"]:
        photo["url"] = url_for("intake.photo", photo_id=photo["id"])
    return _geojson(feature)


@bp.get("/problems/clusters")
@conditional
def problem_clusters():
    """Problems clustered for the map at ``zoom``."""
    return _geojson(
        problem_reads.problem_clusters(get_store(), _args(), _locale(), now=answer_time())
    )


@bp.get("/search")
@conditional
def search():
    """Districts, areas and units by name or id."""
    return _json(map_features.search(get_store(), _args(), _locale()))


@bp.get("/summary")
@conditional
def summary():
    """Totals of the filtered problems."""
    return _json(problem_reads.summary(get_store(), _args(), _locale()))
