"""Filter expressions and sort orders (OGC API – Features Part 3: CQL2, ``sortby``) as SQL.

The services parse CQL2 text or JSON and check it against a collection's queryables; what
reaches the store is a small tree of tuples over the table's own column names, written once
for both backends (only the spatial test differs, see :mod:`geoapp.store.backends`):

==========================================  ==============================================
node                                        SQL
==========================================  ==============================================
``("and", [a, b, ...])``                    ``a AND b ...`` (``("or", [...])`` likewise)
``("not", a)``                              ``NOT a``
``("cmp", op, column, value)``              ``column op value``; op one of
                                            ``= <> < <= > >=``
``("in", column, [values])``                ``column IN (...)``
``("like", column, pattern, nocase)``       ``column LIKE pattern ESCAPE '\\'``
                                            (``lower()`` on both sides when nocase)
``("null", column)``                        ``column IS NULL``
``("intersects", wkb, (x0, y0, x1, y1))``   the row's geometry intersects the WKB geometry
                                            (WGS84 lon/lat) whose envelope is given: an
                                            indexed envelope test first, then the exact one
``("const", bool)``                         ``true`` / ``false``
==========================================  ==============================================

A sort order is a list of ``(column, descending)``; empty values sort last going up and
first going down on both backends.  A mixin of :class:`geoapp.store.Transaction`.
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from geoapp.core.messages import N_
from geoapp.store import _values as V
from geoapp.store import schema as S
from geoapp.store.errors import StoreError
from geoapp.store.plumbing import _CONV, TransactionBase

#: A collection's spatial test: (WKB geometry, its envelope) → SQL condition.
Spatial = Callable[[bytes, tuple], Any]
#: The OGC collections besides problems → (table, id column).
FEATURE_TABLES = {
    "areas": ("area_versions", "area_id"),
    "districts": ("districts", "district_id"),
    "units": ("units", "unit_id"),
}
_COMPARE = {
    "=": lambda c, v: c == v,
    "<>": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
}


class FilterQueries(TransactionBase):
    """Filter trees and sort orders turned into SQL conditions on one table."""

    def _column(self, table: sa.Table, name: Any) -> Any:
        if not isinstance(name, str) or name not in table.c:
            raise StoreError(
                N_("filter: %(table)s has no column %(name)r"), table=table.name, name=name
            )
        return table.c[name]

    def _value(self, table: sa.Table, name: str, value: Any) -> Any:
        conv = _CONV.get(table.name, {}).get(name)
        return value if conv is None else V.convert(value, conv, "filter", name)

    def _filter_clause(self, table: sa.Table, node: Any, spatial: Spatial | None = None) -> Any:
        """The SQL condition of one filter tree (see the module's table) on ``table``;
        ``spatial(wkb, envelope)`` gives the condition of ``intersects`` (default: the
        table's lon/lat point)."""
        if not isinstance(node, tuple) or not node:
            raise StoreError(N_("filter: %(node)r is not a filter expression"), node=node)
        kind = node[0]
        if kind in ("and", "or"):
            parts = [self._filter_clause(table, n, spatial) for n in node[1]]
            if not parts:  # nothing to hold: AND of none is true, OR of none false
                return sa.true() if kind == "and" else sa.false()
            return (sa.and_ if kind == "and" else sa.or_)(*parts)
        if kind == "not":
            return sa.not_(self._filter_clause(table, node[1], spatial))
        if kind == "const":
            return sa.true() if node[1] else sa.false()
        if kind == "cmp":
            _, op, name, value = node
            if op not in _COMPARE:
                raise StoreError(N_("filter: unknown comparison %(op)r"), op=op)
            column = self._column(table, name)
            return _COMPARE[op](column, self._value(table, name, value))
        if kind == "in":
            _, name, values = node
            column = self._column(table, name)
            return column.in_([self._value(table, name, v) for v in values])
        if kind == "like":
            _, name, pattern, nocase = node
            column = self._column(table, name)
            if nocase:
                return sa.func.lower(column).like(sa.func.lower(pattern), escape="\\")
            return column.like(pattern, escape="\\")
        if kind == "null":
            return self._column(table, node[1]).is_(None)
        if kind == "intersects":
            _, wkb, (minx, miny, maxx, maxy) = node
            if spatial is not None:
                return spatial(bytes(wkb), (minx, miny, maxx, maxy))
            if "lon" in table.c and "lat" in table.c:
                envelope = sa.and_(
                    table.c.lon.between(float(minx), float(maxx)),
                    table.c.lat.between(float(miny), float(maxy)),
                )
                return sa.and_(envelope, self._point_intersects(table, bytes(wkb)))
            raise StoreError(N_("filter: %(table)s has no point geometry"), table=table.name)
        raise StoreError(N_("filter: unknown expression %(kind)r"), kind=kind)

    def _point_intersects(self, table: sa.Table, wkb: bytes) -> Any:  # pragma: no cover
        """The exact test of a row's lon/lat point against a WKB geometry (per backend)."""
        raise NotImplementedError

    def _shape_intersects(self, table: sa.Table, wkb: bytes) -> Any:  # pragma: no cover
        """The test of an area version's geometry against a WKB geometry (per backend)."""
        raise NotImplementedError

    def feature_ids(
        self,
        collection: str,
        tree: Any = None,
        sort: Sequence[tuple[str, bool]] = (),
        generation_id: int | None = None,
    ) -> list[str]:
        """The ids of the ``areas`` (of a generation, default the current one), ``districts``
        or ``units`` matching a filter tree, sorted by ``sort`` (``(column, descending)``
        pairs of the collection's table) then id.  A district's geometry is the union of its
        areas: it intersects a geometry when one of its areas does."""
        if collection not in FEATURE_TABLES:
            raise StoreError(
                N_("feature_ids: unknown collection %(collection)r (known: %(names)s)"),
                collection=collection,
                names=", ".join(FEATURE_TABLES),
            )
        name, key = FEATURE_TABLES[collection]
        table = S.metadata.tables[name]
        av = S.area_versions
        gid = self._generation_for_read(generation_id)
        gid = -1 if gid is None else gid  # no generation: no areas
        where: list[Any] = []
        spatial: Spatial | None = None
        if collection == "areas":
            where.append(av.c.generation_id == gid)

            def spatial(wkb: bytes, _box: tuple) -> Any:
                return self._shape_intersects(av, wkb)

        elif collection == "districts":

            def spatial(wkb: bytes, _box: tuple) -> Any:
                hit = sa.select(av.c.district_id).where(
                    av.c.generation_id == gid, self._shape_intersects(av, wkb)
                )
                return table.c.district_id.in_(hit)

        if tree is not None:
            where.append(self._filter_clause(table, tree, spatial))
        order = [*self._sort_order(table, sort), table.c[key]]
        return list(self._x(sa.select(table.c[key]).where(*where).order_by(*order)).scalars())

    def _sort_order(self, table: sa.Table, sort: Sequence[tuple[str, bool]]) -> list[Any]:
        """ORDER BY terms of ``(column, descending)`` pairs; empty values go last going up and
        first going down, the same on both backends."""
        out = []
        for name, descending in sort:
            column = self._column(table, name)
            out.append(column.desc().nulls_first() if descending else column.asc().nulls_last())
        return out
