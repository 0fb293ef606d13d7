"""The ledger pages (blueprint ``ledger``): the deduction ledger (台账) with its charts, its
XLSX and CSV exports, and the printable A4 ledger of one unit or district.  Unit accounts see
their own unit's rows only (``permissions.scoped_args``).
"""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    Response,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from geoapp.services import ledger as services_ledger
from geoapp.services import ledger_files as ledger_export
from geoapp.services import times
from geoapp.web import maps, permissions
from geoapp.web.context import get_store
from geoapp.web.views.common import current_filters, filter_options

bp = Blueprint("ledger", __name__)


def _ledger_url(endpoint: str, **extra) -> str:
    """A ledger URL carrying the page's filters (and ``extra``)."""
    return url_for(endpoint, **current_filters(), **extra)


@bp.route("/ledger")
def ledger_page():
    """The ledger: totals per unit, district and category, the ranking, charts, exports."""
    store = get_store()
    args = permissions.scoped_args(request.args.to_dict(flat=False))
    led = services_ledger.build(store, args, str(get_locale()))
    return render_template(
        "ledger.html",
        led=led,
        options=filter_options(store),
        filters=current_filters(),
        unit_chart=services_ledger.unit_bar_chart(
            led, lambda uid: url_for("map.unit_page", unit_id=uid)
        ),
        daily_chart=services_ledger.daily_chart(led),
        as_of=times.display_time(led.generated_at),
        export_xlsx=_ledger_url("ledger.ledger_export", format="xlsx"),
        export_csv={
            g: _ledger_url("ledger.ledger_export", format="csv", group=g)
            for g in ("unit", "district", "category", "problems")
        },
        print_url=lambda **kw: url_for("ledger.ledger_print", **{**current_filters(), **kw}),
    )


@bp.route("/ledger/export.<any(xlsx, csv):format>", endpoint="ledger_export")
def ledger_export_file(format: str):  # noqa: A002 - the URL's own word
    """The filtered ledger as a file: XLSX (every grouping and the problems) or CSV (one
    table: ``group`` = unit (default), district, category, round or problems), sent as it is
    written: the CSV row by row, the workbook from a temporary file."""
    args = permissions.scoped_args(request.args.to_dict(flat=False))
    group = services_ledger.parse_group(args, ledger_export.CSV_TABLES)
    store = get_store()
    led = services_ledger.build(store, args, "zh")
    stamp = led.generated_at.astimezone(times.LOCAL_TZ).strftime("%Y%m%d-%H%M")
    if format == "xlsx":
        # closed (and so deleted) with the response
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response
        try:
            ledger_export.write_xlsx(store, led, spool)
        except BaseException:
            spool.close()
            raise
        size = spool.tell()
        response = Response(
            _chunks_then_close(spool),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": f'attachment; filename="ledger-{stamp}.xlsx"',
                "Content-Length": str(size),
            },
        )
        response.call_on_close(spool.close)  # also when the body is never read
        return response
    name = f"ledger-{group}-{stamp}.csv"
    return Response(
        # needs no request context: the store and the ledger are in hand
        ledger_export.iter_csv(store, led, group),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _chunks_then_close(spool, size: int = 1 << 16):
    """A file's bytes from the start, in chunks; the file is closed (deleted, for a
    temporary file) when they are sent or the response is dropped."""
    try:
        spool.seek(0)
        while chunk := spool.read(size):
            yield chunk
    finally:
        spool.close()


@bp.route("/ledger/print")
def ledger_print():
    """One unit's (``unit=ID``) or one district's (``district=ID``) ledger with its map, for
    A4 paper (with both, the unit's, within the district)."""
    view = services_ledger.print_view(
        get_store(), permissions.scoped_args(request.args.to_dict(flat=False)), str(get_locale())
    )
    return render_template(
        "ledger_print.html",
        **view,
        filter_names=filter_names(),
        legend=maps.urgency_legend(),
        printed_at=times.display_time(view["led"].generated_at),
    )


def filter_names() -> dict:
    return {
        "round": _("Inspection round"),
        "category": _("Category"),
        "status": _("Status"),
        "district": _("District"),
        "unit": _("Responsible unit"),
        "date_from": _("From"),
        "date_to": _("To"),
    }
