"""The map's reads: who is responsible where, districts, areas, units, problem points (paged,
unpaged, one, clustered), search and totals."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, RootModel

from geoapp.core.model import URGENCY
from geoapp.services import map_features, query_params, reference
from geoapp.web.schemas.base import GEOJSON, Answer, Feature, Geometry, Link, Point, Query, Route

Urgency = Literal[URGENCY]  # type: ignore[valid-type]
Status = Literal[reference.KNOWN_STATUSES]  # type: ignore[valid-type]
AnyOf = "; repeat the parameter or separate values by commas for 'any of'"


# --- query parameters ------------------------------------------------------------------------
class DisplayQuery(Query):
    display_crs: Literal[query_params.DISPLAY_CRS] = Field(  # type: ignore[valid-type]
        "wgs84",
        description="coordinate system of the answer's coordinates (and of bbox): gcj02 for "
        "AMap/Tencent basemaps, bd09 for Baidu",
    )


class GenerationQuery(DisplayQuery):
    generation: int | None = Field(
        None,
        ge=1,
        le=query_params.MAX_ID,
        description="boundary generation id; default the current",
    )


class DistrictsQuery(GenerationQuery):
    district: list[str] | None = Field(None, description="district id, e.g. D1" + AnyOf)


class BBoxQuery(Query):
    bbox: str | None = Field(
        None,
        pattern=r"^[^,]+,[^,]+,[^,]+,[^,]+$",
        description="minlon,minlat,maxlon,maxlat in the display CRS, edges included",
        examples=["114.90,28.20,114.95,28.25"],
    )


class AreasQuery(DistrictsQuery, BBoxQuery):
    unit: list[str] | None = Field(None, description="responsible unit id, e.g. U08" + AnyOf)
    simplify: float | None = Field(
        None,
        ge=0,
        le=query_params.MAX_SIMPLIFY_M,
        description="simplification tolerance in metres (0: exact); shared edges stay shared",
    )


class ProblemFilters(Query):
    """The problem filters (query_params.FILTER_PARAMS)."""

    round: list[str] | None = Field(None, description="inspection round, e.g. 市级评估" + AnyOf)
    category: list[str] | None = Field(None, description="problem category code" + AnyOf)
    status: list[Status] | None = Field(None, description="problem status" + AnyOf)
    district: list[str] | None = Field(None, description="district id, e.g. D1" + AnyOf)
    unit: list[str] | None = Field(None, description="responsible unit id, e.g. U08" + AnyOf)
    date_from: date | None = Field(None, description="first Beijing date of reported_at")
    date_to: date | None = Field(None, description="last Beijing date of reported_at")


class FilterQuery(ProblemFilters, DisplayQuery, BBoxQuery):
    """The problem filters, the box and the display CRS."""


class PagedQuery(FilterQuery):
    limit: int = Field(
        query_params.DEFAULT_LIMIT, ge=1, le=query_params.MAX_LIMIT, description="page size"
    )
    offset: int = Field(0, ge=0, le=query_params.MAX_ID, description="problems to skip (by id)")


class ClustersQuery(FilterQuery):
    zoom: float = Field(
        ge=0,
        le=query_params.MAX_ZOOM,
        description="Web Mercator zoom level of the map; from 18 on every problem is single",
    )


class SearchQuery(GenerationQuery):
    q: str = Field(min_length=1, description="part of a name or id, case-insensitive")


class LookupQuery(Query):
    lon: float = Field(description="longitude (x) in crs")
    lat: float = Field(description="latitude (y) in crs")
    crs: str = Field("wgs84", description="wgs84, cgcs2000, gcj02, bd09 or EPSG:n")
    generation: int | None = Field(None, ge=1, le=query_params.MAX_ID)


# --- answers ---------------------------------------------------------------------------------
class Named(Answer):
    id: str
    name: str | None


class UnitRef(Answer):
    id: str
    name: str
    contact: str | None
    phone: str | None


class LookupArea(Answer):
    id: str
    name: str | None
    kind: str | None
    kind_label: str | None = None


class Lookup(Answer):
    lon: float
    lat: float
    generation: int
    area: LookupArea | None = Field(description="null outside the county")
    district: Named | None
    responsible_unit: UnitRef | None
    lead_unit: UnitRef | None
    covering_areas: list[str] = Field([], description="every area covering the point")


class DistrictProperties(Answer):
    id: str
    name: str
    lead_unit_id: str | None
    lead_unit_name: str | None
    lead_unit_contact: str | None
    lead_unit_phone: str | None
    colour: str = Field(description="#rrggbb, from geoapp.web.maps.DISTRICT_COLOURS")
    area_count: int
    label_point: list[float] = Field(description="[lon, lat] inside the district, for its label")


class District(Feature):
    geometry: Geometry | None
    properties: DistrictProperties


class Districts(Answer):
    type: Literal["FeatureCollection"]
    features: list[District]
    generation: int | None


class AreaProperties(Answer):
    id: str
    name: str
    kind: str | None
    kind_label: str | None
    district_id: str | None
    district_name: str | None
    responsible_unit_id: str | None
    responsible_unit_name: str | None
    contact: str | None
    phone: str | None
    label_point: list[float] = Field(description="[lon, lat] inside the area, for its name")
    area_m2: float = Field(description="its size in m², which name wins where two would overlap")


class Area(Feature):
    geometry: Geometry | None
    properties: AreaProperties


class Areas(Answer):
    type: Literal["FeatureCollection"]
    features: list[Area]
    generation: int | None


class UnitProperties(Answer):
    id: str
    name: str
    kind: str | None
    kind_label: str | None
    contact: str | None
    phone: str | None
    lead_district_id: str | None
    area_count: int


class Unit(Feature):
    geometry: Point | None
    properties: UnitProperties


class Units(Answer):
    type: Literal["FeatureCollection"]
    features: list[Unit]
    generation: int | None


class ProblemProperties(Answer):
    id: int
    problem_id: str
    round: str | None
    category: str | None
    category_label: str | None
    description: str | None
    deduction: float
    reported_at: str = Field(description="ISO 8601, Beijing time")
    status: str
    status_label: str | None
    area_id: str | None
    area_name: str | None
    district_id: str | None
    district_name: str | None
    responsible_unit_id: str | None
    responsible_unit_name: str | None
    lead_unit_id: str | None
    lead_unit_name: str | None
    rule_id: str | None
    generation: int | None
    due_at: str | None = Field(description="reported_at plus the category's deadline")
    overdue: bool = Field(description="still open after its deadline")
    duplicate_of: int | None = Field(description="id of the problem this one duplicates")


class Problem(Feature):
    geometry: Point | None
    properties: ProblemProperties


class Problems(Answer):
    type: Literal["FeatureCollection"]
    features: list[Problem]
    numberMatched: int | None = None
    numberReturned: int | None = None
    links: list[Link] | None = None


class Photo(Answer):
    id: int
    content_type: Literal["image/jpeg", "image/png"]
    bytes: int
    url: str
    uploaded_at: str | None = Field(None, description="in a problem's detail")
    uploaded_by: str | None = Field(None, description="in a problem's detail")
    stage: Literal["after"] | None = Field(
        None, description="in a problem's detail: `after` for a photo of the rectified place"
    )


class ProblemEvent(Answer):
    at: str
    actor: str | None
    kind: str
    detail: Any = Field(description="JSON detail of the event (before/after, …)")
    note: str | None


class ProblemDetailProperties(ProblemProperties):
    source_crs: str | None
    source_x: float | None
    source_y: float | None
    photos: list[Photo]
    events: list[ProblemEvent]


class ProblemDetail(Feature):
    geometry: Point | None
    properties: ProblemDetailProperties


class SingleProperties(Answer):
    count: Literal[1]
    id: int
    status: str
    overdue: bool
    worst: Urgency
    deduction: float


class ClusterProperties(Answer):
    count: int = Field(ge=2)
    statuses: dict[str, int]
    overdue: int
    ring: list[tuple[Urgency, int]] = Field(
        description="problems per urgency class, most urgent first (an overdue problem only "
        "as overdue)"
    )
    worst: Urgency = Field(description="the ring's first class: the colour the map draws")
    deduction: float


class Cluster(Feature):
    geometry: Point | None
    properties: SingleProperties | ClusterProperties


class Clusters(Answer):
    type: Literal["FeatureCollection"]
    features: list[Cluster]
    numberMatched: int = Field(description="problems drawn: filters and bbox")
    numberFiltered: int = Field(description="problems matching the filters anywhere")
    zoom: float
    cellPixels: float


class SearchResult(Answer):
    type: Literal["district", "area", "unit"]
    id: str
    name: str
    label: str
    bbox: list[float] | None = Field(min_length=4, max_length=4)


class SearchResults(RootModel[list[SearchResult]]):
    root: list[SearchResult] = Field(max_length=map_features.SEARCH_LIMIT)


class Total(Answer):
    id: str | None
    name: str | None
    problems: int
    deduction: float


class Summary(Answer):
    problems: int
    deduction: float
    open: int
    by_status: dict[str, int]
    by_category: list[Total]
    by_unit: list[Total]
    by_district: list[Total]


CLUSTERS_TEXT = (
    "A feature with count 1 is one problem; a larger count is a cluster at the mean position "
    "with its statuses, overdue count, ring and total deduction."
)
ROUTES = [
    Route("get", "/api/lookup", "api.lookup", "Who is responsible for a point", Lookup,
          LookupQuery, errors=(400, 409), description="`area` and the units are null outside "
          "the county; 409 while no boundary generation is published."),
    Route("get", "/api/districts", "api.districts", "Districts (片区), each the union of its "
          "areas", Districts, DistrictsQuery, media=GEOJSON),
    Route("get", "/api/areas", "api.areas", "Contracted areas (包干区)", Areas, AreasQuery,
          media=GEOJSON),
    Route("get", "/api/units", "api.units", "Units at their offices", Units, GenerationQuery,
          media=GEOJSON),
    Route("get", "/api/problems", "api.problems", "Problem points (问题点), filtered and paged",
          Problems, PagedQuery, media=GEOJSON),
    Route("get", "/api/problems.geojson", "api.problems_geojson", "Every problem matching the "
          "filters, unpaged", Problems, FilterQuery, media=GEOJSON),
    Route("get", "/api/problems/{problem_pk}", "api.problem", "One problem with its photos and "
          "history", ProblemDetail, DisplayQuery, media=GEOJSON, errors=(400, 404)),
    Route("get", "/api/problems/clusters", "api.problem_clusters", "Problems clustered on a "
          "grid of about 60 screen pixels", Clusters, ClustersQuery, media=GEOJSON,
          description=CLUSTERS_TEXT),
    Route("get", "/api/search", "api.search", "Districts, areas and units by name or id",
          SearchResults, SearchQuery),
    Route("get", "/api/summary", "api.summary", "Totals of the filtered problems", Summary,
          FilterQuery),
]  # fmt: skip
