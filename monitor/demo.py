"""``veille demo`` (and ``make run``): the real daemon watching an offline news site.

Serves the bundled site of :mod:`monitor.demo_site` on 127.0.0.1 (no internet needed), writes a
config with one topic and six sources (three feeds, a sitemap index, a search page, related
links) on short schedules, and starts the real daemon, ``veille --config … run``, as a child
process. While it runs, the demo only makes things happen on the site and reads the database
read-only, as Datasette does:

1. the daemon **discovers** the articles on topic (and their translations) and **checks** each
   one: the first versions and comments;
2. the site **changes**: a headline is rewritten, the French translation alone is edited
   silently, two comments are posted, a new article is published;
3. a reader **edits** a comment and a moderator **deletes** another;

each change is printed as the daemon records it (``change_feed``). Then the daemon is stopped
with SIGTERM, as systemd does, and the demo prints a summary, the story view (the French edit
has not reached the other languages) and how to explore the database.

Why a child process rather than the daemon in this process: what runs is exactly ``veille
run``, with its own event loop, signals and shutdown, and the demo cannot help it along; what
the demo prints is only what the daemon wrote. The schedules are the config's real minimums (10 s
between two checks of a page or two reads of a source; the daemon looks for due sources every
:data:`~monitor.discover.DISCOVERY_TICK` seconds), so the article published in step 2 is found
by the daemon's second discovery pass, about 30 s in.

Ctrl-C (or SIGTERM) stops the daemon (SIGTERM, waited for) and the site before the demo exits;
on Linux the daemon also gets SIGTERM if the demo is killed outright (a parent-death signal).
Everything stays in the folder (``veille.toml``, ``veille.db``, ``daemon.log``), ready for
``veille history``, ``veille stories`` or ``veille serve``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

from monitor.demo_site import (
    FIL_NEW,
    FIL_POLICE,
    TOPIC_LANGUAGES,
    TOPIC_QUERY,
    DemoSite,
    bind,
    start,
    story_path,
)
from monitor.errors import VeilleError

if TYPE_CHECKING:
    from types import FrameType

logger = logging.getLogger(__name__)

TOPIC: Final = "microsoft-workers"
EVERY: Final = "10s"  # pages and sources: the config's minimum interval (MIN_INTERVAL)
TICK: Final = "0.5s"  # [daemon] tick: due pages are handed to the crawler within half a second
POLL: Final = 0.25  # seconds between two looks at the database
STEP_DEADLINE: Final = 60.0  # seconds one step may wait for the daemon before the demo gives up
STOP_TIMEOUT: Final = 15.0  # the daemon exits within 10 s of SIGTERM (monitor.daemon)
LOG_TAIL: Final = 20  # lines of the daemon's log shown when it failed
FIRST_LINE: Final = "# Written by `veille demo`"
SERVICE_ENV: Final = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID",
                      "JOURNAL_STREAM")
Echo = Callable[[str], None]


class DemoFailed(VeilleError):
    """The demo's daemon failed, or did not record what the demo made happen in time.

    ``log_tail`` holds the last lines of the daemon's log (stdout and stderr).
    """

    def __init__(self, message: str, *, log: Path | None = None, log_tail: str = "") -> None:
        where = f"; its log: {log}" if log else ""
        tail = f"\nlast lines of the daemon's log:\n{log_tail}" if log_tail else ""
        super().__init__(f"{message}{where}{tail}")
        self.log = log
        self.log_tail = log_tail


def demo_config(base: str, *, every: str | None = None, tick: str | None = None) -> str:
    """The demo's veille.toml for a site served at ``base``.

    ``every`` sets the topic's and each source's ``interval`` and ``tick`` the ``[daemon]`` tick
    (the demo's short schedules); without them the defaults apply (the discovery tests).
    """
    languages = ", ".join(f'"{lang}"' for lang in TOPIC_LANGUAGES)
    interval = f'interval = "{every}"\n' if every else ""
    daemon = f'\n[daemon]\ntick = "{tick}"\n' if tick else ""
    return f'''{FIRST_LINE}: the offline demo site at {base}
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
{interval}
[[sources]]
name = "fil-tech"
type = "feed"
url = "{base}/fil-tech/rss.xml"
topic = "{TOPIC}"
{interval}
[[sources]]
name = "solidarity-wire"
type = "feed"
url = "{base}/solidarity/en/feed.atom"
topic = "{TOPIC}"
{interval}
[[sources]]
name = "weekly-dispatch"
type = "feed"
url = "{base}/dispatch/feed.json"
topic = "{TOPIC}"
{interval}
[[sources]]
name = "sitemaps"
type = "sitemap"
url = "{base}/sitemap_index.xml"
topic = "{TOPIC}"
{interval}
[[sources]]
name = "search"
type = "search"
url = "{base}/search?q={{query}}&page={{page}}"
query = "microsoft"
selector = "ol.results li"
max_pages = 3
topic = "{TOPIC}"
{interval}
[[sources]]
name = "related"
type = "links"
topic = "{TOPIC}"
depth = 1
selector = "aside.related"
{interval}{daemon}'''


@dataclass
class DemoResult:
    """What the demo saw, for tests and for the closing lines."""

    folder: Path
    config_path: Path
    database: Path
    base: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # kind, url, summary
    daemon_pid: int | None = None
    daemon_exit: int | None = None
    story_text: str = ""


# --- reading the daemon's database -------------------------------------------------------------


class ReadOnlyDatabase:
    """The daemon's database opened read-only, as Datasette opens it (WAL: no lock on the writer).

    Before the daemon has created or migrated it, queries answer nothing rather than fail.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of ``sql``; none while the database or its tables do not exist yet."""
        if self.conn is None:
            if not self.path.exists():
                return []
            # mode=ro: this process can never write, whatever it runs.
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, timeout=5, isolation_level=None)
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # no such table yet (migrating), or busy
            logger.debug("demo: %s", exc)
            return []

    def value(self, sql: str, params: Sequence[object] = ()) -> Any:
        """The first column of the first row, or None."""
        found = self.rows(sql, params)
        return found[0][0] if found else None

    def close(self) -> None:
        """Close the connection (reopened by the next query)."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- the daemon as a child process -------------------------------------------------------------


class DaemonProcess:
    """``veille --config CONFIG run`` in its own session, its output in ``log``."""

    def __init__(self, config_path: Path, log: Path) -> None:
        self.config_path = config_path
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None

    @property
    def command(self) -> list[str]:
        """The command line (the interpreter running the demo, so the same veille)."""
        return [sys.executable, "-m", "monitor.cli", "--config", str(self.config_path), "run"]

    def start(self) -> int:
        """Start the daemon; return its pid."""
        self._out = self.log.open("wb")
        # Its own session: a Ctrl-C in the terminal reaches the demo only, which then stops
        # the daemon once, with SIGTERM (a second signal would make it exit at once).
        # Not a service, even when the demo runs under one: no notify socket, plain log lines.
        env = {key: value for key, value in os.environ.items() if key not in SERVICE_ENV}
        self.proc = subprocess.Popen(
            self.command, stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
            env=env, start_new_session=True, preexec_fn=_parent_death_signal(),  # noqa: PLW1509
        )
        return self.proc.pid

    def exited(self) -> int | None:
        """The exit code when the daemon has exited, else None."""
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM (once), wait up to ``timeout`` s, then SIGKILL; the exit code (None: never ran)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.error("the daemon did not stop within %gs of SIGTERM: killing it", timeout)
                proc.kill()
                proc.wait()
        if self._out is not None:
            self._out.close()
            self._out = None
        return proc.returncode

    def log_tail(self, lines: int = LOG_TAIL) -> str:
        """The last ``lines`` lines of the daemon's output."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook that makes the kernel send SIGTERM to the child if we die."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def arm() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the demo died before the hook ran
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


# --- the timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Wait until the daemon has recorded ``waiting_for`` (``ready``), then ``then`` happens."""

    waiting_for: str
    ready: Callable[[ReadOnlyDatabase], bool]
    announce: str | None = None
    then: Callable[[], None] | None = None


def _timeline(site: DemoSite) -> list[Step]:
    police, new, french = site.url(FIL_POLICE), site.url(FIL_NEW), site.url(story_path("fr"))

    def baseline(db: ReadOnlyDatabase) -> bool:
        return bool(
            db.value("SELECT COUNT(DISTINCT source) FROM source_runs") == 6
            and (db.value("SELECT COUNT(*) FROM pages") or 0) >= 8
            and db.value("SELECT COUNT(*) FROM pages WHERE state = 'active' "
                         "AND last_checked_at IS NULL") == 0
            and _comments(db, police) == 4
        )

    def edited(db: ReadOnlyDatabase) -> bool:
        return (_count(db, "title", police) >= 1 and _count(db, "comment_new", police) >= 2
                and _count(db, "body", french) >= 1)

    def moderated(db: ReadOnlyDatabase) -> bool:
        return bool(
            _count(db, "comment_edited", police) >= 1
            and _count(db, "comment_deleted", police) >= 1
            and _count(db, "article_new", new) == 1
            and db.value("SELECT current_version FROM pages WHERE url = ?", [new]) is not None
        )

    return [
        Step("the first discovery pass and the first check of every article", baseline,
             "2. the site changes: a headline is rewritten, the French translation alone is "
             "edited\n   (its date does not move), two comments are posted, an article is "
             "published", site.edit),
        Step("the headline edit, the French edit and the two new comments", edited,
             "3. a reader edits a comment, a moderator deletes another", site.moderate),
        Step("the edited and deleted comments, and the new article (next discovery pass)",
             moderated),
    ]


def _count(db: ReadOnlyDatabase, kind: str, url: str) -> int:
    """Changes of ``kind`` on ``url`` in ``change_feed``."""
    sql = "SELECT COUNT(*) FROM change_feed WHERE kind = ? AND url = ?"
    return int(db.value(sql, [kind, url]) or 0)


def _comments(db: ReadOnlyDatabase, url: str) -> int:
    """Comments stored for the page at ``url`` (its first read records them, without changes)."""
    sql = "SELECT COUNT(*) FROM comments JOIN pages ON pages.id = comments.page_id WHERE url = ?"
    return int(db.value(sql, [url]) or 0)


class ChangePrinter:
    """Prints each row of ``change_feed`` once, as the daemon records it."""

    def __init__(self, db: ReadOnlyDatabase, echo: Echo, result: DemoResult) -> None:
        self.db = db
        self.echo = echo
        self.result = result
        self.last_id = 0
        self.started = time.monotonic()

    def stamp(self) -> str:
        """``[ 12.3s]``: seconds since the daemon started."""
        return f"[{time.monotonic() - self.started:5.1f}s]"

    def say(self, text: str) -> None:
        """One line (or more) of the demo's own, stamped."""
        self.echo(f"{self.stamp()} {text}")

    def poll(self) -> None:
        """Print the changes recorded since the last poll."""
        base = self.result.base
        for change_id, kind, url, summary, stealth in self.db.rows(
            "SELECT change_id, kind, url, summary, stealth FROM change_feed WHERE change_id > ? "
            "ORDER BY change_id", [self.last_id],
        ):
            self.last_id = change_id
            self.result.changes.append((kind, url, summary))
            flag = "  [stealth edit]" if stealth else ""
            self.say(f"{kind:<15} {url.removeprefix(base)}{flag}\n"
                     f"{'':9}{(summary or '').replace(base, '')}")


def _wait(step: Step, db: ReadOnlyDatabase, printer: ChangePrinter, daemon: DaemonProcess) -> None:
    """Print changes until ``step`` is ready; raise DemoFailed if the daemon dies or is late."""
    deadline = time.monotonic() + STEP_DEADLINE
    while True:
        printer.poll()
        if step.ready(db):
            return
        code = daemon.exited()
        if code is not None:
            raise DemoFailed(f"the daemon exited with code {code} before recording "
                             f"{step.waiting_for}", log=daemon.log, log_tail=daemon.log_tail())
        if time.monotonic() > deadline:
            raise DemoFailed(f"the daemon did not record {step.waiting_for} within "
                             f"{STEP_DEADLINE:g}s", log=daemon.log, log_tail=daemon.log_tail())
        time.sleep(POLL)


# --- the demo ----------------------------------------------------------------------------------


def prepare_folder(folder: Path | None) -> Path:
    """The demo's folder: a new temporary one, or ``folder`` (an earlier demo's run is replaced)."""
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="veille-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "veille.toml"
    if config.exists():
        if not config.read_text(encoding="utf-8").startswith(FIRST_LINE):
            raise DemoFailed(f"{config} exists and was not written by `veille demo`: choose "
                             "another --dir (the demo never touches your own files)")
        for name in ("veille.db", "veille.db-wal", "veille.db-shm", "daemon.log"):
            (folder / name).unlink(missing_ok=True)
    elif (folder / "veille.db").exists():
        raise DemoFailed(f"{folder / 'veille.db'} exists: choose an empty folder for --dir")
    return folder


def run_demo(folder: Path | None = None, *, echo: Echo = print) -> DemoResult:
    """Run the demo end to end, printing as it goes; raise DemoFailed if the daemon failed.

    Ctrl-C or SIGTERM stops the daemon and the site, then raises KeyboardInterrupt.
    """
    from monitor.config import load_config
    from monitor.discover import DISCOVERY_TICK

    folder = prepare_folder(folder)
    site = DemoSite()
    server = bind(site)  # the address is known; no thread runs before the daemon is forked
    try:
        config_path = folder / "veille.toml"
        config_path.write_text(demo_config(site.base, every=EVERY, tick=TICK), encoding="utf-8")
        database = Path(load_config(config_path).database)
    except BaseException:
        server.server_close()
        raise
    result = DemoResult(folder, config_path, database, site.base)
    daemon = DaemonProcess(config_path, folder / "daemon.log")
    db = ReadOnlyDatabase(database)
    printer = ChangePrinter(db, echo, result)
    echo(f"veille demo: an offline news site at {site.base} (nothing leaves this machine)")
    echo(f"topic {TOPIC!r}: {TOPIC_QUERY}  (languages: {', '.join(TOPIC_LANGUAGES)})")
    echo(f"{config_path}: 6 sources read every {EVERY}, each article checked every {EVERY}; "
         f"the daemon\n  looks for due sources every {DISCOVERY_TICK:g}s and for due pages "
         f"every {TICK}\n")
    previous = _stop_on_sigterm()
    try:
        result.daemon_pid = daemon.start()
        start(server)
        printer.started = time.monotonic()
        printer.say(f"the daemon: veille --config {config_path} run  (pid {result.daemon_pid}, "
                    f"log {daemon.log.name})")
        printer.say("1. it reads 3 feeds, a sitemap index, a search page and related links, "
                    "and checks\n   each article it finds; each change as it is recorded:")
        for step in _timeline(site):
            _wait(step, db, printer, daemon)
            if step.then is not None:
                step.then()
                printer.say(step.announce or "")
        printer.say("stopping the daemon with SIGTERM, as systemd does")
        result.daemon_exit = daemon.stop()
        printer.poll()
        if result.daemon_exit != 0:
            raise DemoFailed(f"the daemon exited with code {result.daemon_exit} after SIGTERM",
                             log=daemon.log, log_tail=daemon.log_tail())
        printer.say("the daemon stopped (exit code 0)")
    except KeyboardInterrupt:
        echo("\ninterrupted: stopping the daemon and the demo site")
        raise
    finally:
        code = daemon.stop()
        if result.daemon_exit is None:
            result.daemon_exit = code
        server.shutdown()
        server.server_close()
        _restore_sigterm(previous)
    try:
        _summary(db, result, echo)
    finally:
        db.close()
    return result


def _stop_on_sigterm() -> Any:
    """SIGTERM to the demo stops it like Ctrl-C (so the daemon is stopped too); the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _summary(db: ReadOnlyDatabase, result: DemoResult, echo: Echo) -> None:
    """What the daemon recorded, the stories, and how to explore it."""
    from sqlite_utils import Database

    from monitor.stories import render_story, stories

    base = result.base
    articles, translations = db.rows(
        "SELECT COUNT(*), COALESCE(SUM(field = 'translation'), 0) FROM discoveries")[0]
    outcomes = dict(db.rows("SELECT outcome, COUNT(*) FROM discovery_seen GROUP BY outcome"))
    runs = db.value("SELECT COUNT(*) FROM source_runs")
    cycles, checked = db.rows("SELECT COUNT(*), COALESCE(SUM(checked), 0) FROM cycles")[0]
    versions = db.value("SELECT COUNT(*) FROM versions")
    kinds = db.rows("SELECT kind, COUNT(*) FROM change_feed GROUP BY kind ORDER BY MIN(change_id)")
    comments, deleted = db.rows(
        "SELECT COUNT(*), COALESCE(SUM(deleted_at IS NOT NULL), 0) FROM comments")[0]
    echo("\nWhat the daemon recorded:")
    echo(f"  articles   {articles} found ({translations} of them translations) in {runs} runs "
         f"of 6 sources;\n             {outcomes.get('off_topic', 0)} off topic, "
         f"{outcomes.get('language', 0)} in another language, "
         f"{outcomes.get('duplicate', 0)} duplicate URLs merged")
    echo(f"  checks     {checked} pages checked in {cycles} cycles; {versions} versions")
    echo("  changes    " + ", ".join(f"{kind} {count}" for kind, count in kinds))
    echo(f"  comments   {comments} seen, {deleted} deleted")
    if db.conn is not None:
        found = stories(Database(db.conn, execute_plugins=False), lag=0.0)
        result.story_text = "\n\n".join(render_story(story) for story in found)
        echo("\nStories (one article in several languages; an edit that did not travel):")
        for line in result.story_text.splitlines():
            echo(f"  {line.replace(base, '')}")
    config = result.config_path
    echo(f"\nEverything is in {result.folder}. Explore it:"
         f"\n  veille --config {config} serve      # browse it all in Datasette"
         f"\n  veille --config {config} history {base}{FIL_POLICE}"
         f"\n  veille --config {config} stories --lag 0s"
         f"\n  sqlite3 {result.database} 'SELECT kind, url, summary FROM change_feed'")


def main(argv: list[str] | None = None) -> None:
    """``python -m monitor.demo [--dir DIR]``."""
    parser = argparse.ArgumentParser(description="veille's offline demo, run by the daemon.")
    parser.add_argument("--dir", type=Path, default=None,
                        help="Keep the demo's config, database and daemon log here "
                             "(default: a new temporary folder).")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        run_demo(args.dir, echo=lambda line: print(line, flush=True))
    except DemoFailed as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
