"""Ids in URLs: a number a database integer cannot hold matches no route, whatever the method
and whatever order the routes of that path were registered in."""

import random
import re

import pytest

from geoapp.core.model import DB_INT_MAX
from geoapp.web.app import digits_up_to


@pytest.mark.parametrize("top", [0, 1, 7, 9, 10, 99, 100, 101, 215, 909, 1000, DB_INT_MAX])
def test_the_id_pattern_matches_exactly_the_numbers_up_to_the_limit(top):
    pattern = re.compile(digits_up_to(top) + r"\Z")
    rng = random.Random(top)
    numbers = [
        *range(0, 1100),
        top - 1,
        top,
        top + 1,
        10 * top,
        *(rng.randrange(10**12) for _ in range(5000)),
    ]
    for n in numbers:
        if n >= 0:
            assert bool(pattern.match(str(n))) == (n <= top), (top, n)
    assert pattern.match("0" * 5 + str(top)), "leading zeros are still a number"
    for text in ("", "-1", "1.0", "1e3", " 1", "٣"):
        assert not pattern.match(text), text


def test_every_int_route_refuses_a_too_large_id_with_404_for_every_method(app, client):
    adapter_rules = [r for r in app.url_map.iter_rules() if "<int:" in r.rule]
    assert len(adapter_rules) > 10
    for rule in adapter_rules:
        path = re.sub(r"<int:\w+>", str(DB_INT_MAX + 1), rule.rule)
        path = re.sub(r"<[^>]+>", "x", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = client.open(path, method=method, csrf=False)
            assert answer.status_code == 404, (method, path, answer.status_code)
