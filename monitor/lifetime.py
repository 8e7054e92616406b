"""The two ends of a one-shot process: a start-up the garbage collector stays out of, a quick exit.

A check's start-up (imports, the config, the crawl's own modules) creates about 120,000 objects
that live as long as the process. While they are being created the collector walks them again
and again: about 30 ms of a 200-page check's 0.45 s, one full collection among them, all before
the first request. In a check split over processes, a forked child whose collector writes to
those objects' headers also copies the memory pages they sit on. The gc module's documentation
gives the remedy for processes that fork: disable the collector early, freeze before the fork,
enable it again. The little an import leaves unreachable (about 1,600 objects, 0.3 MB) is
frozen with the rest.

At the other end, the interpreter's own teardown frees those objects one by one and clears
every module: about 12 ms after a check has written, closed and printed everything. A one-shot
check ends without it (:func:`exit_now`).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn


@contextmanager
def start_up() -> Iterator[None]:
    """Run the block with the collector off, then freeze every object so far and turn it on.

    Frozen objects are never collected again: use it only around what lives as long as the
    process (imports, loading the config), not around work that makes garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` once logs and output are flushed, skipping the teardown.

    Nothing runs after it: no ``finally`` block, atexit hook or thread join. Call it only when
    the work is written and its files, databases, browsers and children are closed.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or file: nothing more can reach it
            pass
    os._exit(code)
