"""Helpers of the alert tests: configs with alert routes, pages that change, rows to read."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from tests.servers import newssite

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite


def toml_route(name: str, urls: list[str], **keys: Any) -> str:
    """One ``[[alerts]]`` entry in TOML."""
    lines = ["[[alerts]]", f'name = "{name}"', "urls = [" + ", ".join(f"'{u}'" for u in urls) + "]"]
    for key, value in keys.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n\n"


def configure(veille: Veille, *routes: str, settings: str = 'retry_delay = "0s"\n') -> None:
    """The test config plus alert routes, readable by its owner only."""
    veille.write_config(extra=f"[alerts_settings]\n{settings}\n" + "".join(routes))
    veille.config.chmod(0o600)


def publish(site: LocalSite, specs: list[newssite.ArticleSpec], noise_seed: int) -> None:
    """Serve ``specs`` on ``site``."""
    for spec in specs:
        site.set(spec.path, newssite.render(spec, noise_seed=noise_seed, base_url=site.base_url))


def watch(site: LocalSite, veille: Veille, count: int, seed: int) -> list[newssite.ArticleSpec]:
    """``count`` articles served, added and checked once (their first versions, no change)."""
    specs = newssite.make_site(count, seed=seed)
    publish(site, specs, noise_seed=1)
    veille.run("add", *(site.url(s.path) for s in specs), check=0)
    veille.run("check", check=0)
    return specs


def edit(spec: newssite.ArticleSpec, kind: str, seed: int = 1) -> newssite.ArticleSpec:
    """``spec`` with one edit of ``kind`` (see newssite.EDIT_KINDS)."""
    return newssite.mutate(spec, kind, random.Random(seed))


def outbox(veille: Veille) -> list[dict[str, Any]]:
    """Every alert row, oldest first."""
    return [dict(row) for row in veille.db().query("SELECT * FROM alert_outbox ORDER BY id")]


def feed(veille: Veille) -> list[dict[str, Any]]:
    """Every change_feed row, oldest first."""
    return [dict(row) for row in veille.db().query("SELECT * FROM change_feed ORDER BY change_id")]


Comment = tuple[str, str, str]  # author, ISO time, text


def with_comments(page: str, comments: list[Comment]) -> str:
    """``page`` with its reader comments replaced by exactly ``comments``: a thread read in full."""
    start = page.index('<section id="comments"')
    end = page.index("</section>", start) + len("</section>")
    label = "Commentaires" if "<h2>Commentaires (" in page[start:end] else "Comments"
    items = "".join(
        f'<li class="comment" id="comment-{n}"><span class="comment-author">{author}</span> '
        f'<time class="comment-date" datetime="{when}">{when[:10]}</time>'
        f'<p class="comment-text">{text}</p></li>\n'
        for n, (author, when, text) in enumerate(comments, start=1)
    )
    section = (
        f'<section id="comments" class="comments"><h2>{label} ({len(comments)})</h2><ol>\n'
        f"{items}</ol></section>"
    )
    return page[:start] + section + page[end:]
