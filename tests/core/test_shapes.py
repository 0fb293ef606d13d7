"""geoapp.core.shapes: the union of a set that holds invalid shapes."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import Polygon

from geoapp.core.shapes import union_of


def test_the_union_of_valid_shapes_is_geos_own():
    a = shapely.box(0, 0, 2, 2)
    b = shapely.box(1, 0, 3, 2)
    assert union_of([a, b]).equals(shapely.union_all([a, b]))


@pytest.mark.parametrize(
    "bad",
    [
        # a self-crossing ring (a bow tie) whose crossing lies on its neighbour's edge
        Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]),
        # a ring that touches itself and folds back along the shared edge
        Polygon([(0, 0), (2, 0), (2, 2), (1, 0.0), (0, 2)]),
        # a spike back along its own edge
        Polygon([(0, 0), (2, 0), (3, 0), (2, 0), (2, 2), (0, 2)]),
    ],
    ids=["bow-tie", "self-touching", "spike"],
)
def test_the_union_of_a_set_holding_an_invalid_shape_covers_what_the_repaired_shapes_cover(bad):
    assert not bad.is_valid
    neighbour = shapely.box(2, 0, 4, 2)
    union = union_of([bad, neighbour])
    assert union.is_valid
    expected = shapely.union_all([shapely.make_valid(bad), neighbour])
    assert union.symmetric_difference(expected).area < 1e-12
