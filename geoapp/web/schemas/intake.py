"""The writing side about problems: report, change, move through the workflow, photos,
duplicates, category deadlines, and sheet imports through a preview."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from geoapp.core.deadlines import MAX_DEADLINE_HOURS
from geoapp.core.intake import MAX_DEDUCTION
from geoapp.core.model import STATUSES
from geoapp.web.schemas.base import MULTIPART, Answer, Body, Form, Route
from geoapp.web.schemas.map import Named, Photo, ProblemDetailProperties, ProblemEvent

#: a number, or its text (the domain reads "114.9" as 114.9, as a sheet's cells are read)
Number = StrictFloat | StrictInt | StrictStr
#: text, or a number written as text (a round called 3)
Text = StrictStr | StrictInt | StrictFloat


# --- request bodies --------------------------------------------------------------------------
class Report(Body):
    lon: Number = Field(description="x in crs (longitude for geographic systems)")
    lat: Number = Field(description="y in crs")
    crs: Text | None = Field("wgs84", description="wgs84, cgcs2000, gcj02, bd09, EPSG:n")
    category: Text = Field(description="category code or its Chinese name")
    round: Text = Field(description="inspection round, e.g. 市级评估")
    deduction: Number | None = Field(0, description=f"0 to {MAX_DEDUCTION:g}")
    description: Text | None = None
    reported_at: Text | None = Field(None, description="ISO 8601; Beijing time without offset")
    reporter: Text | None = None
    problem_id: Text | None = Field(None, description="external id; generated when absent")
    duplicate_of: int | None = Field(None, gt=0, description="link at once to the original")


class Change(Body):
    lon: Number | None = None
    lat: Number | None = None
    crs: Text | None = None
    category: Text | None = None
    round: Text | None = None
    deduction: Number | None = None
    description: Text | None = None
    note: Text | None = None


class Transition(Body):
    # the workflow names a status it does not know (and what it may be instead)
    to: str = Field(json_schema_extra={"enum": list(STATUSES)})
    note: str | None = None


class Duplicate(Body):
    duplicate_of: int | None = Field(
        description="the original problem's id (null: refused, DELETE removes the link)"
    )
    note: str | None = None


class Note(Body):
    note: str | None = None


class Deadline(Body):
    deadline: str | int | float | None = Field(
        description=f"48h, 3d, 3天 or a number of hours, at most {MAX_DEADLINE_HOURS} h; "
        "null for no deadline"
    )


class ImportConfirm(Body):
    skip_bad: bool = Field(False, description="import the good rows of a sheet with bad rows")


class PhotoUpload(Form):
    photo: bytes = Field(description="a JPEG or PNG image (the type is read from its bytes)")


class ImportUpload(Form):
    file: bytes = Field(description="CSV (UTF-8 or GBK), XLSX or GeoJSON")
    crs: str | None = Field(None, description="the sheet's coordinate system")


# --- answers ---------------------------------------------------------------------------------
class Rule(Answer):
    id: str
    note: str | None


class Assignment(Answer):
    assigned: bool = Field(description="false outside the county")
    area: Named | None
    district: Named | None
    responsible_unit: Named | None
    lead_unit: Named | None
    rule: Rule | None
    generation: int | None


class RecordProblem(ProblemDetailProperties):
    lon: float | None
    lat: float | None


class PartialProblem(Answer):
    id: int
    problem_id: str | None
    round: str | None
    category: str | None
    description: str | None
    deduction: float | None
    status: str
    reported_at: str
    lon: float | None
    lat: float | None


class LikelyDuplicate(Answer):
    id: int
    problem_id: str
    distance_m: float
    status: str
    reported_at: str
    description: str | None


class ProblemRef(Answer):
    id: int
    problem_id: str


class AllowedTransition(Answer):
    to: str
    action: str
    note_required: bool


class Links(Answer):
    self: str
    page: str


class ProblemRecord(Answer):
    problem: RecordProblem | PartialProblem
    assignment: Assignment
    photos: list[Photo]
    likely_duplicates: list[LikelyDuplicate] = Field(
        description="open problems of the same category within 30 m"
    )
    duplicate_of: ProblemRef | None
    duplicated_by: list[ProblemRef]
    transitions: list[AllowedTransition]
    events: list[ProblemEvent]
    links: Links
    partial: bool | None = Field(
        None,
        description="true when the report was stored but the database went away before the "
        "answer could be read back: no names, history or duplicates",
    )


class Category(Answer):
    category: str
    name_zh: str | None
    name_en: str | None
    deadline_hours: int | None


class BadRow(Answer):
    line: str
    line_text: str
    reason: str
    reason_text: str


class ImportRow(Answer):
    """One good row as it would be imported, with its assignment."""

    model_config = ConfigDict(extra="allow")
    line: str
    line_text: str
    likely_duplicates: list[dict[str, Any]]


class ImportPreview(Answer):
    token: str
    filename: str
    confirm: str = Field(description="POST here to import")
    summary: dict[str, Any]
    rows: list[ImportRow]
    bad: list[BadRow]
    already_stored: list[str]


class ImportResult(Answer):
    imported: int
    skipped_bad: int
    summary: dict[str, Any]


def _write(method, path, name, summary, body, response, **kw) -> Route:
    return Route(method, path, f"api.{name}", summary, response, body=body, **kw)


PK = "/api/problems/{problem_pk}"
ROUTES = [
    _write("post", "/api/problems", "create_problem", "Report a problem point; it is "
           "assigned at once", Report, ProblemRecord, status=201, errors=(400, 404, 409),
           description="Points outside the county are kept with assignment.assigned false."),
    _write("patch", PK, "patch_problem", "Change position, category, round, deduction or "
           "description; re-assigns", Change, ProblemRecord, errors=(400, 404, 409)),
    _write("post", f"{PK}/transitions", "problem_transition", "Move a problem to another "
           "status (reopen needs a note)", Transition, ProblemRecord, errors=(400, 404, 409)),
    _write("post", f"{PK}/photos", "add_problem_photo", "Attach a JPEG or PNG photo",
           PhotoUpload, Photo, body_media=MULTIPART, status=201,
           errors=(400, 404, 413, 415)),
    _write("put", f"{PK}/duplicate", "link_duplicate", "Link a problem to the one it "
           "duplicates (its points are not deducted twice)", Duplicate, ProblemRecord,
           errors=(400, 404, 409)),
    _write("delete", f"{PK}/duplicate", "unlink_duplicate", "Remove a problem's duplicate "
           "link", Note, ProblemRecord, body_required=False, errors=(400, 404, 409)),
    _write("put", "/api/categories/{category}", "set_category_deadline", "Change a "
           "category's rectification deadline", Deadline, Category, errors=(400, 404)),
    _write("post", "/api/imports", "import_preview", "Upload an inspection sheet and preview "
           "its import (nothing is written yet)", ImportUpload, ImportPreview,
           body_media=MULTIPART, errors=(400, 413, 415)),
    _write("post", "/api/imports/{token}", "import_confirm", "Import a previewed sheet in one "
           "transaction", ImportConfirm, ImportResult, body_required=False,
           errors=(400, 404, 409), description="Refused (400) while the sheet has bad rows "
           "unless skip_bad is true."),
]  # fmt: skip
