"""``veille demo`` (and ``python -m monitor.demo``): the whole system on an offline news site.

Serves the bundled site of :mod:`monitor.demo_site` on 127.0.0.1 (no internet needed), writes a
config with one topic and six sources (three feeds, a sitemap index, a search page, related
links), then:

1. **discovers**: reads the sources, keeps the articles on topic, merges duplicate URLs, and
   watches the five language versions of one article as one story;
2. **checks** every watched page once (the baseline: versions, comments);
3. the site **changes**: a headline is rewritten, the French translation alone is edited
   silently, two comments are posted, a new article is published; ads, counters and
   timestamps change everywhere;
4. **discovers and checks again**: each change is printed as it is found, and the story view
   says the edit of the French version has not reached the other languages.

Everything lands in ``veille.db`` beside the generated ``veille.toml``, ready for ``veille
history``, ``veille stories`` or ``veille serve``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.demo_site import TOPIC_LANGUAGES, TOPIC_QUERY, DemoSite, serve

if TYPE_CHECKING:
    import sqlite_utils

    from monitor.check import CheckSummary
    from monitor.discover import Added, DiscoveryReport

TOPIC = "microsoft-workers"
Echo = Callable[[str], None]


def demo_config(base: str) -> str:
    """The demo's veille.toml for a site served at ``base``."""
    languages = ", ".join(f'"{lang}"' for lang in TOPIC_LANGUAGES)
    return f'''# Written by `veille demo`: the offline demo site at {base}
database = "veille.db"
allow_networks = ["127.0.0.0/8"]   # the demo site is on this machine

[http]
obey_robots_txt = false
autothrottle = false
timeout = "5s"
retries = 0

[[topics]]
name = "{TOPIC}"
query = '{TOPIC_QUERY}'
languages = [{languages}]

[[sources]]
name = "fil-tech"
type = "feed"
url = "{base}/fil-tech/rss.xml"
topic = "{TOPIC}"

[[sources]]
name = "solidarity-wire"
type = "feed"
url = "{base}/solidarity/en/feed.atom"
topic = "{TOPIC}"

[[sources]]
name = "weekly-dispatch"
type = "feed"
url = "{base}/dispatch/feed.json"
topic = "{TOPIC}"

[[sources]]
name = "sitemaps"
type = "sitemap"
url = "{base}/sitemap_index.xml"
topic = "{TOPIC}"

[[sources]]
name = "search"
type = "search"
url = "{base}/search?q={{query}}&page={{page}}"
query = "microsoft"
selector = "ol.results li"
max_pages = 3
topic = "{TOPIC}"

[[sources]]
name = "related"
type = "links"
topic = "{TOPIC}"
depth = 1
selector = "aside.related"
'''


@dataclass
class DemoResult:
    """What the demo did, for tests and for the closing lines."""

    folder: Path
    config_path: Path
    base: str
    discovered: list[Added] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # kind, url, summary
    reports: list[DiscoveryReport] = field(default_factory=list)
    checks: list[CheckSummary] = field(default_factory=list)
    story_text: str = ""


def run_demo(folder: Path | None = None, *, echo: Echo = print) -> DemoResult:
    """Run the demo end to end; ``echo`` prints each line (as it happens)."""
    from monitor.check import check_cycle, sync_config_pages
    from monitor.config import load_config
    from monitor.crawl import run_in_reactor
    from monitor.discover import discover_cycle
    from monitor.stories import render_story, stories
    from storage.db import open_database

    folder = folder or Path(tempfile.mkdtemp(prefix="veille-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    site = DemoSite()
    server = serve(site)
    config_path = folder / "veille.toml"
    config_path.write_text(demo_config(site.base), encoding="utf-8")
    config = load_config(config_path)
    db = open_database(config.database)
    result = DemoResult(folder, config_path, site.base)
    short = _shortener(site.base)
    echo(f"veille demo: an offline news site at {site.base}; database {config.database}")
    echo(f"topic {TOPIC!r}: {TOPIC_QUERY}  (languages: {', '.join(TOPIC_LANGUAGES)})")

    def on_added(item: Added) -> None:
        result.discovered.append(item)
        if item.translation_of:
            echo(f"  + {short(item.url)}  [{item.language}] translation of "
                 f"{short(item.translation_of)}")
        else:
            terms = ", ".join(item.terms) or "-"
            echo(f"  + {short(item.url)}  [{item.language or '?'}] «{item.title}» "
                 f"(source {item.source}; matched {terms} in the {item.field})")

    def on_changes(db_: sqlite_utils.Database, change_ids: list[int]) -> None:
        marks = ", ".join("?" * len(change_ids))
        for kind, url, summary, stealth in db_.execute(
            f"SELECT kind, url, summary, stealth FROM change_feed WHERE change_id IN ({marks}) "
            "ORDER BY change_id", change_ids,
        ).fetchall():
            result.changes.append((kind, url, summary))
            flag = " [stealth edit]" if stealth else ""
            echo(f"  * {kind:<15} {short(url)}{flag}\n      {summary}")

    async def rounds() -> None:
        sync_config_pages(db, config, time.time())
        echo("\n1. discovery: reading 3 feeds, a sitemap index, a search page and related links")
        report = await discover_cycle(db, config, on_added=on_added)
        result.reports.append(report)
        echo(f"   {report.line()}")
        echo("\n2. first check of every watched page (the baseline)")
        summary = await check_cycle(db, config, check_all=True, change_hooks=[on_changes])
        result.checks.append(summary)
        echo(f"   {summary.line()}")
        echo("\n3. the site changes: a headline is rewritten, the French translation alone is "
             "edited,\n   two comments are posted, an article is published; ads, counters and "
             "timestamps change everywhere")
        site.edit()
        echo("\n4. discovery and checks again; each change as it is found:")
        report = await discover_cycle(db, config, on_added=on_added)
        result.reports.append(report)
        summary = await check_cycle(db, config, check_all=True, change_hooks=[on_changes])
        result.checks.append(summary)
        echo(f"   {summary.line()}")

    try:
        run_in_reactor(rounds)
        found = stories(db, lag=0.0)
        result.story_text = "\n\n".join(render_story(s) for s in found)
        echo("\n5. stories (translations of one article, and edits that did not travel):")
        for line in result.story_text.splitlines():
            echo(f"   {short(line)}")
    finally:
        server.shutdown()
        db.close()
    echo(f"\nExplore it:\n  veille --config {config_path} stories"
         f"\n  veille --config {config_path} history {site.base}/fil-tech/2020/06/"
         "microsoft-police.html"
         f"\n  veille --config {config_path} serve      # browse it all in Datasette"
         f"\n  sqlite3 {config.database} 'SELECT kind, url, summary FROM change_feed'")
    return result


def _shortener(base: str) -> Callable[[str], str]:
    """Print site paths rather than full local URLs."""
    return lambda text: text.replace(base, "")


def main(argv: list[str] | None = None) -> None:
    """``python -m monitor.demo [--dir DIR]``."""
    parser = argparse.ArgumentParser(description="veille's offline demo.")
    parser.add_argument("--dir", type=Path, default=None, help="Keep the demo files here.")
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("scrapy", "trafilatura", "htmldate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    run_demo(args.dir)


if __name__ == "__main__":
    main()
