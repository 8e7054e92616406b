"""The generated news site as a stand-alone server, for benchmarks (run it in its own process).

``python -m tests.servers.benchsite --pages 1000 --seed 1`` prints ``PORT <n>`` once round 1 is
served, then serves until killed. Rounds follow :func:`tests.servers.newssite.plan_round`:

- round 1: ``make_site(pages, seed)``, noise seed 1;
- round 2: a tenth of the pages get one true edit, every page gets new noise (seed 2);
- round k > 2: the articles of round 2, new noise (seed k): nothing truly changed.

Control routes (plain GETs, answered once the change is in place):

- ``/__round/<k>``: serve round ``k``; answers ``{"round": k, "pages": n}``;
- ``/__conditional/on`` or ``/off``: send validators (ETag, Last-Modified) and answer 304, or not;
- ``/__truth/<k>``: the ground truth of round ``k`` as JSON ``{path: kind}`` (empty but for k=2);
- ``/__stats``: how many responses of each status the pages got (``/__stats/reset`` zeroes it);
- ``/__urls``: every page URL, one per line.

Rounds are rendered once and kept, so switching back and forth is quick. A page switched back
gets a fresh ``Last-Modified`` but its old ``ETag`` (see ``LocalSite.set``).

Pages are gzipped for clients that accept it, as real news sites do (``--no-gzip`` to turn it off).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import signal
import sys
import threading
from typing import TYPE_CHECKING

from tests.servers.http import LocalSite
from tests.servers.newssite import ArticleSpec, make_site, plan_round, render

if TYPE_CHECKING:
    from tests.servers.http import SiteHandler

logger = logging.getLogger(__name__)


class BenchSite:
    """The rounds of one generated site, switched by control routes."""

    def __init__(self, site: LocalSite, pages: int, seed: int, edit_share: float) -> None:
        self.site = site
        self.round1 = make_site(pages, seed)
        self.round2, truth = plan_round(self.round1, random.Random(seed + 1), edit_share=edit_share)
        by_slug = {spec.slug: spec for spec in self.round1}
        self.truth = {by_slug[slug].path: kind for slug, kind in truth.items()}
        self.current = 0
        self._rounds: dict[int, tuple[dict[str, bytes], dict[str, bytes]]] = {}
        self._lock = threading.Lock()

    def specs(self, number: int) -> list[ArticleSpec]:
        """The articles of round ``number``."""
        return self.round1 if number == 1 else self.round2

    def switch(self, number: int) -> None:
        """Render and serve round ``number`` (all pages at once)."""
        with self._lock:
            if number == self.current:
                return
            if number not in self._rounds:  # render and compress a round once, reuse it after
                base = self.site.base_url
                bodies = {
                    spec.path: render(spec, noise_seed=number, base_url=base).encode("utf-8")
                    for spec in self.specs(number)
                }
                packed = {p: gzip.compress(b, 6, mtime=0) for p, b in bodies.items()}
                self._rounds[number] = (bodies, packed if self.site.compress else {})
            bodies, packed = self._rounds[number]
            self.site.set_many(bodies, gzipped=packed)
            self.current = number
            logger.info("serving round %d (%d pages)", number, len(bodies))

    def control(self, h: SiteHandler) -> None:
        """Answer a ``/__…`` control route."""
        parts = h.path.split("?")[0].strip("/").split("/")
        answer: object
        if parts[0] == "__round" and len(parts) == 2 and parts[1].isdigit():
            self.switch(int(parts[1]))
            answer = {"round": self.current, "pages": len(self.round1)}
        elif parts[0] == "__conditional" and len(parts) == 2 and parts[1] in {"on", "off"}:
            self.site.conditional = parts[1] == "on"
            answer = {"conditional": self.site.conditional}
        elif parts[0] == "__truth" and len(parts) == 2 and parts[1].isdigit():
            answer = self.truth if parts[1] == "2" else {}
        elif parts[0] == "__stats":
            answer = {str(k): v for k, v in sorted(self.site.served.items())}
            if parts[1:] == ["reset"]:
                self.site.served.clear()
        elif parts[0] == "__urls":
            answer = None
        else:
            h.send_error(404, "unknown control route")
            return
        if answer is None:
            body = "".join(self.site.url(spec.path) + "\n" for spec in self.round1).encode()
            content_type = "text/plain; charset=utf-8"
        else:
            body = json.dumps(answer).encode()
            content_type = "application/json"
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    """Serve the site until SIGTERM or SIGINT, or until the parent process is gone."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edit-share", type=float, default=0.1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-gzip", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="benchsite: %(message)s", stream=sys.stderr)

    site = LocalSite(port=args.port, record=False, compress=not args.no_gzip, faults=False)
    bench = BenchSite(site, args.pages, args.seed, args.edit_share)
    site.handle("/__", bench.control, prefix=True)
    bench.switch(1)
    site.conditional = False
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    with site:
        print(f"PORT {site.port}", flush=True)
        # Also stop when the benchmark that started us dies without stopping us (SIGKILL).
        while not stop.wait(1.0) and os.getppid() == parent:
            pass


if __name__ == "__main__":
    main()
