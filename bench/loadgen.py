"""A closed-loop HTTP load generator for geoapp, with a store check afterwards.

Each client is a thread with its own keep-alive connection (``http.client``); it sends one
request, waits for the whole answer, records (kind, status, start, end) and sends the next,
with no think time. Latency is measured per request with ``time.perf_counter`` from just
before the request is written to just after the body is read, so it includes the time the
request waited in the server's queue; every sample is kept (no histogram buckets), and the
percentiles are nearest-rank over all samples. The clients run in one Python process, so
on a busy machine a figure also holds a little client-side scheduling delay: they are an
upper bound on the server's latency, not a lower one.

The mix: map layer reads (districts, areas, units, clusters, problems in a bbox), lookups
at random points of the county's bounding box, and problem reports, each with a unique
``problem_id`` (``LOAD-<uuid>``). Every report's id is filed under the answer it got:
acknowledged (2xx), refused (any other status) or unknown (timeout or broken connection:
it may or may not have been stored). :func:`check_store` then counts the stored ones.

Used by bench/bench_load.py and tests/services/test_load.py.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_SCRIPT = REPO / "scripts" / "pg-test-server"

#: kind → weight in the mix
MIX = {"read": 6, "lookup": 3, "report": 1}
READ_PATHS = ["districts", "areas", "units", "clusters", "problems"]
CATEGORIES = ["litter", "overflowing_bin"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- servers --------------------------------------------------------------------------------
class PgServer:
    """A throwaway PostGIS server of our own (scripts/pg-test-server), which we may stop."""

    def __init__(self, port: int | None = None, directory: str | None = None) -> None:
        self.owned_dir = directory is None
        base = Path(directory or tempfile.mkdtemp(prefix="geoapp-load-", dir="/tmp"))
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        self.base = base
        self.data = base / "data"
        self.port = port or free_port()

    def start(self) -> str:
        out = subprocess.run(
            [str(PG_SCRIPT), "start", str(self.data), str(self.port)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        if out.returncode:
            raise RuntimeError(f"PostGIS did not start: {out.stderr}")
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run([str(PG_SCRIPT), "stop", str(self.data)], capture_output=True, timeout=120)

    def remove(self) -> None:
        self.stop()
        if self.owned_dir:
            shutil.rmtree(self.base, ignore_errors=True)


def prepare_database(url: str, role: str = "inspector") -> str:
    """Migrate, load the demo county and make an API token; returns the token."""
    from geoapp.services.accounts import create_token
    from geoapp.services.county import load_county
    from geoapp.store import open_store

    with open_store(url, upgrade=True) as store:
        if not store.list_units():
            load_county(store)
        return create_token(store, f"load-{uuid.uuid4().hex[:6]}", role)


class AppServer:
    """``geoapp serve --workers N`` in a subprocess, its output in a log file."""

    def __init__(self, url: str, workers: int, threads: int = 4) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        fd, name = tempfile.mkstemp(prefix="geoapp-serve-", suffix=".log")
        self.log_path = Path(name)
        self.log = os.fdopen(fd, "w")
        env = {**os.environ, "GEOAPP_DATABASE_URL": url}
        env.pop("GEOAPP_SECRET_KEY", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "geoapp.cli", "serve", "--workers", str(workers)]
            + ["--threads", str(threads), "--port", str(self.port)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )

    def wait_up(self, token: str, seconds: float = 120.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.proc.returncode}:\n{self.output()}"
                )
            try:
                if get_json(self.base, "/api/units", token)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not answer within {seconds} s")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        text = self.output()
        self.log.close()
        self.log_path.unlink(missing_ok=True)
        return text


def get_json(base: str, path: str, token: str, timeout: float = 10.0):
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        body = r.read()
        return r.status, json.loads(body) if body else None
    finally:
        conn.close()


def county_bbox(base: str, token: str) -> tuple[float, float, float, float]:
    """The bounding box of the districts (lon/lat), from the API itself."""
    status, fc = get_json(base, "/api/districts", token)
    if status != 200:
        raise RuntimeError(f"/api/districts answered {status}")
    xs, ys = [], []

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords:
                walk(c)

    for f in fc["features"]:
        walk(f["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


# --- the load -------------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str  # read / lookup / report
    path: str  # the endpoint, without its query
    status: int  # HTTP status; 0 = timeout or broken connection
    start: float  # perf_counter, seconds
    end: float
    error: str = ""


@dataclass
class LoadResult:
    samples: list[Sample] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # report ids that got a 2xx
    refused: dict[str, int] = field(default_factory=dict)  # report id → non-2xx status
    unknown: list[str] = field(default_factory=list)  # report ids with no answer
    started: float = 0.0
    ended: float = 0.0
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])  # in every report id


class _Client(threading.Thread):
    def __init__(self, base, token, bbox, stop_at, result, lock, seed, timeout):
        super().__init__(daemon=True)
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.token, self.bbox, self.stop_at = token, bbox, stop_at
        self.result, self.lock, self.timeout = result, lock, timeout
        self.rng = random.Random(seed)
        self.conn = None
        self.samples: list[Sample] = []

    def point(self):
        x0, y0, x1, y1 = self.bbox
        return self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)

    def small_bbox(self):
        x0, y0, x1, y1 = self.bbox
        w, h = (x1 - x0) * self.rng.uniform(0.1, 1.0), (y1 - y0) * self.rng.uniform(0.1, 1.0)
        lx, ly = self.rng.uniform(x0, x1 - w), self.rng.uniform(y0, y1 - h)
        return f"{lx:.5f},{ly:.5f},{lx + w:.5f},{ly + h:.5f}"

    def next_request(self):
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if kind == "lookup":
            lon, lat = self.point()
            return kind, "GET", f"/api/lookup?lon={lon:.6f}&lat={lat:.6f}", None, None
        if kind == "report":
            lon, lat = self.point()
            pid = f"LOAD-{self.result.tag}-{uuid.uuid4().hex}"
            body = {
                "problem_id": pid,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "crs": "EPSG:4326",
                "category": self.rng.choice(CATEGORIES),
                "round": "压力测试",
                "deduction": 0.5,
                "description": "load test",
            }
            return kind, "POST", "/api/problems", body, pid
        which = self.rng.choice(READ_PATHS)
        if which == "clusters":
            zoom = self.rng.randint(10, 16)
            return (
                kind,
                "GET",
                f"/api/problems/clusters?zoom={zoom}&bbox={self.small_bbox()}",
                None,
                None,
            )
        if which == "problems":
            limit = self.rng.choice([50, 100, 200])
            return kind, "GET", f"/api/problems?bbox={self.small_bbox()}&limit={limit}", None, None
        return kind, "GET", f"/api/{which}", None, None

    def send(self, method, path, body):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Encoding": "identity"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        r.read()
        if r.will_close:
            self.conn.close()
            self.conn = None
        return r.status

    def run(self):
        acked, refused, unknown = [], {}, []
        while time.perf_counter() < self.stop_at:
            kind, method, path, body, pid = self.next_request()
            start = time.perf_counter()
            error = ""
            try:
                status = self.send(method, path, body)
            except (OSError, http.client.HTTPException) as exc:
                status, error = 0, f"{type(exc).__name__}: {exc}"
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
            end = time.perf_counter()
            self.samples.append(Sample(kind, path.split("?")[0], status, start, end, error))
            if pid:
                if 200 <= status < 300:
                    acked.append(pid)
                elif status:
                    refused[pid] = status
                else:
                    unknown.append(pid)
            if status == 0:
                time.sleep(0.05)  # no busy loop while the server is unreachable
        if self.conn is not None:
            self.conn.close()
        with self.lock:
            self.result.samples.extend(self.samples)
            self.result.acknowledged.extend(acked)
            self.result.refused.update(refused)
            self.result.unknown.extend(unknown)


def run_load(
    base: str,
    token: str,
    bbox: tuple[float, float, float, float],
    clients: int,
    seconds: float,
    timeout: float = 30.0,
    seed: int = 1,
) -> LoadResult:
    """``clients`` closed-loop clients against ``base`` for ``seconds``."""
    result, lock = LoadResult(), threading.Lock()
    result.started = time.perf_counter()
    stop_at = result.started + seconds
    threads = [
        _Client(base, token, bbox, stop_at, result, lock, seed * 1000 + i, timeout)
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    result.ended = time.perf_counter()
    result.samples.sort(key=lambda s: s.start)
    return result


# --- figures --------------------------------------------------------------------------------
def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_ms(samples: list[Sample]) -> dict:
    values = sorted((s.end - s.start) * 1000 for s in samples)
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p95_ms": round(percentile(values, 95), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(values[-1], 2) if values else None,
    }


def summarize(result: LoadResult) -> dict:
    wall = result.ended - result.started
    ok = [s for s in result.samples if 200 <= s.status < 300]
    by_kind = defaultdict(list)
    for s in result.samples:
        by_kind[s.kind].append(s)
    by_endpoint = defaultdict(list)
    for s in ok:
        by_endpoint[s.path].append(s)
    statuses = Counter(s.status for s in result.samples)
    return {
        "seconds": round(wall, 2),
        "requests": len(result.samples),
        "requests_per_second": round(len(result.samples) / wall, 1),
        "latency_2xx": latency_ms(ok),
        "per_kind": {
            kind: {
                "requests": len(samples),
                "requests_per_second": round(len(samples) / wall, 1),
                **latency_ms([s for s in samples if 200 <= s.status < 300]),
            }
            for kind, samples in sorted(by_kind.items())
        },
        "per_endpoint_p50_ms": {
            path: latency_ms(samples)["p50_ms"] for path, samples in sorted(by_endpoint.items())
        },
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "error_examples": sorted({s.error for s in result.samples if s.error})[:5],
        "reports": {
            "acknowledged": len(result.acknowledged),
            "refused": len(result.refused),
            "no_answer": len(result.unknown),
        },
    }


def check_store(url: str, result: LoadResult) -> dict:
    """Count the stored reports of this run against what the clients were told.  A report
    refused with a 503 may still be stored when the database went away after its COMMIT
    (while the answer was being built): not acknowledged, so not lost either; counted as
    ``refused_but_stored``, and a retry with the same problem_id answers 409."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT problem_id, count(*) FROM problems "
                    "WHERE problem_id LIKE :pattern GROUP BY problem_id"
                ),
                {"pattern": f"LOAD-{result.tag}-%"},
            ).all()
    finally:
        engine.dispose()
    stored = {pid: n for pid, n in rows}
    acked = set(result.acknowledged)
    unknown = set(result.unknown)
    return {
        "acknowledged": len(acked),
        "acknowledged_stored_once": sum(1 for p in acked if stored.get(p) == 1),
        "acknowledged_missing": sorted(p for p in acked if p not in stored),
        "stored_more_than_once": sorted(p for p, n in stored.items() if n > 1),
        # not lost, not acknowledged: the client was told no (or heard nothing)
        "refused_but_stored": sorted(p for p in result.refused if p in stored),
        "no_answer_stored": sum(1 for p in unknown if p in stored),
        "no_answer_not_stored": sum(1 for p in unknown if p not in stored),
        "stored_unknown_to_clients": sorted(
            p for p in stored if p not in acked and p not in unknown and p not in result.refused
        ),
    }


def store_ok(check: dict) -> bool:
    return not (
        check["acknowledged_missing"]
        or check["stored_more_than_once"]
        or check["stored_unknown_to_clients"]
        or check["acknowledged_stored_once"] != check["acknowledged"]
    )


# --- a database restart in the middle of the load -------------------------------------------
@dataclass
class Outage:
    down_at: float = 0.0  # perf_counter when the stop began
    stopped_at: float = 0.0  # the server is down
    up_at: float = 0.0  # the server is back (start returned)


def restart_during(
    pg: PgServer, after: float, outage_seconds: float
) -> tuple[threading.Thread, Outage]:
    """A thread that stops the PostGIS server ``after`` seconds, waits, starts it again."""
    outage = Outage()

    def run():
        time.sleep(after)
        outage.down_at = time.perf_counter()
        pg.stop()
        outage.stopped_at = time.perf_counter()
        time.sleep(outage_seconds)
        pg.start()
        outage.up_at = time.perf_counter()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, outage


def fault_figures(result: LoadResult, outage: Outage) -> dict:
    """What the clients saw around the outage."""
    during = [s for s in result.samples if outage.stopped_at <= s.start < outage.up_at]
    after_ok = [s for s in result.samples if s.start >= outage.up_at and 200 <= s.status < 300]
    first_ok = min((s.end for s in after_ok), default=None)
    per_status = Counter(s.status for s in result.samples)
    other_5xx = sum(v for k, v in per_status.items() if k >= 500 and k != 503)
    # after recovery: anything failing once a 2xx was seen again
    late_errors = Counter(
        s.status
        for s in result.samples
        if first_ok is not None and s.start > first_ok + 1.0 and not 200 <= s.status < 300
    )
    return {
        "stop_seconds": round(outage.stopped_at - outage.down_at, 2),
        "outage_seconds": round(outage.up_at - outage.stopped_at, 2),
        "requests_during_outage": len(during),
        "during_outage_statuses": {
            str(k): v for k, v in sorted(Counter(s.status for s in during).items())
        },
        "503_total": per_status.get(503, 0),
        "other_5xx": other_5xx,
        "no_answer": per_status.get(0, 0),
        "recovered": first_ok is not None,
        "recovery_seconds": round(first_ok - outage.up_at, 3) if first_ok is not None else None,
        "errors_after_recovery": {str(k): v for k, v in sorted(late_errors.items())},
    }
