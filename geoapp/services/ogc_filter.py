"""Queryables, CQL2 filters and sort orders of the OGC API (Part 3 and the sorting draft).

``filter`` is parsed with pygeofilter (CQL2 text, or CQL2 JSON with ``filter-lang=cql2-json``),
checked against the collection's queryables here, and turned into the store's filter tree
(:mod:`geoapp.store.ogc_queries`), which runs as SQL on SQLite and PostGIS.  Properties that
are not columns are spelled out in columns: a problem's ``due_at`` is its ``reported_at`` plus
its category's deadline, and ``overdue`` (as at ``now``) an open problem past it.  Geometry
literals are in ``filter-crs`` (default CRS84) and are converted to CRS84.  ``sortby`` is
``[+|-]name`` separated by commas.  No Flask, no SQL.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import shapely
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from shapely.geometry import shape

from geoapp.core import ogc_crs
from geoapp.core.deadlines import usable_hours
from geoapp.core.messages import N_
from geoapp.core.model import OPEN_STATUSES, STATUSES
from geoapp.services import query_params
from geoapp.services.query_params import Args, BadParameter

TEXT_LANG, JSON_LANG = "cql2-text", "cql2-json"
#: GDAL (3.12 too) sends the draft's name ``cql-text`` for CQL2 text, and pushes a ``-where``
#: to the server only when the API definition offers it among the ``filter-lang`` values.
LEGACY_TEXT_LANG = "cql-text"
LANGS = (TEXT_LANG, JSON_LANG, LEGACY_TEXT_LANG)
#: The query parameters of Part 2 and Part 3 on an items endpoint.
PARAMS = ("filter", "filter-lang", "filter-crs", "sortby", "crs", "bbox-crs")
_OPEN = (*OPEN_STATUSES, "open")  # the statuses whose problems can be overdue
_STR, _NUM, _INT = {"type": "string"}, {"type": "number"}, {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_BOOL = {"type": "boolean"}

#: collection → queryable → (JSON Schema, store column; None = worked out, see module doc)
QUERYABLES: dict[str, dict[str, tuple[dict, str | None]]] = {
    "problems": {
        "geometry": ({"format": "geometry-point", "x-ogc-role": "primary-geometry"}, None),
        "id": (_INT | {"x-ogc-role": "id"}, "id"),
        "problem_id": (_STR, "problem_id"),
        "round": (_STR, "round"),
        "category": (_STR, "category"),
        "description": (_STR, "description"),
        "status": (_STR | {"enum": [*STATUSES, "open"]}, "status"),
        "deduction": (_NUM, "deduction"),
        "reported_at": (_TIME, "reported_at"),
        "due_at": (_TIME, None),
        "overdue": (_BOOL, None),
        "district_id": (_STR, "district_id"),
        "area_id": (_STR, "area_id"),
        "responsible_unit_id": (_STR, "responsible_unit_id"),
        "lead_unit_id": (_STR, "lead_unit_id"),
        "rule_id": (_STR, "rule_id"),
        "generation": (_INT, "generation_id"),
        "duplicate_of": (_INT, "duplicate_of"),
    },
    "areas": {
        "geometry": ({"format": "geometry-multipolygon", "x-ogc-role": "primary-geometry"}, None),
        "id": (_STR | {"x-ogc-role": "id"}, "area_id"),
        "name": (_STR, "name"),
        "kind": (_STR, "kind"),
        "district_id": (_STR, "district_id"),
        "responsible_unit_id": (_STR, "responsible_unit_id"),
    },
    "districts": {
        "geometry": ({"format": "geometry-multipolygon", "x-ogc-role": "primary-geometry"}, None),
        "id": (_STR | {"x-ogc-role": "id"}, "district_id"),
        "name": (_STR, "name"),
        "lead_unit_id": (_STR, "lead_unit_id"),
    },
    "units": {
        "geometry": ({"format": "geometry-point", "x-ogc-role": "primary-geometry"}, None),
        "id": (_STR | {"x-ogc-role": "id"}, "unit_id"),
        "name": (_STR, "name"),
        "kind": (_STR, "kind"),
        "lead_district_id": (_STR, "lead_district_id"),
    },
}
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPS = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}
#: CQL2 temporal predicates on an instant property against an instant or an interval
_TEMPORAL = {
    ast.TimeAfter: "after",
    ast.TimeBefore: "before",
    ast.TimeEquals: "equals",
    ast.TimeDuring: "during",
    ast.TimeOverlaps: "intersects",  # pygeofilter reads T_INTERSECTS as TimeOverlaps
    ast.TimeDisjoint: "disjoint",
}
_FUNCTION_STYLE = re.compile(r"\b(T_[A-Z]+)\s*\(", re.IGNORECASE)


def queryables(base: str, cid: str) -> dict:
    """The JSON Schema of a collection's queryables (``/collections/{cid}/queryables``)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{cid}/queryables",
        "type": "object",
        "title": cid,
        "properties": {
            name: {"title": name, **schema} for name, (schema, _) in QUERYABLES[cid].items()
        },
        "additionalProperties": False,
        # The draft's list of the same names, the only form GDAL (3.12 too) reads: without
        # it GDAL filters on the client instead of sending the filter.  JSON Schema ignores
        # keywords it does not know.
        "queryables": [
            {"id": name, "type": schema.get("type", "geometry")}
            for name, (schema, _) in QUERYABLES[cid].items()
        ],
    }


def sortables(cid: str) -> list[str]:
    """The properties ``sortby`` accepts: the queryables stored as columns."""
    return [n for n, (_, column) in QUERYABLES[cid].items() if column is not None]


def parse_sortby(args: Args, cid: str) -> list[tuple[str, bool]]:
    """``sortby=+status,-reported_at`` → ``[("status", False), ("reported_at", True)]``
    (store columns; ``-`` is descending, ``+`` or nothing ascending)."""
    out: list[tuple[str, bool]] = []
    for part in query_params._list(args, "sortby"):
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        known = sortables(cid)
        if name not in known:
            raise BadParameter(
                "sortby",
                N_("sortby: %(name)r is not a sortable property of %(cid)s (sortable: %(known)s)"),
                name=name,
                cid=cid,
                known=", ".join(known),
            )
        out.append((QUERYABLES[cid][name][1], descending))
    return out


def _function_style(text: str) -> str:
    """Rewrite the CQL2 function form ``T_AFTER(a, b)`` as the infix ``a T_AFTER b`` that
    pygeofilter's grammar reads (its older draft syntax)."""
    out, pos = [], 0
    while (match := _FUNCTION_STYLE.search(text, pos)) is not None:
        if text.count("'", 0, match.start()) % 2:  # inside a quoted string: leave it
            out.append(text[pos : match.end()])
            pos = match.end()
            continue
        depth, quoted, comma, i = 1, False, None, match.end()
        while i < len(text) and depth:
            ch = text[i]
            if ch == "'":
                quoted = not quoted
            elif not quoted and ch == "(":
                depth += 1
            elif not quoted and ch == ")":
                depth -= 1
            elif not quoted and ch == "," and depth == 1 and comma is None:
                comma = i
            i += 1
        if depth or comma is None:
            return text  # not the function form: let the parser say what is wrong
        left, right = text[match.end() : comma], text[comma + 1 : i - 1]
        inner = f"({_function_style(left)} {match.group(1).upper()} {_function_style(right)})"
        out += [text[pos : match.start()], inner]
        pos = i
    return "".join(out) + text[pos:]


def _json_between(node: Any) -> Any:
    """CQL2 JSON's ``between`` has three arguments (property, low, high); pygeofilter reads
    an older draft's two (property, [low, high])."""
    if isinstance(node, list):
        return [_json_between(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_between(v) for k, v in node.items()}
    args = out.get("args")
    if out.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        out["args"] = [args[0], args[1:]]
    return out


def _parse(raw: str, lang: str) -> Any:
    try:
        if lang == JSON_LANG:
            return parse_cql2_json(_json_between(json.loads(raw)))
        return parse_cql2_text(_function_style(raw))
    except Exception as exc:  # pygeofilter raises lark, JSON, key and value errors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadParameter(
            "filter",
            N_("filter is not valid %(lang)s: %(reason)s"),
            lang=lang,
            reason=reason[:200],
        ) from None


def parse_filter(
    args: Args, cid: str, categories: dict[str, dict], now: datetime, offered: list[str]
) -> tuple | None:
    """The store's filter tree of ``filter`` (None without one); a bad filter, an unknown
    property or a value of the wrong type raises :class:`BadParameter` naming it."""
    raw = query_params._one(args, "filter")
    lang = (query_params._one(args, "filter-lang") or TEXT_LANG).lower()
    if lang == LEGACY_TEXT_LANG:
        lang = TEXT_LANG
    if lang not in (TEXT_LANG, JSON_LANG):
        raise BadParameter(
            "filter-lang",
            N_("filter-lang=%(lang)r: use cql2-text or cql2-json"),
            lang=lang,
        )
    crs_name = query_params._one(args, "filter-crs")
    crs = ogc_crs.canonical(crs_name, offered, "filter-crs") if crs_name else ogc_crs.CRS84
    if raw is None:
        return None
    hours = {c: h for c, v in categories.items() if (h := usable_hours(v.get("deadline_hours")))}
    return _Translator(cid, hours, now, crs).node(_parse(raw, lang))


class BadFilter(BadParameter):
    """A ``filter`` that names an unknown property, compares with a value of the wrong type
    or uses what is not supported (HTTP 400)."""

    message_arg = 0

    def __init__(self, message: str, /, **values: Any) -> None:
        super().__init__("filter", message, **values)


def _instant(value: Any) -> Any:
    """A datetime as an aware UTC instant (naive ones are read as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _span(value: Any) -> tuple[datetime | None, datetime | None, bool]:
    """A temporal literal as (start, end, end_included): a date is its UTC day [start, end),
    an instant [t, t], an interval from its two ends (None where open, ``..``)."""
    if isinstance(value, values.Interval):
        start = _span(value.start)[0] if isinstance(value.start, date) else None
        end, included = _span(value.end)[1:] if isinstance(value.end, date) else (None, True)
        return start, end, included
    if isinstance(value, datetime):
        t = _instant(value)
        return t, t, True
    if isinstance(value, date):
        start = datetime.combine(value, time(0), tzinfo=UTC)
        return start, start + timedelta(days=1), False
    raise TypeError(value)


class _Translator:
    """pygeofilter's tree → the store's filter tree, for one collection."""

    def __init__(self, cid: str, hours: dict[str, float], now: datetime, crs: str) -> None:
        self.cid, self.hours, self.now, self.crs = cid, hours, now, crs
        self.props = QUERYABLES[cid]

    def prop(self, node: Any) -> str:
        if not isinstance(node, ast.Attribute):
            raise BadFilter(N_("filter: expected a property name, got %(node)r"), node=_shown(node))
        if node.name not in self.props:
            raise BadFilter(
                N_("filter: %(name)r is not a queryable of %(cid)s (queryables: %(known)s)"),
                name=node.name,
                cid=self.cid,
                known=", ".join(self.props),
            )
        return node.name

    def literal(self, name: str, value: Any) -> Any:
        """A literal checked against the queryable's type."""
        schema = self.props[name][0]
        kind, fmt = schema.get("type"), schema.get("format")
        ok = (
            (fmt == "date-time" and isinstance(value, date | values.Interval))
            or (kind == "string" and fmt is None and isinstance(value, str))
            or (kind == "boolean" and isinstance(value, bool))
            or (kind == "integer" and isinstance(value, int) and not isinstance(value, bool))
            or (kind == "number" and isinstance(value, int | float) and not isinstance(value, bool))
        )
        if not ok:
            raise BadFilter(
                N_("filter: %(name)s is %(kind)s, not %(value)r"),
                name=name,
                kind=fmt or kind or "a geometry",
                value=_shown(value),
            )
        return value

    # --- nodes --------------------------------------------------------------------------
    def node(self, n: Any) -> tuple:
        if isinstance(n, ast.And | ast.Or):
            return ("and" if isinstance(n, ast.And) else "or", [self.node(n.lhs), self.node(n.rhs)])
        if isinstance(n, ast.Not):
            return ("not", self.node(n.sub_node))
        if isinstance(n, bool):
            return ("const", n)
        if type(n) in _OPS:
            op, lhs, rhs = _OPS[type(n)], n.lhs, n.rhs
            if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
                op, lhs, rhs = _FLIP[op], rhs, lhs
            name = self.prop(lhs)
            return self.compare(name, op, self.literal(name, rhs))
        if isinstance(n, ast.Between):
            name = self.prop(n.lhs)
            low, high = self.literal(name, n.low), self.literal(name, n.high)
            both = ("and", [self.compare(name, ">=", low), self.compare(name, "<=", high)])
            return ("not", both) if n.not_ else both
        if isinstance(n, ast.In):
            name = self.prop(n.lhs)
            if not isinstance(n.sub_nodes, list | tuple):
                raise BadFilter(
                    N_("filter: IN needs a list, not %(what)s"), what=_shown(n.sub_nodes)
                )
            items = [self.literal(name, v) for v in n.sub_nodes]
            column = self.props[name][1]
            if column is not None and not any(isinstance(v, date) for v in items):
                out: tuple = ("in", column, items)
            else:
                out = ("or", [self.compare(name, "=", v) for v in items])
            return ("not", out) if n.not_ else out
        if isinstance(n, ast.Like):
            name = self.prop(n.lhs)
            if self.props[name][0] != _STR:
                raise BadFilter(N_("filter: LIKE needs a text property, not %(name)s"), name=name)
            like = ("like", self.props[name][1], self.literal(name, n.pattern), bool(n.nocase))
            return ("not", like) if n.not_ else like
        if isinstance(n, ast.IsNull):
            name = self.prop(n.lhs)
            out = self.is_null(name)
            return ("not", out) if n.not_ else out
        if type(n) in _TEMPORAL:
            return self.temporal(_TEMPORAL[type(n)], n)
        if isinstance(n, ast.GeometryIntersects | ast.GeometryDisjoint | ast.BBox):
            return self.spatial(n)
        raise BadFilter(N_("filter: %(what)s is not supported"), what=_shown(n))

    def compare(self, name: str, op: str, value: Any) -> tuple:
        if isinstance(value, values.Interval):
            raise BadFilter(
                N_("filter: compare %(name)s with an instant, not an interval"), name=name
            )
        if isinstance(value, date) and not isinstance(value, datetime):
            start, end, _ = _span(value)  # a date is its whole (UTC) day
            pieces = {
                "=": ("and", [(">=", start), ("<", end)]),
                "<>": ("or", [("<", start), (">=", end)]),
                "<": ("and", [("<", start)]),
                "<=": ("and", [("<", end)]),
                ">": ("and", [(">=", end)]),
                ">=": ("and", [(">=", start)]),
            }[op]
            return (pieces[0], [self.compare(name, o, v) for o, v in pieces[1]])
        if isinstance(value, datetime):
            value = _instant(value)
        if name == "overdue":
            if op not in ("=", "<>"):
                raise BadFilter(N_("filter: compare overdue with = or <>, not %(op)s"), op=op)
            return self.overdue() if (op == "=") == value else ("not", self.overdue())
        if name == "due_at":
            return (
                "or",
                [
                    ("and", [("cmp", "=", "category", c), ("cmp", op, "reported_at", value - dt)])
                    for c, dt in self._deadlines()
                ],
            )
        return ("cmp", op, self.props[name][1], value)

    def _deadlines(self) -> list[tuple[str, timedelta]]:
        return [(c, timedelta(hours=h)) for c, h in sorted(self.hours.items())]

    def overdue(self) -> tuple:
        """An open problem whose deadline (reported_at + its category's hours) has passed;
        never unknown (NULL), so ``NOT`` of it is exact."""
        late = [
            ("and", [("cmp", "=", "category", c), ("cmp", "<", "reported_at", self.now - dt)])
            for c, dt in self._deadlines()
        ]
        return (
            "and",
            [
                ("in", "status", list(_OPEN)),
                ("not", ("null", "category")),
                ("or", late or [("const", False)]),
            ],
        )

    def is_null(self, name: str) -> tuple:
        if name == "overdue":
            return ("const", False)
        if name == "due_at":
            with_deadline = ("in", "category", sorted(self.hours) or [""])
            return ("or", [("null", "category"), ("not", with_deadline)])
        if name == "geometry":
            return ("or", [("null", "lon"), ("null", "lat")])
        return ("null", self.props[name][1])

    def temporal(self, kind: str, n: Any) -> tuple:
        """T_AFTER, T_BEFORE, T_DURING, T_EQUALS, T_INTERSECTS, T_DISJOINT of an instant
        property (a time of the problem) and an instant, a date or an interval."""
        name = self.prop(n.lhs)
        if self.props[name][0] != _TIME:
            raise BadFilter(N_("filter: %(name)s is not a time"), name=name)
        start, end, included = _span(self.literal(name, n.rhs))
        to_end = "<=" if included else "<"
        if kind == "after":
            parts = [self.compare(name, ">" if included else ">=", end)] if end else None
        elif kind == "before":
            parts = [self.compare(name, "<", start)] if start else None
        elif kind == "during":
            parts = [self.compare(name, ">", start)] if start else []
            parts += [self.compare(name, "<", end)] if end else []
        else:  # equals, intersects, disjoint: within [start, end]
            parts = [self.compare(name, ">=", start)] if start else []
            parts += [self.compare(name, to_end, end)] if end else []
        out: tuple = ("and", parts) if parts is not None else ("const", False)
        return ("not", out) if kind == "disjoint" else out

    def spatial(self, n: Any) -> tuple:
        if isinstance(n, ast.BBox):
            self._geometry_prop(n.lhs)
            crs = (
                ogc_crs.canonical(n.crs, [self.crs, ogc_crs.CRS84], "filter-crs")
                if n.crs
                else self.crs
            )
            geometry = shapely.box(n.minx, n.miny, n.maxx, n.maxy)
            return self._intersects(geometry, crs)
        lhs, rhs = n.lhs, n.rhs
        if not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        self._geometry_prop(lhs)
        if (
            isinstance(rhs, ast.Function)
            and rhs.name.lower() == "bbox"
            and len(rhs.arguments) in (4, 6)
        ):
            a = [float(v) for v in rhs.arguments]
            geometry = shapely.box(*(a if len(a) == 4 else [a[0], a[1], a[3], a[4]]))
        elif isinstance(rhs, values.Geometry | values.Envelope):
            try:
                geometry = shape(rhs.__geo_interface__)
            except Exception as exc:
                raise BadFilter(N_("filter: not a geometry: %(reason)s"), reason=str(exc)) from None
        else:
            raise BadFilter(N_("filter: %(what)s is not a geometry"), what=_shown(rhs))
        out = self._intersects(geometry, self.crs)
        return ("not", out) if isinstance(n, ast.GeometryDisjoint) else out

    def _geometry_prop(self, node: Any) -> None:
        if self.prop(node) != "geometry":
            raise BadFilter(
                N_("filter: spatial tests apply to geometry, not %(name)s"), name=node.name
            )

    def _intersects(self, geometry: Any, crs: str) -> tuple:
        if geometry.is_empty or not shapely.is_valid(geometry):
            geometry = shapely.make_valid(geometry)
        geometry = ogc_crs.transform_geometry(geometry, crs, ogc_crs.CRS84)
        if geometry.is_empty or not all(map(_finite, geometry.bounds)):
            raise BadFilter(N_("filter: the geometry is empty or outside %(crs)s"), crs=crs)
        return ("intersects", shapely.to_wkb(geometry), tuple(geometry.bounds))


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
