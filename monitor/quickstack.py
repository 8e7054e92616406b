"""Scrapy's deprecated class aliases, created without reading the source of the whole stack.

``scrapy.utils.deprecate.create_deprecated_class`` names the module of each alias it creates
from ``inspect.stack()[1]``. That call reads the source lines of every frame on the stack, and
``inspect.getmodule`` then scans every loaded module to map the import machinery's frames to
files: 35 ms of each ``veille check`` start (Scrapy's TLS modules create three such aliases
when the HTTP download handler is imported), for one frame's module name.

:func:`callers_without_source` lends that module, for the imports it wraps, an ``inspect``
whose ``stack`` gives the two frames it reads (without source lines) and whose ``getmodule``
takes a frame's module from the frame itself. The aliases get the same ``__module__`` as with
the real ``inspect``; everything else is the real ``inspect``, which is put back on exit.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType
from typing import Any


class _CallerFrames:
    """``inspect`` as :func:`scrapy.utils.deprecate.create_deprecated_class` uses it, cheaper."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def stack(context: int = 1) -> list[inspect.FrameInfo]:
        """The asking function's frame and its caller's, as ``inspect.stack()[:2]``."""
        asking = sys._getframe(1)
        frames = [asking] if asking.f_back is None else [asking, asking.f_back]
        return [_frame_info(frame) for frame in frames]

    @staticmethod
    def getmodule(obj: object, filename: str | None = None) -> ModuleType | None:
        if isinstance(obj, FrameType):
            module = sys.modules.get(obj.f_globals.get("__name__", ""))
            if module is not None:
                return module
        return inspect.getmodule(obj, filename)


def _frame_info(frame: FrameType) -> inspect.FrameInfo:
    code = frame.f_code
    return inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)


@contextmanager
def callers_without_source() -> Iterator[None]:
    """Within the block, Scrapy's deprecation helper looks up its caller cheaply."""
    try:
        from scrapy.utils import deprecate
    except ImportError:  # no Scrapy: nothing to speed up
        yield
        return
    if getattr(deprecate, "inspect", None) is not inspect:  # a Scrapy that no longer uses it
        yield
        return
    deprecate.inspect = _CallerFrames()  # type: ignore[assignment]
    try:
        yield
    finally:
        deprecate.inspect = inspect  # type: ignore[assignment]
