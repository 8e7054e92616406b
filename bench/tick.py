"""The daemon's tick: how long choosing the due pages takes when few of many are due.

    .venv/bin/python bench/tick.py [--pages 100000] [--due 1000] [--runs 30]

Builds a database of ``--pages`` watched pages (in a temporary folder) of which ``--due`` are
overdue, then times what one tick of ``veille run`` does before handing pages to the crawler:

- ``pick``: :meth:`monitor.scheduler.Dispatcher.pick` (the index range on ``next_check_at``,
  oldest first, skipping pages in flight);
- ``targets``: :func:`monitor.check.watch_targets` (what the spider needs for each page);
- ``begin``: :meth:`Dispatcher.begin` (the cycle row and the in-flight set).

Measured twice: with nothing in flight, and with ``--due`` more overdue pages (older ones) still
in flight, which the query then reads past. For scale, the bare SQL selection is timed with the
index and with it disabled (``NOT INDEXED``, a full scan: O(pages)). Target: pick + targets +
begin < 50 ms with 100,000 pages and 1,000 due. Figures go to stdout and ``bench/out/tick.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.check import watch_targets  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.scheduler import Dispatcher  # noqa: E402
from storage.db import open_database  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_MS = 50.0


def build(folder: Path, pages: int, due: int, seed: int) -> Path:
    """A config and a database of ``pages`` checked pages, ``due`` of them overdue."""
    config = folder / "veille.toml"
    config.write_text('database = "veille.db"\n', encoding="utf-8")
    db = open_database(folder / "veille.db")
    rng = random.Random(seed)
    now = time.time()
    # The overdue pages are spread over the last hour; the others fall due over the next week.
    overdue = set(rng.sample(range(pages), due))
    rows = []
    for i in range(pages):
        domain = f"site{i % 500}.example"
        when = now - rng.uniform(1, 3600) if i in overdue else now + rng.uniform(60, 7 * 86400)
        rows.append((
            f"https://www.{domain}/2026/{i // 1000}/article-{i}.html", domain, "bench",
            "2026-01-01T00:00:00Z", when, now - 600, now - 86400, "not_modified",
            f'"{i:08x}"', "Mon, 01 Jun 2026 10:00:00 GMT", "0" * 64,
            "/html/body/main/article", "f" * 16,
        ))  # fmt: skip
    with db.conn:
        db.conn.execute("BEGIN")
        db.conn.executemany(
            "INSERT INTO pages (url, domain, topic, added_at, next_check_at, last_checked_at, "
            "last_changed_at, last_state, etag, last_modified, last_raw_sha256, region, "
            "region_fp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.execute("ANALYZE")
    db.close()
    return config


def add_in_flight(config_path: Path, count: int, seed: int) -> None:
    """Make ``count`` more pages overdue, older than the others: the batch still in flight."""
    db = open_database(load_config(config_path).database)
    now = time.time()
    ids = [row[0] for row in db.execute("SELECT id FROM pages WHERE next_check_at > ?", [now])]
    chosen = random.Random(seed).sample(ids, count)
    with db.conn:
        db.conn.execute("BEGIN")
        db.conn.executemany(
            "UPDATE pages SET next_check_at = ? WHERE id = ?",
            [(now - 7200 - n, page_id) for n, page_id in enumerate(chosen)],
        )
    db.close()


def time_tick(config_path: Path, due: int, runs: int, in_flight: int) -> dict[str, Any]:
    """Median and worst of pick, targets and begin over ``runs`` ticks."""
    config = load_config(config_path)
    db = open_database(config.database)
    stages: dict[str, list[float]] = {"pick": [], "targets": [], "begin": [], "total": []}
    chosen = 0
    for _ in range(runs):
        dispatcher = Dispatcher(db, batch=in_flight or due, stall_after=900)
        now = time.time()
        if in_flight:  # the oldest due pages are still being fetched
            dispatcher.begin(dispatcher.pick(now)[:in_flight], now)
            dispatcher.batch = in_flight + due
        t0 = time.perf_counter()
        pages = dispatcher.pick(now)
        t1 = time.perf_counter()
        targets = watch_targets(pages, config)
        t2 = time.perf_counter()
        dispatcher.begin(pages, now)
        t3 = time.perf_counter()
        chosen = len(targets)
        spans = {"pick": t1 - t0, "targets": t2 - t1, "begin": t3 - t2, "total": t3 - t0}
        for name, seconds in spans.items():
            stages[name].append(seconds * 1000)
    db.execute("DELETE FROM cycles")
    db.close()
    result: dict[str, Any] = {"chosen": chosen, "in_flight": in_flight}
    for name, values in stages.items():
        result[name] = {"median_ms": statistics.median(values), "max_ms": max(values)}
    return result


def time_selection(config_path: Path, runs: int, due: int) -> dict[str, float]:
    """Median ms of the bare SQL selection (ids only), with the index and without it."""
    config = load_config(config_path)
    db = open_database(config.database)
    result = {}
    for label, hint in (("index_range_ms", ""), ("full_scan_ms", "NOT INDEXED")):
        sql = (
            f"SELECT id FROM pages {hint} WHERE next_check_at <= ? "
            "ORDER BY next_check_at LIMIT ?"
        )
        values = []
        for _ in range(runs):
            t0 = time.perf_counter()
            db.execute(sql, [time.time(), due]).fetchall()
            values.append((time.perf_counter() - t0) * 1000)
        result[label] = statistics.median(values)
    db.close()
    return result


def main() -> None:
    """Build, measure, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veille-tick-") as folder:
        started = time.perf_counter()
        config = build(Path(folder), args.pages, args.due, args.seed)
        built = time.perf_counter() - started
        idle = time_tick(config, args.due, args.runs, in_flight=0)
        add_in_flight(config, args.due, args.seed)
        busy = time_tick(config, args.due, args.runs, in_flight=args.due)
        scan = time_selection(config, max(5, args.runs // 3), args.due)
    report = {
        "pages": args.pages, "due": args.due, "runs": args.runs, "build_s": round(built, 1),
        "nothing_in_flight": idle, "batch_in_flight": busy, "sql_selection": scan,
        "target_ms": TARGET_MS, "python": platform.python_version(), "machine": platform.machine(),
    }  # fmt: skip
    print(
        f"{args.pages} pages stored, {args.due} due ({args.runs} ticks each, "
        f"database built in {built:.1f} s)"
    )
    print(f"{'':24}{'pick':>12}{'targets':>12}{'begin':>12}{'total':>12}{'worst':>10}")
    for label, row in (("nothing in flight", idle), (f"{args.due} in flight", busy)):
        names = ("pick", "targets", "begin", "total")
        cells = "".join(f"{row[name]['median_ms']:>10.1f}ms" for name in names)
        print(f"{label:24}{cells}{row['total']['max_ms']:>8.1f}ms   ({row['chosen']} chosen)")
    print(
        f"the SQL alone (ids of the {args.due} oldest due): {scan['index_range_ms']:.1f} ms with "
        f"the index on next_check_at, {scan['full_scan_ms']:.1f} ms as a full scan"
    )
    worst_median = max(idle["total"]["median_ms"], busy["total"]["median_ms"])
    verdict = "met" if worst_median < TARGET_MS else "MISSED"
    print(f"target: total < {TARGET_MS:.0f} ms: {verdict}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tick.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
