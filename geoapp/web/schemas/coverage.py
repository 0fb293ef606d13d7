"""Inspection coverage: the register of inspection points (受检点), visits, patrol check-ins
(巡查签到), the coverage figures with the ranking, and the coverage map."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from geoapp.core import coverage as rules
from geoapp.web.schemas.base import GEOJSON, Answer, Binary, Body, Form, Query, Route

Kind = Literal[tuple(rules.POINT_KINDS)]  # type: ignore[valid-type]
Result = Literal[rules.VISIT_RESULTS]  # type: ignore[valid-type]
Status = Literal[rules.STATUSES]  # type: ignore[valid-type]
CLIENT_ID = (
    "8 to 64 letters, digits, - or _ made by the phone: a retry with it is answered "
    "with the visit or check-in already stored"
)


class PointsQuery(Query):
    lon: float | None = Field(None, description="with lat: the points nearest this position first")
    lat: float | None = Field(None, description="WGS84 latitude")
    limit: int = Field(5, ge=1, le=50, description="with lon/lat: how many points")


class InspectionPoint(Answer):
    id: int
    point_id: str
    name: str
    kind: Kind
    lon: float
    lat: float
    district_id: str | None
    area_id: str | None
    responsible_unit_id: str | None
    lead_unit_id: str | None
    distance_m: float | None = None


class PointList(Answer):
    points: list[InspectionPoint]


class PointChange(Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: Kind | None = None
    note: str | None = Field(None, max_length=500)


class FoundProblem(Body):
    category: str = Field(description="category code or Chinese name")
    deduction: float | None = Field(None, ge=0)
    description: str | None = None
    lon: float | None = Field(None, description="default: the point's position")
    lat: float | None = None


class Visit(Body):
    point_id: str = Field(description="the point's code in the register")
    round: str = Field(description="inspection round, e.g. 省级评估")
    result: Result = Field(description="clean (达标) or problems (each one an ordinary problem)")
    problems: list[FoundProblem] | None = Field(None, max_length=20)
    note: str | None = None
    lon: float | None = Field(None, description="the inspector's position (WGS84)")
    lat: float | None = None
    accuracy_m: float | None = Field(None, ge=0, description="radius of the position fix")
    visited_at: str | None = Field(None, description="ISO 8601; default now")
    client_id: str | None = Field(None, description=CLIENT_ID)


class VisitRecord(Answer):
    id: int
    point_pk: int
    point_id: str
    point_name: str
    kind: Kind
    round: str
    visited_at: str
    local_date: str
    inspector: str | None
    result: Result
    note: str | None
    lon: float | None
    lat: float | None
    location_accuracy_m: float | None
    client_id: str | None
    photo_name: str | None = Field(description="the stored file of the visit's photo")
    photo_url: str | None = Field(None, description="where the photo is served")
    created_at: str
    district_id: str | None
    area_id: str | None
    responsible_unit_id: str | None
    lead_unit_id: str | None
    problem_pks: list[int]


class VisitAnswer(Answer):
    visit: VisitRecord
    created: bool


class Checkin(Body):
    area_id: str = Field(description="one of the unit's own areas")
    lon: float
    lat: float
    accuracy_m: float | None = Field(None, ge=0, description="radius of the GPS fix, in metres")
    note: str | None = None
    client_id: str = Field(description=CLIENT_ID)


class WithPhoto(Form):
    report: str = Field(description="the body (Visit or Checkin) as JSON text")
    photo: bytes | None = Field(
        None, description="optional: one JPEG or PNG (metadata taken out, MAX_PHOTO_MB at most)"
    )


class CheckinRecord(Answer):
    id: int
    client_id: str
    unit_id: str
    area_id: str
    account: str | None
    checked_at: str
    local_date: str
    lon: float
    lat: float
    accuracy_m: float | None
    distance_m: float = Field(description="metres from the area (0 inside)")
    photo_name: str | None = None
    photo_url: str | None = Field(None, description="where the photo is served")
    note: str | None
    created_at: str | None = None


class CheckinAnswer(Answer):
    checkin: CheckinRecord
    created: bool


class CoverageQuery(Query):
    round: str | None = Field(None, description="default: the round of the latest visit")
    district: str | None = Field(None, description="district id")
    unit: str | None = Field(None, description="responsible unit id")
    kind: Kind | None = Field(None, description="kind of inspection point")
    date_from: date | None = Field(None, description="patrol period: first Beijing date")
    date_to: date | None = Field(None, description="patrol period: last Beijing date (today)")


class CoverageRow(Answer):
    id: str | None
    name: str
    registered: int
    inspected: int
    clean: int
    problems: int
    deduction: float
    coverage: float | None
    clean_rate: float | None
    deduction_per_point: float | None
    overdue: int | None = None
    areas: int | None = None
    areas_patrolled: int | None = None
    patrol_days: int | None = None
    patrol_days_per_area: float | None = None
    status: Status | None = None
    commended: bool | None = None
    criticism_rank: int | None = None


class CoverageAnswer(Answer):
    round: str | None
    rounds: list[str]
    date_from: str
    date_to: str
    min_coverage: float
    rule: str = Field(description="the ranking rule in words")
    totals: dict[str, Any]
    units: list[CoverageRow]
    districts: list[CoverageRow]
    not_inspected: list[dict[str, Any]]
    not_patrolled: list[dict[str, Any]]


class CoverageMap(Answer):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
    legend: list[dict[str, str]]
    today: str


ROUTES = [
    Route(
        "get",
        "/api/points",
        "api.inspection_points",
        "The register of inspection points (受检点), or the nearest ones to a position",
        PointList,
        PointsQuery,
    ),
    Route(
        "patch",
        "/api/points/{point_pk}",
        "api.patch_inspection_point",
        "Change an inspection point's name, kind or note",
        InspectionPoint,
        body=PointChange,
        errors=(400, 404),
    ),
    Route(
        "post",
        "/api/visits",
        "api.create_visit",
        "Record a visit to an inspection point: clean, or the problems found",
        VisitAnswer,
        body=Visit,
        form=WithPhoto,
        status=201,
        errors=(400, 409, 413, 415),
        description="The problems found are ordinary problems linked to the visit; a "
        "retry with the same client_id answers 200 with the visit already stored.",
    ),
    Route(
        "post",
        "/api/checkins",
        "api.create_checkin",
        "A unit's patrol check-in (巡查签到) in one of its own areas",
        CheckinAnswer,
        body=Checkin,
        form=WithPhoto,
        status=201,
        errors=(400, 409, 413, 415, 422),
        description="Accepted inside the area or within GEOAPP_CHECKIN_DISTANCE_M metres "
        "of it; refused (422) elsewhere, naming the area the phone is in.",
    ),
    Route(
        "get",
        "/api/visits/{visit_id}/photo",
        "api.visit_photo",
        "The photo of a visit (to those who see the visit)",
        Binary,
        media="image/jpeg",
        errors=(404,),
        binary=True,
    ),
    Route(
        "get",
        "/api/checkins/{checkin_id}/photo",
        "api.checkin_photo",
        "The photo of a patrol check-in (to those who see it)",
        Binary,
        media="image/jpeg",
        errors=(404,),
        binary=True,
    ),
    Route(
        "get",
        "/api/coverage",
        "api.coverage",
        "Inspection and patrol coverage per unit and district, with the ranking",
        CoverageAnswer,
        CoverageQuery,
    ),
    Route(
        "get",
        "/api/coverage/map",
        "api.coverage_map",
        "Areas and inspection points with the days since their last inspection or patrol",
        CoverageMap,
        CoverageQuery,
        media=GEOJSON,
    ),
]
