"""The commented starter ``veille.toml`` that ``veille init`` writes."""

from __future__ import annotations

import logging
from pathlib import Path

from monitor.errors import ConfigError

logger = logging.getLogger(__name__)

# Every key with its default (tests check they match monitor.config's DEFAULT_* constants).
STARTER_CONFIG = """\
# veille.toml: what veille watches and how it fetches.
# Durations: "90s", "15m", "2h", "1d", "1w", "1h30m". Sizes: "512KB", "10MB", "10MiB".
# Every key below is shown with its default; delete the ones you do not change.

# SQLite file holding every version; a relative path sits beside this file.
database = "veille.db"

# Networks veille may fetch from although they are private or local (CIDR), e.g. ["10.0.0.0/8"].
allow_networks = []

[http]
# Sent with every request: say who you are and how to reach you.
user_agent = "veille/0.1 (+https://github.com/veille-news/veille)"
# Requests in flight at once, across all sites.
concurrent_requests = 32
# Requests in flight at once to any one site.
concurrency_per_domain = 4
# Give up on a request after this long.
timeout = "30s"
# Stop reading a response larger than this.
max_response_size = "10MiB"
# Skip pages that a site's robots.txt forbids.
obey_robots_txt = true
# Follow at most this many redirects.
max_redirects = 10
# Retry a failed request (timeout, connection error, 5xx) this many times.
retries = 2
# Slow down on a site that answers slowly.
autothrottle = true
# Wait at least this long between two requests to the same site.
download_delay = "0s"
# `veille check` runs a cycle of 200 pages or more in several processes (0: one per core;
# 1: a single process, the lightest); a site never gets more than concurrency_per_domain
# requests at once from all of them. Each process after the first costs about 35-50 MB.
processes = 0

[daemon]
# `veille run` looks for due pages this often.
tick = "5s"
# At most this many pages are handed to the crawler at once (a backlog after downtime is
# worked through oldest first, not fetched in one burst).
batch = 200
# Check rows older than this are deleted; versions, changes and snapshots are kept for good.
retention = "90d"

[alerts_settings]
# Public address of your Datasette, so that each alert links to its change there.
# datasette_url = "https://datasette.example.org"
# Give up on an alert after this many failed attempts (`veille status` lists it then).
max_attempts = 12
# Wait this long before retrying a failed alert, twice as long each time after, up to the max.
retry_delay = "30s"
max_retry_delay = "6h"

# An alert route: remove the leading "# " from the lines below to get alerts.
# Apprise URLs hold passwords and tokens: keep this file private (chmod 600 veille.toml).
# [[alerts]]
# # Unique name; `veille test-alert NAME` sends it a test message.
# name = "me"
# # Where to send: Apprise URLs (mailto://, json://, tgram://, ntfy://…), or instead
# # config = "apprise.yml" (an Apprise config file) with tags = ["news"].
# urls = ["mailto://user:password@smtp.example.org?to=me@example.org"]
# # Only these kinds ([] for all): title, body, byline, dates, removed, moved, restored,
# # article_new, comment_new, comment_edited, comment_deleted, comment_restored.
# kinds = []
# # Only pages of these topics, and of these sites (subdomains included); [] for all.
# topics = []
# domains = []
# # Leave out title and body edits smaller than this many words (added + removed).
# min_words = 0
# # Only stealth edits: headline or text changed while the page's modified date did not.
# stealth_only = false
# # "immediate": one message per change; "digest": one message per schedule.
# mode = "immediate"
# # Digest mode only: when to send (cron: minute hour day month weekday), in this time zone.
# # schedule = "0 8 * * *"
# timezone = "UTC"
# # Language of the messages: "en" or "fr".
# language = "en"
# # At most this many messages ("20/h", "100/d"); the rest go out together in one digest.
# # rate_limit = "20/h"

[browser]
# For pages with render = "browser" or "auto" (see docs/browser.md). Chromium to run: by default
# /usr/bin/chromium (apt-get install chromium) when present, else Playwright's own browser.
# executable_path = "/usr/bin/chromium"
# CSS selector to wait for before reading the page; without it, wait until the network is idle.
# wait_for = "article"
# Give up on a page (state "timeout") after this long.
timeout = "15s"
# Pages rendered at once (about 0.8 GB of memory for 4 on a small server).
max_pages = 4
# Resource types never loaded, and ad or tracker sites (their subdomains too) never contacted.
block_resources = ["image", "media", "font"]
# block_hosts = ["doubleclick.net", "googletagmanager.com"]

[comments]
# Disqus threads are read in Chromium; with a Disqus API key, through Disqus's API instead.
# The key is a secret: keep this file private (chmod 600); it is never logged or stored.
# disqus_api_key = "…"
# disqus_api_url = "https://disqus.com/api/3.0/"

# A topic groups the pages you follow on one subject.
[[topics]]
# Unique name, used by pages and by the command line.
name = "tech-workers"
# Search words for finding new articles on the topic.
query = "tech workers union"
# Languages of the articles to keep (codes such as "en", "fr", "pt-BR"); [] keeps all.
languages = ["en"]
# Check its pages this often (at least 10s); a page's own interval wins.
interval = "1h"

# A page to watch: remove the leading "# " from the lines below and set your URL.
# [[pages]]
# # The article's address (http or https).
# url = "https://example.com/news/some-article"
# # Topic it belongs to (one of the names above).
# topic = "tech-workers"
# # CSS selector of the article, when automatic extraction picks the wrong part.
# selector = "article"
# # Regexes of lines whose changes do not count (in 'single quotes', so backslashes stay).
# ignore = ['^Updated \\d+ minutes ago$']
# # Check this page this often (at least 10s).
# interval = "30m"
# # Reader comments: "auto" finds them in the page (printed in it, a Discourse forum topic it
# # links, WordPress's API, Disqus); "none" reads none; or a list of kinds and sources, such as
# # ["inline", "discourse:https://forum.example.com/t/some-topic/123", "wordpress:123"].
# comments = "auto"
# # Requests one comment thread may cost per check: a huge forum topic is read over several.
# comment_budget = 50
# # "http": plain fetches; "browser": render in Chromium (pages built by JavaScript); "auto":
# # plain first, the browser when that shows no article (then remembered for the page).
# render = "http"
# # Where the comments are on a site veille does not know: CSS selectors inside each comment,
# # except id and parent, which are attribute names (without parent, nesting means a reply).
# [pages.comment_selectors]
# container = "#comments"
# item = "div.comment"
# id = "data-comment-id"
# author = ".author"
# date = "time"
# text = ".comment-body"
# parent = "data-parent-id"
# permalink = "a.permalink"
"""


def write_starter(path: Path, *, force: bool = False) -> None:
    """Write :data:`STARTER_CONFIG` to ``path``; refuse to replace a file unless ``force``."""
    try:
        # "x" creates the file only if it is absent, so no check-then-write race.
        with path.open("w" if force else "x", encoding="utf-8") as fh:
            fh.write(STARTER_CONFIG)
    except FileExistsError:
        raise ConfigError(
            "already exists",
            path=str(path),
            hint="edit it, or overwrite it with `veille init --force`",
        ) from None
    except FileNotFoundError:
        raise ConfigError(
            f"the folder {str(path.parent)!r} does not exist",
            path=str(path),
            hint="create it first",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            "is a folder, not a file", path=str(path), hint="name the file to write"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot write: {exc.strerror}", path=str(path)) from None
    logger.info("wrote a starter config to %s", path)
