"""Fixtures of the discovery tests: the demo news site mounted on the tests' local server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from monitor.demo import demo_config
from monitor.demo_site import DemoSite

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite


@pytest.fixture
def news(site: LocalSite) -> DemoSite:
    """The bundled demo site (feeds, sitemaps, search, articles) served by ``site``.

    Routes a test sets on ``site`` win over it; ``site.hits(path)`` counts its requests.
    """
    demo = DemoSite(site.base_url)
    site.handle("/", demo.write, prefix=True)
    return demo


@pytest.fixture
def newsroom(news: DemoSite, veille: Veille) -> Veille:
    """A veille config with the demo's topic and six sources, pointing at ``news``."""
    veille.config.write_text(demo_config(news.base), encoding="utf-8")
    return veille
