"""The boundary editor: drafts, edits with undo/redo, validation, preview, publish, history,
comparison, rollback and export for QGIS."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from geoapp.core.editing import ASSIGNMENT
from geoapp.web.schemas.base import (
    GEOJSON,
    MULTIPART,
    Answer,
    Binary,
    Body,
    Feature,
    Form,
    Geometry,
    Query,
    Route,
)

EDIT_OPS = (
    "move_vertex {from, to: [lon, lat]}; reassign {area_id, responsible_unit_id?, "
    "district_id?, name?}; split {area_id, line: [[lon, lat]…]}; merge {area_id, other_id} "
    "(the older id survives: kept); delete {area_id, neighbour_id}; add {polygon: "
    "[[lon, lat]…], area_id?, name?, kind?, district_id?, responsible_unit_id?}"
)
Assignment = dict[Literal[ASSIGNMENT], Any]  # type: ignore[valid-type]


# --- request bodies --------------------------------------------------------------------------
class DraftStart(Body):
    parent_id: int | None = Field(None, description="copy this generation (default: current)")
    message: str | None = None


class DraftUpload(Form):
    file: bytes = Field(description="GeoJSON, GeoPackage or zipped Shapefile; any CRS")
    message: str | None = None


class Versioned(Body):
    version: int = Field(description="the draft's version the change was made on")


class Edit(Versioned):
    op: dict[str, Any] = Field(description="the edit; by its type: " + EDIT_OPS)


class Publish(Versioned):
    message: str = Field(description="why: kept with the generation and shown to everyone")
    accept_warnings: bool = False
    note: str | None = Field(None, description="required when accepting warnings")


class Rollback(Body):
    message: str | None = None
    note: str | None = None


class CompareQuery(Query):
    a: int = Field(description="the earlier generation's id")
    b: int = Field(description="the later generation's id")


# --- answers ---------------------------------------------------------------------------------
class Generation(Answer):
    id: int
    status: Literal["draft", "published"]
    author: str | None
    message: str | None
    created_at: str
    published_at: str | None
    published_by: str | None
    publish_message: str | None
    parent_id: int | None
    version: int
    area_count: int | None = None
    is_current: bool | None = None


class Generations(Answer):
    generations: list[Generation]


class Drafts(Answer):
    drafts: list[Generation]


class DraftAreaProperties(Answer):
    area_id: str
    name: str | None
    kind: str | None
    district_id: str | None
    responsible_unit_id: str | None
    change: str | None = Field(None, description="in a comparison: added, removed, …")


class DraftArea(Feature):
    geometry: Geometry | None
    properties: DraftAreaProperties


class DraftAreas(Answer):
    type: Literal["FeatureCollection"]
    features: list[DraftArea]


class Draft(Answer):
    generation: Generation
    areas: DraftAreas
    can_undo: bool
    can_redo: bool
    edits: int
    changed: list[str] | None = Field(None, description="after an edit: the areas it changed")
    kept: str | None = Field(None, description="after a merge: the id that survives")


class Deleted(Answer):
    deleted: int


class Finding(Answer):
    level: Literal["error", "warning"]
    code: str
    message: str
    area_ids: list[str]
    area_m2: float | None
    geometry: dict[str, Any] | None


class Validation(Answer):
    generation: int
    version: int
    errors: int
    warnings: int
    findings: list[Finding]


class AreaChange(Answer):
    area_id: str
    change: str


class ProblemMove(Answer):
    id: int
    problem_id: str
    status: str
    deduction: float
    lon: float
    lat: float
    applies: bool = Field(description="open problems move; closed ones keep their assignment")
    before: Assignment
    after: Assignment


class UnitChange(Answer):
    unit_id: str
    name: str | None
    problems_before: int
    problems_after: int
    deduction_before: float
    deduction_after: float


class Preview(Answer):
    generation: int
    version: int
    against: int
    changed_areas: list[AreaChange]
    problems: list[ProblemMove]
    units: list[UnitChange]
    server_ms: float


class Published(Generation):
    reassigned: int
    kept: int
    points_reassigned: int = Field(0, description="inspection points whose assignment changed")
    from_: int | None = Field(None, alias="from", description="a rollback: the old generation")


class AreaAttributes(Answer):
    name: str | None
    kind: str | None
    district_id: str | None
    responsible_unit_id: str | None


class ComparedArea(Answer):
    area_id: str
    change: str
    before: AreaAttributes | None
    after: AreaAttributes | None


class Comparison(Answer):
    a: int
    b: int
    changes: list[ComparedArea]
    features: DraftAreas


class AreaFileProperties(Answer):
    """The stored columns as they are (geoapp.store.AREA_COLUMNS)."""

    area_id: str
    name: str | None
    kind: str | None
    district_id: str | None
    responsible_unit_id: str | None


class AreaFileFeature(Feature):
    geometry: Geometry | None
    properties: AreaFileProperties


class AreasFile(Answer):
    type: Literal["FeatureCollection"]
    features: list[AreaFileFeature]


def _gen(method, path, name, summary, response, **kw) -> Route:
    return Route(method, path, f"api.{name}", summary, response, **kw)


DRAFT = "/api/drafts/{generation_id}"
GEN = "/api/generations/{generation_id}"
ROUTES = [
    _gen("get", "/api/drafts", "drafts", "The open drafts", Drafts, errors=()),
    _gen("post", "/api/drafts", "draft_create", "Start a draft (copy of the current "
         "generation, or of parent_id)", Draft, body=DraftStart, body_required=False,
         status=201, errors=(400, 404, 409)),
    _gen("post", "/api/drafts/upload", "draft_upload", "A whole boundary set from a file as a "
         "new draft", Draft, body=DraftUpload, body_media=MULTIPART, status=201,
         errors=(400, 413)),
    _gen("get", DRAFT, "draft", "A draft (or any generation) with its areas and undo/redo "
         "state", Draft, errors=(404,)),
    _gen("delete", DRAFT, "draft_discard", "Throw a draft away", Deleted, errors=(404, 409)),
    _gen("post", f"{DRAFT}/edits", "draft_edit", "Apply one edit to the draft", Draft,
         body=Edit, errors=(400, 404, 409), description="409 with current_version (and the "
         "op, to apply again) when the version is stale."),
    _gen("post", f"{DRAFT}/undo", "draft_undo", "Undo the last edit", Draft, body=Versioned,
         errors=(400, 404, 409)),
    _gen("post", f"{DRAFT}/redo", "draft_redo", "Redo the last undone edit", Draft,
         body=Versioned, errors=(400, 404, 409)),
    _gen("get", f"{DRAFT}/validation", "draft_validation", "Errors and warnings of a "
         "generation's boundaries, located", Validation, errors=(404,)),
    _gen("get", f"{DRAFT}/preview", "draft_preview", "What publishing would change: areas, "
         "problems, unit totals", Preview, errors=(404, 409)),
    _gen("post", f"{DRAFT}/publish", "draft_publish", "Publish the draft; open problems are "
         "re-assigned", Published, body=Publish, errors=(400, 404, 409),
         description="Refused (400) with errors, or with warnings not accepted with a note; "
         "409 on a stale version."),
    _gen("get", "/api/generations", "generations", "Every generation, drafts too",
         Generations, errors=()),
    _gen("get", "/api/generations/compare", "generations_compare", "Areas that differ "
         "between generations a and b", Comparison, query=CompareQuery, errors=(400, 404)),
    _gen("post", f"{GEN}/rollback", "generation_rollback", "Publish an old generation's "
         "boundaries again as a new generation", Published, body=Rollback,
         body_required=False, errors=(400, 404, 409)),
    _gen("get", f"{GEN}/areas.geojson", "generation_export_geojson", "A generation's areas "
         "as a GeoJSON file (for QGIS)", AreasFile, media=GEOJSON, errors=(404,)),
    _gen("get", f"{GEN}/areas.gpkg", "generation_export_gpkg", "A generation's areas as a "
         "GeoPackage file (for QGIS)", Binary, media="application/geopackage+sqlite3",
         errors=(404,), binary=True),
]  # fmt: skip
