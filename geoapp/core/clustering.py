"""Grid clustering of points for web maps: pure NumPy, no I/O.

Points are binned into square cells of about ``cell_px`` screen pixels at a zoom level of
the Web Mercator tile pyramid (256-pixel tiles, as in Leaflet, OpenLayers and AMap).  The
grid is anchored at the world's origin, not at the view, so a cluster does not jump when the
map pans.  A cell holding one point gives that point; a cell holding several gives one
cluster at their mean position.

>>> import numpy as np
>>> lon = np.array([114.9000, 114.9001, 114.95])
>>> lat = np.array([28.2000, 28.2001, 28.25])
>>> c = grid_clusters(lon, lat, zoom=12)
>>> c.count.tolist(), c.labels.tolist()
([2, 1], [0, 0, 1])
>>> cluster_sums(c, np.array([0.5, 1.0, 2.0])).tolist()
[1.5, 2.0]
>>> grid_clusters(lon, lat, zoom=18).count.tolist()
[1, 1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TILE_SIZE = 256
#: Default cell size in screen pixels.
CELL_PX = 60.0
#: From this zoom on every point is returned on its own.
SINGLE_ZOOM = 18
MAX_LAT = 85.05112878  # Web Mercator's limit


@dataclass(frozen=True)
class GridClusters:
    """The clusters of n points: k clusters, ordered by grid cell.

    ``labels`` (n): the cluster of each point; ``count`` (k): points per cluster;
    ``lon``, ``lat`` (k): mean position; ``first`` (k): index of the first point of each
    cluster (for a cluster of one, the point itself).
    """

    labels: np.ndarray
    count: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.count)


def mercator_pixels(lon, lat, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator pixel coordinates (x east, y south) at ``zoom``, 256-pixel tiles."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT)
    world = TILE_SIZE * 2.0**zoom
    x = (lon + 180.0) / 360.0 * world
    s = np.sin(np.radians(lat))
    y = (0.5 - np.log((1.0 + s) / (1.0 - s)) / (4.0 * np.pi)) * world
    return x, y


def cell_size_degrees(zoom: float, cell_px: float = CELL_PX) -> float:
    """The width of a grid cell in degrees of longitude at ``zoom``."""
    return cell_px * 360.0 / (TILE_SIZE * 2.0**zoom)


def grid_clusters(
    lon,
    lat,
    zoom: float,
    *,
    cell_px: float = CELL_PX,
    single_zoom: float = SINGLE_ZOOM,
) -> GridClusters:
    """Cluster points on a grid of ``cell_px``-pixel cells at ``zoom``.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 degrees, same length, finite.
    zoom : float
        Web Mercator zoom level (0 = the world in one 256-pixel tile).
    cell_px : float
        Cell size in screen pixels.
    single_zoom : float
        At this zoom and above, every point is its own cluster.

    Returns
    -------
    GridClusters
        Clusters ordered by cell (row-major in Mercator x, then y); at ``single_zoom`` and
        above, one per point in input order.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if lon.shape != lat.shape or lon.ndim != 1:
        raise ValueError("lon and lat must be 1-D arrays of the same length")
    if not (np.isfinite(zoom) and cell_px > 0):
        raise ValueError(f"bad zoom {zoom!r} or cell size {cell_px!r}")
    n = len(lon)
    if zoom >= single_zoom or n <= 1:
        index = np.arange(n, dtype=np.int64)
        return GridClusters(index, np.ones(n, dtype=np.int64), lon.copy(), lat.copy(), index)
    x, y = mercator_pixels(lon, lat, zoom)
    cx = np.floor(x / cell_px).astype(np.int64)
    cy = np.floor(y / cell_px).astype(np.int64)
    rows = int(np.ceil(TILE_SIZE * 2.0**zoom / cell_px)) + 2
    key = cx * rows + cy
    cells, first, labels = np.unique(key, return_index=True, return_inverse=True)
    labels = labels.reshape(-1).astype(np.int64)
    k = len(cells)
    count = np.bincount(labels, minlength=k)
    mean_lon = np.bincount(labels, weights=lon, minlength=k) / count
    mean_lat = np.bincount(labels, weights=lat, minlength=k) / count
    # A cluster of one sits exactly on its point (no rounding from the mean).
    one = count == 1
    mean_lon[one] = lon[first[one]]
    mean_lat[one] = lat[first[one]]
    return GridClusters(labels, count, mean_lon, mean_lat, first.astype(np.int64))


def cluster_sums(clusters: GridClusters, values) -> np.ndarray:
    """The sum of ``values`` (one per point) in each cluster."""
    values = np.asarray(values, dtype=np.float64)
    return np.bincount(clusters.labels, weights=values, minlength=len(clusters))


def cluster_tallies(clusters: GridClusters, codes, n_codes: int) -> np.ndarray:
    """A (clusters × n_codes) table: how many points of each cluster have each code.

    ``codes`` are integers in ``range(n_codes)``, one per point (e.g. status codes).
    """
    codes = np.asarray(codes, dtype=np.int64)
    k = len(clusters)
    flat = np.bincount(clusters.labels * n_codes + codes, minlength=k * n_codes)
    return flat.reshape(k, n_codes)
