"""Run every benchmark in bench/ (files named bench_*.py), each in its own process.

Each benchmark prints its figures and writes them to bench/results/NAME.json.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.stem}", flush=True)
        start = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"== {script.stem}: exit {rc} after {time.perf_counter() - start:.1f} s", flush=True)
        if rc:
            failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
