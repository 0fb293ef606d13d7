#!/usr/bin/env python3
"""mypy on geoapp/, held to a baseline that only shrinks.

The configuration is in pyproject.toml ([tool.mypy]: strict for geoapp/core, the usual
checks elsewhere).  scripts/mypy-baseline.txt holds the number of errors per file when it
was last updated.  This script fails when a file has more errors than its baseline (or a
file not in it has any), and says which; when every count stayed or shrank it passes and,
with ``--update``, writes the smaller counts back so that they cannot grow again.

    scripts/mypy_baseline.py            # check (make lint)
    scripts/mypy_baseline.py --update   # after fixing errors: lower the baseline
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scripts" / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<file>[^:\s]+\.py):\d+: error: ")


def count_errors() -> tuple[Counter, str]:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context", "geoapp"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"mypy failed to run:\n{done.stdout}{done.stderr}")
    counts: Counter = Counter()
    for line in done.stdout.splitlines():
        m = ERROR.match(line)
        if m:
            counts[m["file"]] += 1
    return counts, done.stdout


def read_baseline() -> Counter:
    counts: Counter = Counter()
    if BASELINE.exists():
        for line in BASELINE.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                number, name = line.split(maxsplit=1)
                counts[name] = int(number)
    return counts


def write_baseline(counts: Counter) -> None:
    lines = ["# mypy errors per file (scripts/mypy_baseline.py); may only shrink"]
    lines += [f"{counts[name]} {name}" for name in sorted(counts) if counts[name]]
    BASELINE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    counts, output = count_errors()
    baseline = read_baseline()
    if not BASELINE.exists():
        write_baseline(counts)
        print(f"mypy: first baseline written, {sum(counts.values())} errors")
        return 0
    grown = {f: (baseline.get(f, 0), n) for f, n in counts.items() if n > baseline.get(f, 0)}
    if grown:
        for name, (was, now) in sorted(grown.items()):
            print(f"{name}: {now} mypy errors, the baseline allows {was}")
            for line in output.splitlines():
                if line.startswith(f"{name}:"):
                    print(f"  {line}")
        print("mypy: new errors (fix them; the baseline only shrinks)")
        return 1
    total, before = sum(counts.values()), sum(baseline.values())
    if "--update" in argv:
        write_baseline(counts)
        print(f"mypy: baseline written, {total} errors (was {before})")
    elif total < before:
        print(f"mypy: {total} errors, {before - total} fewer than the baseline: run "
              "scripts/mypy_baseline.py --update to keep them out")
    else:
        print(f"mypy: {total} errors, as in the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
