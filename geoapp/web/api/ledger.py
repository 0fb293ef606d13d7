"""The deduction ledger as JSON (the page is :mod:`geoapp.web.views.ledger`)."""

from __future__ import annotations

from geoapp.services import ledger as services_ledger
from geoapp.web.answers import _args, _json, _locale
from geoapp.web.api import bp
from geoapp.web.context import get_store


@bp.get("/ledger")
def ledger():
    """The deduction ledger of the filtered problems, grouped by unit, district or category.

    Not conditional: "overdue" depends on the time of the request, not only on the data."""
    args = _args()
    group = services_ledger.parse_group(args)
    led = services_ledger.build(get_store(), args, _locale())
    return _json(services_ledger.as_json(led, group))
