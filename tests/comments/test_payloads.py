"""Every comment payload of the shared corpus, parsed by veille's readers (read in place).

``shared/corpus/comments/`` (see its SOURCE.md): real Discourse answers (a topic JSON with its
446-post stream, ``posts.json`` pages, the forum's latest posts, RSS), WordPress core's own REST
comment answers, a real Disqus export; and the saved pages of ``readability/`` and
``trafilatura/`` that ``html-pages.md`` lists with comment markup.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree
from scrapy.http import Request, TextResponse

from spiders.comments import discourse, disqus, wordpress
from spiders.comments.count import shown_count
from spiders.comments.identity import html_text
from spiders.comments.inline import read_inline
from spiders.comments.items import CommentsResult, SourceState
from spiders.comments.readers import json_body
from spiders.decode import decode_html
from spiders.extract import parse_html

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
COMMENTS = CORPUS / "comments"
DISCOURSE = COMMENTS / "discourse"
FORUM = "https://discuss.criticalfallibilism.com"


def response(url: str, body: bytes, status: int = 200, content_type: str = "application/json") -> TextResponse:
    return TextResponse(url, status=status, body=body, headers={"Content-Type": content_type},
                        request=Request(url), encoding="utf-8")


def tree_of(path: Path, url: str = "https://example.org/article") -> object:
    text, _ = decode_html(path.read_bytes(), None)
    return parse_html(text, url)


# --- Discourse --------------------------------------------------------------------------------


def topic_reader(max_requests: int = 50, state: SourceState | None = None) -> discourse.DiscourseRead:
    source = discourse.topic_source(f"{FORUM}/t/comments-on-the-boyfriends-introduction-to-feminism/2108")
    assert source is not None
    return discourse.DiscourseRead(
        page_id=1, page_url="https://curi.us/2599", source=source, max_requests=max_requests,
        state=state,
    )


def test_discourse_topic_json_gives_the_whole_stream_and_asks_for_the_rest() -> None:
    data = (DISCOURSE / "t_2108_post_452.json").read_bytes()
    reader = topic_reader()
    first = reader.start()
    assert first.url == f"{FORUM}/t/comments-on-the-boyfriends-introduction-to-feminism/2108.json"
    out = list(reader.on_topic(response(first.url, data)))
    (ask,) = out
    assert isinstance(ask, Request) and "/t/2108/posts.json?" in ask.url
    stream = json.loads(data)["post_stream"]["stream"]
    asked = [int(i) for i in re.findall(r"post_ids%5B%5D=(\d+)", ask.url)]
    # The opening post (the article) is not asked for; the 20 posts included are not re-asked.
    included = {p["id"] for p in json.loads(data)["post_stream"]["posts"]}
    assert asked == [i for i in stream[1:] if i not in included][:20]
    assert len(reader.comments) == 20 and all(c.text for c in reader.comments.values())


def test_discourse_posts_pages_and_budget_make_a_partial_read_with_the_full_list() -> None:
    topic = json.loads((DISCOURSE / "t_2108_post_452.json").read_bytes())
    reader = topic_reader(max_requests=4)
    reader.start()  # the topic request counts against the budget too
    list(reader.on_topic(response(f"{FORUM}/t/2108.json", json.dumps(topic).encode())))
    results: list[CommentsResult] = []
    for name in ("t_2108_posts.json", "t_2108_posts_pn_41.json", "t_2108_posts_pn_81.json"):
        body = (DISCOURSE / name).read_bytes()
        asked = [p["id"] for p in json.loads(body)["post_stream"]["posts"]]
        out = list(reader.on_posts(response(f"{FORUM}/t/2108/posts.json", body), asked=asked))
        results += [o for o in out if isinstance(o, CommentsResult)]
    (result,) = results  # the budget of 4 requests is spent: the result comes out
    assert result.state == "partial" and result.complete  # the stream lists every post
    assert "budget" in (result.error or "")
    stream = topic["post_stream"]["stream"]
    assert result.listed == frozenset(str(i) for i in stream[1:])  # 445: all but the opening
    numbers = {c.key for c in result.comments}
    assert len(numbers) == 20 + 19 + 20 + 20  # 433-452, 2-20, 21-40, 61-80 (post 1 left out)
    by_key = {c.key: c for c in result.comments}
    for comment in result.comments:
        assert comment.author and comment.text and comment.posted_at and comment.posted_at.endswith("Z")
        assert comment.permalink and comment.permalink.startswith(f"{FORUM}/t/")
        assert comment.parent_key is None or comment.parent_key in by_key
    assert any(c.parent_key for c in result.comments)
    assert result.high_water is not None and result.cursor is None


@pytest.mark.parametrize("name", sorted(p.name for p in DISCOURSE.glob("t_*_posts*.json")))
def test_discourse_posts_json_pages_parse(name: str) -> None:
    body = (DISCOURSE / name).read_bytes()
    data, error = json_body(response(f"{FORUM}/x", body))
    assert error is None
    posts = data["post_stream"]["posts"]
    reader = topic_reader()
    got = reader.take(posts)
    assert got == {p["id"] for p in posts}
    expected = [p for p in posts if p["post_number"] != 1 and not p.get("deleted_at")]
    assert len(reader.comments) == len(expected)
    for post in expected:
        comment = reader.comments[str(post["id"])]
        assert comment.author == post["username"]
        assert comment.text == html_text(post["cooked"], discourse.CAPTIONS) and comment.text


def test_discourse_latest_posts_json_parses() -> None:
    data = json.loads((DISCOURSE / "posts.json").read_bytes())["latest_posts"]
    reader = topic_reader()
    reader.take(data)
    assert len(reader.comments) == sum(1 for p in data if p["post_number"] != 1)
    assert all(c.text and c.author for c in reader.comments.values())


@pytest.mark.parametrize("rss, topic_json", [("t_2108.rss", "t_2108_post_452.json")])
def test_discourse_rss_and_json_give_the_same_text(rss: str, topic_json: str) -> None:
    """The forum's RSS of the topic and its JSON agree on every post they share."""
    items = etree.parse(str(DISCOURSE / rss), etree.XMLParser(resolve_entities=False)).findall(".//item")
    posts = {p["post_number"]: p for p in json.loads((DISCOURSE / topic_json).read_bytes())["post_stream"]["posts"]}
    shared = 0
    for item in items:
        number = int(item.findtext("link").rsplit("/", 1)[1])
        if number not in posts or "onebox" in posts[number]["cooked"]:
            continue  # a link preview (onebox): the RSS renders it otherwise
        rss_text = html_text(item.findtext("description")).removesuffix("Read full topic").rstrip()
        reader = topic_reader()
        reader.take([posts[number]])
        assert rss_text == reader.comments[str(posts[number]["id"])].text
        assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == posts[number]["username"]
        shared += 1
    assert shared == 14  # of the 20 posts both hold, 6 carry a link preview


@pytest.mark.parametrize("rss", ["posts.rss", "t_2108.rss", "t_2144.rss"])
def test_discourse_rss_files_parse(rss: str) -> None:
    items = etree.parse(str(DISCOURSE / rss), etree.XMLParser(resolve_entities=False)).findall(".//item")
    assert len(items) >= 25
    assert all(html_text(item.findtext("description") or "") for item in items)


def test_discourse_topic_links_are_recognised() -> None:
    for url, topic in [
        (f"{FORUM}/t/comments-on-the-boyfriends-introduction-to-feminism/2108", "2108"),
        (f"{FORUM}/t/2108/452", "2108"),
        (f"{FORUM}/t/x/2144.rss", None),
        ("https://forum.example.org/community/t/slug/7/3", "7"),
    ]:
        source = discourse.topic_source(url)
        assert (source.get("topic") if source else None) == topic, url


# --- WordPress --------------------------------------------------------------------------------


def test_wordpress_rest_collection_and_model_parse() -> None:
    collection = json.loads((COMMENTS / "wordpress-rest" / "CommentsCollection.json").read_bytes())
    model = json.loads((COMMENTS / "wordpress-rest" / "CommentModel.json").read_bytes())
    for item in [*collection, model]:
        comment = wordpress.comment_from_api(item)
        assert comment is not None
        assert comment.key == str(item["id"]) == comment.system_id
        assert comment.author == item["author_name"]
        assert comment.text == "This is a comment"
        assert comment.posted_at == "2017-02-14T00:00:00Z"  # date_gmt is UTC
        assert comment.parent_key is None and comment.permalink == item["link"]


def test_wordpress_collection_url_from_the_corpus_links() -> None:
    """The corpus answer's own links use plain permalinks (``?rest_route=``)."""
    (item,) = json.loads((COMMENTS / "wordpress-rest" / "CommentsCollection.json").read_bytes())
    root = item["_links"]["collection"][0]["href"].split("rest_route=")[0] + "rest_route=/"
    source = wordpress.collection_source(root, str(item["post"]))
    assert source.url == "http://example.org/index.php?rest_route=/wp/v2/comments&post=4"
    assert wordpress.collection_source("https://b.example/wp-json/", "4").url == (
        "https://b.example/wp-json/wp/v2/comments?post=4"
    )


# --- Disqus -----------------------------------------------------------------------------------


def test_disqus_export_parses() -> None:
    data = (COMMENTS / "disqus" / "evanlin_20210517.xml").read_bytes()
    threads = disqus.parse_export(data)
    posts = re.findall(rb"<post dsq:id=\"(\d+)\">(.*?)</post>", data, re.DOTALL)
    kept = [pid for pid, body in posts if b"<isDeleted>true" not in body and b"<isSpam>true" not in body]
    assert len(posts) == 189
    assert sum(len(c) for c in threads.values()) == len(kept)
    keys = {c.key for comments in threads.values() for c in comments}
    assert keys == {pid.decode() for pid in kept}
    replies = [c for comments in threads.values() for c in comments if c.parent_key]
    assert replies and all(c.text and c.posted_at for comments in threads.values() for c in comments)
    assert all(link.startswith("http") for link in threads)


def test_disqus_export_never_resolves_entities(tmp_path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        b'<post dsq:id="1"><message>&x;</message><isDeleted>false</isDeleted>'
        b'<isSpam>false</isSpam><thread dsq:id="2"/></post></disqus>'
    )
    (comments,) = disqus.parse_export(bomb).values()
    assert "root:" not in comments[0].text


@pytest.mark.parametrize("page, shortname", [
    ("breitbart", "breitbartproduction"), ("ehow-2", "ehow"), ("quanta-1", "quanta-mag"),
    ("citylab-1", ""), ("tmz-1", ""),
])
def test_disqus_embeds_in_saved_pages_are_detected(page: str, shortname: str) -> None:
    path = CORPUS / "readability" / page / "source.html"
    (source,) = disqus.detect(tree_of(path), "https://example.org/article", path.read_bytes())
    assert source.kind == "disqus" and source.get("shortname") == shortname


# --- inline markup of saved pages -------------------------------------------------------------


def _html_pages() -> list[tuple[str, str, int]]:
    rows = []
    for line in (COMMENTS / "html-pages.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0] in ("readability", "trafilatura"):
            match = re.search(r"li\.comment=(\d+)", cells[3])
            rows.append((cells[0], cells[1], int(match.group(1)) if match else 0))
    return rows


HTML_PAGES = _html_pages()
# Real threads rendered server-side (html-pages.md: >= 5 li.comment) that are not WordPress-like.
NOT_WORDPRESS_MARKUP = {"tomshardware.com.rtx.html", "interscenar.io.hoeren.html"}
# Where the li.comment count of html-pages.md is not the thread (li.comment-reply buttons).
THREAD_SIZE = {"aclu": 10}


def _page_path(corpus: str, page: str) -> Path:
    return CORPUS / corpus / ("html" if corpus == "trafilatura" else page) / (
        page if corpus == "trafilatura" else "source.html"
    )


def test_html_pages_list_is_read() -> None:
    assert len(HTML_PAGES) >= 50


@pytest.mark.parametrize("corpus, page, li_count", [r for r in HTML_PAGES if r[2] >= 5])
def test_inline_comments_of_saved_threads(corpus: str, page: str, li_count: int) -> None:
    url = "https://example.org/article"
    tree = tree_of(_page_path(corpus, page), url)
    found = read_inline(tree, url)
    if page in NOT_WORDPRESS_MARKUP:
        assert found is None  # a forum teaser list: needs [pages.comment_selectors]
        return
    assert found is not None and found.method == "wordpress"
    comments = found.comments
    expected = THREAD_SIZE.get(page, li_count)
    assert expected - 1 <= len(comments) <= expected
    keys = [c.key for c in comments]
    assert len(set(keys)) == len(keys)
    assert all(c.text for c in comments)
    assert all(c.parent_key in keys for c in comments if c.parent_key)
    assert sum(1 for c in comments if c.author) >= len(comments) // 2


def test_inline_reply_structure_and_fields_of_a_wordpress_thread() -> None:
    url = "https://frolleinherr.com/thoughts/kolumne-lost-aber-immer-noch-da/"
    found = read_inline(tree_of(CORPUS / "trafilatura" / "html" / "frolleinherr.com.lost.html", url), url)
    assert found is not None
    first, reply = found.comments[:2]
    assert (first.key, first.author, first.posted_at) == ("44137", "Aylin", "2022-11-20T09:36:03Z")
    assert first.text.startswith("Liebe Karo,") and "Antworten" not in first.text
    assert reply.parent_key == "44137" and reply.author == "Karoline Herr"
    assert first.permalink == f"{url}#comment-44137"


@pytest.mark.parametrize("page, count", [
    ("frolleinherr.com.lost.html", 11), ("foxyfolksy.com.buttercream.html", 80),
    ("theoriginalcopy.de.baby.html", 52), ("uebermedien.de-Israel.html", 17),
])
def test_the_count_a_page_shows_matches_its_thread(page: str, count: int) -> None:
    tree = tree_of(CORPUS / "trafilatura" / "html" / page)
    assert shown_count(tree) == count
    found = read_inline(tree, "https://example.org/article")
    assert found is not None and len(found.comments) == count
