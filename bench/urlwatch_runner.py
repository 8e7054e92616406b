"""Drive urlwatch 2.29 for the check-cycle benchmark, in its own venv (``bench/.venv-urlwatch``).

Two configurations: ``urlwatch`` with its defaults (it diffs the raw HTML), and ``urlwatch-css``
with a hand-written ``css`` filter on the generated pages' ``<article>`` (headline, byline, dates
and body: every kind of edit the site makes), which is its best setting for these pages.

Each runner keeps private ``--urls``, ``--config``, ``--cache`` and ``--hooks`` files in its work
folder. urlwatch runs its jobs on a fixed pool of 10 threads (``MAX_WORKERS`` in
``urlwatch/worker.py``; there is no option), fine for 2 cores. The text report goes to stdout
without colour; the changed jobs are read from its summary lines (``01. CHANGED: URL``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bench.measure import Cycle, run_measured

URLWATCH_VERSION = "2.29"
VENV = Path(__file__).resolve().parent / ".venv-urlwatch"
ARTICLE_SELECTOR = "article.article"  # tests.servers.newssite.ARTICLE_SELECTOR
_SUMMARY = re.compile(r"^\d+\. (NEW|CHANGED|ERROR): (\S+)\s*$")


def ensure_venv(venv: Path = VENV) -> Path:
    """The urlwatch executable, installing urlwatch in ``venv`` first if it is missing."""
    exe = venv / "bin" / "urlwatch"
    if exe.exists():
        return exe
    print(f"installing urlwatch {URLWATCH_VERSION} into {venv} …", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            f"urlwatch=={URLWATCH_VERSION}",
        ],
        check=True,
    )
    return exe


def _yaml_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class UrlwatchRunner:
    """urlwatch with private state in ``workdir``; ``css=True`` adds the article filter."""

    def __init__(self, workdir: Path, *, css: bool) -> None:
        self.name = "urlwatch-css" if css else "urlwatch"
        self.workdir = workdir
        self.css = css
        self.exe = ensure_venv()
        self.urls_file = workdir / "urls.yaml"
        self.config_file = workdir / "urlwatch.yaml"
        self.cache_file = workdir / "cache.db"
        self.hooks_file = workdir / "hooks.py"  # never created: no hooks

    def setup(self, urls: list[str]) -> None:
        """Write the job list and a config that reports to stdout only, without colour."""
        jobs = []
        for url in urls:
            job = f"url: {_yaml_str(url)}\n"
            if self.css:
                job += f"filter:\n  - css: {_yaml_str(ARTICLE_SELECTOR)}\n"
            jobs.append(job)
        self.urls_file.write_text("---\n".join(jobs), encoding="utf-8")
        self.config_file.write_text(
            "report:\n"
            "  stdout:\n    enabled: true\n    color: false\n"
            "  text:\n    details: true\n    footer: false\n",
            encoding="utf-8",
        )

    def cycle(self) -> Cycle:
        """Run every job once."""
        run = run_measured(
            [
                str(self.exe),
                "--urls",
                str(self.urls_file),
                "--config",
                str(self.config_file),
                "--cache",
                str(self.cache_file),
                "--hooks",
                str(self.hooks_file),
            ],
            cwd=self.workdir,
        )
        changed: set[str] = set()
        verbs: dict[str, int] = {}
        for line in run.stdout.splitlines():
            match = _SUMMARY.match(line)
            if match:
                verbs[match[1]] = verbs.get(match[1], 0) + 1
                if match[1] == "CHANGED":
                    changed.add(match[2])
        return Cycle(run, changed, verbs.get("ERROR", 0), {"reported": verbs})
