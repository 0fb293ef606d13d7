"""The OpenAPI 3.1 description of the JSON API, generated from the tables in this module.

:data:`ENDPOINTS` lists every ``/api/`` route with its parameters and answer; a test checks
that it names exactly the routes the app registers.  Parameter limits come from
:mod:`geoapp.queries`, so the document and the code cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import queries
from ..domain import STATUSES

JSON = "application/json"
GEOJSON = queries.GEOJSON


def _nullable(kind: str, **extra) -> dict:
    return {"type": [kind, "null"], **extra}


STR, NSTR = {"type": "string"}, _nullable("string")
INT, NINT = {"type": "integer"}, _nullable("integer")
NUM, NNUM = {"type": "number"}, _nullable("number")
BBOX = {"type": "array", "items": NUM, "minItems": 4, "maxItems": 4}


def _object(properties: dict, required: bool = True, **extra) -> dict:
    out = {"type": "object", "properties": properties, **extra}
    if required:
        out["required"] = list(properties)
    return out


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _feature(properties: str, geometry: str = "Geometry") -> dict:
    return _object(
        {
            "type": {"const": "Feature"},
            "id": {"type": ["string", "integer"]},
            "geometry": {"oneOf": [_ref(geometry), {"type": "null"}]},
            "properties": _ref(properties),
        },
        required=False,
    ) | {"required": ["type", "geometry", "properties"]}


def _collection(feature: str, **members) -> dict:
    return _object(
        {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": _ref(feature)},
            **members,
        },
        required=False,
    ) | {"required": ["type", "features"]}


UNIT_REF = _object({"id": STR, "name": STR, "contact": NSTR, "phone": NSTR})
PROBLEM_PROPERTIES = {
    "id": INT,
    "problem_id": STR,
    "round": NSTR,
    "category": NSTR,
    "category_label": NSTR,
    "description": NSTR,
    "deduction": NUM,
    "reported_at": {"type": "string", "format": "date-time"},
    "status": STR,
    "status_label": NSTR,
    "area_id": NSTR,
    "area_name": NSTR,
    "district_id": NSTR,
    "district_name": NSTR,
    "responsible_unit_id": NSTR,
    "responsible_unit_name": NSTR,
    "lead_unit_id": NSTR,
    "lead_unit_name": NSTR,
    "rule_id": NSTR,
    "generation": NINT,
}
LINK = _object({"rel": STR, "type": STR, "href": STR})
TOTAL = _object({"id": NSTR, "name": NSTR, "problems": INT, "deduction": NUM})
LEDGER_TOTALS = _object(
    {
        "problems": INT,
        "duplicates": INT,
        "deduction": NUM,
        "open": INT,
        "overdue": INT,
        "closed": INT,
        "on_time": INT,
        "late": INT,
        "closed_unknown": INT,
        "on_time_rate": NNUM,
    }
)

SCHEMAS: dict[str, dict] = {
    "Error": _object(
        {
            "error": STR | {"description": "machine-readable code, e.g. bad_parameter"},
            "message": STR | {"description": "what is wrong, naming the parameter"},
            "details": {"type": "array", "items": STR},
        },
        required=False,
    )
    | {"required": ["error", "message"]},
    "Point": _object(
        {
            "type": {"const": "Point"},
            "coordinates": {"type": "array", "items": NUM, "minItems": 2, "maxItems": 2},
        }
    ),
    "Geometry": _object(
        {
            "type": {"enum": ["Point", "Polygon", "MultiPolygon"]},
            "coordinates": {"type": "array"},
        }
    ),
    "DistrictProperties": _object(
        {
            "id": STR,
            "name": STR,
            "lead_unit_id": NSTR,
            "lead_unit_name": NSTR,
            "lead_unit_contact": NSTR,
            "lead_unit_phone": NSTR,
            "colour": STR | {"description": "#rrggbb, from geoapp.maps.DISTRICT_COLOURS"},
            "area_count": INT,
            "label_point": {
                "type": "array",
                "items": NUM,
                "description": "[lon, lat] inside the district, for its label",
            },
        }
    ),
    "District": _feature("DistrictProperties"),
    "Districts": _collection("District", generation=NINT),
    "AreaProperties": _object(
        {
            "id": STR,
            "name": STR,
            "kind": NSTR,
            "kind_label": NSTR,
            "district_id": NSTR,
            "district_name": NSTR,
            "responsible_unit_id": NSTR,
            "responsible_unit_name": NSTR,
            "contact": NSTR,
            "phone": NSTR,
        }
    ),
    "Area": _feature("AreaProperties"),
    "Areas": _collection("Area", generation=NINT),
    "UnitProperties": _object(
        {
            "id": STR,
            "name": STR,
            "kind": NSTR,
            "kind_label": NSTR,
            "contact": NSTR,
            "phone": NSTR,
            "lead_district_id": NSTR,
            "area_count": INT,
        }
    ),
    "Unit": _feature("UnitProperties", "Point"),
    "Units": _collection("Unit", generation=NINT),
    "ProblemProperties": _object(PROBLEM_PROPERTIES),
    "Problem": _feature("ProblemProperties", "Point"),
    "Problems": _collection(
        "Problem",
        numberMatched=INT,
        numberReturned=INT,
        links={"type": "array", "items": LINK},
    ),
    "ProblemEvent": _object(
        {
            "at": {"type": "string", "format": "date-time"},
            "actor": NSTR,
            "kind": STR,
            "detail": {"description": "JSON detail of the event (before/after, …)"},
            "note": NSTR,
        }
    ),
    "ProblemDetailProperties": _object(
        PROBLEM_PROPERTIES
        | {
            "source_crs": NSTR,
            "source_x": NNUM,
            "source_y": NNUM,
            "events": {"type": "array", "items": _ref("ProblemEvent")},
        }
    ),
    "ProblemDetail": _feature("ProblemDetailProperties", "Point"),
    "ClusterProperties": {
        "oneOf": [
            _object({"count": {"const": 1}, "id": INT, "status": STR, "deduction": NUM}),
            _object(
                {
                    "count": {"type": "integer", "minimum": 2},
                    "statuses": {"type": "object", "additionalProperties": INT},
                    "deduction": NUM,
                }
            ),
        ]
    },
    "Cluster": _feature("ClusterProperties", "Point"),
    "Clusters": _collection(
        "Cluster",
        numberMatched=INT | {"description": "problems drawn: filters and bbox"},
        numberFiltered=INT | {"description": "problems matching the filters anywhere"},
        zoom=NUM,
        cellPixels=NUM,
    ),
    "SearchResult": _object(
        {
            "type": {"enum": ["district", "area", "unit"]},
            "id": STR,
            "name": STR,
            "label": STR,
            "bbox": {"oneOf": [BBOX, {"type": "null"}]},
        }
    ),
    "SearchResults": {"type": "array", "items": _ref("SearchResult"), "maxItems": 20},
    "Total": TOTAL,
    "Summary": _object(
        {
            "problems": INT,
            "deduction": NUM,
            "open": INT,
            "by_status": {"type": "object", "additionalProperties": INT},
            "by_category": {"type": "array", "items": _ref("Total")},
            "by_unit": {"type": "array", "items": _ref("Total")},
            "by_district": {"type": "array", "items": _ref("Total")},
        }
    ),
    "LedgerTotals": LEDGER_TOTALS,
    "LedgerRow": _object(
        {
            "id": NSTR,
            "name": NSTR,
            **LEDGER_TOTALS["properties"],
            "lead_unit_id": NSTR,
            "lead_unit_name": NSTR,
            "deadline_hours": NNUM,
        },
        required=False,
    )
    | {"required": ["id", "name", *LEDGER_TOTALS["properties"]]},
    "Ledger": _object(
        {
            "group": {"type": "string", "enum": ["unit", "district", "category"]},
            "filters": {"type": "object", "additionalProperties": {"type": "array", "items": STR}},
            "generated_at": STR,
            "totals": _ref("LedgerTotals"),
            "rows": {"type": "array", "items": _ref("LedgerRow")},
            "daily": {
                "type": "array",
                "items": _object({"date": STR, "new": INT, "closed": INT}),
            },
            "ranking": _object(
                {
                    "accountability": {"type": "array", "items": STR},
                    "commendation": {"type": "array", "items": STR},
                    "ranks": {"type": "object", "additionalProperties": INT},
                }
            ),
        },
        required=False,
    )
    | {"required": ["group", "filters", "generated_at", "totals", "rows", "daily"]},
    "Lookup": _object(
        {
            "lon": NUM,
            "lat": NUM,
            "generation": INT,
            "area": _nullable("object"),
            "district": _nullable("object"),
            "responsible_unit": {"oneOf": [UNIT_REF, {"type": "null"}]},
            "lead_unit": {"oneOf": [UNIT_REF, {"type": "null"}]},
            "covering_areas": {"type": "array", "items": STR},
        },
        required=False,
    ),
    "OpenAPI": {"type": "object"},
}


def _list_param(what: str, enum: list[str] | None = None) -> dict:
    items = {"type": "string"} | ({"enum": enum} if enum else {})
    return {
        "schema": {"type": "array", "items": items},
        "style": "form",
        "explode": True,
        "description": f"{what}; repeat the parameter or separate values by commas for 'any of'",
    }


PARAMETERS: dict[str, dict] = {
    "group": {
        "schema": {"type": "string", "enum": ["unit", "district", "category"], "default": "unit"},
        "description": "how the ledger's rows are grouped: per responsible unit, district or "
        "problem category",
    },
    "generation": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "boundary generation id; default the current (published) one",
    },
    "display_crs": {
        "schema": {"type": "string", "enum": list(queries.DISPLAY_CRS), "default": "wgs84"},
        "description": "coordinate system of the answer's coordinates (and of bbox): gcj02 "
        "for AMap/Tencent basemaps, bd09 for Baidu",
    },
    "bbox": {
        "schema": {"type": "string", "pattern": r"^[^,]+,[^,]+,[^,]+,[^,]+$"},
        "description": "minlon,minlat,maxlon,maxlat in the display CRS, edges included",
        "example": "114.90,28.20,114.95,28.25",
    },
    "round": _list_param("inspection round, e.g. 市级评估"),
    "category": _list_param("problem category code (see categories.csv)"),
    "status": _list_param("problem status", list(queries.KNOWN_STATUSES)),
    "district": _list_param("district id, e.g. D1"),
    "unit": _list_param("responsible unit id, e.g. U08"),
    "date_from": {
        "schema": {"type": "string", "format": "date"},
        "description": "first Beijing date (YYYY-MM-DD) of reported_at, inclusive",
    },
    "date_to": {
        "schema": {"type": "string", "format": "date"},
        "description": "last Beijing date (YYYY-MM-DD) of reported_at, inclusive",
    },
    "limit": {
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": queries.MAX_LIMIT,
            "default": queries.DEFAULT_LIMIT,
        },
        "description": "page size",
    },
    "offset": {
        "schema": {"type": "integer", "minimum": 0, "default": 0},
        "description": "problems to skip (sorted by id)",
    },
    "zoom": {
        "required": True,
        "schema": {"type": "number", "minimum": 0, "maximum": queries.MAX_ZOOM},
        "description": "Web Mercator zoom level of the map; from 18 on every problem is single",
    },
    "simplify": {
        "schema": {"type": "number", "minimum": 0, "maximum": queries.MAX_SIMPLIFY_M},
        "description": "simplification tolerance in metres (0: exact); shared edges stay shared",
    },
    "q": {
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "part of a name or id, case-insensitive",
    },
    "lon": {"required": True, "schema": NUM, "description": "longitude (x) in crs"},
    "lat": {"required": True, "schema": NUM, "description": "latitude (y) in crs"},
    "crs": {
        "schema": {"type": "string", "default": "wgs84"},
        "description": "wgs84, cgcs2000, gcj02, bd09 or EPSG:n",
    },
    "problem_pk": {
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
        "description": "the problem's internal id (the id property)",
    },
    "If-None-Match": {
        "in": "header",
        "schema": STR,
        "description": "an ETag from an earlier answer: 304 without a body if unchanged",
    },
}

FILTERS = list(queries.FILTER_PARAMS)


@dataclass(frozen=True)
class Endpoint:
    path: str
    endpoint: str
    summary: str
    schema: str
    parameters: list[str] = field(default_factory=list)
    media: str = GEOJSON
    conditional: bool = True
    description: str = ""


ENDPOINTS: list[Endpoint] = [
    Endpoint(
        "/api/lookup",
        "api.lookup",
        "Who is responsible for a point",
        "Lookup",
        ["lon", "lat", "crs", "generation"],
        media=JSON,
        conditional=False,
        description="`area` and the units are null outside the county.",
    ),
    Endpoint(
        "/api/districts",
        "api.districts",
        "Districts (片区), each the union of its contracted areas",
        "Districts",
        ["generation", "district", "display_crs"],
    ),
    Endpoint(
        "/api/areas",
        "api.areas",
        "Contracted areas (包干区)",
        "Areas",
        ["generation", "district", "unit", "bbox", "simplify", "display_crs"],
    ),
    Endpoint(
        "/api/units",
        "api.units",
        "Units at their offices, with how many areas each answers for",
        "Units",
        ["generation", "display_crs"],
    ),
    Endpoint(
        "/api/problems",
        "api.problems",
        "Problem points (问题点), filtered and paged (OGC API Features style)",
        "Problems",
        [*FILTERS, "bbox", "limit", "offset", "display_crs"],
    ),
    Endpoint(
        "/api/problems.geojson",
        "api.problems_geojson",
        "Every problem matching the filters, unpaged (same features as /api/problems)",
        "Problems",
        [*FILTERS, "bbox", "display_crs"],
    ),
    Endpoint(
        "/api/problems/{problem_pk}",
        "api.problem",
        "One problem with its history",
        "ProblemDetail",
        ["problem_pk", "display_crs"],
    ),
    Endpoint(
        "/api/problems/clusters",
        "api.problem_clusters",
        "Problems clustered on a grid of about 60 screen pixels, for the map",
        "Clusters",
        ["zoom", *FILTERS, "bbox", "display_crs"],
        description="A feature with count 1 is one problem (id, status, deduction); a larger "
        "count is a cluster at the mean position with its statuses and total deduction.",
    ),
    Endpoint(
        "/api/search",
        "api.search",
        "Find districts, areas and units by name or id",
        "SearchResults",
        ["q", "generation", "display_crs"],
        media=JSON,
    ),
    Endpoint(
        "/api/summary",
        "api.summary",
        "Totals of the filtered problems by status, category, unit and district",
        "Summary",
        [*FILTERS, "bbox", "display_crs"],
        media=JSON,
    ),
    Endpoint(
        "/api/ledger",
        "api.ledger",
        "The deduction ledger (台账) of the filtered problems",
        "Ledger",
        ["group", *FILTERS],
        media=JSON,
        conditional=False,
        description="Per group: problems, duplicates, deduction points (a duplicate's count "
        "0), open, overdue (open past the category's deadline), closed, rectified on time / "
        "late / time unknown, on-time rate. With group=unit, the ranking of the circulated "
        "report. `daily`: new and closed problems per Beijing day.",
    ),
    Endpoint(
        "/api/openapi.json",
        "api.openapi_document",
        "This document",
        "OpenAPI",
        media=JSON,
        conditional=False,
    ),
]


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {JSON: {"schema": _ref("Error")}},
    }


def _operation(e: Endpoint) -> dict:
    params = [{"$ref": f"#/components/parameters/{p}"} for p in e.parameters]
    ok = {
        "description": "OK",
        "content": {e.media: {"schema": _ref(e.schema)}},
    }
    responses: dict[str, dict] = {"200": ok}
    if e.conditional:
        params.append({"$ref": "#/components/parameters/If-None-Match"})
        ok["headers"] = {
            "ETag": {"schema": STR, "description": "strong validator of this answer"},
            "Cache-Control": {"schema": {"const": "no-cache"}},
        }
        responses["304"] = {"description": "Not modified: the If-None-Match tag still holds"}
    if e.parameters:
        responses["400"] = _error("A parameter is malformed or names something unknown")
    if "problem_pk" in e.parameters:
        responses["404"] = _error("No problem with this id")
    if e.endpoint == "api.lookup":
        responses["409"] = _error("No boundary generation is published yet")
    op = {
        "operationId": e.endpoint.removeprefix("api."),
        "summary": e.summary,
        "parameters": params,
        "responses": responses,
    }
    if e.description:
        op["description"] = e.description
    return op


def document(root: str = "") -> dict:
    """The OpenAPI 3.1 document; ``root`` is the app's URL prefix (``request.script_root``)."""
    parameters = {}
    for name, spec in PARAMETERS.items():
        parameters[name] = {"name": name, "in": spec.get("in", "query")} | {
            k: v for k, v in spec.items() if k != "in"
        }
        if name in queries.LIST_FILTERS:
            parameters[name]["required"] = False
    statuses = ", ".join(f"{k} ({v})" for k, v in STATUSES.items())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "geoapp: county sanitation responsibility map",
            "version": "1",
            "description": (
                "Districts (片区), contracted areas (包干区), units and problem points (问题点) of "
                "the sanitation campaign. Coordinates are WGS84 (RFC 7946) unless display_crs "
                f"says otherwise; times are ISO 8601 in Beijing time (+08:00). Statuses: "
                f"{statuses}. Errors are JSON {{error, message}}."
            ),
        },
        "servers": [{"url": root or "/"}],
        "paths": {e.path: {"get": _operation(e)} for e in ENDPOINTS},
        "components": {"schemas": SCHEMAS, "parameters": parameters},
    }


def flask_path(path: str) -> str:
    """An OpenAPI path in Flask's rule syntax (the one converter used here: int)."""
    return path.replace("{problem_pk}", "<int:problem_pk>")
