"""The comment settings of ``[[pages]]``: what they accept, what they refuse, the plan they make."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import DEFAULT_COMMENT_BUDGET, load_config
from monitor.errors import ConfigError
from monitor.record_comments import plan_for
from spiders.comments.items import CommentSelectors

URL = "https://blog.example.org/2020/06/article"


def load(tmp_path: Path, page: str) -> object:
    path = tmp_path / "veille.toml"
    path.write_text(f'[[pages]]\nurl = "{URL}"\n{page}\n', encoding="utf-8")
    (cfg,) = load_config(path).pages
    return cfg


def test_defaults(tmp_path: Path) -> None:
    cfg = load(tmp_path, "")
    assert cfg.comments == ("auto",) and cfg.comment_selectors is None  # type: ignore[attr-defined]
    assert cfg.comment_budget == DEFAULT_COMMENT_BUDGET == 50  # type: ignore[attr-defined]
    plan = plan_for(URL, cfg)  # type: ignore[arg-type]
    assert plan.mode == "auto" and plan.sources == () and plan.max_requests == 50


def test_explicit_sources_and_selectors(tmp_path: Path) -> None:
    cfg = load(tmp_path, """
comments = ["inline", "discourse:https://forum.example.org/t/un-sujet/123",
            "wordpress:4", "wordpress:https://blog.example.org/?p=9", "disqus"]
comment_budget = 7
[pages.comment_selectors]
container = "#comments"
item = "div.comment"
id = "data-comment-id"
author = ".author"
date = "time"
text = ".body"
parent = "data-parent"
permalink = "a.permalink"
""")
    assert cfg.comment_selectors == CommentSelectors(  # type: ignore[attr-defined]
        item="div.comment", container="#comments", id="data-comment-id", author=".author",
        date="time", text=".body", parent="data-parent", permalink="a.permalink",
    )
    plan = plan_for(URL, cfg)  # type: ignore[arg-type]
    assert plan.mode == "explicit" and plan.kinds == ("inline", "disqus") and plan.max_requests == 7
    assert [(s.kind, s.url, s.origin) for s in plan.sources] == [
        ("discourse", "https://forum.example.org/t/123", "config"),
        ("wordpress", "https://blog.example.org/wp-json/wp/v2/comments?post=4", "config"),
        ("wordpress", "https://blog.example.org/wp-json/wp/v2/comments?post=9", "config"),
    ]
    assert plan_for(URL, load(tmp_path, 'comments = "none"')).mode == "none"  # type: ignore[arg-type]


@pytest.mark.parametrize("page, key, words", [
    ('comments = "sometimes"', "pages[0].comments", "unknown comments setting"),
    ("comments = []", "pages[0].comments", "empty list"),
    ('comments = ["inlin"]', "pages[0].comments[0]", "did you mean 'inline'"),
    ('comments = ["disqus:https://x.example/"]', "pages[0].comments[0]", "takes no address"),
    ('comments = ["discourse:https://forum.example.org/latest"]', "pages[0].comments[0]",
     "not a Discourse topic URL"),
    ('comments = ["wordpress:ftp://x"]', "pages[0].comments[0]", "http(s) URL"),
    ("comment_budget = 0", "pages[0].comment_budget", "at least 1"),
    ('[pages.comment_selectors]\nauthor = ".a"', "pages[0].comment_selectors.item", "missing"),
    ('[pages.comment_selectors]\nitem = "div..x"', "pages[0].comment_selectors.item", "CSS"),
    ('[pages.comment_selectors]\nitem = "li"\nid = "data id"', "pages[0].comment_selectors.id",
     "attribute"),
    ('[pages.comment_selectors]\nitem = "li"\nautor = ".a"', "pages[0].comment_selectors.autor",
     "did you mean `author`"),
])
def test_mistakes_name_the_key_and_the_fix(tmp_path: Path, page: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, page)
    assert info.value.key == key
    assert words in str(info.value)
