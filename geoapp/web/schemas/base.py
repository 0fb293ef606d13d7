"""What every schema module shares: the model bases, GeoJSON pieces, the error answer, the
route declaration, and the one place a request body is validated against its model.

Answers are described by :class:`Answer` models (``extra="forbid"``: the document says
``additionalProperties: false``, so a field the code adds without describing it is a
disagreement a test sees).  Request bodies are :class:`Body` models; :func:`body` validates
one, and a refused body (:class:`BadBody`) becomes a 400 in :mod:`geoapp.web.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

JSON = "application/json"
GEOJSON = "application/geo+json"
MULTIPART = "multipart/form-data"


class Answer(BaseModel):
    """An answer's shape (documentation and tests; answers are not re-validated at run time)."""

    model_config = ConfigDict(extra="forbid")


class Body(BaseModel):
    """A JSON request body.  Strict: a number is not text and text is not a number, so a
    wrong type is named at once (lax only where the domain itself accepts both)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query parameters of a route, for the document.  The values are parsed by the domain's
    own parser (:mod:`geoapp.services.query_params`), whose limits these declarations reuse."""


class Form(BaseModel):
    """A multipart/form-data request (files as binary strings)."""


class BadBody(Exception):
    """A request body its model refused: the pydantic error and the model (whose fields an
    "unknown field" message lists).  Answered as a 400 in geoapp/web/errors.py; a
    ValidationError from anywhere else stays a bug (500)."""

    def __init__(self, error: ValidationError, model: type[Body]):
        super().__init__(str(error))
        self.error = error
        self.model = model


def body(model: type[Body], *, optional: bool = False) -> Any:
    """The request's JSON body validated against ``model``.  ``optional``: an absent or
    empty body counts as ``{}``.  A wrong body raises :class:`BadBody`."""
    data = request.get_json(silent=True)
    if optional and data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadBody(exc, model) from None


# --- GeoJSON ---------------------------------------------------------------------------------
Position = list[float]


class Point(Answer):
    type: Literal["Point"]
    coordinates: Position = Field(min_length=2, max_length=2)


class Geometry(Answer):
    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any]


class Feature(Answer):
    type: Literal["Feature"]
    id: str | int | None = None


class Link(Answer):
    rel: str
    type: str
    href: str


class Error(Answer):
    """Every refusal: ``{error, message}``, with details (bad rows) and, for some refusals,
    what the client needs to try again (e.g. ``current_version``)."""

    model_config = ConfigDict(extra="allow")
    error: str = Field(description="machine-readable code, e.g. bad_parameter")
    message: str = Field(description="what is wrong, naming the parameter or field")
    details: list[str] | None = None


class Binary(Answer):
    """A file (its schema is ``format: binary``)."""


class AnyDocument(Answer):
    """A JSON object not described further (the OpenAPI document itself)."""

    model_config = ConfigDict(extra="allow")


ERROR_TEXT = {
    400: "The request is malformed or refused (the message names the parameter or field)",
    401: "Not signed in, or the bearer token is not valid",
    403: "The caller's role may not do this (or: another unit's data)",
    404: "Nothing with this id",
    409: "The current state refuses the change (stale version, workflow, published draft)",
    413: "The upload is larger than the limit",
    415: "The upload is not of an accepted type",
    422: "Refused where it was asked (a check-in away from the area: the message says where)",
}


@dataclass(frozen=True)
class Route:
    """One operation: its Flask endpoint and rule (in OpenAPI form), and the models of its
    query, request body and answer.  ``errors``: the refusals it may answer besides 401/403."""

    method: str
    path: str
    endpoint: str
    summary: str
    response: type[BaseModel] | None
    query: type[Query] | None = None
    body: type[BaseModel] | None = None
    body_media: str = JSON
    body_required: bool = True
    #: a multipart/form-data body accepted besides the JSON one (e.g. with a photo)
    form: type[BaseModel] | None = None
    media: str = JSON
    status: int = 200
    errors: tuple[int, ...] = (400,)
    description: str = ""
    binary: bool = False
