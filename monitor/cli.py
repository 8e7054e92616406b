"""The ``veille`` command line.

Exit codes: 0 ok, 1 some pages failed, 2 usage or config error.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.config import config_path, load_config, url_problem
from monitor.errors import ConfigError, VeilleError
from monitor.lifetime import exit_now, start_up
from storage.db import StorageError

if TYPE_CHECKING:
    import sqlite_utils

    from monitor.config import Config

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it (128 + SIGINT)


class ConfigUsageError(click.UsageError):
    """A config problem: one line, exit code 2, no usage text (the command line was fine)."""

    def show(self, file: Any = None) -> None:
        """Print only the message."""
        click.echo(f"Error: {self.format_message()}", err=True)


def _load(ctx: click.Context) -> Config:
    path = config_path(ctx.obj["config"])
    try:
        return load_config(path)
    except ConfigError as exc:
        raise ConfigUsageError(str(exc)) from None


@contextmanager
def _database(config: Config, *, readonly: bool = False) -> Iterator[sqlite_utils.Database]:
    from storage.db import open_database

    try:
        db = open_database(config.database, readonly=readonly)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield db
    finally:
        db.close()


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    if quiet:
        level = logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Scrapy's own INFO lines (stats, middlewares) are noise at veille's INFO level.
    # Scrapy's own lines (stats, size warnings) repeat what the summary says, unless debugging.
    logging.getLogger("scrapy").setLevel(logging.ERROR if verbose < 2 else level)
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="veille")
@click.option(
    "--config", "config", metavar="PATH", default=None,
    help="Config file (default: $VEILLE_CONFIG, else ./veille.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int, quiet: bool) -> None:
    """veille: watch news articles and keep an exact history of how they change."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    _setup_logging(verbose, quiet)


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, force: bool) -> None:
    """Write a commented starter veille.toml."""
    from monitor.starter import write_starter

    path = config_path(ctx.obj["config"])
    try:
        write_starter(path, force=force)
    except ConfigError as exc:
        raise ConfigUsageError(str(exc)) from None
    click.echo(f"Wrote {path}: add pages with `veille add URL`, then run `veille check`.")


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--topic", "-t", default=None, help="Topic the pages belong to.")
@click.pass_context
def add(ctx: click.Context, urls: tuple[str, ...], topic: str | None) -> None:
    """Watch one or more article URLs (- reads URLs from standard input, one per line)."""
    from storage.pages import add_pages

    config = _load(ctx)
    wanted: list[str] = []
    for value in urls:
        lines = sys.stdin.read().splitlines() if value == "-" else [value]
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            problem = url_problem(line)
            if problem:
                raise click.UsageError(f"{line!r}: {problem}")
            wanted.append(line)
    if topic and config.topics and config.topic(topic) is None:
        names = ", ".join(t.name for t in config.topics)
        raise click.UsageError(f"unknown topic {topic!r}: declare it in [[topics]] (known: {names})")
    with _database(config) as db:
        added, existing = add_pages(db, wanted, topic=topic, now=time.time())
    click.echo(f"{len(added)} added, {len(existing)} already watched.")


@cli.command()
@click.option("--all", "check_all", is_flag=True, help="Check every page, due or not.")
@click.argument("urls", nargs=-1)
@click.pass_context
def check(ctx: click.Context, check_all: bool, urls: tuple[str, ...]) -> None:
    """Run one check cycle of every due page (or of all, or of the URLs given)."""
    with start_up():  # imports and config live as long as the check (monitor.lifetime)
        from monitor.check import run_check

        config = _load(ctx)
    show_bar = sys.stderr.isatty()
    bar: Any = None

    def on_start(total: int) -> None:
        nonlocal bar
        if show_bar and total:
            bar = click.progressbar(length=total, label="checking", file=sys.stderr)
            bar.__enter__()

    def on_outcome(outcome: Any) -> None:
        if bar is not None and outcome.state != "pending_confirm":
            bar.update(1)

    try:
        summary = run_check(
            config, check_all=check_all, urls=list(urls) or None, on_start=on_start,
            on_outcome=on_outcome if show_bar else None,  # only the bar reads them
        )
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        if bar is not None:
            bar.__exit__(None, None, None)
            bar = None
        click.echo(
            "interrupted: the pages checked so far are stored; the others are still due "
            "(`veille check` takes them)", err=True,
        )
        ctx.exit(EXIT_INTERRUPTED)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for failure in summary.failures[:20]:
        click.echo(f"  {failure.state}: {failure.url}" + (f" ({failure.error})" if failure.error else ""), err=True)
    if len(summary.failures) > 20:
        click.echo(f"  … and {len(summary.failures) - 20} more", err=True)
    click.echo(summary.line())
    alerts = summary.alerts
    if alerts is not None and (alerts.busy or alerts.errors):
        for error in alerts.errors[:10]:
            click.echo(f"  alert not delivered: {error}", err=True)
        click.echo(alerts.line())
    failed = summary.failures or (alerts is not None and not alerts.ok)
    # Written, closed and printed: the interpreter's teardown would only free memory.
    exit_now(EXIT_FAILURES if failed else EXIT_OK)


def _page_or_fail(db: sqlite_utils.Database, url: str) -> Any:
    from storage.pages import get_page

    page = get_page(db, url)
    if page is None:
        raise click.UsageError(f"{url} is not watched: add it with `veille add {url}`")
    return page


@cli.command()
@click.argument("url")
@click.pass_context
def history(ctx: click.Context, url: str) -> None:
    """The versions of one page, newest first, with their changes."""
    from storage.versions import changes_of, versions_of

    config = _load(ctx)
    with _database(config) as db:
        page = _page_or_fail(db, url)
        versions = versions_of(db, page.id)
        changes = changes_of(db, page.id)
    if not versions:
        click.echo(f"{url}: no version yet (last check: {page.last_state or 'never'})")
        return
    by_version: dict[int | None, list[dict[str, Any]]] = {}
    for change in changes:
        by_version.setdefault(change["to_version"], []).append(change)  # type: ignore[arg-type]
    for version in reversed(versions):
        click.echo(
            f"#{version.seq}  {version.first_seen} .. {version.last_seen}  "
            f"sha256:{version.hash[:16]}  {version.word_count or 0} words  {version.title}"
        )
        for change in by_version.get(version.id, []):
            stealth = " [stealth]" if change["stealth"] else ""
            click.echo(f"      {change['kind']}{stealth}: {change['summary']}")
    others = [c for c in changes if c["kind"] in ("removed", "restored", "moved")]
    for change in others:
        click.echo(f"{change['detected_at']}  {change['kind']}: {change['summary']}")


@cli.command()
@click.argument("url")
@click.option("--from", "from_seq", type=int, default=None, help="Older version number.")
@click.option("--to", "to_seq", type=int, default=None, help="Newer version number (default: latest).")
@click.option("--color/--no-color", default=None, help="Colour (default: when writing to a terminal).")
@click.pass_context
def diff(
    ctx: click.Context, url: str, from_seq: int | None, to_seq: int | None, color: bool | None
) -> None:
    """Word-level diff between two versions of a page."""
    from monitor.diff import diff_articles, render_terminal
    from monitor.record import article_from_version
    from storage.versions import versions_of

    config = _load(ctx)
    with _database(config) as db:
        page = _page_or_fail(db, url)
        versions = {v.seq: v for v in versions_of(db, page.id)}
    if len(versions) < 2 and from_seq is None:
        raise click.ClickException(f"{url} has {len(versions)} version(s): nothing to compare yet")
    to_seq = to_seq if to_seq is not None else max(versions)
    from_seq = from_seq if from_seq is not None else to_seq - 1
    for seq in (from_seq, to_seq):
        if seq not in versions:
            raise click.UsageError(f"{url} has no version {seq} (versions 1..{max(versions)})")
    old, new = versions[from_seq], versions[to_seq]
    records = diff_articles(article_from_version(old), article_from_version(new))
    use_color = sys.stdout.isatty() if color is None else color
    click.echo(f"{url}: version {from_seq} ({old.first_seen}) → {to_seq} ({new.first_seen})")
    if not records:
        click.echo("no difference in the article")
        return
    click.echo(render_terminal(records, color=use_color), color=use_color)


@cli.command()
@click.argument("urls", nargs=-1)
@click.pass_context
def reextract(ctx: click.Context, urls: tuple[str, ...]) -> None:
    """Rebuild versions and changes from stored snapshots with the current extractor."""
    from monitor.reextract import reextract_page
    from storage.pages import all_pages

    config = _load(ctx)
    settings = {p.url: p for p in config.pages}
    with _database(config) as db:
        pages = [_page_or_fail(db, u) for u in urls] if urls else all_pages(db)
        for page in pages:
            cfg = settings.get(page.url)
            result = reextract_page(
                db, page, selector=cfg.selector if cfg else None,
                ignore=tuple(cfg.ignore) if cfg else (),
            )
            click.echo(
                f"{result.url}: {result.versions_before} → {result.versions_after} versions, "
                f"{result.changes_after} changes"
            )


# --- commands: daemon (run, status) ----------------------------------------------------------


@cli.command()
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
    help="Readable lines, or one JSON object per line for log shippers.",
)
@click.pass_context
def run(ctx: click.Context, log_format: str) -> None:
    """Run the daemon: check every page when it is due, until SIGTERM (SIGHUP reloads the config)."""
    with start_up():  # imports and config live as long as the daemon (monitor.lifetime)
        from monitor.daemon import run_daemon
        from monitor.logs import setup_daemon_logging

        parent = ctx.parent.params if ctx.parent else {}
        verbose, quiet = parent.get("verbose", 0), parent.get("quiet", False)
        level = logging.DEBUG if verbose >= 2 else logging.WARNING if quiet else logging.INFO
        setup_daemon_logging(level, log_format)
        config = _load(ctx)
    try:
        code = run_daemon(config)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.exit(code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the daemon's state (pages, due, last cycle, errors); exit 1 when unhealthy."""
    import json

    from monitor.status import as_json as report_json
    from monitor.status import gather, render

    config = _load(ctx)
    now = time.time()
    with _database(config, readonly=True) as db:
        report = gather(db, config, now)
    if as_json:
        click.echo(json.dumps(report_json(report), indent=2, default=str))
    else:
        click.echo(render(report, now))
    if not report.healthy:
        ctx.exit(EXIT_FAILURES)


# --- commands: datasette (serve) --------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback prints a warning.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port (0 picks a free one).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Browse the history in Datasette, read-only (VEILLE_SERVE_PASSWORD: require a password)."""
    from monitor.serve import serve as run_serve

    config = _load(ctx)
    try:
        run_serve(config.database, host, port)
    except VeilleError as exc:
        raise click.ClickException(str(exc)) from None


# --- commands: alerts (test-alert) -----------------------------------------------------------


@cli.command("test-alert")
@click.argument("route", required=False)
@click.pass_context
def test_alert(ctx: click.Context, route: str | None) -> None:
    """Send a test message through one alert route (default: all) and say whether it got through."""
    from alerts.deliver import send_test

    config = _load(ctx)
    if not config.alerts:
        raise ConfigUsageError(
            f"{config.path}: no [[alerts]] route to test: add one (see `veille init`)"
        )
    routes = [r for r in config.alerts if route is None or r.name == route]
    if not routes:
        names = ", ".join(r.name for r in config.alerts)
        raise click.UsageError(f"no alert route named {route!r} (routes: {names})")
    failed = 0
    for one in routes:
        for outcome in send_test(one):
            if outcome.ok:
                click.echo(f"route {one.name!r}: delivered to {outcome.service}")
            else:
                failed += 1
                click.echo(f"route {one.name!r}: NOT delivered: {outcome.error}", err=True)
    if failed:
        ctx.exit(EXIT_FAILURES)


# --- commands: discovery (discover, demo) ----------------------------------------------------


@cli.command()
@click.option(
    "--source", "-s", "sources", multiple=True, metavar="NAME",
    help="Read only this [[sources]] entry (repeat for several).",
)
@click.pass_context
def discover(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """Read the [[sources]] once; watch the articles on topic and print why each entered."""
    from monitor.discover import Added, run_discover

    config = _load(ctx)
    if not config.sources:
        raise ConfigUsageError(
            f"{config.path}: no [[sources]] to read: add a feed, sitemap, search page or "
            "links source (see examples/veille.toml)"
        )

    def on_added(item: Added) -> None:
        if item.translation_of:
            click.echo(f"+ {item.url}  [{item.language}] translation of {item.translation_of}")
            return
        terms = ", ".join(item.terms) or "(no query)"
        click.echo(
            f"+ {item.url}  [{item.language or '?'}] {item.title or ''}\n"
            f"    topic {item.topic}, source {item.source}: {terms} in the {item.field}"
        )

    try:
        report = run_discover(config, list(sources) or None, on_added=on_added)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    for source_report in report.sources:
        click.echo(f"  {source_report.line()}")
        for note in source_report.run.notes:
            click.echo(f"    limit: {note}")
    for error in report.errors:
        click.echo(f"  error: {error}", err=True)
    click.echo(report.line())
    if report.errors:
        ctx.exit(EXIT_FAILURES)


@cli.command()
@click.option("--lag", default="12h", show_default=True,
              help="How long a translation may take before an edit it lacks is noted.")
@click.option("--topic", "-t", default=None, help="Only the stories of this topic.")
@click.pass_context
def stories(ctx: click.Context, lag: str, topic: str | None) -> None:
    """Language versions watched as one story, and edits that did not reach every language."""
    from monitor.config import parse_duration
    from monitor.stories import render_story
    from monitor.stories import stories as find_stories

    try:
        seconds = parse_duration(lag)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--lag") from None
    config = _load(ctx)
    with _database(config, readonly=True) as db:
        found = find_stories(db, lag=seconds, topic=topic)
    if not found:
        click.echo("no story yet: no two watched pages are translations of each other")
        return
    click.echo("\n\n".join(render_story(story) for story in found))


@cli.command()
@click.option(
    "--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Keep the demo's config, database and daemon log here (default: a new temporary "
    "folder).",
)
def demo(folder: Path | None) -> None:
    """Watch an offline news site with the daemon: discovery, edits, comments (no internet)."""
    from monitor.demo import DemoFailed, run_demo

    try:
        run_demo(folder, echo=click.echo)
    except DemoFailed as exc:
        raise click.ClickException(str(exc)) from exc


def main() -> None:
    """Console entry point: errors become one line and the documented exit code."""
    try:
        cli(standalone_mode=True)
    except VeilleError as exc:  # pragma: no cover - commands convert their own errors
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURES)


if __name__ == "__main__":
    main()
