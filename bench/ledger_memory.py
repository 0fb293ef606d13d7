"""Peak memory of one ledger workbook writer, measured in a process of its own (run by
``bench_ledger.py``): ``python bench/ledger_memory.py URL WRITER ARGS_JSON NOW_ISO``.

The child opens the store, builds the ledger of ``ARGS_JSON`` as of ``NOW_ISO``, notes its
resident memory, runs the writer (``stream``: ``geoapp.io.xlsx_stream`` through
``ledger_files.write_xlsx``; ``openpyxl`` / ``xlsxwriter``: the baselines of
``ledger_baseline``) into a temporary file and prints one JSON line: ``peak_mb`` (the
process's peak resident set, ``VmHWM``), ``before_mb`` (resident set just before the
write) and ``write_mb`` (their difference: what the write added at its peak, C allocations
included; an upper bound should building the ledger have peaked higher).  Unlike
tracemalloc, which traces every Python allocation and ran the three writers for over a
quarter of an hour at a million problems, this costs nothing while the writer runs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ledger_baseline import write_openpyxl, write_xlsxwriter  # noqa: E402

from geoapp.services import ledger as services_ledger  # noqa: E402
from geoapp.services import ledger_files  # noqa: E402
from geoapp.store import open_store  # noqa: E402

WRITERS = {
    "stream": ledger_files.write_xlsx,
    "openpyxl": write_openpyxl,
    "xlsxwriter": write_xlsxwriter,
}


def resident_mb() -> float:
    """This process's resident set now, in MiB (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's peak resident set so far, in MiB: ``VmHWM`` of /proc/self/status, the
    high-water mark of this program's own memory.  Not ``getrusage``'s ``ru_maxrss``: Linux
    carries it over ``fork`` and ``exec``, so a child of the bench reported the bench's own
    peak (the same figure for every writer)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def main(url: str, writer: str, args_json: str, now_iso: str) -> dict:
    write = WRITERS[writer]
    with open_store(url) as store:
        led = services_ledger.build(
            store, json.loads(args_json), now=datetime.fromisoformat(now_iso)
        )
        with tempfile.TemporaryDirectory() as tmp:
            before = resident_mb()
            write(store, led, str(Path(tmp) / "ledger.xlsx"))
            peak = peak_mb()
    return {
        "writer": writer,
        "problems": led.totals["problems"],
        "before_mb": round(before, 1),
        "peak_mb": round(peak, 1),
        "write_mb": round(peak - before, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])), flush=True)
