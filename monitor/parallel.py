"""One ``veille check`` over several processes, so a large cycle uses every core.

A check is CPU-bound once pages come quickly (parsing, fingerprints, comments, SQLite), and one
Python process uses one core. :func:`plan_shards` splits the pages of a cycle into shards, one per
process; :func:`run_shards` checks the first shard itself and forks a child for each other one.
Every process runs the ordinary :func:`monitor.check.check_cycle` on its pages with its own
database connection (WAL and ``BEGIN IMMEDIATE`` make concurrent writers safe; results are
written a group per transaction, so the processes seldom wait for each other's lock); each child
relays its outcomes to the parent, which shows progress and adds the summaries up.

Politeness holds across processes: a site's pages stay in one shard, so its per-domain
concurrency and AutoThrottle are those of one crawl. Only when one site holds more than its
share of the pages are its pages spread over the shards, and then every shard gets an equal part
of the per-domain concurrency, so together they never exceed it. Pages that may need Chromium
stay in one shard, so one browser at most is started.

Children are forked after the imports (those of the crawl included) with the garbage collector
kept off the objects they hold, so they share the parent's memory pages until they write to
them; each one ends with ``os._exit`` and never touches the parent's database connection.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.connection import Connection

    from monitor.check import CheckSummary
    from monitor.config import Config
    from monitor.record import Outcome
    from storage.pages import PageRow

logger = logging.getLogger(__name__)

# Below this many pages a second process costs more than it saves (fork, a second crawler).
MIN_PAGES_PER_SHARD = 100


@dataclass(frozen=True)
class Shard:
    """The pages one process checks, and its share of the [http] concurrency."""

    urls: tuple[str, ...]
    concurrent_requests: int
    concurrency_per_domain: int


def shard_count(pages: int, processes: int) -> int:
    """How many processes a cycle of ``pages`` pages uses (``processes`` 0: one per core).

    "Core" means one this process may use (:func:`monitor.cpus.usable_cpus`: affinity and
    cgroup quota), not one of the machine's.
    """
    from monitor.cpus import usable_cpus

    wanted = processes if processes > 0 else usable_cpus()
    return max(1, min(wanted, pages // MIN_PAGES_PER_SHARD))


def plan_shards(
    pages: Sequence[PageRow], config: Config, count: int, browser_ids: set[int] | None = None
) -> list[Shard]:
    """Split ``pages`` into at most ``count`` shards, sites kept whole when they fit.

    ``browser_ids`` are pages that may be rendered in Chromium: they all go to the first shard.
    """
    http = config.http
    if count <= 1 or not pages:
        return [Shard(tuple(p.url for p in pages), http.concurrent_requests,
                      http.concurrency_per_domain)]
    browser_ids = browser_ids or set()
    by_site: dict[str, list[str]] = defaultdict(list)
    pinned: list[str] = []
    for page in pages:
        if page.id in browser_ids:
            pinned.append(page.url)
        else:
            by_site[(urlsplit(page.url).hostname or "").lower()].append(page.url)
    fair = len(pages) / count
    buckets: list[list[str]] = [list(pinned)] + [[] for _ in range(count - 1)]
    split_sites = False
    # Largest sites first, each into the lightest shard; a site bigger than a fair share of the
    # pages (and allowed more than one request at a time) is dealt out over every shard.
    for _site, urls in sorted(by_site.items(), key=lambda item: -len(item[1])):
        if len(urls) > fair and http.concurrency_per_domain >= count:
            split_sites = True
            for index, url in enumerate(urls):
                buckets[index % count].append(url)
            continue
        min(buckets, key=len).extend(urls)
    buckets = [bucket for bucket in buckets if bucket]
    shards = len(buckets)
    per_domain = http.concurrency_per_domain // shards if split_sites else http.concurrency_per_domain
    total = max(1, http.concurrent_requests // shards)
    return [Shard(tuple(bucket), total, max(1, per_domain)) for bucket in buckets]


def run_shards(
    config: Config,
    shards: Sequence[Shard],
    *,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> CheckSummary:
    """Check every shard, the first in this process and each other one in a forked child.

    The caller must have closed its database connection: every shard opens its own. This
    process checks a shard itself rather than wait for children: one process fewer holds
    Scrapy, lxml and their imports (about 60 MB), and its core is not left to a process that
    only waits. The children's outcomes are read on this process's own event loop, between
    its pages, not by a thread (two threads of one process would fight over the GIL).
    """
    from monitor.check import CheckSummary
    from monitor.crawl import freeze_crawl_imports

    started = time.monotonic()
    logger.info(
        "checking %d pages in %d processes", sum(len(s.urls) for s in shards), len(shards)
    )
    # Each forked child then shares the imports with this process: a child that imported its
    # own, or whose collector wrote to every object's header, would copy those pages.
    freeze_crawl_imports(config.http, config.allow_networks)
    context = multiprocessing.get_context("fork")
    children: list[tuple[Any, Connection, Shard]] = []
    for shard in shards[1:]:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_child, args=(config, shard, sender, os.getpid(), on_outcome is not None),
            daemon=True,
        )
        process.start()
        sender.close()
        children.append((process, receiver, shard))
    total = CheckSummary()
    try:
        own = _check_shard(config, shards[0], on_outcome, children=children, into=total)
    except BaseException:  # Ctrl-C or a failure here: no child outlives the check
        for process, _, _ in children:
            if process.is_alive():
                process.terminate()
        raise
    finally:
        for process, receiver, _ in children:
            process.join(timeout=10)
            receiver.close()
    _merge(total, own)
    total.seconds = time.monotonic() - started
    return total


async def _collect(
    children: Sequence[tuple[Any, Connection, Shard]],
    total: CheckSummary,
    on_outcome: Callable[[Outcome], None] | None,
) -> None:
    """Read every child's messages as they come, until all have ended; add up their summaries.

    All pipes are read together: a child whose pipe is full would otherwise wait, its crawl
    stalled, until the children before it had finished.
    """
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()
    summaries: dict[Connection, CheckSummary] = {}
    open_pipes = {receiver for _, receiver, _ in children}

    def readable(receiver: Connection) -> None:
        try:
            while receiver.poll():
                kind, value = receiver.recv()
                if kind == "outcome" and on_outcome is not None:
                    on_outcome(value)
                elif kind == "summary":
                    summaries[receiver] = value
                elif kind == "error":
                    logger.error("a check process failed:\n%s", value)
        except (EOFError, OSError):  # the child is gone (its summary, if any, came before)
            loop.remove_reader(receiver.fileno())
            open_pipes.discard(receiver)
            if not open_pipes and not ended.done():
                ended.set_result(None)

    for receiver in open_pipes:
        loop.add_reader(receiver.fileno(), readable, receiver)
    if open_pipes:
        await ended
    for process, receiver, shard in children:
        await loop.run_in_executor(None, process.join)
        summary = summaries.get(receiver)
        if summary is None:
            _lost(process, shard, total)
        else:
            _merge(total, summary)


def _lost(process: Any, shard: Shard, total: CheckSummary) -> None:
    """A child that ended without its summary: its pages count as failures."""
    from monitor.record import Outcome

    # Whatever the child stored is kept (each page is its own transaction); the pages it did
    # not get to stay due.
    logger.error(
        "a check process ended without a summary (exit code %s); %d pages were not all checked",
        process.exitcode, len(shard.urls),
    )
    total.pages += len(shard.urls)
    error = f"check process ended with exit code {process.exitcode}"
    total.add(Outcome(shard.urls[0], "process_error", error=error))


def _merge(total: CheckSummary, part: CheckSummary) -> None:
    total.pages += part.pages
    total.states.update(part.states)
    total.changes.update(part.changes)
    total.failures.extend(part.failures)
    total.comment_reads.update(part.comment_reads)
    total.comment_changes.update(part.comment_changes)


def _child(
    config: Config, shard: Shard, sender: Connection, parent: int, relay: bool = True
) -> None:
    """A forked check process: one ordinary cycle over the shard's pages, reported by pipe.

    With ``relay`` each page's outcome is sent as it comes (for a progress bar); the summary
    always is.
    """
    code = 0
    try:
        _die_with(parent)
        # The parent handles Ctrl-C and terminates us; a child must not print its own traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        send = (lambda outcome: sender.send(("outcome", outcome))) if relay else None
        summary = _check_shard(config, shard, send)
        sender.send(("summary", summary))
    except BaseException:  # noqa: BLE001 - reported to the parent, which decides
        code = 1
        try:
            sender.send(("error", traceback.format_exc()))
        except OSError:
            pass
    finally:
        sender.close()
        logging.shutdown()
        os._exit(code)  # no atexit handlers or finalisers of the parent's objects


def _die_with(parent: int) -> None:
    """Ask Linux for SIGKILL when the parent dies (a ``kill -9`` of ``veille check`` included)."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's own clean-up still applies
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _check_shard(
    config: Config,
    shard: Shard,
    on_outcome: Callable[[Outcome], None] | None,
    *,
    children: Sequence[tuple[Any, Connection, Shard]] = (),
    into: CheckSummary | None = None,
) -> CheckSummary:
    """One ordinary cycle over ``shard``; meanwhile the ``children``'s summaries go ``into``."""
    from alerts.outbox import outbox_hook
    from monitor.check import check_cycle
    from monitor.crawl import run_in_reactor
    from storage.db import open_database

    http = replace(
        config.http,
        concurrent_requests=shard.concurrent_requests,
        concurrency_per_domain=shard.concurrency_per_domain,
    )
    config = replace(config, http=http)
    # run_check checked the file's integrity when it opened it, just before: once is enough
    # (PRAGMA quick_check reads the whole file).
    db = open_database(config.database, check=False)
    try:
        hooks = [outbox_hook(config.alerts)] if config.alerts else []

        async def main() -> CheckSummary:
            # The processes already fill the cores: no extraction workers of their own.
            own = check_cycle(
                db, config, urls=list(shard.urls), on_outcome=on_outcome, change_hooks=hooks,
                workers=0,
            )
            if not children or into is None:
                return await own
            summary, _ = await asyncio.gather(own, _collect(children, into, on_outcome))
            return summary

        return run_in_reactor(main)
    finally:
        db.close()
