"""A raster index over a partition: most points are answered by one array lookup.

The bounding box of the areas is cut into a grid of small cells. A cell that no area
boundary touches lies wholly inside one area (or wholly outside all of them), so every
point in it gets that answer without a geometric test; the grid stores it. Cells that a
boundary crosses, and a safety margin around them, are marked *border*; points there are
tested exactly by the caller. The answers are therefore exactly those of ``covers``.

Pure NumPy + shapely; no Flask, no SQL.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

EMPTY = -1  # no area covers the cell
BORDER = -2  # a boundary is near: test exactly. Border cells hold BORDER - k, where k is
# the cell's position in the candidate table, so a lookup needs no search.

# Boundaries are sampled every STEP cells; a sample closer than MARGIN cells to a cell
# edge also marks the cell across that edge. Every point of a segment lies within
# STEP/2 of a sample, so STEP/2 < MARGIN guarantees no crossed cell is missed, with room
# for floating-point error in the cell arithmetic.
STEP = 0.2
MARGIN = 0.13


class CellGrid:
    """Cell labels over the areas' bounding box (see the module docstring)."""

    def __init__(self, geoms: np.ndarray, max_cells: int = 4_000_000):
        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        dtype = np.int32
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.sx = self.sy = 1.0
            self.labels = np.full((1, 1), EMPTY, dtype=dtype)
            self.geoms = geoms
            self.border_cells = np.zeros(0, dtype=np.int64)
            self.cand_start = np.zeros(1, dtype=np.int64)
            self.cand_area = np.zeros(0, dtype=np.int64)
            return
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        width = max(maxx - minx, 1e-9)
        height = max(maxy - miny, 1e-9)
        # roughly square cells on the ground
        aspect = math.cos(math.radians(max(min((miny + maxy) / 2.0, 89.0), -89.0)))
        cell = math.sqrt(width * aspect * height / max_cells) or 1e-9
        nx = max(int(math.ceil(width * aspect / cell)), 1) + 4
        ny = max(int(math.ceil(height / cell)), 1) + 4
        self.sx = (nx - 4) / width  # cells per degree of longitude
        self.sy = (ny - 4) / height
        self.x0 = minx - 2.0 / self.sx
        self.y0 = miny - 2.0 / self.sy
        labels = np.full((ny, nx), EMPTY, dtype=dtype)
        # fill from the highest index down, so the lowest area index wins any overlap
        self.written = 0
        for i in range(n - 1, -1, -1):
            self._fill(labels, geoms[i], i)
        # a cell centre filled twice means two areas overlap there (a draft being edited)
        self.overlapping = self.written > int(np.count_nonzero(labels >= 0))
        self.labels = labels
        self.geoms = geoms
        shapely.prepare(geoms)
        pairs = self._mark_borders(labels, geoms)
        if self.overlapping:
            self._candidates_by_tree(geoms)
        else:
            self._candidates_from(pairs, n)
        labels.reshape(-1)[self.border_cells] = BORDER - np.arange(len(self.border_cells))

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    def border_fraction(self) -> float:
        return float(np.mean(self.labels <= BORDER))

    # --- building ---------------------------------------------------------------------
    def _rings(self, geom) -> list[np.ndarray]:
        polys = getattr(geom, "geoms", [geom])
        rings = []
        for p in polys:
            if p.is_empty:
                continue
            rings.append(np.asarray(p.exterior.coords))
            rings.extend(np.asarray(r.coords) for r in p.interiors)
        return rings

    def _fill(self, labels: np.ndarray, geom, value: int) -> None:
        """Scan-line fill (even-odd) of cell centres inside ``geom``.

        Only needs to be right for cells far from the boundary: the others become
        border cells afterwards.
        """
        rings = self._rings(geom)
        if not rings:
            return
        ny, nx = labels.shape
        x1 = np.concatenate([r[:-1, 0] for r in rings])
        y1 = np.concatenate([r[:-1, 1] for r in rings])
        x2 = np.concatenate([r[1:, 0] for r in rings])
        y2 = np.concatenate([r[1:, 1] for r in rings])
        # rows whose centre y lies in [min(y1,y2), max(y1,y2)): half-open, no double count
        lo = np.minimum(y1, y2)
        hi = np.maximum(y1, y2)
        r_lo = np.ceil((lo - self.y0) * self.sy - 0.5).astype(np.int64)
        r_hi = np.ceil((hi - self.y0) * self.sy - 0.5).astype(np.int64)  # exclusive
        r_lo = np.clip(r_lo, 0, ny)
        r_hi = np.clip(r_hi, 0, ny)
        counts = np.maximum(r_hi - r_lo, 0)
        if counts.sum() == 0:
            return
        edge = np.repeat(np.arange(len(x1)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = r_lo[edge] + offsets
        yc = self.y0 + (rows + 0.5) / self.sy
        t = (yc - y1[edge]) / (y2[edge] - y1[edge])
        xc = x1[edge] + t * (x2[edge] - x1[edge])
        order = np.lexsort((xc, rows))
        rows, xc = rows[order], xc[order]
        # consecutive crossings on the same row pair up: [in, out)
        starts = np.arange(0, len(rows) - 1, 2)
        same = rows[starts] == rows[starts + 1]
        starts = starts[same]
        row = rows[starts]
        c_from = np.ceil((xc[starts] - self.x0) * self.sx - 0.5).astype(np.int64)
        c_to = np.ceil((xc[starts + 1] - self.x0) * self.sx - 0.5).astype(np.int64)
        c_from = np.clip(c_from, 0, nx)
        c_to = np.clip(c_to, 0, nx)
        for r, a, b in zip(row.tolist(), c_from.tolist(), c_to.tolist(), strict=True):
            if b > a:
                labels[r, a:b] = value
                self.written += b - a

    def _mark_borders(self, labels: np.ndarray, geoms: np.ndarray) -> np.ndarray:
        """Mark cells near a boundary as BORDER; return (cell, area) keys: the areas whose
        boundary passes near each border cell, plus the area its centre was filled with."""
        ny, nx = labels.shape
        n = len(geoms)
        segments, owners = [], []
        for i, g in enumerate(geoms):
            for ring in self._rings(g):
                segments.append(np.column_stack([ring[:-1], ring[1:]]))
                owners.append(np.full(len(ring) - 1, i, dtype=np.int64))
        if not segments:
            return np.zeros(0, dtype=np.int64)
        seg = np.concatenate(segments)
        seg_area = np.concatenate(owners)
        # segment ends in cell units
        ax = (seg[:, 0] - self.x0) * self.sx
        ay = (seg[:, 1] - self.y0) * self.sy
        bx = (seg[:, 2] - self.x0) * self.sx
        by = (seg[:, 3] - self.y0) * self.sy
        length = np.hypot(bx - ax, by - ay)
        steps = np.ceil(length / STEP).astype(np.int64) + 1
        idx = np.repeat(np.arange(len(seg)), steps)
        k = np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)
        t = k / np.maximum(steps[idx] - 1, 1)
        px = ax[idx] + t * (bx[idx] - ax[idx])
        py = ay[idx] + t * (by[idx] - ay[idx])
        cx = np.floor(px).astype(np.int64)
        cy = np.floor(py).astype(np.int64)
        fx = px - cx
        fy = py - cy
        owner = seg_area[idx]
        keys = []
        near_x = {0: None, -1: fx < MARGIN, 1: fx > 1 - MARGIN}
        near_y = {0: None, -1: fy < MARGIN, 1: fy > 1 - MARGIN}
        for dx, mx in near_x.items():
            for dy, my in near_y.items():
                if mx is None and my is None:
                    sel = slice(None)
                elif mx is None:
                    sel = my
                elif my is None:
                    sel = mx
                else:
                    sel = mx & my
                xx = np.clip(cx[sel] + dx, 0, nx - 1)
                yy = np.clip(cy[sel] + dy, 0, ny - 1)
                key = (yy * nx + xx) * n + owner[sel]
                if len(key) > 1:  # neighbouring samples mostly repeat: drop runs cheaply
                    key = key[np.concatenate(([True], key[1:] != key[:-1]))]
                keys.append(key)
        keys = np.unique(np.concatenate(keys))
        border = np.unique(keys // n)
        flat = labels.reshape(-1)
        filled = flat[border].astype(np.int64)
        flat[border] = BORDER
        keep = filled >= 0
        return np.union1d(keys, border[keep] * n + filled[keep])

    def _candidates_from(self, keys: np.ndarray, n: int) -> None:
        cell = keys // n
        self.cand_area = keys % n
        self.border_cells = np.unique(cell)
        pos = np.searchsorted(self.border_cells, cell)
        self.cand_start = np.searchsorted(pos, np.arange(len(self.border_cells) + 1))

    def _candidates_by_tree(self, geoms: np.ndarray) -> None:
        """Overlapping areas (a draft being edited): every area touching each border cell
        (slightly enlarged), found by a spatial query. Exact whatever the geometry."""
        ny, nx = self.labels.shape
        self.border_cells = np.flatnonzero(self.labels.ravel() == BORDER)
        iy, ix = np.divmod(self.border_cells, nx)
        pad = 0.01
        x_lo = self.x0 + (ix - pad) / self.sx
        x_hi = self.x0 + (ix + 1 + pad) / self.sx
        y_lo = self.y0 + (iy - pad) / self.sy
        y_hi = self.y0 + (iy + 1 + pad) / self.sy
        tree = shapely.STRtree(geoms)
        cell, area = tree.query(shapely.box(x_lo, y_lo, x_hi, y_hi), predicate="intersects")
        order = np.lexsort((area, cell))
        cell, area = cell[order], area[order]
        self.cand_area = area.astype(np.int64)
        self.cand_start = np.searchsorted(cell, np.arange(len(self.border_cells) + 1))

    def resolve(self, lon: np.ndarray, lat: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Exact answer for points whose cell ``labels`` (from :meth:`lookup`) say border:
        the lowest index of the candidate areas covering each point (for a point,
        intersects is covers), else EMPTY."""
        pos = BORDER - labels
        start = self.cand_start[pos]
        left = self.cand_start[pos + 1] - start
        out = np.full(len(lon), EMPTY, dtype=np.int64)
        # candidates are sorted by area: test each point's first, then the second for those
        # still open, and so on; the first hit is the lowest covering area
        todo = np.flatnonzero(left > 0)
        while len(todo):
            area = self.cand_area[start[todo]]
            hit = shapely.intersects_xy(self.geoms[area], lon[todo], lat[todo])
            out[todo[hit]] = area[hit]
            start[todo] += 1
            left[todo] -= 1
            todo = todo[~hit & (left[todo] > 0)]
        return out

    # --- querying -----------------------------------------------------------------------
    def lookup(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Cell label per point: an area index, EMPTY, or <= BORDER (:meth:`resolve`).

        The grid has two EMPTY cells of padding on every side, so points beyond it are
        clamped onto the padding; NaN positions land there too.
        """
        ny, nx = self.labels.shape
        fx = (lon - self.x0) * self.sx
        fy = (lat - self.y0) * self.sy
        np.clip(fx, 0, nx - 1, out=fx)
        np.clip(fy, 0, ny - 1, out=fy)
        if np.isnan(fx.sum() + fy.sum()):
            fx[np.isnan(fx)] = 0
            fy[np.isnan(fy)] = 0
        flat = fy.astype(np.intp)
        flat *= nx
        flat += fx.astype(np.intp)
        return np.take(self.labels.ravel(), flat).astype(np.int64)
