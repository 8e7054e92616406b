"""veille's Datasette plugin, loaded through the ``datasette`` entry point in ``pyproject.toml``.

What it adds to a plain ``datasette veille.db``:

- read-only connections under which hidden tables and secret columns read as NULL
  (:mod:`storage.datasette.access`);
- pages for a change (word diff), a version (text) and a raw snapshot
  (:mod:`storage.datasette.views`), and links to them from table cells: ``change_id``,
  ``version_id``/``from_version``/``to_version``, ``snapshot_id``, ``ops`` (drawn as a diff),
  ``snippet`` (search matches), ``url`` (live page and timeline);
- the compressed raw HTML left out of the ``snapshots`` table page unless asked for;
- a password on every request when ``VEILLE_SERVE_PASSWORD`` is set.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup

from storage.datasette import views
from storage.datasette.access import BasicAuth, DefaultColumns, guard_connection, password_from_env
from storage.datasette.metadata import HIDDEN_TABLES, SECRET_COLUMNS
from storage.datasette.render import parse_ops, render_ops, render_snippet

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable, Collection, Mapping

    from datasette.app import Datasette
    from datasette.utils.asgi import Request
    from jinja2 import Environment

    from storage.datasette.access import ASGIApp

logger = logging.getLogger(__name__)

HERE: Final = Path(__file__).parent
TEMPLATES: Final = HERE / "templates"
STYLESHEET: Final = HERE / "static" / "veille.css"
# Columns left out of a table's page unless the URL picks columns (_col / _nocol).
DEFAULT_HIDDEN_COLUMNS: Final = {"snapshots": ("html_zlib",)}
# URLs in table cells are shortened to about this many characters (the link keeps them whole).
URL_CELL_CHARS: Final = 64
_VERSION_COLUMNS: Final = frozenset({"version_id", "from_version", "to_version", "current_version"})


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Datasette) -> None:
    """Every connection Datasette opens on a database is read-only and blind to secrets."""
    if database != "_internal":  # Datasette's own in-memory catalogue, which it writes
        guard_connection(conn, hidden_tables=HIDDEN_TABLES, secret_columns=SECRET_COLUMNS)


@hookimpl
def prepare_jinja2_environment(env: Environment, datasette: Datasette) -> None:
    """Make the plugin's templates (``veille_*.html``) findable, after Datasette's own."""
    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])  # type: ignore[list-item]


@hookimpl
def register_routes(datasette: Datasette) -> list[tuple[str, Callable[..., Any]]]:
    """The plugin's pages, under ``/-/veille/``."""
    return [
        (r"^/-/veille/change/(?P<id>\d+)$", views.change_page),
        (r"^/-/veille/version/(?P<id>\d+)$", views.version_page),
        (r"^/-/veille/snapshot/(?P<id>\d+)$", views.snapshot_page),
        (r"^/-/veille/snapshot/(?P<id>\d+)/raw$", views.snapshot_raw),
        (r"^/-/veille/veille\.css$", stylesheet),
    ]


async def stylesheet(request: Request) -> Response:
    """The plugin's CSS (diff colours, paragraph blocks)."""
    return Response(
        _stylesheet(),
        content_type="text/css; charset=utf-8",
        headers={"Cache-Control": "max-age=3600"},
    )


@cache
def _stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


@hookimpl
def extra_css_urls(datasette: Datasette) -> list[str]:
    """The plugin's CSS on every page; its hash in the URL refreshes caches when it changes."""
    digest = hashlib.sha1(_stylesheet().encode("utf-8")).hexdigest()[:8]
    return [datasette.urls.path(f"/-/veille/veille.css?{digest}")]


@hookimpl
def menu_links(datasette: Datasette) -> list[dict[str, str]]:
    """Shortcuts in Datasette's menu."""
    try:
        db = views.veille_database(datasette)
    except NotFound:
        return []
    return [
        {"href": datasette.urls.query(db.name, "latest_changes"), "label": "Latest changes"},
        {"href": datasette.urls.query(db.name, "stealth_edits"), "label": "Stealth edits"},
        {"href": datasette.urls.query(db.name, "search"), "label": "Search article text"},
    ]


@hookimpl
def asgi_wrapper(datasette: Datasette) -> Callable[[ASGIApp], ASGIApp]:
    """Trim bulky default columns; require the password when one is set."""
    password = password_from_env()

    def hidden_columns() -> Mapping[str, Collection[str]]:
        try:
            db = views.veille_database(datasette)
        except NotFound:
            return {}
        return {
            datasette.urls.table(db.name, table): columns
            for table, columns in DEFAULT_HIDDEN_COLUMNS.items()
        }

    def wrap(app: ASGIApp) -> ASGIApp:
        wrapped: ASGIApp = DefaultColumns(app, hidden_columns)
        if password:
            wrapped = BasicAuth(wrapped, password)
        return wrapped

    return wrap


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Datasette
) -> Markup | None:
    """HTML for the cells veille knows (see the module docstring); ``None`` leaves the rest."""
    try:
        if database != views.veille_database(datasette).name:
            return None
    except NotFound:
        return None
    link = Markup('<a href="{}">{}</a>').format
    if column == "ops" and isinstance(value, str):
        return _ops_cell(row, value, table, datasette)
    if isinstance(value, int) and not isinstance(value, bool):
        if column == "change_id":
            return link(views.plugin_path(datasette, "change", value), value)
        if column in _VERSION_COLUMNS:
            return link(views.plugin_path(datasette, "version", value), value)
        if column == "snapshot_id":
            return link(views.plugin_path(datasette, "snapshot", value), value)
    if column == "snippet" and isinstance(value, str):
        return render_snippet(value)
    if table == "snapshots" and column == "html_zlib":
        ident = _get(row, "id")
        if ident is None:
            return None
        return Markup('<a href="{}">source and sandboxed view</a>').format(
            views.plugin_path(datasette, "snapshot", ident)
        )
    if column == "url" and table in (None, "change_feed", "pages"):
        live = views.live_link(value)
        if live is None:
            return None
        db = datasette.get_database(database)
        return Markup(
            '<a class="veille-live" href="{}" title="{}" rel="noreferrer noopener">{}</a> '
            '<a class="veille-timeline" href="{}">timeline</a>'
        ).format(live, live, _short_url(live), views.timeline_path(datasette, db, live))
    return None


def _ops_cell(row: Any, value: str, table: str | None, datasette: Datasette) -> Markup | None:
    """A compact word diff, with a link to the change's own page."""
    ops = parse_ops(value)
    if ops is None:
        return None
    kind = str(_get(row, "kind") or "")
    html = render_ops(kind, ops, full=False)
    change_id = _get(row, "change_id") or (_get(row, "id") if table == "changes" else None)
    if change_id is not None:
        html += Markup('<a class="veille-full-diff" href="{}">full diff →</a>').format(
            views.plugin_path(datasette, "change", change_id)
        )
    return html


def _short_url(url: str, width: int = URL_CELL_CHARS) -> str:
    """``url`` without its scheme, its middle cut out when longer than ``width``."""
    text = url.split("://", 1)[-1]
    if len(text) <= width:
        return text
    head = width // 2
    return text[:head] + "…" + text[-(width - head - 1) :]


def _get(row: Any, key: str) -> Any:
    """``row[key]`` for a sqlite3.Row or dict, ``None`` when the row has no such column."""
    try:
        return row[key]
    except (IndexError, KeyError, TypeError):
        return None
