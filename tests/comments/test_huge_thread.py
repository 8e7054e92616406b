"""FAULTS F22: a Discourse topic of 100,000 posts, generated on the fly.

The topic JSON holds 20 posts and a stream of 100,000 ids; ``posts.json`` answers any ids asked.
veille must read it in bounded chunks with a per-run budget and a resume point, one row per
post, in bounded memory; a smaller thread then shows that once read in full, new posts are read
first and known ones re-read in turn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from tests.comments import clubic
from tests.conftest import ROOT

if TYPE_CHECKING:
    from tests.conftest import Veille
    from tests.servers.http import LocalSite, SiteHandler

FIRST_ID = 5_000_000
# The veille process reading the 100k topic stays far below this (108 MB measured).
MAX_RSS_MB = 400


class GeneratedTopic:
    """A topic of ``n`` posts (ids FIRST_ID + number), built on the fly for each request."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.edits: dict[int, str] = {}
        self.requests = 0
        self.lock = threading.Lock()

    def post(self, number: int) -> dict[str, object]:
        text = self.edits.get(number, f"Message numéro {number} du fil.")
        return {
            "id": FIRST_ID + number, "post_number": number, "username": f"lecteur{number % 97}",
            "created_at": "2020-06-10T08:30:00.000Z", "cooked": f"<p>{text}</p>",
            "reply_to_post_number": number - 1 if number % 5 == 0 and number > 2 else None,
            "post_url": f"/t/fil/77/{number}", "deleted_at": None, "user_deleted": False,
        }

    def serve(self, handler: SiteHandler) -> None:
        with self.lock:
            self.requests += 1
        parts = urlsplit(handler.path)
        if parts.path.endswith("/posts.json"):
            ids = [int(i) for i in parse_qs(parts.query).get("post_ids[]", [])]
            numbers = [i - FIRST_ID for i in ids if 1 <= i - FIRST_ID <= self.n]
            data = {"post_stream": {"posts": [self.post(n) for n in numbers]}, "id": 77}
        else:
            data = {
                "id": 77, "slug": "fil", "posts_count": self.n, "chunk_size": 20,
                "post_stream": {
                    "posts": [self.post(n) for n in range(1, min(self.n, 20) + 1)],
                    "stream": list(range(FIRST_ID + 1, FIRST_ID + self.n + 1)),
                },
            }
        body = json.dumps(data).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def take_requests(self) -> int:
        with self.lock:
            n, self.requests = self.requests, 0
        return n


def article(site: LocalSite) -> str:
    """The Clubic article of the seed, linking the generated topic."""
    return clubic.article_html(
        clubic.load_seed(), posts=[], forum_url=site.url("/forum/t/fil/77"), shown=None
    )


def check_with_peak_rss(veille: Veille) -> tuple[str, int]:
    """``veille check --all`` run by a parent that reports the peak RSS (MB) of its children."""
    # The check ends with os._exit (monitor.lifetime): the figure comes from its parent.
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'monitor.cli', *sys.argv[1:]])\n"
        "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
        "file=sys.stderr)\n"
        "sys.exit(done.returncode)\n"
    )
    env = {**os.environ, "VEILLE_EXTRACT_WORKERS": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", code, "--config", str(veille.config), "check", "--all"],
        check=False, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0]) // 1024
    return proc.stdout, peak


def test_a_100k_post_topic_is_read_in_bounded_runs(site: LocalSite, veille: Veille) -> None:
    topic = GeneratedTopic(100_000)
    site.handle("/forum/t/", topic.serve, prefix=True)
    site.set("/long.html", article(site))
    veille.run("add", site.url("/long.html"), check=0)
    db = veille.db()
    stored = []
    for _ in range(2):
        out, peak = check_with_peak_rss(veille)
        assert "(1 partial)" in out
        assert topic.take_requests() == 50  # the default budget: 1 topic + 49 chunks of 20
        assert peak < MAX_RSS_MB
        print(f"peak RSS of the run: {peak} MB")
        stored.append(db.execute("SELECT COUNT(*) FROM comments").fetchone()[0])
        count = db.execute(
            "SELECT listed, read, complete, state FROM comment_counts ORDER BY id DESC"
        ).fetchone()
        assert count[0] == 99_999 and count[2] == 1 and count[3] == "partial"
    # One row per post; the second run reads on where the first stopped (the topic's own first
    # 20 posts come with it again, known already).
    assert stored == [19 + 49 * 20, 19 + 2 * 49 * 20]
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 0  # still the first reading
    high = db.execute("SELECT high_water FROM comment_sources").fetchone()[0]
    assert high == FIRST_ID + 20 + 2 * 49 * 20
    assert db.execute("SELECT COUNT(DISTINCT key) FROM comments").fetchone()[0] == stored[-1]


def test_once_read_in_full_new_posts_come_first_and_known_ones_in_turn(
    site: LocalSite, veille: Veille
) -> None:
    topic = GeneratedTopic(201)
    site.handle("/forum/t/", topic.serve, prefix=True)
    site.set("/long.html", article(site))
    veille.write_config(extra=f'[[pages]]\nurl = "{site.url("/long.html")}"\ncomment_budget = 6\n')
    # 200 comments; 6 requests a run read 19 + 5 × 20 = 119 of them: 2 runs for a first full read.
    for _ in range(2):
        veille.run("check", "--all", check=0)
        assert topic.take_requests() <= 6
    db = veille.db()
    assert db.execute("SELECT COUNT(*) FROM comments").fetchone()[0] == 200
    assert db.execute("SELECT baselined FROM comment_sources").fetchone() == (1,)
    assert db.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == 0

    # New posts at the end are read first; an edit far from the cursor waits for its turn.
    topic.n = 203
    topic.edits = {150: "Message numéro 150, corrigé par son auteur."}
    veille.run("check", "--all", check=0)
    kinds = [k for (k,) in db.execute("SELECT kind FROM changes ORDER BY id")]
    assert kinds == ["comment_new", "comment_new"]
    runs = 0
    while "comment_edited" not in kinds:
        veille.run("check", "--all", check=0)
        kinds = [k for (k,) in db.execute("SELECT kind FROM changes ORDER BY id")]
        runs += 1
        assert runs <= 2, "a whole turn over the known posts takes at most 3 runs"
    assert kinds.count("comment_edited") == 1 and "comment_deleted" not in kinds
