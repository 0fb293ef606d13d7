"""The OpenAPI 3.1 document of the JSON API, generated from the pydantic models of
:mod:`geoapp.web.schemas` (JSON Schema 2020-12, which OpenAPI 3.1 uses as it is).

Each :class:`~geoapp.web.schemas.base.Route` gives an operation: its query model becomes the
parameters, its body model the request body, its answer model the response; refusals are
the ``Error`` model.  Whether a GET answers conditional requests is read from the view
itself.  A test checks that the document names exactly the routes the app registers, and
another validates real answers against it.
"""

from __future__ import annotations

from flask import current_app
from pydantic.json_schema import models_json_schema

from geoapp.core.model import DB_INT_MAX, STATUSES
from geoapp.web.schemas import ROUTES, Route
from geoapp.web.schemas.base import (
    ERROR_TEXT,
    JSON,
    MULTIPART,
    AnyDocument,
    Binary,
    Body,
    Error,
    Form,
)

REF = "#/components/schemas/{model}"
DB_ID = {"type": "integer", "minimum": 0, "maximum": DB_INT_MAX}
#: path parameters by name: (schema, description)
PATH_PARAMETERS = {
    "problem_pk": (DB_ID, "the problem's internal id (the id property)"),
    "generation_id": (DB_ID, "a boundary generation's id"),
    "category": ({"type": "string"}, "a category code (or its Chinese name)"),
    "token": ({"type": "string"}, "the token a preview answered with"),
    "point_pk": (DB_ID, "an inspection point's internal id (the id property)"),
    "visit_id": (DB_ID, "a visit's id"),
    "checkin_id": (DB_ID, "a patrol check-in's id"),
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "schema": {"type": "string"},
    "description": "an ETag from an earlier answer: 304 without a body if unchanged",
}
#: Other systems send ``Authorization: Bearer TOKEN`` (``geoapp create-token``); pages use
#: the sign-in session cookie.  Which roles may call what: geoapp/web/permissions.py.
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "geoapp create-token"},
    "session": {"type": "apiKey", "in": "cookie", "name": "session"},
}

OPENAPI_ROUTE = Route(
    "get", "/api/openapi.json", "api.openapi_document", "This document", AnyDocument, errors=()
)
#: every documented operation, this document's own included
ALL_ROUTES = [*ROUTES, OPENAPI_ROUTE]


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _components() -> dict:
    """Every model's JSON Schema, by name (nested models are named too)."""
    models = {Error}
    for r in ALL_ROUTES:
        models |= {m for m in (r.response, r.body, r.form) if m is not None and m is not Binary}
    modes = [(m, "validation" if issubclass(m, Body | Form) else "serialization") for m in models]
    _, top = models_json_schema(sorted(modes, key=lambda m: m[0].__name__), ref_template=REF)
    schemas = top.get("$defs", {})
    schemas[Binary.__name__] = {"type": "string", "format": "binary"}
    return schemas


def _without_null(schema: dict) -> dict:
    """A parameter's schema: an optional parameter is left out, never sent as null."""
    options = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if len(options) == 1:
        schema = {k: v for k, v in schema.items() if k != "anyOf"} | options[0]
    drop = {"title"} | ({"default"} if schema.get("default", 0) is None else set())
    return {k: v for k, v in schema.items() if k not in drop}


def _parameters(route: Route) -> list[dict]:
    out = []
    for part in route.path.split("/"):
        if part.startswith("{"):
            name = part[1:-1]
            schema, text = PATH_PARAMETERS[name]
            out.append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": schema,
                    "description": text,
                }
            )
    if route.query is not None:
        js = route.query.model_json_schema(ref_template=REF)
        required = set(js.get("required", []))
        for name, prop in js["properties"].items():
            schema = _without_null(prop)
            param = {"name": name, "in": "query", "required": name in required}
            if "description" in schema:
                param["description"] = schema.pop("description")
            if "examples" in schema:
                param["example"] = schema.pop("examples")[0]
            if schema.get("type") == "array":
                param |= {"style": "form", "explode": True}
            out.append(param | {"schema": schema})
    return out


def _conditional(route: Route) -> bool:
    view = current_app.view_functions.get(route.endpoint)
    return bool(getattr(view, "conditional", False))


def _error(code: int) -> dict:
    return {"description": ERROR_TEXT[code], "content": {JSON: {"schema": _ref(Error)}}}


def _operation(route: Route) -> dict:
    ok: dict = {
        "description": "Created" if route.status == 201 else "OK",
        "content": {route.media: {"schema": _ref(route.response)}},
    }
    responses = {str(route.status): ok}
    parameters = _parameters(route)
    if route.method == "get" and _conditional(route):
        parameters.append(IF_NONE_MATCH)
        ok["headers"] = {
            "ETag": {"schema": {"type": "string"}, "description": "strong validator"},
            "Cache-Control": {"schema": {"const": "no-cache, private"}},
        }
        responses["304"] = {"description": "Not modified: the If-None-Match tag still holds"}
    for code in sorted({*route.errors, 401, 403}):
        responses[str(code)] = _error(code)
    op: dict = {
        "operationId": route.endpoint.removeprefix("api."),
        "summary": route.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if route.description:
        op["description"] = route.description
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {route.body_media: {"schema": _ref(route.body)}},
        }
        if route.form is not None:
            op["requestBody"]["content"][MULTIPART] = {"schema": _ref(route.form)}
    return op


def document(root: str = "") -> dict:
    """The OpenAPI 3.1 document; ``root`` is the app's URL prefix (``request.script_root``).
    Built inside a request (it reads the app's views)."""
    paths: dict[str, dict] = {}
    for route in ALL_ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route)
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
                f"{statuses}. Errors are JSON {{error, message}}; a malformed body is a 400 "
                "naming the field."
            ),
        },
        "servers": [{"url": root or "/"}],
        "paths": paths,
        "components": {"schemas": _components(), "securitySchemes": SECURITY_SCHEMES},
        "security": [{"bearer": []}, {"session": []}],
    }


def flask_path(path: str) -> str:
    """An OpenAPI path in Flask's rule syntax (ids are ``int``, the rest plain text)."""
    for name, (schema, _) in PATH_PARAMETERS.items():
        rule = f"<int:{name}>" if schema.get("type") == "integer" else f"<{name}>"
        path = path.replace("{" + name + "}", rule)
    return path
