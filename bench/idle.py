"""The idle daemon: memory and CPU of `veille run` between cycles, with many pages watched.

    .venv/bin/python bench/idle.py [--pages 10000] [--fetch 200] [--seconds 60]

Builds a database of ``--pages`` watched pages in a temporary folder. ``--fetch`` of them point
at a local news site (served by this script, so its CPU is not counted) and are due at once; the
others are checked and fall due over the next week. The daemon is started with the default
``[daemon]`` settings (a tick every 5 s), fetches the due pages in its first cycle, and then has
nothing to do. Once that cycle is recorded, RSS, PSS and CPU time of the daemon's process tree
are sampled for ``--seconds``.

Targets: RSS < 100 MB and CPU < 1 % between cycles. Figures go to stdout and
``bench/out/idle.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage.db import open_database  # noqa: E402
from tests.servers import newssite  # noqa: E402
from tests.servers.http import LocalSite  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_RSS_MB = 100.0
TARGET_CPU_PERCENT = 1.0


def build(folder: Path, site: LocalSite, pages: int, fetch: int, seed: int) -> Path:
    """The config and database: ``fetch`` pages due on the local site, the rest not due."""
    specs = newssite.make_site(fetch, seed=seed)
    for spec in specs:
        site.set(spec.path, newssite.render(spec, noise_seed=1, base_url=site.base_url))
    config = folder / "veille.toml"
    config.write_text(
        'database = "veille.db"\nallow_networks = ["127.0.0.0/8"]\n\n[http]\nobey_robots_txt = false\n', encoding="utf-8"
    )
    db = open_database(folder / "veille.db")
    rng = random.Random(seed)
    now = time.time()
    rows: list[tuple[str, str, float, float | None, str | None]] = [
        (site.url(spec.path), "127.0.0.1", 0.0, None, None) for spec in specs
    ]
    for i in range(pages - fetch):
        domain = f"site{i % 500}.example"
        rows.append((
            f"https://www.{domain}/2026/article-{i}.html", domain,
            now + rng.uniform(3600, 7 * 86400), now - 600, "not_modified",
        ))  # fmt: skip
    with db.conn:
        db.conn.execute("BEGIN")
        db.conn.executemany(
            "INSERT INTO pages (url, domain, topic, added_at, next_check_at, last_checked_at, "
            "last_state) VALUES (?, ?, 'bench', '2026-01-01T00:00:00Z', ?, ?, ?)",
            rows,
        )
    db.close()
    return config


def tree(proc: psutil.Process) -> list[psutil.Process]:
    """The process and its descendants."""
    return [proc, *proc.children(recursive=True)]


def sample(proc: psutil.Process) -> tuple[float, int, int]:
    """(CPU seconds, RSS bytes, PSS bytes) summed over the process tree."""
    cpu = rss = pss = 0
    for p in tree(proc):
        try:
            times = p.cpu_times()
            cpu += times.user + times.system
            info = p.memory_full_info()
            rss += info.rss
            pss += getattr(info, "pss", 0)
        except psutil.NoSuchProcess:
            continue
    return cpu, rss, pss


def main() -> None:
    """Build, start the daemon, wait for its first cycle, sample it idle, stop it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--fetch", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="veille-idle-") as name, LocalSite() as site:
        folder = Path(name)
        config = build(folder, site, args.pages, args.fetch, args.seed)
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(str(folder / "notify.sock"))
        env = {**os.environ, "NOTIFY_SOCKET": str(folder / "notify.sock")}
        started = time.monotonic()
        with (folder / "daemon.log").open("wb") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "--config", str(config), "run"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, env=env,
            )
        try:
            notify.settimeout(60)
            while b"READY=1" not in notify.recv(4096):
                pass
            ready = time.monotonic() - started
            _, ready_rss, _ = sample(psutil.Process(daemon.pid))
            db = sqlite3.connect(folder / "veille.db", timeout=10)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                sql = "SELECT COUNT(*) FROM cycles WHERE finished_at IS NOT NULL"
                if db.execute(sql).fetchone()[0]:
                    break
                time.sleep(0.2)
            else:
                raise SystemExit(f"no cycle completed:\n{(folder / 'daemon.log').read_text()}")
            cycle = db.execute(
                "SELECT checked, errors, finished_at - started_at FROM cycles ORDER BY id LIMIT 1"
            ).fetchone()
            db.close()
            proc = psutil.Process(daemon.pid)
            time.sleep(2)  # let the cycle's last objects go
            cpu0, _, _ = sample(proc)
            wall0 = time.monotonic()
            peak_rss = peak_pss = 0
            while time.monotonic() - wall0 < args.seconds:
                _, rss, pss = sample(proc)
                peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
                time.sleep(1)
            cpu1, rss, pss = sample(proc)
            wall = time.monotonic() - wall0
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=15)
            notify.close()
    cpu_percent = 100 * (cpu1 - cpu0) / wall
    report: dict[str, Any] = {
        "pages": args.pages, "fetched_first": args.fetch, "seconds": round(wall, 1),
        "ready_after_s": round(ready, 2), "rss_at_ready_mb": round(ready_rss / 2**20, 1),
        "first_cycle": {"checked": cycle[0], "errors": cycle[1], "seconds": round(cycle[2], 2)},
        "cpu_percent": round(cpu_percent, 3), "rss_mb": round(rss / 2**20, 1),
        "peak_rss_mb": round(peak_rss / 2**20, 1), "peak_pss_mb": round(peak_pss / 2**20, 1),
        "exit_code": code, "python": platform.python_version(),
    }  # fmt: skip
    print(
        f"{args.pages} pages, {cycle[0]} fetched in the first cycle ({cycle[2]:.1f} s), "
        "READY after "
        f"{ready:.1f} s (RSS then {ready_rss / 2**20:.1f} MB); then {wall:.0f} s idle:"
    )
    print(
        f"  CPU {cpu_percent:.2f} % (target < {TARGET_CPU_PERCENT:g} %), RSS {rss / 2**20:.1f} MB, "
        f"peak RSS {peak_rss / 2**20:.1f} MB (target < {TARGET_RSS_MB:g} MB), peak PSS "
        f"{peak_pss / 2**20:.1f} MB; exit code {code} after SIGTERM"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "idle.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
