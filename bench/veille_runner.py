"""Drive veille for the check-cycle benchmark through its command line, as a user would.

The config is written to the work folder (database beside it, 64 concurrent requests, no
robots.txt, no autothrottle, 127.0.0.0/8 allowed). Results are read from SQLite after each run:
the new rows of ``change_feed`` (what veille reports) and of ``checks`` (one per fetch), and the
database size after ``PRAGMA wal_checkpoint(TRUNCATE)`` (file + WAL, and pages in use).
"""

from __future__ import annotations

import compileall
import shutil
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from bench.measure import Cycle, run_measured

# Change kinds about the article itself: what the precision and recall are measured on.
ARTICLE_KINDS = frozenset({"title", "body", "byline", "dates", "removed", "restored", "moved"})

# Check states that are not failures (see ``Outcome.state`` in monitor/record.py).
FINE_STATES = frozenset(
    {"new", "unchanged", "changed", "not_modified", "removed", "restored", "pending_confirm"}
)

CONFIG = """\
database = "veille.db"
allow_networks = ["127.0.0.0/8"]

[http]
concurrent_requests = 64
concurrency_per_domain = 64
obey_robots_txt = false
autothrottle = false

[[topics]]
name = "bench"
"""


def compile_veille() -> None:
    """Byte-compile veille's packages, as installing a wheel does.

    An editable install leaves them as source, and where PYTHONDONTWRITEBYTECODE is set each
    run would compile them again: a start-up cost no installed veille pays.
    """
    root = Path(__file__).resolve().parents[1]
    for package in ("spiders", "monitor", "storage", "alerts"):
        compileall.compile_dir(root / package, quiet=1)


def veille_command() -> list[str]:
    """The ``veille`` console script beside this Python, else ``python -m monitor.cli``."""
    script = Path(sys.executable).parent / "veille"
    if script.exists():
        return [str(script)]
    found = shutil.which("veille")
    return [found] if found else [sys.executable, "-m", "monitor.cli"]


class VeilleRunner:
    """veille with a private config and database in ``workdir``."""

    name = "veille"

    def __init__(self, workdir: Path, processes: int | None = None) -> None:
        self.workdir = workdir
        self.processes = processes
        self.name = "veille" if processes is None else f"veille-{processes}"
        self.config_file = workdir / "veille.toml"
        self.db_file = workdir / "veille.db"
        self.cmd = [*veille_command(), "--config", str(self.config_file)]

    def setup(self, urls: list[str]) -> None:
        """Write the config and add the pages (not timed)."""
        config = CONFIG
        if self.processes is not None:
            config = config.replace("[http]\n", f"[http]\nprocesses = {self.processes}\n", 1)
        self.config_file.write_text(config, encoding="utf-8")
        run = run_measured(
            [*self.cmd, "add", "-", "--topic", "bench"], cwd=self.workdir, stdin="\n".join(urls)
        )
        if run.returncode != 0:
            raise RuntimeError(f"veille add failed ({run.returncode}):\n{run.stderr[-3000:]}")

    def db_bytes(self) -> tuple[int, int]:
        """(file bytes, used bytes) once the WAL is folded into the file.

        The file size is the database file plus what is left of the WAL. A file never shrinks
        and reuses freed pages, so the used bytes (pages in use × page size) show growth better.
        """
        if not self.db_file.exists():
            return 0, 0
        with sqlite3.connect(self.db_file) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = con.execute("PRAGMA page_count").fetchone()[0]
            free = con.execute("PRAGMA freelist_count").fetchone()[0]
            page_size = con.execute("PRAGMA page_size").fetchone()[0]
        con.close()
        wal = self.db_file.with_name(self.db_file.name + "-wal")
        size = self.db_file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        return size, (pages - free) * page_size

    def comment_rows(self) -> int:
        """Reader comments stored so far."""
        if not self.db_file.exists():
            return 0
        with sqlite3.connect(self.db_file) as con:
            try:
                count = int(con.execute("SELECT COUNT(*) FROM comments").fetchone()[0])
            except sqlite3.OperationalError:  # before the first check creates the table
                count = 0
        con.close()
        return count

    def comment_bytes(self) -> int:
        """Bytes of the pages used by the reader-comment tables and their indexes and FTS."""
        if not self.db_file.exists():
            return 0
        with sqlite3.connect(self.db_file) as con:
            try:
                row = con.execute(
                    "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE '%comment%'"
                ).fetchone()
            except sqlite3.OperationalError:  # an SQLite built without dbstat
                row = (0,)
        con.close()
        return int(row[0])

    def _high_water(self) -> tuple[int, int]:
        if not self.db_file.exists():
            return 0, 0
        with sqlite3.connect(self.db_file) as con:
            query = "SELECT COALESCE(MAX(change_id), 0) FROM change_feed"
            changes = con.execute(query).fetchone()[0]
            checks = con.execute("SELECT COALESCE(MAX(id), 0) FROM checks").fetchone()[0]
        con.close()
        return int(changes), int(checks)

    def cycle(self) -> Cycle:
        """Run ``veille check --all`` once and read what it recorded."""
        size_before, used_before = self.db_bytes()
        comments_before = self.comment_bytes()
        comment_rows_before = self.comment_rows()
        last_change, last_check = self._high_water()
        run = run_measured([*self.cmd, "check", "--all"], cwd=self.workdir)
        size_after, used_after = self.db_bytes()
        comments_after = self.comment_bytes()
        changed: set[str] = set()
        kinds: Counter[str] = Counter()
        states: Counter[str] = Counter()
        if self.db_file.exists():
            with sqlite3.connect(self.db_file) as con:
                for url, kind in con.execute(
                    "SELECT url, kind FROM change_feed WHERE change_id > ?", (last_change,)
                ):
                    kinds[kind] += 1
                    # Ground truth is about articles; reader comments are counted apart
                    # (the generated pages rotate their inline comments between rounds).
                    if kind in ARTICLE_KINDS:
                        changed.add(url)
                for state, count in con.execute(
                    "SELECT state, COUNT(*) FROM checks WHERE id > ? GROUP BY state", (last_check,)
                ):
                    states[state] = count
            con.close()
        errors = sum(n for state, n in states.items() if state not in FINE_STATES)
        return Cycle(
            run,
            changed,
            errors,
            {
                "db_file_bytes_added": size_after - size_before,
                "db_used_bytes_added": used_after - used_before,
                "db_comment_bytes_added": comments_after - comments_before,
                "comments_added": self.comment_rows() - comment_rows_before,
                "db_file_bytes": size_after,
                "change_kinds": dict(kinds),
                "check_states": dict(states),
                "checks": sum(states.values()),
            },
        )
