"""The OpenAPI 3.1 description of the JSON API, generated from the tables in this module.

:data:`ENDPOINTS` lists every ``/api/`` route with its parameters and answer; a test checks
that it names exactly the routes the app registers.  Parameter limits come from
:mod:`geoapp.services.query_params`, so the document and the code cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geoapp.core.deadlines import MAX_DEADLINE_HOURS
from geoapp.core.model import STATUSES, URGENCY
from geoapp.services import geojson, query_params, reference

JSON = "application/json"
GEOJSON = geojson.GEOJSON


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
    "due_at": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "rectification deadline: reported_at plus the category's deadline",
    },
    "overdue": {"type": "boolean", "description": "still open after its deadline"},
    "duplicate_of": _nullable("integer", description="id of the problem this one duplicates"),
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
            "colour": STR | {"description": "#rrggbb, from geoapp.web.maps.DISTRICT_COLOURS"},
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
    # the export for QGIS: the stored columns as they are (geoapp.store.AREA_COLUMNS)
    "AreaFileProperties": _object(
        {
            "area_id": STR,
            "name": NSTR,
            "kind": NSTR,
            "district_id": NSTR,
            "responsible_unit_id": NSTR,
        },
        required=False,
    )
    | {"required": ["area_id"]},
    "AreaFileFeature": _feature("AreaFileProperties"),
    "AreasFile": _collection("AreaFileFeature"),
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
            "photos": {"type": "array", "items": _ref("Photo")},
            "events": {"type": "array", "items": _ref("ProblemEvent")},
        }
    ),
    "ProblemDetail": _feature("ProblemDetailProperties", "Point"),
    "ClusterProperties": {
        "oneOf": [
            _object(
                {
                    "count": {"const": 1},
                    "id": INT,
                    "status": STR,
                    "overdue": {"type": "boolean"},
                    "worst": {"type": "string", "enum": list(URGENCY)},
                    "deduction": NUM,
                }
            ),
            _object(
                {
                    "count": {"type": "integer", "minimum": 2},
                    "statuses": {"type": "object", "additionalProperties": INT},
                    "overdue": INT,
                    "ring": {
                        "type": "array",
                        "items": {
                            "type": "array",
                            "prefixItems": [{"type": "string", "enum": list(URGENCY)}, INT],
                            "minItems": 2,
                            "maxItems": 2,
                        },
                    },
                    "worst": {"type": "string", "enum": list(URGENCY)},
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
                    "ranks": {"type": "object", "additionalProperties": _nullable("integer")},
                    "ranked_units": INT,
                    "shown_units": {"type": ["array", "null"], "items": STR},
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
    "Generation": _object(
        {
            "id": INT,
            "status": {"enum": ["draft", "published"]},
            "author": NSTR,
            "message": NSTR,
            "created_at": STR,
            "published_at": NSTR,
            "published_by": NSTR,
            "publish_message": NSTR,
            "parent_id": NINT,
            "version": INT,
            "area_count": INT,
            "is_current": {"type": "boolean"},
        },
        required=False,
    ),
    "Generations": _object(
        {"generations": {"type": "array", "items": _ref("Generation")}}, required=False
    ),
    "Drafts": _object({"drafts": {"type": "array", "items": _ref("Generation")}}, required=False),
    "Draft": _object(
        {
            "generation": _ref("Generation"),
            "areas": {"type": "object", "description": "GeoJSON FeatureCollection of the areas"},
            "can_undo": {"type": "boolean"},
            "can_redo": {"type": "boolean"},
            "edits": INT,
            "changed": {"type": "array", "items": STR},
            "kept": {"type": "string", "description": "after a merge: the id that survives"},
        },
        required=False,
    ),
    "Deleted": _object({"deleted": INT}),
    "Validation": _object(
        {
            "generation": INT,
            "version": INT,
            "errors": INT,
            "warnings": INT,
            "findings": {
                "type": "array",
                "items": _object(
                    {
                        "level": {"enum": ["error", "warning"]},
                        "code": STR,
                        "message": STR,
                        "area_ids": {"type": "array", "items": STR},
                        "area_m2": NNUM,
                        "geometry": _nullable("object"),
                    }
                ),
            },
        }
    ),
    "Preview": _object(
        {
            "generation": INT,
            "version": INT,
            "against": INT,
            "changed_areas": {"type": "array", "items": {"type": "object"}},
            "problems": {"type": "array", "items": {"type": "object"}},
            "units": {"type": "array", "items": {"type": "object"}},
            "server_ms": NUM,
        }
    ),
    "Published": {
        "allOf": [_ref("Generation")],
        "type": "object",
        "properties": {"reassigned": INT, "kept": INT, "from": INT},
    },
    "Comparison": _object(
        {
            "a": INT,
            "b": INT,
            "changes": {"type": "array", "items": {"type": "object"}},
            "features": {"type": "object"},
        }
    ),
    "File": {"type": "string", "format": "binary"},
}

EDIT_BODY = _object(
    {
        "version": INT,
        "op": {
            "type": "object",
            "description": "type: move_vertex {from, to: [lon, lat]}; reassign {area_id, "
            "responsible_unit_id?, district_id?, name?}; split {area_id, line: [[lon, lat]…]}; "
            "merge {area_id, other_id} (the older id survives: kept); "
            "delete {area_id, neighbour_id}; add {polygon: "
            "[[lon, lat]…], area_id?, name?, kind?, district_id?, responsible_unit_id?}",
        },
    }
)
VERSION_BODY = _object({"version": INT})
PUBLISH_BODY = _object(
    {
        "version": INT,
        "message": STR,
        "accept_warnings": {"type": "boolean"},
        "note": NSTR,
    },
    required=False,
) | {"required": ["version", "message"]}


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
        "schema": {"type": "string", "enum": list(query_params.DISPLAY_CRS), "default": "wgs84"},
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
    "status": _list_param("problem status", list(reference.KNOWN_STATUSES)),
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
            "maximum": query_params.MAX_LIMIT,
            "default": query_params.DEFAULT_LIMIT,
        },
        "description": "page size",
    },
    "offset": {
        "schema": {"type": "integer", "minimum": 0, "default": 0},
        "description": "problems to skip (sorted by id)",
    },
    "zoom": {
        "required": True,
        "schema": {"type": "number", "minimum": 0, "maximum": query_params.MAX_ZOOM},
        "description": "Web Mercator zoom level of the map; from 18 on every problem is single",
    },
    "simplify": {
        "schema": {"type": "number", "minimum": 0, "maximum": query_params.MAX_SIMPLIFY_M},
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
    "generation_id": {
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
        "description": "a boundary generation's id",
    },
    "a": {"required": True, "schema": INT, "description": "the earlier generation's id"},
    "b": {"required": True, "schema": INT, "description": "the later generation's id"},
    "If-None-Match": {
        "in": "header",
        "schema": STR,
        "description": "an ETag from an earlier answer: 304 without a body if unchanged",
    },
}

FILTERS = list(query_params.FILTER_PARAMS)


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
    method: str = "get"
    body: dict | None = None
    body_media: str = JSON


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
        description="A feature with count 1 is one problem (id, status, overdue, worst, "
        "deduction); a larger count is a cluster at the mean position with its statuses, "
        "overdue count, ring (problems per urgency class, most urgent first: overdue, "
        "reported, assigned, rectifying, other, rectified, verified; an overdue problem "
        "only as overdue), worst (the ring's first class: the colour the map draws) and "
        "total deduction.",
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
    *[
        Endpoint(
            path,
            f"api.{name}",
            summary,
            schema,
            params,
            media=media,
            conditional=False,
            method=method,
            body=body,
            body_media=body_media,
            description=desc,
        )
        for path, name, method, summary, schema, params, media, body, body_media, desc in [
            (
                "/api/drafts",
                "drafts",
                "get",
                "Open drafts of boundary generations",
                "Drafts",
                [],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/drafts",
                "draft_create",
                "post",
                "Start a draft (copy of the current generation, or of parent_id)",
                "Draft",
                [],
                JSON,
                _object({"parent_id": NINT, "message": NSTR}, required=False),
                JSON,
                "",
            ),
            (
                "/api/drafts/upload",
                "draft_upload",
                "post",
                "A whole boundary set from a file "
                "(GeoJSON, GeoPackage, zipped Shapefile; any CRS) as a new draft",
                "Draft",
                [],
                JSON,
                _object({"file": _ref("File"), "message": STR}, required=False),
                "multipart/form-data",
                "",
            ),
            (
                "/api/drafts/{generation_id}",
                "draft",
                "get",
                "A draft with its areas and undo/redo state",
                "Draft",
                ["generation_id"],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/drafts/{generation_id}",
                "draft_discard",
                "delete",
                "Throw a draft away",
                "Deleted",
                ["generation_id"],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/drafts/{generation_id}/edits",
                "draft_edit",
                "post",
                "Apply one edit to the draft",
                "Draft",
                ["generation_id"],
                JSON,
                EDIT_BODY,
                JSON,
                "409 with current_version (and the op, to apply again) when version is stale.",
            ),
            (
                "/api/drafts/{generation_id}/undo",
                "draft_undo",
                "post",
                "Undo the last edit",
                "Draft",
                ["generation_id"],
                JSON,
                VERSION_BODY,
                JSON,
                "",
            ),
            (
                "/api/drafts/{generation_id}/redo",
                "draft_redo",
                "post",
                "Redo the last undone edit",
                "Draft",
                ["generation_id"],
                JSON,
                VERSION_BODY,
                JSON,
                "",
            ),
            (
                "/api/drafts/{generation_id}/validation",
                "draft_validation",
                "get",
                "Errors and warnings of a generation's boundaries, located",
                "Validation",
                ["generation_id"],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/drafts/{generation_id}/preview",
                "draft_preview",
                "get",
                "Which problems, units and areas publishing would change",
                "Preview",
                ["generation_id"],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/drafts/{generation_id}/publish",
                "draft_publish",
                "post",
                "Publish the draft; open problems are re-assigned",
                "Published",
                ["generation_id"],
                JSON,
                PUBLISH_BODY,
                JSON,
                "Refused (400) with errors, or with warnings not accepted "
                "with a note; 409 on a stale version.",
            ),
            (
                "/api/generations",
                "generations",
                "get",
                "Every boundary generation",
                "Generations",
                [],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/generations/compare",
                "generations_compare",
                "get",
                "Areas that differ between two generations",
                "Comparison",
                ["a", "b"],
                JSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/generations/{generation_id}/rollback",
                "generation_rollback",
                "post",
                "Publish an old generation's boundaries again as a new generation",
                "Published",
                ["generation_id"],
                JSON,
                _object({"message": NSTR, "note": NSTR}, required=False),
                JSON,
                "",
            ),
            (
                "/api/generations/{generation_id}/areas.geojson",
                "generation_export_geojson",
                "get",
                "A generation's areas as a GeoJSON file (for QGIS)",
                "AreasFile",
                ["generation_id"],
                GEOJSON,
                None,
                JSON,
                "",
            ),
            (
                "/api/generations/{generation_id}/areas.gpkg",
                "generation_export_gpkg",
                "get",
                "A generation's areas as a GeoPackage file (for QGIS)",
                "File",
                ["generation_id"],
                "application/geopackage+sqlite3",
                None,
                JSON,
                "",
            ),
        ]
    ],
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
        "report: among all units with problems under the filters other than `unit` "
        "(`ranked_units` of them; units without problems have rank null and are never "
        "commended); with a unit filter, or for a unit account, only those units are listed "
        "(`shown_units`), with their places in that ranking. `daily`: new and closed "
        "problems per Beijing day.",
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


NAMED = _object({"id": STR, "name": NSTR})
SCHEMAS |= {
    "ReportBody": _object(
        {
            "lon": NUM | {"description": "x in crs (longitude for geographic systems)"},
            "lat": NUM | {"description": "y in crs"},
            "crs": STR
            | {"default": "wgs84", "description": "wgs84, cgcs2000, gcj02, bd09, EPSG:n"},
            "category": STR | {"description": "category code or its Chinese name"},
            "round": STR | {"description": "inspection round, e.g. 市级评估"},
            "deduction": NUM | {"minimum": 0, "maximum": 100, "default": 0},
            "description": STR,
            "reported_at": STR | {"description": "ISO 8601; Beijing time without an offset"},
            "reporter": STR,
            "problem_id": STR | {"description": "external id; generated when absent"},
            "duplicate_of": INT | {"description": "link at once to the original problem"},
        },
        required=False,
    )
    | {"required": ["lon", "lat", "category", "round"]},
    "PatchBody": _object(
        {
            "lon": NUM,
            "lat": NUM,
            "crs": STR,
            "category": STR,
            "round": STR,
            "deduction": NUM,
            "description": STR,
            "note": STR,
        },
        required=False,
    ),
    "TransitionBody": _object({"to": {"enum": list(STATUSES)}, "note": NSTR}, required=False)
    | {"required": ["to"]},
    "DuplicateBody": _object({"duplicate_of": INT, "note": NSTR}, required=False)
    | {"required": ["duplicate_of"]},
    "NoteBody": _object({"note": NSTR}, required=False),
    "DeadlineBody": _object(
        {
            "deadline": {
                "type": ["string", "number", "null"],
                "description": "48h, 3d, 3天 or a number of hours, at most "
                f"{MAX_DEADLINE_HOURS} h (365 days); null for no deadline",
            }
        }
    ),
    "Category": _object(
        {"category": STR, "name_zh": NSTR, "name_en": NSTR, "deadline_hours": NINT}
    ),
    "PhotoUpload": _object(
        {"photo": {"type": "string", "contentMediaType": "application/octet-stream"}}
    ),
    "Photo": _object(
        {
            "id": INT,
            "content_type": {"enum": ["image/jpeg", "image/png"]},
            "bytes": INT,
            "url": STR,
        },
        required=False,
    ),
    "Assignment": _object(
        {
            "assigned": {"type": "boolean", "description": "false outside the county"},
            "area": {"oneOf": [NAMED, {"type": "null"}]},
            "district": {"oneOf": [NAMED, {"type": "null"}]},
            "responsible_unit": {"oneOf": [NAMED, {"type": "null"}]},
            "lead_unit": {"oneOf": [NAMED, {"type": "null"}]},
            "rule": {"oneOf": [_object({"id": STR, "note": NSTR}), {"type": "null"}]},
            "generation": NINT,
        }
    ),
    "LikelyDuplicate": _object(
        {
            "id": INT,
            "problem_id": STR,
            "distance_m": NUM,
            "status": STR,
            "reported_at": STR,
            "description": NSTR,
        }
    ),
    "ProblemRecord": _object(
        {
            "problem": {"type": "object", "description": "ProblemDetailProperties plus lon, lat"},
            "assignment": _ref("Assignment"),
            "photos": {"type": "array", "items": _ref("Photo")},
            "likely_duplicates": {
                "type": "array",
                "items": _ref("LikelyDuplicate"),
                "description": "open problems of the same category within 30 m",
            },
            "duplicate_of": {"oneOf": [_object({"id": INT, "problem_id": STR}), {"type": "null"}]},
            "duplicated_by": {"type": "array", "items": {"type": "object"}},
            "transitions": {
                "type": "array",
                "items": _object({"to": STR, "action": STR, "note_required": {"type": "boolean"}}),
            },
            "events": {"type": "array", "items": _ref("ProblemEvent")},
            "links": _object({"self": STR, "page": STR}),
            "partial": {
                "type": "boolean",
                "description": "true when the report was stored but the database went away "
                "before the answer could be read back: no names, history or duplicates",
            },
        },
        required=False,
    ),
    "ImportUpload": _object(
        {
            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
            "crs": STR,
        },
        required=False,
    )
    | {"required": ["file"]},
    "ImportPreview": _object(
        {
            "token": STR,
            "filename": STR,
            "confirm": STR | {"description": "POST here to import"},
            "summary": {"type": "object"},
            "rows": {"type": "array", "items": {"type": "object"}},
            "bad": {
                "type": "array",
                "items": _object(
                    {"line": STR, "line_text": STR, "reason": STR, "reason_text": STR}
                ),
            },
            "already_stored": {"type": "array", "items": STR},
        },
        required=False,
    ),
    "ImportConfirm": _object({"skip_bad": {"type": "boolean", "default": False}}, required=False),
    "ImportResult": _object({"imported": INT, "skipped_bad": INT, "summary": {"type": "object"}}),
}
PARAMETERS |= {
    "category_code": {
        "name": "category",  # the path template's name ({category}); "category" is a filter
        "in": "path",
        "required": True,
        "schema": STR,
        "description": "a category code (or its Chinese name)",
    },
    "token": {
        "in": "path",
        "required": True,
        "schema": STR,
        "description": "the token a preview answered with",
    },
}


@dataclass(frozen=True)
class WriteEndpoint:
    """A route that changes data: method, request body (JSON or multipart) and answer."""

    method: str
    path: str
    endpoint: str
    summary: str
    body: str | None
    schema: str
    parameters: list[str] = field(default_factory=list)
    status: int = 200
    multipart: bool = False
    errors: tuple[int, ...] = (400,)
    description: str = ""


PK = ["problem_pk"]
WRITE_ENDPOINTS: list[WriteEndpoint] = [
    WriteEndpoint(
        "post",
        "/api/problems",
        "api.create_problem",
        "Report a problem point; it is assigned at once",
        "ReportBody",
        "ProblemRecord",
        status=201,
        errors=(400, 403, 409),
        description="Points outside the county are kept with assignment.assigned false. "
        "likely_duplicates lists open problems of the same category within 30 m.",
    ),
    WriteEndpoint(
        "patch",
        "/api/problems/{problem_pk}",
        "api.patch_problem",
        "Change position, category, round, deduction or description; re-assigns",
        "PatchBody",
        "ProblemRecord",
        PK,
        errors=(400, 403, 404, 409),
    ),
    WriteEndpoint(
        "post",
        "/api/problems/{problem_pk}/transitions",
        "api.problem_transition",
        "Move a problem to another status (reported → assigned → rectifying → rectified → "
        "verified; reopen back to rectifying with a note)",
        "TransitionBody",
        "ProblemRecord",
        PK,
        errors=(400, 403, 404, 409),
    ),
    WriteEndpoint(
        "post",
        "/api/problems/{problem_pk}/photos",
        "api.add_problem_photo",
        "Attach a JPEG or PNG photo (type sniffed from its bytes)",
        "PhotoUpload",
        "Photo",
        PK,
        status=201,
        multipart=True,
        errors=(400, 403, 404, 413, 415),
    ),
    WriteEndpoint(
        "put",
        "/api/problems/{problem_pk}/duplicate",
        "api.link_duplicate",
        "Link a problem to the one it duplicates (its points are not deducted twice)",
        "DuplicateBody",
        "ProblemRecord",
        PK,
        errors=(400, 403, 404, 409),
    ),
    WriteEndpoint(
        "delete",
        "/api/problems/{problem_pk}/duplicate",
        "api.unlink_duplicate",
        "Remove a problem's duplicate link",
        "NoteBody",
        "ProblemRecord",
        PK,
        errors=(403, 404, 409),
    ),
    WriteEndpoint(
        "put",
        "/api/categories/{category}",
        "api.set_category_deadline",
        "Change a category's rectification deadline",
        "DeadlineBody",
        "Category",
        ["category_code"],
        errors=(400, 403, 404),
    ),
    WriteEndpoint(
        "post",
        "/api/imports",
        "api.import_preview",
        "Upload an inspection sheet (CSV UTF-8/GBK, XLSX, GeoJSON) and preview its import",
        "ImportUpload",
        "ImportPreview",
        multipart=True,
        errors=(400, 413, 415),
        description="Nothing is written: the file is kept under a random token until "
        "confirmed. Every bad row is listed with its line number and reason.",
    ),
    WriteEndpoint(
        "post",
        "/api/imports/{token}",
        "api.import_confirm",
        "Import a previewed sheet in one transaction",
        "ImportConfirm",
        "ImportResult",
        ["token"],
        errors=(400, 403, 409),
        description="Refused (400) while the sheet has bad rows unless skip_bad is true.",
    ),
]


def _write_operation(e: WriteEndpoint) -> dict:
    media = "multipart/form-data" if e.multipart else JSON
    op: dict = {
        "operationId": e.endpoint.removeprefix("api."),
        "summary": e.summary,
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in e.parameters],
        "responses": {
            str(e.status): {
                "description": "Created" if e.status == 201 else "OK",
                "content": {JSON: {"schema": _ref(e.schema)}},
            }
        }
        | {str(code): _error(_ERROR_TEXT[code]) for code in e.errors},
    }
    if e.body:
        op["requestBody"] = {
            "required": e.method != "delete",
            "content": {media: {"schema": _ref(e.body)}},
        }
    if e.description:
        op["description"] = e.description
    return op


_ERROR_TEXT = {
    400: "The body is malformed, a field is missing or invalid (the message names it)",
    403: "This role or unit may not do this",
    404: "No such problem, photo or category",
    409: "The workflow or the current state refuses the change",
    413: "The upload is larger than the limit",
    415: "The upload is not of an accepted type",
}


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
            "Cache-Control": {"schema": {"const": "no-cache, private"}},
        }
        responses["304"] = {"description": "Not modified: the If-None-Match tag still holds"}
    if e.parameters:
        responses["400"] = _error("A parameter is malformed or names something unknown")
    if "problem_pk" in e.parameters:
        responses["404"] = _error("No problem with this id")
    if e.endpoint == "api.lookup":
        responses["409"] = _error("No boundary generation is published yet")
    if "generation_id" in e.parameters:
        responses["404"] = _error("No generation with this id")
        responses["400"] = _error("The request is malformed or the change cannot be made")
    if e.body is not None and "version" in e.body.get("properties", {}):
        responses["409"] = _error("The draft changed since this version (current_version)")
    responses["401"] = _error("Not signed in, or the bearer token is not valid")
    responses["403"] = _error("The caller's role may not do this (or: another unit's data)")
    op = {
        "operationId": e.endpoint.removeprefix("api."),
        "summary": e.summary,
        "parameters": params,
        "responses": responses,
    }
    if e.description:
        op["description"] = e.description
    if e.body is not None:
        op["requestBody"] = {"content": {e.body_media: {"schema": e.body}}}
    return op


def _paths() -> dict:
    paths: dict[str, dict] = {}
    for e in ENDPOINTS:
        paths.setdefault(e.path, {})[e.method] = _operation(e)
    for w in WRITE_ENDPOINTS:
        paths.setdefault(w.path, {})[w.method] = _write_operation(w)
    return paths


def document(root: str = "") -> dict:
    """The OpenAPI 3.1 document; ``root`` is the app's URL prefix (``request.script_root``)."""
    parameters = {}
    for name, spec in PARAMETERS.items():
        parameters[name] = {"name": spec.get("name", name), "in": spec.get("in", "query")} | {
            k: v for k, v in spec.items() if k not in ("in", "name")
        }
        if name in query_params.LIST_FILTERS:
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
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "parameters": parameters,
            "securitySchemes": SECURITY_SCHEMES,
        },
        "security": [{"bearer": []}, {"session": []}],
    }


#: Other systems send ``Authorization: Bearer TOKEN`` (``geoapp create-token``); pages use
#: the sign-in session cookie.  Which roles may call what: geoapp/web/permissions.py.
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "geoapp create-token"},
    "session": {"type": "apiKey", "in": "cookie", "name": "session"},
}


def flask_path(path: str) -> str:
    """An OpenAPI path in Flask's rule syntax (the one converter used here: int)."""
    return (
        path.replace("{problem_pk}", "<int:problem_pk>")
        .replace("{generation_id}", "<int:generation_id>")
        .replace("{category}", "<category>")
        .replace("{token}", "<token>")
    )
