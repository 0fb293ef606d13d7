"""The OpenAPI document of the API, generated from the schemas (:mod:`geoapp.web.openapi`)."""

from __future__ import annotations

from flask import request

from geoapp.web import openapi
from geoapp.web.answers import _json
from geoapp.web.api import bp


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return _json(openapi.document(request.script_root or ""))
