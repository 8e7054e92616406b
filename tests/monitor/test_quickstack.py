"""Scrapy's deprecated aliases named as with the real ``inspect`` (monitor.quickstack)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from monitor.quickstack import _CallerFrames, callers_without_source
from tests.conftest import ROOT

ALIASES = (
    "scrapy.core.downloader.contextfactory.ScrapyClientContextFactory",
    "scrapy.core.downloader.contextfactory.AcceptableProtocolsContextFactory",
    "scrapy.core.downloader.tls.ScrapyClientTLSOptions",
)


def _aliases_in_fresh_process(prelude: str) -> list[str]:
    """The ``__module__`` of each alias, imported first thing in a new interpreter."""
    code = (
        f"{prelude}\n"
        "from scrapy.utils.misc import load_object\n"
        f"print(' '.join(load_object(p).__module__ for p in {ALIASES!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, capture_output=True, text=True,
        check=True,
    )
    return done.stdout.split()


def test_the_aliases_get_the_module_the_real_inspect_gives() -> None:
    plain = _aliases_in_fresh_process("")
    quick = _aliases_in_fresh_process(
        "from monitor.config import HttpSettings\n"
        "from monitor.crawl import import_crawl_modules, scrapy_settings\n"
        "import_crawl_modules(scrapy_settings(HttpSettings(), ()))\n"
        "import inspect, scrapy.utils.deprecate as d\n"
        "assert d.inspect is inspect, 'the real inspect is put back'\n"
    )
    assert plain == [path.rsplit(".", 1)[0] for path in ALIASES]
    assert quick == plain


def test_the_caller_frame_and_its_module_are_those_of_inspect() -> None:
    def asking() -> tuple[list[inspect.FrameInfo], list[inspect.FrameInfo]]:
        return inspect.stack(), _CallerFrames.stack()

    real, quick = asking()
    assert [info.frame for info in quick] == [info.frame for info in real[:2]]
    assert [(i.filename, i.lineno, i.function) for i in quick] == [
        (i.filename, i.lineno, i.function) for i in real[:2]
    ]
    frame = quick[1].frame
    assert _CallerFrames.getmodule(frame) is inspect.getmodule(frame) is sys.modules[__name__]
    assert _CallerFrames.getmodule(inspect.stack) is inspect  # anything else: the real one
    assert _CallerFrames().isclass(int)  # the rest of inspect is there


def test_inspect_is_put_back_even_when_an_import_fails() -> None:
    from scrapy.utils import deprecate

    with pytest.raises(ImportError), callers_without_source():
        assert deprecate.inspect is not inspect
        raise ImportError("a component that does not exist")
    assert deprecate.inspect is inspect
