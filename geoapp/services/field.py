"""Use cases of the field pages (phones): a report sent once whatever the network does, and
a unit's work list and rectification with an after-photo.

A phone gives every report an id of its own (``client_id``) before it is first sent, and
keeps the report in its queue until the server acknowledges it.  The server treats that id
as idempotent: the first request with it stores the problem (201); any later request with
it, after a timeout, a dropped answer or a second tab, stores nothing new and answers the
problem already stored (200), after adding any of the report's photos that did not arrive
(a photo is matched by its bytes, :func:`geoapp.services.photos.add_photo` with ``once``).
The same id with a different report is a conflict (409): ids are not reused.

The report and photo use cases themselves are those of :mod:`geoapp.services.intake`; this
module only checks the field's own values and orders the calls.  No Flask here.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

from geoapp.core.intake import ReportError, parse_report, sniff_image
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES
from geoapp.core.workflow import check_action, check_transition, normalise_status
from geoapp.services import intake, problem_reads, problem_workflow
from geoapp.services import photos as photos_service
from geoapp.services.intake import Conflict, TooLarge, UnsupportedType
from geoapp.store import StoreError

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: The largest position radius kept (a fix from the mobile network can be kilometres wide).
MAX_ACCURACY_M = 100_000.0
#: The most photos one report or rectification may carry.
MAX_PHOTOS = 6


def parse_client_id(value: object) -> str:
    """A client id: 8 to 64 letters, digits, ``-`` or ``_`` (a UUID fits)."""
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise ReportError(
            "client_id",
            N_("must be 8 to 64 letters, digits, - or _ (a UUID made by the phone), got %(value)r"),
            value=value,
        )
    return value


def parse_accuracy(value: object) -> float | None:
    """The radius in metres of a position fix: a number from 0 to 100 km, or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ReportError(
            "accuracy_m", N_("must be a number of metres, got %(value)r"), value=value
        )
    if not 0 <= value <= MAX_ACCURACY_M:
        raise ReportError(
            "accuracy_m",
            N_("%(value)s is not between 0 and %(max)s metres"),
            value=value,
            max=int(MAX_ACCURACY_M),
        )
    return float(value)


def check_photos(photos: list[tuple[bytes, str | None]], max_bytes: int) -> None:
    """Refuse the request before anything is stored when one of its photos would be."""
    if len(photos) > MAX_PHOTOS:
        raise ReportError("photo", N_("at most %(count)s photos at a time"), count=MAX_PHOTOS)
    for data, _name in photos:
        if not data:
            raise ReportError("photo", N_("the file is empty"))
        if len(data) > max_bytes:
            raise TooLarge(N_("the photo is larger than %(value)s MiB"), value=max_bytes // 2**20)
        if sniff_image(data) is None:
            raise UnsupportedType(N_("the file is not a JPEG or PNG image"))


def _split(payload: object) -> tuple[dict, str, float | None]:
    if not isinstance(payload, dict):
        raise ReportError("report", N_("expected a JSON object"))
    fields = dict(payload)
    client_id = parse_client_id(fields.pop("client_id", None))
    accuracy = parse_accuracy(fields.pop("accuracy_m", None))
    return fields, client_id, accuracy


def _same_report(stored: dict, fields: dict, categories: dict[str, str]) -> bool:
    """Whether a report sent again with a stored client id is the stored report: the same
    category, description and position (as given), once both are cleaned the same way."""
    clean = parse_report(fields, categories)
    return (
        clean["category"] == stored["category"]
        and (clean["description"] or None) == (stored["description"] or None)
        and stored["source_x"] is not None
        and abs(clean["lon"] - stored["source_x"]) < 1e-9
        and abs(clean["lat"] - stored["source_y"]) < 1e-9
    )


def submit_report(
    store,
    payload: object,
    photos: list[tuple[bytes, str | None]],
    actor: str | None,
    *,
    role: str | None,
    locale: str,
    photo_dir: Path,
    max_bytes: int,
    now: datetime | None = None,
) -> tuple[dict, bool]:
    """Store a report from a phone with its photos, once.  Returns the problem's detail
    (:func:`geoapp.services.intake.problem_detail`) and whether this request stored it."""
    check_action("report", role)
    fields, client_id, accuracy = _split(payload)
    check_photos(photos, max_bytes)
    stored = store.problem_by_client_id(client_id)
    created = False
    if stored is None:
        try:
            detail = intake.create_problem(
                store,
                fields,
                actor,
                role=role,
                locale=locale,
                now=now,
                client_id=client_id,
                location_accuracy_m=accuracy,
            )
            created = True
        except StoreError:
            # another request with the same id stored it meanwhile (the unique index)
            stored = store.problem_by_client_id(client_id)
            if stored is None:
                raise
    if stored is not None:
        codes = intake.category_spellings(store.list_categories())
        if not _same_report(stored, fields, codes):
            raise Conflict(
                N_("the client id %(client_id)r was already used for another report"),
                client_id=client_id,
            )
        pk = stored["id"]
    else:
        pk = detail["problem"]["id"]
    for data, name in photos:
        photos_service.add_photo(
            store, pk, data, name, photo_dir, max_bytes, actor, role=role, once=True
        )
    return intake.problem_detail(store, pk, locale, role=role), created


def unit_worklist(store, unit_id: str, locale: str, now: datetime) -> list[dict]:
    """The open problems of a unit, the overdue first, then by deadline (none last), then
    by report time: each as the API's feature properties with ``lon``/``lat``."""
    found = problem_reads.problems(
        store,
        {"unit": [unit_id], "status": list(OPEN_STATUSES)},
        locale,
        paged=False,
        now=now,
    )
    rows = []
    for feature in found["features"]:
        coords = (feature.get("geometry") or {}).get("coordinates") or (None, None)
        rows.append(feature["properties"] | {"lon": coords[0], "lat": coords[1]})
    rows.sort(
        key=lambda r: (
            not r.get("overdue"),
            r.get("due_at") is None,
            r.get("due_at") or "",
            r.get("reported_at") or "",
        )
    )
    return rows


#: The steps from each open status to "rectified".
_TO_RECTIFIED = {
    "reported": ("rectifying", "rectified"),
    "assigned": ("rectifying", "rectified"),
    "rectifying": ("rectified",),
}


def rectify(
    store,
    problem_pk: int,
    note: object,
    photos: list[tuple[bytes, str | None]],
    actor: str | None,
    *,
    role: str | None,
    actor_unit_id: str | None,
    locale: str,
    photo_dir: Path,
    max_bytes: int,
) -> dict:
    """Report a problem rectified with at least one photo of the place after the work:
    the photos are kept marked ``after``, then the problem moves to ``rectified`` (through
    ``rectifying`` when it was not started).  Every check runs before anything is stored;
    sent again once rectified, it adds no photo twice and changes nothing else."""
    if note is not None and not isinstance(note, str):
        raise ReportError("note", N_("must be text"))
    if not photos:
        raise ReportError("photo", N_("take a photo of the rectified place"))
    check_photos(photos, max_bytes)
    problem = store.get_problem(problem_pk)
    status = normalise_status(problem["status"])
    unit = problem["responsible_unit_id"]
    steps = _TO_RECTIFIED.get(status, ())
    if status != "rectified":
        source = status
        if not steps:  # verified: the graph's own refusal names what is allowed
            check_transition(source, "rectified", role, actor_unit_id, unit, note)
        for target in steps:
            check_transition(source, target, role, actor_unit_id, unit, note)
            source = target
    for data, name in photos:
        photos_service.add_photo(
            store,
            problem["id"],
            data,
            name,
            photo_dir,
            max_bytes,
            actor,
            role=role,
            actor_unit_id=actor_unit_id,
            stage="after",
            once=True,
        )
    detail = None
    for target in steps:
        detail = problem_workflow.transition(
            store,
            problem["id"],
            target,
            note if target == "rectified" else None,
            actor,
            role=role,
            actor_unit_id=actor_unit_id,
        )
    return detail or intake.problem_detail(
        store, problem["id"], locale, role=role, actor_unit_id=actor_unit_id
    )
