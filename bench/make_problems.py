"""A SQLite store holding the demo county plus synthetic problems, for benchmarks.

    from make_problems import make_store
    url, info = make_store(Path(tmp), 100_000)   # demo county (3,600 problems) + 96,400 more

Synthetic problems are uniformly random points over the county's bounding box (some fall
outside every area and stay unassigned, as real ones do), with real categories, statuses,
rounds, deductions and Beijing-time report times, assigned by the current generation's index
exactly as an import does. Deterministic for a given seed.

Run it directly to build a store and print what it holds:
``python bench/make_problems.py [N] [FOLDER]``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from geoapp.core.model import STATUSES
from geoapp.services import county, mapping
from geoapp.store import open_store

ROUNDS = ("市级评估", "省级评估")
DEDUCTIONS = (0.1, 0.2, 0.5, 1.0, 2.0)
REPORTERS = ("杨帆", "刘洋", "陈静", "王磊", "张敏")
START = datetime.fromisoformat("2024-04-01T08:00:00+08:00")
BATCH = 50_000


def synthetic_columns(store, count: int, seed: int = 7, start_index: int = 1) -> dict:
    """``count`` problems (assignment attached) as columns ready for
    ``tx.add_problem_columns``: numpy arrays, no per-row Python."""
    rng = np.random.default_rng(seed)
    zoning = mapping.zoning_for(store)
    minx, miny, maxx, maxy = store.areas(zoning.generation).total_bounds
    lon = np.round(minx + rng.random(count) * (maxx - minx), 7)
    lat = np.round(miny + rng.random(count) * (maxy - miny), 7)
    categories = np.array([c["category"] for c in store.list_categories()], dtype=object)
    cat = rng.choice(categories, count)
    status = rng.choice(np.array(list(STATUSES), dtype=object), count)
    rnd = rng.choice(np.array(ROUNDS, dtype=object), count)
    deduction = rng.choice(np.array(DEDUCTIONS), count)
    reporter = rng.choice(np.array(REPORTERS, dtype=object), count)
    minutes = rng.integers(0, 60 * 24 * 120, count)
    assigned = zoning.assign(lon, lat, cat)
    labels = np.char.add(
        "BENCH-", np.char.zfill(np.arange(start_index, start_index + count).astype(str), 7)
    )
    return {
        "problem_id": labels.astype(object),
        "round": rnd,
        "category": cat,
        "description": np.full(count, "合成问题（基准测试）", dtype=object),
        "deduction": deduction,
        "reported_s": int(START.timestamp()) + minutes * 60,
        "status": status,
        "reporter": reporter,
        "lon": lon,
        "lat": lat,
        "source_crs": np.full(count, "EPSG:4326", dtype=object),
        "source_x": lon,
        "source_y": lat,
        "generation_id": zoning.generation,
        **{
            name: assigned[name].to_numpy(dtype=object)
            for name in ("district_id", "area_id", "responsible_unit_id", "lead_unit_id")
        },
        "rule_id": assigned["rule"].to_numpy(dtype=object),
    }


#: the header of an inspection sheet as counties write it (Chinese column names)
SHEET_HEADER = (
    "编号",
    "检查轮次",
    "问题类别",
    "问题描述",
    "扣分",
    "上报时间",
    "状态",
    "上报人",
    "经度",
    "纬度",
)


def write_sheet(
    store, path: Path, count: int, seed: int = 11, prefix: str = "S", rectified: bool = False
) -> Path:
    """Write ``count`` synthetic problems as a UTF-8 CSV inspection sheet with Chinese
    headers (category and status by their Chinese names, Beijing local times, ten rounds),
    points uniform over the county's bounding box; written in blocks, so a million rows
    need little memory.  ``rectified``: one more column, 整改时间, the rectification time
    of each closed problem (rectified or verified: two rows in five), 30 hours after its
    report; empty for the others.  The rows are the same either way."""
    import csv

    from geoapp.core.model import STATUSES

    rng = np.random.default_rng(seed)
    zoning = mapping.zoning_for(store)
    minx, miny, maxx, maxy = store.areas(zoning.generation).total_bounds
    names = np.array([c["name_zh"] for c in store.list_categories()], dtype=object)
    statuses = np.array(list(STATUSES.values()), dtype=object)
    rounds = np.array([f"第{i}轮" for i in range(1, 11)], dtype=object)
    reporters = np.array(REPORTERS, dtype=object)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(SHEET_HEADER + (("整改时间",) if rectified else ()))
        closed = np.isin(statuses, [STATUSES["rectified"], STATUSES["verified"]])
        for start in range(0, count, 50_000):
            n = min(50_000, count - start)
            lon = np.round(minx + rng.random(n) * (maxx - minx), 7)
            lat = np.round(miny + rng.random(n) * (maxy - miny), 7)
            when = START + rng.integers(0, 60 * 24 * 360, n) * timedelta(minutes=1)
            columns = [
                (f"{prefix}-{start + i + 1:07d}" for i in range(n)),
                rng.choice(rounds, n),
                rng.choice(names, n),
                ["合成问题（基准测试）"] * n,
                rng.choice(np.array(DEDUCTIONS), n),
                (w.strftime("%Y-%m-%d %H:%M") for w in when),
                statuses[status := rng.integers(0, len(statuses), n)],  # as rng.choice
                rng.choice(reporters, n),
                lon,
                lat,
            ]
            if rectified:
                done = when + timedelta(hours=30)
                shut = closed[status]
                columns.append(
                    (
                        d.strftime("%Y-%m-%d %H:%M") if c else ""
                        for d, c in zip(done, shut, strict=True)
                    )
                )
            writer.writerows(zip(*columns, strict=True))
    return Path(path)


def add_synthetic_problems(store, count: int, seed: int = 7, batch: int = BATCH) -> int:
    """Add ``count`` synthetic problems in transactions of ``batch`` rows, column by column
    (one bulk insert of problems and one of events per batch); returns count."""
    if count <= 0:
        return 0
    columns = synthetic_columns(store, count, seed=seed)
    for i in range(0, count, batch):
        part = {k: v[i : i + batch] if isinstance(v, np.ndarray) else v for k, v in columns.items()}
        with store.transaction() as tx:
            tx.add_problem_columns(part, actor="bench")
    return count


def make_store(folder: Path, total: int, seed: int = 7, url: str | None = None) -> tuple[str, dict]:
    """Create ``folder/bench.sqlite`` (or, given ``url``, a database emptied first: e.g. a
    PostGIS one) with the demo county and problems up to ``total``.

    Returns the SQLAlchemy URL and a dict of figures (counts and seconds taken)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if url is None:
        url = f"sqlite:///{folder / 'bench.sqlite'}"
    else:
        with open_store(url) as old:
            old.downgrade("base")
    start = time.perf_counter()
    with open_store(url, upgrade=True) as store:
        loaded = county.load_county(store)
        demo_s = time.perf_counter() - start
        extra = max(0, total - loaded["problems"])
        t = time.perf_counter()
        add_synthetic_problems(store, extra, seed=seed)
        synth_s = time.perf_counter() - t
        count = store.count_problems()
    return url, {
        "problems": count,
        "demo_problems": loaded["problems"],
        "synthetic_problems": extra,
        "load_demo_s": round(demo_s, 2),
        "add_synthetic_s": round(synth_s, 2),
        "setup_s": round(time.perf_counter() - start, 2),
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    where = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("instance/bench")
    print(make_store(where, n))
