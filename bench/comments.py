"""Benchmark: reader comments. 500 threads, 20,000 comments, two cycles with changes.

Half the pages link a Discourse-style forum topic (JSON, 40 posts each); the other half print
their 40 comments in WordPress's classic markup. veille runs as a user would (``veille check``),
measured with :mod:`bench.measure` (wall, CPU, peak RSS of its process tree); the local site
runs in this process, so its CPU is not counted.

1. **Baseline**: every thread is read for the first time (no comment change may be reported).
2. **Changes**: in 10 % of the threads a comment is added, in 5 % one is edited, in 5 % one is
   deleted; one forum topic in 50 answers 500 on its second chunk (nothing may be concluded
   there). Reported comment changes are compared with the truth: precision, recall, and false
   deletions.
3. **Quiet**: no comment changes, as in most checks of a real watch; only the page's own noise
   (an ad, a "updated N minutes ago") moves, as it does in every round. The inline threads,
   whose markup is what the last check read, are not read again; no change may be reported.

```sh
.venv/bin/python bench/comments.py                 # 500 threads of 40 comments
.venv/bin/python bench/comments.py --threads 100   # quicker
```
"""

from __future__ import annotations

import argparse
import html
import json
import random
import sqlite3
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import run_measured
from bench.veille_runner import CONFIG, veille_command
from tests.comments.clubic import load_seed
from tests.servers.http import LocalSite, SiteHandler

PER_THREAD = 40
WORDS = ("police", "Microsoft", "employés", "contrat", "lettre", "éthique", "reconnaissance",
         "faciale", "Seattle", "manifestation", "patron", "loi", "réforme", "données")


class Threads:
    """Every thread of the site, and the truth of what changed in them."""

    def __init__(self, n: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.article = load_seed()
        self.threads: list[dict[int, tuple[str, str]]] = []  # per page: post id -> (author, text)
        self.next_id = 1_000_000
        for _ in range(n):
            self.threads.append({self._id(): (self._who(), self._text()) for _ in range(PER_THREAD)})
        self.failing: set[int] = set()
        self.truth: set[tuple[int, str, str]] = set()  # (page index, kind, key)

    def _id(self) -> int:
        self.next_id += 3
        return self.next_id

    def _who(self) -> str:
        return f"lecteur{self.rng.randrange(5000)}"

    def _text(self) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randrange(8, 40))) + "."

    def change(self) -> None:
        """Round 2: add, edit, delete; make some topics fail half-way."""
        n = len(self.threads)
        pages = list(range(n))
        self.rng.shuffle(pages)
        for page in pages[: n // 10]:
            pid = self._id()
            self.threads[page][pid] = (self._who(), self._text())
            self.truth.add((page, "comment_new", str(pid)))
        for page in pages[n // 10 : n // 10 + n // 20]:
            pid = self.rng.choice(list(self.threads[page]))
            who, text = self.threads[page][pid]
            self.threads[page][pid] = (who, text + " Édité : " + self._text())
            self.truth.add((page, "comment_edited", str(pid)))
        for page in pages[n // 10 + n // 20 : n // 5]:
            pid = self.rng.choice(list(self.threads[page]))
            del self.threads[page][pid]
            self.truth.add((page, "comment_deleted", str(pid)))
        # Forum pages (even indexes) that fail half-way, one in 50: a deletion there would be
        # false. Taken among unchanged threads, plus one deletion that must wait.
        quiet = [p for p in pages[n // 5 :] if p % 2 == 0][: max(1, n // 50)]
        for page in quiet:
            self.failing.add(page)
            del self.threads[page][max(self.threads[page])]  # not concluded: the read is partial

    # -- serving -----------------------------------------------------------------------------

    def page_html(self, page: int, base: str, noise: int = 0) -> str:
        """Article ``page``; ``noise`` (the round) changes an ad and a timestamp outside it."""
        seed = self.article
        body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in seed.points)
        if page % 2 == 0:
            comments = f'<a href="{base}/forum/t/fil-{page}/{page + 1}">Voir tous les messages sur le forum</a>'
        else:
            items = "".join(
                f'<li id="comment-{pid}" class="comment"><article class="comment-body">'
                f'<div class="comment-author"><b class="fn">{who}</b></div><div class="comment-metadata">'
                f'<time datetime="2020-06-10T10:00:00+02:00">10 juin</time></div>'
                f'<div class="comment-content"><p>{html.escape(text)}</p></div></article></li>'
                for pid, (who, text) in self.threads[page].items()
            )
            comments = f'<ol class="comment-list">{items}</ol>'
        return (
            f'<html lang="fr"><head><meta charset="utf-8"><title>{html.escape(seed.title)} ({page})</title>'
            f'</head><body><article><h1>{html.escape(seed.title)} ({page})</h1>'
            f'<p>{html.escape(seed.standfirst)}</p>{body}</article>'
            f'<section id="comments"><h2>{len(self.threads[page])} commentaires</h2>{comments}</section>'
            f'<aside class="pub">Publicité {noise * 7 + page % 5} · '
            f"mis à jour il y a {noise} min</aside>"
            "</body></html>"
        )

    def serve_forum(self, handler: SiteHandler) -> None:
        parts = urlsplit(handler.path)
        segments = parts.path.split("/")  # /forum/t/<id>/posts.json or /forum/t/<slug>/<id>.json
        if parts.path.endswith("/posts.json"):
            page = int(segments[3]) - 1
        else:
            page = int(segments[-1].removesuffix(".json")) - 1
        if parts.path.endswith("/posts.json"):
            ids = [int(i) for i in parse_qs(parts.query).get("post_ids[]", [])]
            if page in self.failing and ids and ids[0] != self._order(page)[0]:
                return _send(handler, 500, b"{}")
            posts = [self._post(page, i) for i in self._order(page) if i in ids]
            data: dict[str, object] = {"post_stream": {"posts": posts}, "id": page + 1}
        else:
            order = [page * 10] + self._order(page)  # an opening post first
            posts = [self._post(page, i) for i in order[:20]]
            data = {"id": page + 1, "post_stream": {"posts": posts, "stream": order}}
        _send(handler, 200, json.dumps(data).encode())

    def _order(self, page: int) -> list[int]:
        return sorted(self.threads[page])

    def _post(self, page: int, pid: int) -> dict[str, object]:
        if pid == page * 10:
            return {"id": pid, "post_number": 1, "username": "redaction", "cooked": "<p>L'article.</p>"}
        who, text = self.threads[page][pid]
        return {"id": pid, "post_number": 2 + self._order(page).index(pid), "username": who,
                "created_at": "2020-06-10T08:30:00.000Z", "cooked": f"<p>{html.escape(text)}</p>",
                "post_url": f"/t/fil-{page}/{page + 1}/1"}


def _send(handler: SiteHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    threads = Threads(args.threads, args.seed)
    with LocalSite(record=False, faults=False) as site, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        site.handle("/forum/t/", threads.serve_forum, prefix=True)

        def publish(noise: int) -> None:
            site.set_many({f"/a/{i}.html": threads.page_html(i, site.base_url, noise).encode()
                           for i in range(args.threads)})

        publish(1)
        config = work / "veille.toml"
        config.write_text(CONFIG, encoding="utf-8")
        cmd = [*veille_command(), "--config", str(config)]
        urls = "\n".join(site.url(f"/a/{i}.html") for i in range(args.threads))
        assert run_measured([*cmd, "add", "-", "--topic", "bench"], cwd=work, stdin=urls).returncode == 0
        rows = []
        for number, name in enumerate(("baseline", "changes", "quiet"), start=1):
            if name == "changes":
                threads.change()
            if number > 1:
                publish(number)
            run = run_measured([*cmd, "check", "--all"], cwd=work)
            assert run.returncode == 0, run.stderr[-3000:]
            with sqlite3.connect(work / "veille.db") as con:
                stored = con.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
                partial = con.execute(
                    "SELECT COUNT(*) FROM comment_sources WHERE last_state != 'ok'"
                ).fetchone()[0]
                reported = {
                    (int(url.rsplit("/", 1)[1].split(".")[0]), kind, key)
                    for url, kind, key in con.execute(
                        "SELECT change_feed.url, change_feed.kind, comments.key FROM change_feed "
                        "JOIN comments ON comments.id = change_feed.comment_id"
                    )
                }
            # Every thread is read in every cycle: the site's comments over the wall time.
            comments = sum(len(t) for t in threads.threads)
            rows.append({"cycle": name, "wall_s": round(run.wall, 2), "cpu_s": round(run.cpu, 2),
                         "peak_rss_mb": round(run.peak_rss / 2**20, 1),
                         "threads_per_s": round(args.threads / run.wall, 1),
                         "comments_per_s": round(comments / run.wall, 1),
                         "stored": stored, "partial": partial, "reported": reported})
        truth, reported = threads.truth, rows[1]["reported"]
        quiet_reported = rows[2]["reported"] - reported  # anything new in the quiet cycle is false
        right = truth & reported
        false_deletions = [r for r in reported - truth if r[1] == "comment_deleted"]
        print(f"{args.threads} threads, {args.threads * PER_THREAD} comments")
        print(f"{'cycle':10} {'wall s':>7} {'cpu s':>6} {'RSS MB':>7} {'threads/s':>10} "
              f"{'comments/s':>11} {'stored':>7} {'partial':>8}")
        for row in rows:
            print(f"{row['cycle']:10} {row['wall_s']:>7} {row['cpu_s']:>6} {row['peak_rss_mb']:>7} "
                  f"{row['threads_per_s']:>10} {row['comments_per_s']:>11} {row['stored']:>7} "
                  f"{row['partial']:>8}")
        precision = len(right) / len(reported) if reported else 1.0
        recall = len(right) / len(truth) if truth else 1.0
        print(f"comment changes: {len(truth)} true, {len(reported)} reported; precision "
              f"{precision:.3f}, recall {recall:.3f}, false deletions {len(false_deletions)}")
        print(f"quiet cycle: {len(quiet_reported)} comment changes reported (0 expected)")


if __name__ == "__main__":
    main()
