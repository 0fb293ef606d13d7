"""geoapp.core.textcheck: the check of a JSON body read from its source agrees with the walk
of the decoded value, for every class of body (bad text, depth at and around the limit,
brackets and escapes inside strings), and does not walk a large clean body."""

from __future__ import annotations

import json

import pytest

from geoapp.core import textcheck
from geoapp.core.textcheck import MAX_DEPTH, NUL, SURROGATE, TOO_DEEP, first_fault_of_text


def nested(depth: int, inner: str = "1") -> str:
    """``inner`` inside ``depth`` containers, lists and objects in turn."""
    text = inner
    for i in range(depth):
        text = f"[{text}]" if i % 2 else f'{{"k{i}": {text}}}'
    return text


BODIES = [
    "1",
    '"text"',
    "[]",
    "{}",
    '{"a": "[[[[", "b": "]]]]}}}"}',  # brackets in strings are not nesting
    '{"a": "\\"[[[\\\\", "b": ["\\\\\\"{{"]}',  # escaped quotes and backslashes before them
    '{"name": "bad\\u0000"}',
    '{"features": [{"properties": {"name": "x\\ud800"}}]}',
    '{"k\\udfff": 1}',
    '{"fine": "\\\\u0000 is a backslash then u0000"}',
    '{"pair": "\\ud83d\\ude00"}',  # a surrogate pair is one character: fine
    nested(MAX_DEPTH - 1),
    nested(MAX_DEPTH),
    nested(MAX_DEPTH + 1),
    nested(MAX_DEPTH + 1, '"\\u0000"'),
    nested(MAX_DEPTH, '"\\u0000"'),
    nested(3 * MAX_DEPTH, "[]"),
    "[" + ", ".join(nested(d) for d in (1, MAX_DEPTH - 1, MAX_DEPTH, 2)) + "]",
    '[{"type": "Feature", "geometry": {"coordinates": [[[[1.5, 2.5], [3, 4]]]]}}]',
]


@pytest.mark.parametrize("body", BODIES)
def test_the_source_check_agrees_with_the_walk(body):
    value = json.loads(body)
    walked = textcheck.first_fault(value)
    assert first_fault_of_text(body, value) == walked
    assert first_fault_of_text(None, value) == walked  # no source at hand: the walk


def test_the_cases_are_the_ones_meant():
    faults = {body: textcheck.first_fault(json.loads(body)) for body in BODIES}
    assert faults[nested(MAX_DEPTH)] is None
    assert faults[nested(MAX_DEPTH + 1)] == ("", TOO_DEEP)
    assert faults['{"name": "bad\\u0000"}'] == ("name", NUL)
    assert faults['{"features": [{"properties": {"name": "x\\ud800"}}]}'] == (
        "features[0].properties.name",
        SURROGATE,
    )
    assert faults['{"fine": "\\\\u0000 is a backslash then u0000"}'] is None


def test_a_string_source_holding_a_lone_surrogate_itself_is_walked():
    """A source given as text may carry the lone surrogate raw (not as an escape)."""
    value = {"name": "x\ud800"}
    body = '{"name": "x\ud800"}'
    assert first_fault_of_text(body, value) == ("name", SURROGATE)


def test_nesting_depth_reads_the_source():
    assert textcheck.nesting_depth("1") == 0
    assert textcheck.nesting_depth("[]") == 1
    assert textcheck.nesting_depth('[{"a": "]]]"}, [[]]]') == 3
    for depth in (1, 7, MAX_DEPTH, 500):
        assert textcheck.nesting_depth(nested(depth)) == depth


def test_a_large_clean_body_is_not_walked(monkeypatch):
    """A GeoJSON body of many coordinate pairs is checked from its source: the value is not
    walked container by container."""
    ring = [[114.0 + i * 1e-4, 28.0] for i in range(2000)]
    doc = {"type": "FeatureCollection", "features": [{"geometry": {"coordinates": [ring]}}]}
    body = json.dumps(doc)
    walked = []
    monkeypatch.setattr(textcheck, "first_fault", lambda *a: walked.append(a))
    assert first_fault_of_text(body, doc) is None
    assert walked == []
