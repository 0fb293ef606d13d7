"""OGC API – Features (Part 1: Core, GeoJSON) over the read-side use cases.

Framework-neutral like :mod:`geoapp.services.map_features` and
:mod:`geoapp.services.problem_reads`, whose functions build every feature here: this module
only adds what the standard asks for around them — the landing page, the conformance
declaration, collection descriptions, ``limit``/``offset`` paging with
``next``/``prev`` links on every collection, ``bbox`` on every collection, single items,
``numberMatched``/``numberReturned``/``timeStamp``.  No Flask, no SQL.

Collections: ``districts``, ``areas``, ``units`` (all of the current boundary generation,
or ``generation=N``) and ``problems`` (with the problem filters of the JSON API).
Coordinates are CRS84 (longitude, latitude on WGS84) unless ``crs`` asks for another of
:func:`geoapp.core.ogc_crs.supported` (Part 2: ``crs``, ``bbox-crs``, ``Content-Crs``);
``display_crs`` is not offered here.  ``filter`` (CQL2 text or JSON), ``sortby`` and the
queryables (Part 3) are in :mod:`geoapp.services.ogc_filter`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from geoapp.core import ogc_crs
from geoapp.core.messages import N_
from geoapp.services import map_features, ogc_filter, problem_reads, query_params
from geoapp.services.geojson import GEOJSON
from geoapp.services.query_params import FILTER_PARAMS, Args, BadParameter
from geoapp.services.reading import _points, _reading
from geoapp.store import NotFound

JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = ogc_crs.CRS84
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
]
DEFAULT_LIMIT = 100
MAX_LIMIT = query_params.MAX_LIMIT

#: collection id → (title, description, read function of map_features or None for problems)
COLLECTIONS: dict[str, tuple[str, str]] = {
    "districts": ("Districts (片区)", "The districts, each the union of its contracted areas"),
    "areas": ("Contracted areas (包干区)", "The contracted areas with their responsible units"),
    "units": ("Units (单位)", "The responsible and lead units at their offices"),
    "problems": ("Problems (问题点)", "Reported problem points with their assignment"),
}
_READERS = {
    "districts": map_features.districts,
    "areas": map_features.areas,
    "units": map_features.units,
}
#: The geometry type of each collection's features (every feature has it: areas and
#: districts are MultiPolygons even when one part would do, so that a GeoPackage layer GDAL
#: writes from them holds one type).
GEOMETRY_TYPES = {
    "districts": "MultiPolygon",
    "areas": "MultiPolygon",
    "units": "Point",
    "problems": "Point",
}
TEMPORAL = {"problems": "reported_at"}  # collection → its temporal property (``datetime``)
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

# --- query parameters: one allowed list per operation and collection ------------------------
#: Every OGC answer accepts these: the format (``f=json``, ``f=html``) and the language.
COMMON_PARAMS = frozenset({"f", "lang"})
#: Paging and the spatial filter, on every collection's items.
PAGING_PARAMS = frozenset({"limit", "offset", "bbox", "bbox-crs", "crs"})
#: The query parameters each collection's ``/items`` accepts besides :data:`COMMON_PARAMS`.
#: Anything else answers 400 (/req/core/query-param-unknown), so that a client asking for
#: something not supported is told instead of silently getting everything.  An extension
#: (CRS, filter, sorting) adds its parameters to these sets.
ITEMS_PARAMS: dict[str, set[str]] = {
    "districts": {*PAGING_PARAMS, *ogc_filter.PARAMS, "generation", "district"},
    "areas": {*PAGING_PARAMS, *ogc_filter.PARAMS, "generation", "district", "unit"},
    "units": {*PAGING_PARAMS, *ogc_filter.PARAMS, "generation"},
    "problems": {*PAGING_PARAMS, *ogc_filter.PARAMS, "datetime", *FILTER_PARAMS},
}
#: The query parameters of one item (``/items/{featureId}``) per collection.
ITEM_PARAMS: dict[str, set[str]] = {
    "districts": {"generation", "crs"},
    "areas": {"generation", "crs"},
    "units": {"generation", "crs"},
    "problems": {"crs"},
}
#: Parameters the OGC items endpoint handles itself (the rest go to the read functions).
#: (``crs`` and the filter go on to the page links)
_OWN = (*(PAGING_PARAMS - {"crs"}), *COMMON_PARAMS, "datetime")


def check_params(args: Args, allowed: set[str] | frozenset[str] = frozenset()) -> None:
    """Refuse a query parameter not in ``allowed`` or :data:`COMMON_PARAMS` (400,
    /req/core/query-param-unknown), naming it and those allowed."""
    known = COMMON_PARAMS | set(allowed)
    for name in args:
        if name not in known:
            raise BadParameter(
                name,
                N_("unknown query parameter %(name)r (allowed here: %(allowed)s)"),
                name=name,
                allowed=", ".join(sorted(known)),
            )


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def now_stamp(now: datetime | None = None) -> str:
    return (
        (now or datetime.now(UTC))
        .astimezone(UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def landing(base: str) -> dict:
    """The landing page; ``base`` is the absolute URL of ``/ogc`` without a trailing slash."""
    return {
        "title": "geoapp OGC API – Features",
        "description": (
            "Districts, contracted areas, units and problem points of the sanitation campaign"
        ),
        "links": [
            _link(f"{base}/", "self", JSON, "This document"),
            _link(f"{base}/api", "service-desc", OPENAPI_JSON, "The API definition"),
            _link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
            _link(f"{base}/collections", "data", JSON, "The feature collections"),
        ],
    }


def conformance() -> dict:
    return {"conformsTo": list(CONFORMANCE)}


def _check_collection(cid: str) -> None:
    """Raise NotFound for an unknown collection id."""
    if cid not in COLLECTIONS:
        raise NotFound(
            N_("unknown collection %(cid)r (known: %(names)s)"),
            cid=cid,
            names=", ".join(COLLECTIONS),
        )


def _describe(
    cid: str, base: str, extent: dict, projected: str = ogc_crs.DEFAULT_PROJECTED
) -> dict:
    title, description = COLLECTIONS[cid]
    out: dict[str, Any] = {
        "id": cid,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": ogc_crs.supported(projected),
        "storageCrs": CRS84,
        "links": [
            _link(f"{base}/collections/{cid}", "self", JSON, title),
            _link(f"{base}/collections/{cid}/items", "items", GEOJSON, title),
            _link(f"{base}/collections/{cid}/queryables", QUERYABLES_REL, SCHEMA_JSON, title),
            # the draft's name of the same link, which GDAL (3.12 too) looks for
            _link(f"{base}/collections/{cid}/queryables", "queryables", SCHEMA_JSON, title),
        ],
    }
    if extent:
        out["extent"] = extent
    out["geometryType"] = GEOMETRY_TYPES[cid]
    if cid in TEMPORAL:
        out["temporalProperty"] = TEMPORAL[cid]
    return out


def _time(seconds: float) -> str:
    return now_stamp(datetime.fromtimestamp(seconds, UTC))


def extents(store) -> dict[str, dict]:
    """Each collection's extent: the bounds of all its features (problems outside the
    county included) and, for problems, the first and last ``reported_at``."""
    areas, _ = map_features.generation_extent(store)
    units = [u for u in map_features.units(store, {})["features"] if u["geometry"]]
    with _reading(store) as read:
        pts = _points(read, query_params.ProblemFilter({}), ("reported_at",))
    out: dict[str, dict] = {cid: {} for cid in COLLECTIONS}

    def spatial(cid: str, bounds) -> None:
        out[cid]["spatial"] = {"bbox": [[float(v) for v in bounds]], "crs": CRS84}

    if areas is not None:
        spatial("districts", areas)
        spatial("areas", areas)
    if units:
        spatial("units", shapely.total_bounds([shape(u["geometry"]) for u in units]))
    placed = np.isfinite(pts["lon"]) & np.isfinite(pts["lat"])
    if placed.any():
        lon, lat = pts["lon"][placed], pts["lat"][placed]
        spatial("problems", (lon.min(), lat.min(), lon.max(), lat.max()))
    when = pts["reported_at"][np.isfinite(pts["reported_at"])]
    if len(when):
        interval = [[_time(float(when.min())), _time(float(when.max()))]]
        out["problems"]["temporal"] = {"interval": interval, "trs": GREGORIAN}
    return out


def collections(store, base: str, projected: str = ogc_crs.DEFAULT_PROJECTED) -> dict:
    every = extents(store)
    return {
        "links": [_link(f"{base}/collections", "self", JSON, "The feature collections")],
        "collections": [_describe(cid, base, every[cid], projected) for cid in COLLECTIONS],
    }


def collection(store, base: str, cid: str, projected: str = ogc_crs.DEFAULT_PROJECTED) -> dict:
    _check_collection(cid)
    return _describe(cid, base, extents(store)[cid], projected)


def queryables(base: str, cid: str) -> dict:
    """The JSON Schema of the properties ``filter`` and ``sortby`` may name."""
    _check_collection(cid)
    return ogc_filter.queryables(base, cid)


def content_crs(args: Args, projected: str = ogc_crs.DEFAULT_PROJECTED) -> str:
    """The URI of the CRS of an answer's coordinates (``crs``, default CRS84)."""
    raw = query_params._one(args, "crs")
    return CRS84 if raw is None else ogc_crs.canonical(raw, ogc_crs.supported(projected), "crs")


def _bbox(
    args: Args, projected: str = ogc_crs.DEFAULT_PROJECTED
) -> tuple[float, float, float, float] | None:
    """OGC ``bbox``: four numbers, or six (with heights, which are ignored), in ``bbox-crs``
    (default CRS84; in that CRS's axis order) → a CRS84 box."""
    name = query_params._one(args, "bbox-crs")
    crs = (
        CRS84 if name is None else ogc_crs.canonical(name, ogc_crs.supported(projected), "bbox-crs")
    )
    raw = query_params._one(args, "bbox")
    if raw is None:
        return None
    parts = raw.split(",")
    if len(parts) == 6:
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if crs == CRS84:
        return query_params.parse_bbox({"bbox": ",".join(parts)})
    try:
        box = [float(p) for p in parts]
        if len(box) != 4 or not all(ogc_filter._finite(v) for v in box):
            raise ValueError
    except ValueError:
        raise BadParameter(
            "bbox", N_("bbox=%(raw)r: expected four numbers in %(crs)s"), raw=raw, crs=crs
        ) from None
    if box[0] > box[2] or box[1] > box[3]:
        raise BadParameter(
            "bbox", N_("bbox=%(raw)r: a minimum is greater than its maximum"), raw=raw
        )
    return ogc_crs.box_to_crs84(tuple(box), crs)


def _limit(args: Args) -> int:
    """``limit``: 1 or more; above the maximum it means the maximum (OGC: not an error)."""
    raw = query_params._one(args, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter("limit", N_("limit=%(raw)r is not a whole number"), raw=raw) from None
    if value < 1:
        raise BadParameter(
            "limit", N_("limit=%(value)s is out of range: it must be at least 1"), value=value
        )
    return min(value, MAX_LIMIT)


def _passed(args: Args) -> dict[str, list[str]]:
    """The query parameters for a read function: everything but the OGC ones."""
    return {k: query_params._raw(args, k) for k in args if k not in _OWN}


def items(
    store,
    base: str,
    cid: str,
    args: Args,
    locale: str = "zh",
    now: datetime | None = None,
    projected: str = ogc_crs.DEFAULT_PROJECTED,
) -> dict:
    """A page of a collection's features: ``limit`` (default 100), ``offset``, ``bbox``
    (``bbox-crs``), ``filter`` (``filter-lang``, ``filter-crs``), ``sortby``, in ``crs``;
    problems' ``overdue`` flags and the ``timeStamp`` as at ``now`` (default: the present)."""
    _check_collection(cid)
    check_params(args, ITEMS_PARAMS[cid])
    limit = _limit(args)
    offset = query_params._int(args, "offset", 0, 0, query_params.MAX_ID)
    offered = ogc_crs.supported(projected)
    crs = content_crs(args, projected)
    bbox = _bbox(args, projected)
    reported = query_params.parse_datetime(args)
    sort = ogc_filter.parse_sortby(args, cid)
    at = now or datetime.now(UTC)

    def cql(categories: dict) -> tuple | None:
        return ogc_filter.parse_filter(args, cid, categories, at, offered)

    url = f"{base}/collections/{cid}/items"
    passed = _passed(args)
    if cid == "problems":
        query = passed | {"limit": [str(limit)], "offset": [str(offset)]}
        if bbox is not None:
            query["bbox"] = [",".join(repr(v) for v in bbox)]
        if reported != (None, None):  # applied below; kept in the page links
            query["datetime"] = query_params._raw(args, "datetime")
        out = problem_reads.problems(
            store,
            query,
            locale,
            url=url,
            now=now,
            reported=reported,
            cql=lambda ref: cql(ref.categories),
            sort=sort,
        )
        links = out.pop("links")
    else:
        everything = _READERS[cid](store, passed, locale)
        features = everything["features"]
        tree = cql({})
        if tree is not None or sort:
            with _reading(store) as read:
                ids = read.tx.feature_ids(cid, tree, sort, everything.get("generation"))
            order = {fid: i for i, fid in enumerate(ids)}
            features = sorted(
                (f for f in features if f["id"] in order), key=lambda f: order[f["id"]]
            )
        if bbox is not None:
            box = shapely.box(*bbox)
            geoms = [shape(f["geometry"]) if f["geometry"] else None for f in features]
            features = [
                f
                for f, g in zip(features, geoms, strict=True)
                if g is not None and g.intersects(box)
            ]
        page = features[offset : offset + limit]
        link_args = dict(passed) | ({"bbox": [",".join(map(repr, bbox))]} if bbox else {})
        page = [_for_gis(cid, f) for f in page]
        links = problem_reads.page_links(url, link_args, limit, offset, len(page), len(features))
        out = {
            "type": "FeatureCollection",
            "features": page,
            "numberMatched": len(features),
            "numberReturned": len(page),
        }
        if "generation" in everything:
            out["generation"] = everything["generation"]
    ogc_crs.reproject_features(out["features"], crs)
    title = COLLECTIONS[cid][0]
    out["links"] = [*links, _link(f"{base}/collections/{cid}", "collection", JSON, title)]
    out["timeStamp"] = now_stamp(now)
    return out


def _for_gis(cid: str, feature: dict) -> dict:
    """A feature as GIS clients store it: areas and districts as MultiPolygons (one type
    per layer), the label point as two numbers (``label_lon``, ``label_lat``; a GeoPackage
    column cannot hold a list)."""
    if GEOMETRY_TYPES[cid] != "MultiPolygon":
        return feature
    out = dict(feature)
    geometry = feature["geometry"]
    if geometry is not None and geometry["type"] == "Polygon":  # rings already RFC 7946
        out["geometry"] = {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
    props = dict(feature["properties"])
    if "label_point" in props:
        props["label_lon"], props["label_lat"] = props.pop("label_point")
    out["properties"] = props
    return out


def item(
    store,
    base: str,
    cid: str,
    feature_id: str,
    args: Args,
    locale: str = "zh",
    now: datetime | None = None,
    projected: str = ogc_crs.DEFAULT_PROJECTED,
) -> dict:
    """One feature of a collection by its id (a problem's ``overdue`` as at ``now``), in
    ``crs``."""
    _check_collection(cid)
    check_params(args, ITEM_PARAMS[cid])
    crs = content_crs(args, projected)
    passed = _passed(args)
    if cid == "problems":
        try:
            pk = int(feature_id)
        except ValueError:
            raise NotFound(N_("no problem with id %(feature_id)r"), feature_id=feature_id) from None
        feature = problem_reads.problem(store, pk, passed, locale, now)
    else:
        found = [
            f for f in _READERS[cid](store, passed, locale)["features"] if f["id"] == feature_id
        ]
        if not found:
            raise NotFound(
                N_("no feature %(feature_id)r in %(cid)s"), feature_id=feature_id, cid=cid
            )
        feature = _for_gis(cid, found[0])
    ogc_crs.reproject_features([feature], crs)
    url = f"{base}/collections/{cid}/items/{feature_id}"
    feature["links"] = [
        _link(url, "self", GEOJSON),
        _link(f"{base}/collections/{cid}", "collection", JSON, COLLECTIONS[cid][0]),
    ]
    return feature


def openapi(base: str) -> dict:
    """A short OpenAPI 3.0 description of these endpoints (the ``service-desc`` link)."""

    def param(name: str, schema: dict, description: str, where: str = "query") -> dict:
        return {
            "name": name,
            "in": where,
            "required": where == "path",
            "schema": schema,
            "description": description,
        }

    limit = param(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Features per page",
    )
    offset = param("offset", {"type": "integer", "minimum": 0, "default": 0}, "Features skipped")
    bbox = param(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "minlon,minlat,maxlon,maxlat in CRS84",
    )
    when = param(
        "datetime",
        {"type": "string"},
        "problems: reported_at at an RFC 3339 instant or in an interval (start/end, .. open)",
    )
    fmt = param("f", {"type": "string", "enum": ["json", "html"]}, "The answer's format")
    # the collections' own filters (each listed with the collections taking it)
    own = sorted(
        set().union(*ITEMS_PARAMS.values()) - PAGING_PARAMS - {"datetime", *ogc_filter.PARAMS}
    )
    filters = [
        param(
            name,
            {"type": "string"},
            "only on: " + ", ".join(c for c in COLLECTIONS if name in ITEMS_PARAMS[c]),
        )
        for name in own
    ]
    text = {"type": "string"}
    crs_uri = {"type": "string", "format": "uri"}
    part23 = [
        param("bbox-crs", crs_uri, "CRS of bbox (default CRS84; see the collection's crs)"),
        param("crs", crs_uri, "CRS of the answer's coordinates (default CRS84)"),
        param("filter", text, "A CQL2 filter on the collection's queryables"),
        param(
            "filter-lang",
            {"type": "string", "enum": [*ogc_filter.LANGS]},
            "cql2-text (default) or cql2-json; cql-text: GDAL's name of cql2-text",
        ),
        param("filter-crs", crs_uri, "CRS of the filter's geometries (default CRS84)"),
        param("sortby", text, "Properties to sort by, comma-separated, each +name or -name"),
    ]
    cid = param("collectionId", {"type": "string", "enum": list(COLLECTIONS)}, "", "path")
    fid = param("featureId", {"type": "string"}, "", "path")
    ok = {"200": {"description": "OK"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "geoapp OGC API – Features", "version": "1.0"},
        "servers": [{"url": base}],
        "paths": {
            "/": {"get": {"operationId": "ogcLanding", "parameters": [fmt], "responses": ok}},
            "/conformance": {
                "get": {"operationId": "ogcConformance", "parameters": [fmt], "responses": ok}
            },
            "/collections": {
                "get": {"operationId": "ogcCollections", "parameters": [fmt], "responses": ok}
            },
            "/collections/{collectionId}": {
                "get": {"operationId": "ogcCollection", "parameters": [cid, fmt], "responses": ok}
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "operationId": "ogcItems",
                    "parameters": [cid, limit, offset, bbox, when, fmt, *part23, *filters],
                    "responses": ok,
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "operationId": "ogcItem",
                    "parameters": [cid, fid, part23[1], fmt],
                    "responses": ok,
                }
            },
            "/collections/{collectionId}/queryables": {
                "get": {"operationId": "ogcQueryables", "parameters": [cid], "responses": ok}
            },
        },
    }
