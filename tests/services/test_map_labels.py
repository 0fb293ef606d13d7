"""The map's label points after a draft edit: only the shapes the edit changed are labelled
again (geoapp/core/labels.py keeps label points by shape), and every label point is still
that of the area's (or district's) shape as it is now."""

from __future__ import annotations

import pytest
import shapely
from shapely.ops import polylabel

from geoapp.core import labels
from geoapp.services import editor, map_features
from geoapp.services.editor_edits import apply_edit
from geoapp.store import open_store


def _pole(geom) -> shapely.Point:
    largest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    return polylabel(largest, tolerance=1e-5)


def _shared_vertex(frame) -> tuple[list[float], set[str]]:
    """A corner two areas share, and those two areas (the one tests/web/test_editor_api.py
    moves: moving it keeps both areas valid)."""
    owners: dict[tuple, set[str]] = {}
    for area_id, geom in zip(frame["area_id"], frame.geometry, strict=True):
        for part in getattr(geom, "geoms", [geom]):
            for xy in part.exterior.coords:
                owners.setdefault(xy, set()).add(area_id)
    pairs = sorted((xy, ids) for xy, ids in owners.items() if len(ids) == 2)
    xy, ids = pairs[len(pairs) // 2]
    return list(xy), ids


def _union(frame, district_id):
    return shapely.union_all(frame.geometry[frame["district_id"] == district_id].values)


def _labelled(answer) -> dict[str, tuple[float, float]]:
    return {f["id"]: tuple(f["properties"]["label_point"]) for f in answer["features"]}


def test_an_edit_labels_again_only_the_shapes_it_changed(demo_url):
    with open_store(demo_url) as store:
        draft = editor.start_draft(store, "test")["generation"]
        gid = draft["id"]
        args = {"generation": [str(gid)]}
        before = store.areas(gid)
        labels.forget()
        first = labels.computed
        map_features.areas(store, args)
        map_features.districts(store, args)
        # every area and district labelled once
        assert labels.computed - first == len(before) + before["district_id"].nunique()

        src, owners = _shared_vertex(before)
        dst = [src[0] + 0.0002, src[1] + 0.0001]
        op = {"type": "move_vertex", "from": src, "to": dst}
        apply_edit(store, gid, op, draft["version"], "test")
        after = store.areas(gid)
        old = dict(zip(before["area_id"], before.geometry, strict=True))
        changed = {
            a
            for a, g in zip(after["area_id"], after.geometry, strict=True)
            if not g.equals_exact(old[a], 0)
        }
        assert changed == owners
        # a district's outline changes only where the corner is on it (two areas of one
        # district: their union is the same shape)
        districts_changed = sum(
            not _union(after, did).equals_exact(_union(before, did), 0)
            for did in after.loc[after["area_id"].isin(changed), "district_id"].unique()
        )

        second = labels.computed
        areas = _labelled(map_features.areas(store, args))
        districts = _labelled(map_features.districts(store, args))
        # by hand: the two areas sharing the moved corner, and the districts whose outline moved
        assert labels.computed - second == len(changed) + districts_changed
        # and every label point is that of the shape as it is now (answers round to 1e-7°)
        for area_id, geom in zip(after["area_id"], after.geometry, strict=True):
            assert areas[area_id] == pytest.approx((_pole(geom).x, _pole(geom).y), abs=1e-7)
        for did in after["district_id"].unique():
            pole = _pole(_union(after, did))
            assert districts[did] == pytest.approx((pole.x, pole.y), abs=1e-7), did
