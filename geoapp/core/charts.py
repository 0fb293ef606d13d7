"""Chart and map geometry for server-rendered inline SVG (pure: no Flask, no SQL).

Functions here return numbers and the caller's own labels; the templates draw them
(``templates/_charts.html``), so every label passes Jinja's escaping and the pages need no
chart library and work offline and in print.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least ``top``."""
    if not top > 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def bar_chart(
    items: Sequence[Mapping[str, Any]],
    width: int = 560,
    bar: int = 16,
    gap: int = 6,
    label_width: int = 170,
) -> dict[str, Any]:
    """Horizontal bars: ``items`` have ``label``, ``value`` and optional ``href``."""
    values = [float(i["value"]) for i in items]
    ticks = nice_ticks(max(values, default=0.0))
    top = ticks[-1] or 1.0
    plot = width - label_width - 50
    axis_y = 20
    bars = []
    for n, (item, value) in enumerate(zip(items, values, strict=True)):
        y = axis_y + 6 + n * (bar + gap)
        bars.append(
            {
                "label": item["label"],
                "href": item.get("href"),
                "value": value,
                "x": label_width,
                "y": y,
                "w": round(plot * value / top, 2),
                "h": bar,
                "text_y": y + bar * 0.72,
            }
        )
    height = axis_y + 12 + len(items) * (bar + gap)
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "label_width": label_width,
        "axis_y": axis_y,
        "ticks": [{"x": round(label_width + plot * t / top, 2), "value": t} for t in ticks],
    }


def line_chart(
    dates: Sequence[str],
    series: Mapping[str, Sequence[float]],
    width: int = 560,
    height: int = 260,
) -> dict[str, Any]:
    """Lines over days: ``series`` maps a key to one value per date."""
    left, right, top_pad, bottom = 40, 12, 12, 40
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    peak = max((max(v, default=0) for v in series.values()), default=0)
    ticks = nice_ticks(float(peak), 4)
    top = ticks[-1] or 1.0
    n = len(dates)

    def x(i: int) -> float:
        return round(left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 2)

    def y(v: float) -> float:
        return round(top_pad + plot_h * (1 - v / top), 2)

    lines = {
        key: {
            "points": " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values)),
            "dots": [
                {"x": x(i), "y": y(v), "value": v, "date": dates[i]} for i, v in enumerate(values)
            ],
        }
        for key, values in series.items()
    }
    every = max(1, math.ceil(n / 8))
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": top_pad + plot_h,
        "lines": lines,
        "y_ticks": [{"y": y(t), "value": t} for t in ticks],
        "x_ticks": [
            {"x": x(i), "label": label}
            for i, label in zip(range(0, n, every), date_labels(dates[::every]), strict=True)
        ],
    }


def date_labels(dates: Sequence[str]) -> list[str]:
    """Axis labels for ISO dates: the full date on the first and wherever the year changes
    from the label before, month-day elsewhere, so no label is ambiguous across a year end.

    >>> date_labels(["2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02"])
    ['2024-12-30', '12-31', '2025-01-01', '01-02']
    """
    out, year = [], None
    for day in dates:
        out.append(day if day[:4] != year else day[5:])
        year = day[:4]
    return out


def map_shapes(
    geometries: Sequence[shapely.Geometry],
    points: Sequence[tuple[float, float]],
    width: int = 640,
    height: int = 420,
    pad: int = 10,
    context: Sequence[shapely.Geometry] = (),
) -> dict[str, Any]:
    """Polygons and points (lon/lat) projected into a ``width`` × ``height`` box, north up,
    metres equal in both directions.  Returns ``paths`` (SVG path data, one per geometry)
    and ``points`` (x, y) in the order given, None for a point without coordinates.
    ``context`` geometries are drawn in the same projection (``context_paths``) but do not
    widen the extent."""
    geoms = [g for g in geometries if g is not None and not g.is_empty]
    allpts = np.array(list(points), dtype=float).reshape(-1, 2)
    valid = np.isfinite(allpts).all(axis=1)
    pts = allpts[valid]
    boxes = [shapely.total_bounds(np.asarray(geoms, dtype=object))] if geoms else []
    if len(pts):
        boxes.append([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()])
    if not boxes:
        return {
            "width": width,
            "height": height,
            "paths": [],
            "context_paths": [],
            "points": [None] * len(allpts),
        }
    minx = min(b[0] for b in boxes)
    miny = min(b[1] for b in boxes)
    maxx = max(b[2] for b in boxes)
    maxy = max(b[3] for b in boxes)
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x = max((maxx - minx) * kx, 1e-6)
    span_y = max(maxy - miny, 1e-6)
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2

    def project(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        out[:, 0] = off_x + (coords[:, 0] - minx) * kx * scale
        out[:, 1] = off_y + (maxy - coords[:, 1]) * scale
        return out

    def ring(coords: np.ndarray) -> str:
        xy = project(np.asarray(coords)[:, :2])
        return "M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in xy) + "Z"

    def path(geom: shapely.Geometry) -> str:
        d = []
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon":
                continue
            d.append(ring(np.asarray(poly.exterior.coords)))
            d += [ring(np.asarray(hole.coords)) for hole in poly.interiors]
        return "".join(d)

    paths = [path(g) for g in geoms]
    box = shapely.box(minx, miny, maxx, maxy)
    context_paths = [
        path(g) if g is not None and not g.is_empty and g.intersects(box) else "" for g in context
    ]
    projected = iter(project(pts) if len(pts) else np.empty((0, 2)))
    placed = [
        (round(float(a), 1), round(float(b), 1)) if ok else None
        for ok, (a, b) in ((ok, next(projected) if ok else (0, 0)) for ok in valid)
    ]
    return {
        "width": width,
        "height": height,
        "paths": paths,
        "context_paths": context_paths,
        "points": placed,
    }
