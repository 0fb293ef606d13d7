"""GeoJSON documents: parsed with their nesting and text checked
(:func:`load_geojson`), and the coordinate system a document declares.
"""

from __future__ import annotations

import json

from geoapp.core.messages import N_
from geoapp.core.textcheck import MAX_DEPTH, NUL, SURROGATE, first_fault_of_text
from geoapp.io.errors import InputError
from geoapp.io.files import decode_text


def _declared_geojson_crs(doc: dict, name: str) -> str | None:
    crs = doc.get("crs")
    if not crs:
        return None
    try:
        declared = crs["properties"]["name"]
    except (TypeError, KeyError):
        raise InputError(
            N_(
                '%(name)s: the \'crs\' member is not of the form {"type": "name", "properties": {"name": ...}}'
            ),
            name=name,
        ) from None
    try:
        from pyproj import CRS

        return CRS.from_user_input(declared).to_string()
    except Exception:
        raise InputError(
            N_("%(name)s: unknown CRS %(declared)r in the 'crs' member"),
            name=name,
            declared=declared,
        ) from None


def load_geojson(data: bytes, name: str) -> dict:
    text = decode_text(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            N_("%(name)s: not valid JSON at line %(lineno)s, column %(colno)s: %(msg)s"),
            name=name,
            lineno=exc.lineno,
            colno=exc.colno,
            msg=exc.msg,
        ) from None
    except RecursionError:
        raise InputError(N_("%(name)s: the JSON is nested too deeply"), name=name) from None
    fault = first_fault_of_text(text, doc)
    if fault is not None:
        where, kind = fault
        if kind == NUL:
            raise InputError(
                N_("%(name)s: %(where)r contains a NUL character (U+0000), which cannot be stored"),
                name=name,
                where=where,
            )
        if kind == SURROGATE:
            raise InputError(
                N_("%(name)s: %(where)r contains a lone surrogate, which is not valid Unicode"),
                name=name,
                where=where,
            )
        raise InputError(
            N_("%(name)s: %(where)r is nested deeper than %(depth)s levels"),
            name=name,
            where=where,
            depth=MAX_DEPTH,
        )
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(N_("%(name)s: expected a GeoJSON FeatureCollection"), name=name)
    if not isinstance(doc.get("features"), list):
        raise InputError(N_("%(name)s: the FeatureCollection has no 'features' list"), name=name)
    return doc
