"""Probes for systemd, a load balancer or a monitor, open to anyone: ``/healthz`` (the
process answers: 200) and ``/readyz`` (the store answers, its schema is at this code's
revision, the upload folder is writable and the tile folder, when set, readable: 200, else
503 naming the failing checks).  The answers hold no data: ``{"status": "ok"}`` or
``{"status": "failing", "failing": [names]}``; what was found goes to the log.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify

from geoapp import config
from geoapp.services import health
from geoapp.web.context import get_store

bp = Blueprint("health", __name__)
log = logging.getLogger("geoapp.health")


def _no_store(response):
    response.cache_control.no_store = True
    return response


@bp.route("/healthz")
def healthz():
    return _no_store(jsonify({"status": "ok"}))


@bp.route("/readyz")
def readyz():
    cfg = current_app.config
    checks = health.readiness(get_store(), config.upload_root(cfg), cfg.get("TILES_DIR"))
    failing = [c for c in checks if not c.ok]
    for check in failing:
        log.warning("not ready: %s: %s", check.name, check.detail)
    if failing:
        body = {"status": "failing", "failing": [c.name for c in failing]}
        return _no_store(jsonify(body)), 503
    return _no_store(jsonify({"status": "ok"}))
