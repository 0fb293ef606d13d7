"""The colours of districts, statuses and urgency classes, shared by the map, the ledger's
charts and the print view (pure constants)."""

from __future__ import annotations

DISTRICT_COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324"]
STATUS_COLOURS = {
    "reported": "#d62728",
    "assigned": "#ff7f0e",
    "rectifying": "#e6b800",
    "rectified": "#1f77b4",
    "verified": "#2ca02c",
}
#: Colours of the map's urgency classes (geoapp.core.model.URGENCY): an open problem past its
#: deadline in dark red, above every status; a status the vocabulary does not know in grey.
OVERDUE_COLOUR = "#7a0010"
URGENCY_COLOURS = {"overdue": OVERDUE_COLOUR, **STATUS_COLOURS, "other": "#777777"}
