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
from storage.db import StorageError

if TYPE_CHECKING:
    import sqlite_utils

    from monitor.config import Config

logger = logging.getLogger(__name__)

EXIT_FAILURES = 1
EXIT_USAGE = 2


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
            on_outcome=on_outcome,
        )
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    for failure in summary.failures[:20]:
        click.echo(f"  {failure.state}: {failure.url}" + (f" ({failure.error})" if failure.error else ""), err=True)
    if len(summary.failures) > 20:
        click.echo(f"  … and {len(summary.failures) - 20} more", err=True)
    click.echo(summary.line())
    if summary.failures:
        ctx.exit(EXIT_FAILURES)


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


# --- commands: datasette (serve) --------------------------------------------------------------


def main() -> None:
    """Console entry point: errors become one line and the documented exit code."""
    try:
        cli(standalone_mode=True)
    except VeilleError as exc:  # pragma: no cover - commands convert their own errors
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURES)


if __name__ == "__main__":
    main()
