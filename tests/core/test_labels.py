"""Label points: the pole of inaccessibility of a polygon's largest part, kept by shape."""

from __future__ import annotations

import pytest
import shapely
from shapely.ops import polylabel

from geoapp.core import labels

SQUARE = shapely.box(0.0, 0.0, 0.01, 0.01)
L_SHAPE = shapely.Polygon([(0, 0), (0.03, 0), (0.03, 0.01), (0.01, 0.01), (0.01, 0.03), (0, 0.03)])


def test_the_label_point_is_the_pole_of_the_largest_part():
    labels.forget()
    small = shapely.box(1.0, 1.0, 1.001, 1.001)
    for geom, largest in (
        (SQUARE, SQUARE),
        (L_SHAPE, L_SHAPE),
        (shapely.MultiPolygon([small, L_SHAPE]), L_SHAPE),
        (shapely.MultiPolygon([L_SHAPE, small]), L_SHAPE),
    ):
        point = labels.label_point(geom)
        assert point.equals(polylabel(largest, tolerance=1e-5))
        assert largest.contains(point)
    # the square's pole is its centre (to about a metre)
    assert labels.label_point(SQUARE).distance(shapely.Point(0.005, 0.005)) < 1e-5


def test_a_shape_is_labelled_once_and_a_changed_shape_again():
    labels.forget()
    before = labels.computed
    first = labels.label_point(L_SHAPE)
    # the same shape as another object (a copy read back from a store): not computed again
    copy = shapely.from_wkb(shapely.to_wkb(L_SHAPE))
    assert copy is not L_SHAPE
    assert labels.label_points([copy, L_SHAPE, copy]) == [first, first, first]
    assert labels.computed == before + 1
    # one corner moved: a new shape, labelled for what it is now
    moved = shapely.Polygon(
        [(0, 0), (0.03, 0), (0.03, 0.02), (0.01, 0.01), (0.01, 0.03), (0, 0.03)]
    )
    assert labels.label_point(moved).equals(polylabel(moved, tolerance=1e-5))
    assert labels.computed == before + 2
    # forgotten: computed again, the same point
    labels.forget()
    assert labels.label_point(L_SHAPE).equals(first)
    assert labels.computed == before + 3


def test_the_kept_points_are_bounded(monkeypatch):
    labels.forget()
    monkeypatch.setattr(labels, "KEPT", 3)
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(5)]
    points = labels.label_points(boxes)
    for i, p in enumerate(points):
        assert (p.x, p.y) == pytest.approx((i + 0.5, 0.5))
    assert len(labels._kept) == 3
    before = labels.computed
    labels.label_point(boxes[4])  # kept
    labels.label_point(boxes[0])  # dropped first: computed again
    assert labels.computed == before + 1
