"""Discovery over a feed and a sitemap of 10,000 entries each: entries/s and peak RSS.

    .venv/bin/python bench/discovery.py                   # 10,000 entries, no article fetched
    .venv/bin/python bench/discovery.py --entries 50000 --fetches 200

The site (served on 127.0.0.1 by tests/servers/http.py, in this process) has an RSS feed and a
Google News sitemap listing the same number of articles, one in twenty on the topic (by its
title), the others off topic. ``veille discover`` reads both sources as a user would (process
start-up included); ``--fetches`` lets it fetch that many article pages per source (default 0:
listing, canonicalising, matching and recording only). A second run reads the same sources
again: the articles added are known; the off-topic entries, never fetched, are matched again
on their titles. Wall time, CPU and peak RSS of the process
tree come from bench/measure.py; the JSON goes to bench/out/discovery-<N>.json.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import run_measured  # noqa: E402
from bench.veille_runner import veille_command  # noqa: E402
from tests.servers.http import LocalSite  # noqa: E402

ON_TOPIC_EVERY = 20


def title(i: int) -> str:
    if i % ON_TOPIC_EVERY == 0:
        return f"Microsoft employees ask to end police contract number {i}"
    return f"Local council votes on the bus timetable, item {i}"


def feed(site: LocalSite, n: int) -> bytes:
    items = "".join(
        f"<item><title>{html.escape(title(i))}</title><link>{site.url(f'/feed/{i}.html')}"
        f"?utm_source=rss</link><description>Short summary {i}.</description></item>"
        for i in range(n)
    )
    return f'<rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>'.encode()


def sitemap(site: LocalSite, n: int) -> bytes:
    urls = "".join(
        f"<url><loc>{site.url(f'/map/{i}.html')}</loc><news:news><news:publication>"
        "<news:name>Bench</news:name><news:language>en</news:language></news:publication>"
        f"<news:title>{html.escape(title(i))}</news:title></news:news></url>"
        for i in range(n)
    )
    return ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"{urls}</urlset>").encode()


def article(i: int) -> str:
    return (f'<html lang="en"><head><title>{title(i)}</title></head><body><article>'
            f"<h1>{title(i)}</h1><p>Body of article {i}, about Microsoft and the police.</p>"
            "<p>A second paragraph so that the extractor has something to read.</p>"
            "</article></body></html>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--fetches", type=int, default=0)
    args = parser.parse_args()
    n = args.entries
    with LocalSite(record=False, faults=False) as site, tempfile.TemporaryDirectory() as tmp:
        site.set("/feed.xml", feed(site, n), content_type="application/rss+xml")
        site.set("/sitemap.xml", sitemap(site, n), content_type="application/xml")
        for i in range(0, n, ON_TOPIC_EVERY):
            site.set(f"/feed/{i}.html", article(i))
            site.set(f"/map/{i}.html", article(i))
        config = Path(tmp) / "veille.toml"
        limits = f"max_entries = {n}\nmax_fetches = {args.fetches}\n"
        config.write_text(
            'database = "veille.db"\nallow_networks = ["127.0.0.0/8"]\n\n[http]\n'
            "obey_robots_txt = false\nautothrottle = false\nconcurrency_per_domain = 32\n\n"
            '[[topics]]\nname = "bench"\nquery = "microsoft AND police"\n\n'
            f'[[sources]]\nname = "feed"\ntype = "feed"\nurl = "{site.url("/feed.xml")}"\n'
            f'topic = "bench"\n{limits}\n'
            f'[[sources]]\nname = "sitemap"\ntype = "sitemap"\nurl = "{site.url("/sitemap.xml")}"\n'
            f'topic = "bench"\n{limits}',
            encoding="utf-8",
        )
        env = {**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}
        results = {}
        for label in ("first run", "second run (same entries)"):
            run = run_measured([*veille_command(), "--config", str(config), "discover"],
                               cwd=ROOT, env=env)
            if run.returncode != 0:
                sys.exit(f"veille discover failed ({run.returncode}):\n{run.stderr}")
            summary = run.stdout.strip().splitlines()[-1]
            results[label] = {
                "entries": 2 * n, "wall_s": round(run.wall, 2), "cpu_s": round(run.cpu, 2),
                "entries_per_s": round(2 * n / run.wall),
                "peak_rss_mb": round(run.peak_rss / 2**20), "summary": summary,
            }
    print(f"discovery: a feed and a sitemap of {n} entries each, {args.fetches} article pages "
          "fetched per source")
    print(f"{'run':<26} {'entries':>8} {'wall s':>7} {'CPU s':>6} {'entries/s':>10} "
          f"{'peak RSS MB':>12}")
    for label, r in results.items():
        print(f"{label:<26} {r['entries']:>8} {r['wall_s']:>7} {r['cpu_s']:>6} "
              f"{r['entries_per_s']:>10} {r['peak_rss_mb']:>12}")
        print(f"    {r['summary']}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"discovery-{n}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
