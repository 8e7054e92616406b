"""`veille demo` end to end, and discovery inside the daemon (`veille run`)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

from monitor.demo_site import FIL_POLICE, SW_LANGUAGES, story_path
from tests.conftest import ROOT
from tests.monitor.test_daemon import RunningDaemon

if TYPE_CHECKING:
    from pathlib import Path

    from monitor.demo_site import DemoSite
    from tests.conftest import Veille


def test_the_demo_shows_discovery_edits_comments_and_a_translation_lag(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "8 articles added (4 translations)" in out
    assert f"+ {FIL_POLICE}" in out
    for marker in ("title ", "body ", "comment_new", "[stealth edit]",
                   "5 language versions (en, pt-BR, de, fr, ar)",
                   "translation_lag: the fr version was edited", "azure-armee-salaries"):
        assert marker in out, marker
    assert "Traceback" not in proc.stderr
    # Everything is in the database beside the config, ready to explore.
    check = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--config", str(tmp_path / "veille.toml"),
         "stories", "--lag", "0s"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )
    assert check.returncode == 0 and "translation_lag" in check.stdout


def test_python_m_monitor_demo_still_works() -> None:
    proc = subprocess.run([sys.executable, "-m", "monitor.demo", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False)
    assert proc.returncode == 0 and "--dir" in proc.stdout


def test_the_daemon_runs_each_source_and_checks_what_it_finds(
    newsroom: Veille, news: DemoSite
) -> None:
    newsroom.config.write_text(
        newsroom.config.read_text() + '\n[daemon]\ntick = "0.2s"\n', encoding="utf-8"
    )
    daemon = RunningDaemon(newsroom)

    def query(sql: str) -> list[tuple[object, ...]]:
        if not newsroom.database.exists():
            return []
        try:
            return list(newsroom.db().execute(sql).fetchall())
        except sqlite3.OperationalError:  # not created or migrated yet
            return []

    def checked() -> set[str]:
        rows = query("SELECT url FROM pages WHERE current_version IS NOT NULL")
        return {str(url).removeprefix(news.base) for (url,) in rows}

    story = {story_path(lang) for lang in SW_LANGUAGES}
    try:
        daemon.wait_for("a first run of every source", lambda: query(
            "SELECT COUNT(DISTINCT source) FROM source_runs") == [(6,)])
        # Discovery adds the pages; the daemon's own tick checks them.
        daemon.wait_for("the five versions of the story checked", lambda: story <= checked())
        runs = query("SELECT COUNT(*) FROM source_runs")
    finally:
        code = daemon.stop()
    assert code == 0, daemon.text()
    # Each source runs once an hour by default: not again within this test.
    assert runs == [(6,)]
    assert FIL_POLICE in checked()
    assert ("article_new",) in query("SELECT DISTINCT kind FROM change_feed")
