"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlite_utils

from tests.servers.http import LocalSite

ROOT = Path(__file__).resolve().parents[1]

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def site() -> Iterator[LocalSite]:
    """A local HTTP site on 127.0.0.1 (fault routes included), closed after the test."""
    with LocalSite() as local_site:
        yield local_site


class Veille:
    """Runs the real ``veille`` command line against a config and database in a temp folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config = folder / "veille.toml"
        self.database = folder / "veille.db"

    def write_config(self, extra: str = "", **http: str) -> None:
        """A config for local tests: fast timeouts, no robots.txt unless asked.

        ``http`` overrides ``[http]`` keys with TOML values (``timeout='"3s"'``).
        """
        settings = {"obey_robots_txt": "false", "autothrottle": "false", "timeout": '"5s"',
                    "retries": "0", **http}
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        # The local test servers are on 127.0.0.1: the SSRF guard must let them through.
        self.config.write_text(
            f'database = "veille.db"\nallow_networks = ["127.0.0.0/8"]\n\n[http]\n{lines}\n'
            f"{extra}",
            encoding="utf-8",
        )

    def run(self, *args: str, stdin: str | None = None, check: int | None = None) -> subprocess.CompletedProcess[str]:
        """``veille --config CFG ARGS``; assert the exit code when ``check`` is given."""
        env = {**os.environ, "VEILLE_EXTRACT_WORKERS": os.environ.get("VEILLE_EXTRACT_WORKERS", "0")}
        proc = subprocess.run(
            [sys.executable, "-m", "monitor.cli", "--config", str(self.config), *args],
            input=stdin, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
        )
        if check is not None:
            assert proc.returncode == check, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def db(self) -> sqlite_utils.Database:
        """The database, opened for reading."""
        return sqlite_utils.Database(self.database)

    def changes(self) -> list[tuple[str, str]]:
        """(url, kind) of every change so far, in order."""
        rows = self.db().execute("SELECT url, kind FROM change_feed ORDER BY change_id").fetchall()
        return [(str(url), str(kind)) for url, kind in rows]

    def last_states(self) -> dict[str, str]:
        """The state of the last check of each page, by URL."""
        return dict(self.db().execute("SELECT url, last_state FROM pages").fetchall())


@pytest.fixture
def veille(tmp_path: Path) -> Veille:
    """A veille config and database in a temp folder, driven through the real CLI."""
    runner = Veille(tmp_path)
    runner.write_config()
    return runner
