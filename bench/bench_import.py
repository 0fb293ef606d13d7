"""Importing inspection sheets: rows per second and peak memory of ``import-problems``.

Named baseline, measured in the same run: the row-by-row import as it was before batches
(``bench/rowwise_import.py``: plan, then commit through ``add_problems``).  Each import runs in
a child process on a fresh copy of the demo county, so its peak resident memory
(``VmHWM``, the high-water mark of its own address space: ``ru_maxrss`` would carry over
the parent's, grown by ``--prefill``) is its own; "peak_mb" is that figure, "over_start_mb" what the import added
to the process it started in (interpreter, libraries, store open, the generation's raster
index built: "index_build_s", timed apart as every process pays it once).

    python bench/bench_import.py [--rows 100000] [--baseline-rows 20000] [--memory 400000]
                                 [--prefill N] [--postgis URL] [--rectified]

``--prefill N`` imports into a store already holding N more problems (synthetic, added to
the template once): the cost of index upkeep grows with the table.  On PostGIS the figures
also give "server_cpu_s", the CPU time of the database backend that ran the import (read
from /proc when the server runs on this machine; steadier than wall time under load) and
the server's settings that weigh on bulk writes ("server_settings": report the figure on
the defaults of scripts/pg-test-server).

``--memory N`` also imports an N-row sheet (batch import only): memory flat in the file
size means the same peak at 100k and at N rows.  ``--postgis`` (or GEOAPP_TEST_POSTGIS_URL)
runs the same on PostGIS (each import in a database of its own, made and dropped here).
``--rectified`` gives the sheets a rectification time (整改时间) on their closed rows (two
in five), as counties' sheets often carry: each such problem also gets a "status" event and
its ``rectified_at``.
The sheets are CSV with Chinese headers (``make_problems.write_sheet``).  Writes
bench/results/import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def child(mode: str, url: str, sheet: str) -> None:
    """One import in this (child) process; prints its figures as JSON."""
    from geoapp.store import open_store

    with open_store(url) as store:
        store.count_problems()  # opened and warm
        from geoapp.services import mapping

        # the raster index, built once per generation and process: timed on its own
        t = time.perf_counter()
        assert mapping.zoning_for(store).grid is not None
        index_s = time.perf_counter() - t
        start_mb = _peak_mb()
        server = _server_cpu(store)
        t, cpu = time.perf_counter(), time.process_time()
        if mode == "rowwise":
            import rowwise_import

            plan = rowwise_import.plan_problem_import(store, sheet)
            rows = len(rowwise_import.commit_problem_import(store, plan, "bench", True))
        elif mode == "batch":
            from geoapp.services.problem_import import import_problem_file

            rows = import_problem_file(store, sheet, "bench", allow_bad=True).imported
        else:  # dry run
            from geoapp.services.problem_import import plan_problem_import

            rows = plan_problem_import(store, sheet, keep_rows=False).new
        seconds = time.perf_counter() - t
        cpu_s = time.process_time() - cpu
        server_s = server() if server else None
        stored = store.count_problems()
    peak = _peak_mb()
    print(
        json.dumps(
            {
                "mode": mode,
                "rows": rows,
                "stored_after": stored,
                "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds),
                # CPU time of this process (the database server's is not in it on PostGIS):
                # on a loaded machine the wall clock counts the waits for a core too
                "cpu_s": round(cpu_s, 2),
                "rows_per_cpu_s": round(rows / cpu_s),
                "index_build_s": round(index_s, 2),
                **(
                    {
                        "server_cpu_s": round(server_s, 2),
                        "rows_per_cpu_s_with_server": round(rows / (cpu_s + server_s)),
                    }
                    if server_s is not None
                    else {}
                ),
                "peak_mb": round(peak),
                "over_start_mb": round(peak - start_mb),
            }
        )
    )


def _peak_mb() -> float:
    """This process's peak resident memory in MB: ``VmHWM`` (Linux; new with each exec),
    else ``ru_maxrss`` (which a child inherits from the process that forked it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _server_cpu(store):
    """PostgreSQL on this machine: a function giving the CPU seconds the backends serving
    this run's database (each import has one of its own) have used since this call, summed
    (read from /proc; the pool may hand the import any of its connections); None
    elsewhere."""
    if store.engine.dialect.name != "postgresql":
        return None
    import sqlalchemy as sa

    def backends() -> dict[int, float]:
        with store.engine.connect() as conn:
            pids = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).scalars()
            return {pid: _cpu_of(pid) for pid in pids}

    start = backends()

    def used() -> float:
        now = backends()
        return sum(now[pid] - start.get(pid, 0.0) for pid in now)

    return used


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process on this machine (0 when it is not readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(mode: str, url: str, sheet: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, str(sheet)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode:
        raise SystemExit(out.stderr)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(figures, flush=True)
    return figures


#: PostgreSQL settings that weigh on bulk writes, reported with the figures
PG_SETTINGS = (
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "full_page_writes",
    "fsync",
    "synchronous_commit",
    "wal_level",
)


def _prefill(store, count: int) -> None:
    """Add ``count`` synthetic problems to a template store (100,000 a transaction)."""
    from make_problems import synthetic_columns

    for start in range(0, count, 100_000):
        columns = synthetic_columns(
            store, min(100_000, count - start), seed=start, start_index=start + 1
        )
        with store.transaction() as tx:
            tx.add_problem_columns(columns, actor="bench-prefill")


class SqliteStores:
    """A fresh copy of the demo county in SQLite for each import."""

    name = "sqlite"

    def __init__(self, folder: Path, prefill: int = 0):
        from geoapp.services import county
        from geoapp.store import open_store

        self.folder = folder
        self.template = folder / "demo.sqlite"
        with open_store(f"sqlite:///{self.template}", upgrade=True) as store:
            county.load_county(store)
            _prefill(store, prefill)
        self.settings: dict = {}

    def fresh(self) -> str:
        path = self.folder / f"{uuid.uuid4().hex}.sqlite"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def close(self) -> None:
        pass


class PostgisStores:
    """A new database holding the demo county for each import (made from a template)."""

    name = "postgis"

    def __init__(self, url: str, prefill: int = 0):
        import sqlalchemy as sa

        from geoapp.services import county
        from geoapp.store import open_store

        self.url = sa.make_url(url)
        self.made: list[str] = []
        self.template = f"bench_import_tpl_{uuid.uuid4().hex[:8]}"
        self._sql(f'CREATE DATABASE "{self.template}"')
        self.made.append(self.template)
        with open_store(self._url(self.template), upgrade=True) as store:
            county.load_county(store)
            _prefill(store, prefill)
            with store.engine.connect() as conn:
                self.settings = {
                    name: conn.exec_driver_sql(f"SHOW {name}").scalar_one() for name in PG_SETTINGS
                }

    def _url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _sql(self, statement: str) -> None:
        import psycopg

        admin = self.url.set(drivername="postgresql", database="postgres")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(statement)

    def fresh(self) -> str:
        name = f"bench_import_{uuid.uuid4().hex[:8]}"
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        return self._url(name)

    def close(self) -> None:
        for name in reversed(self.made):
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--memory", type=int, default=0, help="also import a sheet this large")
    parser.add_argument("--prefill", type=int, default=0, help="problems in the store before")
    parser.add_argument("--postgis", default=os.environ.get("GEOAPP_TEST_POSTGIS_URL"))
    parser.add_argument(
        "--rectified", action="store_true", help="a rectification time on the closed rows"
    )
    parser.add_argument("--child", nargs=3, metavar=("MODE", "URL", "SHEET"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from common import write_results
    from make_problems import write_sheet

    from geoapp.store import open_store

    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        backends = [SqliteStores(tmp, args.prefill)]
        if args.postgis:
            backends.append(PostgisStores(args.postgis, args.prefill))
        sheets = {}
        with open_store(backends[0].fresh()) as store:
            for n in sorted({args.rows, args.baseline_rows, args.memory} - {0}):
                sheets[n] = write_sheet(store, tmp / f"sheet{n}.csv", n, rectified=args.rectified)
        figures: dict = {
            "note": "taken on a shared 2-core machine under load from other work; the "
            "ratio (same run, same machine) is the figure to read",
            "baseline": "row-by-row import as before batches (bench/rowwise_import.py)",
            "sheet": "CSV, Chinese headers, 15 categories, 5 statuses, 10 rounds"
            + (", rectification times on the closed rows" if args.rectified else ""),
            "prefilled_problems": args.prefill,
        }
        for backend in backends:
            result = {
                "baseline_rowwise": run_child(
                    "rowwise", backend.fresh(), sheets[args.baseline_rows]
                ),
                "batch_import": run_child("batch", backend.fresh(), sheets[args.rows]),
                "dry_run": run_child("dry", backend.fresh(), sheets[args.rows]),
            }
            if args.memory:
                result[f"batch_import_{args.memory}"] = run_child(
                    "batch", backend.fresh(), sheets[args.memory]
                )
            result["speedup_rows_per_s"] = round(
                result["batch_import"]["rows_per_s"] / result["baseline_rowwise"]["rows_per_s"],
                1,
            )
            if backend.settings:
                result["server_settings"] = backend.settings
            figures[backend.name] = result
            backend.close()
        write_results("import", figures)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
