"""Pages built by JavaScript: pages/s and peak memory of ``veille check`` with Chromium.

Serves N pages whose article a script injects (tests/browser/jspages.py) from a local site,
watches them all with ``render = "browser"`` and the ``[browser]`` defaults, and runs two
cycles: the first (every page new) and a second with every page unchanged. Memory is that of
the whole process tree (veille, the Node driver, Chromium's processes): peak summed RSS, which
counts Chromium's shared pages several times, and peak summed PSS, which does not.

    .venv/bin/python bench/browser.py                  # 100 pages, network idle and a selector
    .venv/bin/python bench/browser.py --pages 100 1000 --wait-for article
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import run_measured
from tests.browser.jspages import js_article, paragraphs
from tests.servers.http import LocalSite

_CHECKED = re.compile(r"(\d+) pages checked: .*?(\d+) errors, ([\d.]+) pages/s")


def config(site: LocalSite, pages: int, wait_for: str | None) -> str:
    """A config watching ``pages`` JS pages of ``site`` in the browser, defaults elsewhere."""
    head = (
        'database = "veille.db"\nallow_networks = ["127.0.0.0/8"]\n\n'
        "[http]\nobey_robots_txt = false\nautothrottle = false\n\n"
    )
    if wait_for:
        head += f'[browser]\nwait_for = "{wait_for}"\n\n'
    entries = "".join(
        f'[[pages]]\nurl = "{site.url(f"/js/{i}")}"\nrender = "browser"\n\n' for i in range(pages)
    )
    return head + entries


def cycle(folder: Path, label: str, *args: str) -> dict[str, object]:
    """One measured ``veille check``."""
    env = {**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}
    run = run_measured(
        [sys.executable, "-m", "monitor.cli", "--config", str(folder / "veille.toml"), "check", *args],
        cwd=ROOT, env=env,
    )
    match = _CHECKED.search(run.stdout)
    if not match:
        raise SystemExit(f"{label}: no summary line\n{run.stdout}\n{run.stderr[-2000:]}")
    checked, errors, rate = int(match.group(1)), int(match.group(2)), float(match.group(3))
    return {
        "cycle": label, "pages": checked, "errors": errors, "wall_s": round(run.wall, 2),
        "pages_per_s_wall": round(checked / run.wall, 2), "pages_per_s_cycle": rate,
        "cpu_s": round(run.cpu, 1), "peak_rss_mb": run.peak_rss // 2**20,
        "peak_pss_mb": run.peak_pss // 2**20,
    }


def bench(pages: int, wait_for: str | None) -> list[dict[str, object]]:
    """Two cycles over ``pages`` JS pages."""
    with LocalSite() as site, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(pages):
            site.set(f"/js/{i}", js_article(f"Story {i}", paragraphs(i)))
        (folder / "veille.toml").write_text(config(site, pages, wait_for), encoding="utf-8")
        rows = [cycle(folder, "new"), cycle(folder, "unchanged", "--all")]
        wait = f"selector {wait_for}" if wait_for else "network idle"
        return [{**row, "wait": wait} for row in rows]


def main() -> None:
    """Run the benchmark and print one JSON object per cycle."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[100])
    parser.add_argument(
        "--wait-for", nargs="+", default=["", "article"],
        help='CSS selectors for [browser] wait_for ("" for the default: network idle)',
    )
    args = parser.parse_args()
    results = []
    for pages in args.pages:
        for wait_for in args.wait_for:
            for row in bench(pages, wait_for or None):
                print(json.dumps(row))
                results.append(row)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "browser.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
