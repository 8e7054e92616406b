"""Give memory back between cycles, so an idle daemon stays small.

Extraction libraries keep ``functools.lru_cache`` caches of page text (trafilatura caches up to
1,024 strings per helper, some the text of a whole page): about 12 MB after a few hundred pages,
held for nothing while the daemon waits for the next cycle. Clearing them frees the objects, and
``malloc_trim`` hands the freed heap back to the system (without it the process keeps the pages).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
from typing import Final

logger = logging.getLogger(__name__)

CACHED_PACKAGES: Final = ("trafilatura", "htmldate", "courlan", "justext")


def clear_extraction_caches() -> int:
    """Empty the lru caches of the extraction libraries; return how many were cleared."""
    cleared = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.partition(".")[0] not in CACHED_PACKAGES:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and hasattr(value, "cache_info"):
                clear()
                cleared += 1
    return cleared


def _malloc_trim() -> bool:
    """Return free heap memory to the system (glibc only; elsewhere nothing happens)."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return False
    trim(0)
    return True


def release_memory() -> None:
    """Clear the caches, collect garbage, trim the heap. Call with no extraction running."""
    cleared = clear_extraction_caches()
    gc.collect()
    trimmed = _malloc_trim()
    logger.debug("memory released: %d caches cleared, heap trimmed: %s", cleared, trimmed)
