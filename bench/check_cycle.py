"""Check-cycle benchmark: veille against urlwatch on a generated news site. Prints figures.

    .venv/bin/python bench/check_cycle.py --pages 200 1000 [--tools veille,veille-1,urlwatch,urlwatch-css]

``veille`` runs with its default settings (one process per core for a cycle of 200 pages or
more); ``veille-N`` sets ``[http] processes = N`` (``veille-1``: a single process).

For each site size N, the site (``tests/servers/benchsite.py``) runs in its own process, so its
CPU is not counted. For each tool, with fresh state:

1. round 1, no validators: the baseline cycle (not reported);
2. round 2, validators on: every page has new noise and a tenth have one true edit. This cycle
   is measured: pages/s, CPU, peak RSS, precision and recall of the pages reported as changed;
3. same round again: every page answers 304 to a conditional GET; pages/s is measured;
4. (veille only) round 3, no validators: new noise, no edit. Database bytes added per unchanged
   check, and any change reported here is a false positive.

See ``bench/README.md`` for what each figure means. The figures are also written as JSON to
``bench/out/check_cycle-<N>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.urlwatch_runner import UrlwatchRunner  # noqa: E402
from bench.veille_runner import VeilleRunner, compile_veille  # noqa: E402

if TYPE_CHECKING:
    from bench.measure import Cycle

ALL_TOOLS = ("veille", "veille-1", "urlwatch", "urlwatch-css")
OUT = ROOT / "bench" / "out"


class Runner(Protocol):
    name: str

    def setup(self, urls: list[str]) -> None: ...

    def cycle(self) -> Cycle: ...


class BenchSite:
    """The generated site in a child process, driven by its control routes."""

    def __init__(self, pages: int, seed: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.servers.benchsite",
                "--pages",
                str(pages),
                "--seed",
                str(seed),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"the bench site did not start (said {line!r})")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def get(self, path: str) -> Any:
        """GET a control route; JSON answers are decoded."""
        with urllib.request.urlopen(self.base + path, timeout=600) as resp:
            body = resp.read().decode("utf-8")
            return json.loads(body) if resp.headers["Content-Type"] == "application/json" else body

    def close(self) -> None:
        """Stop the site process."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def make_runner(tool: str, workdir: Path) -> Runner:
    """A runner for ``tool`` keeping its state in ``workdir``."""
    if tool == "veille" or tool.startswith("veille-"):
        # "veille-1": veille with [http] processes = 1 (one process, whatever the cores);
        # "veille": its defaults (one process per core)
        processes = int(tool.split("-", 1)[1]) if "-" in tool else None
        return VeilleRunner(workdir, processes=processes)
    if tool in ("urlwatch", "urlwatch-css"):
        return UrlwatchRunner(workdir, css=tool == "urlwatch-css")
    raise SystemExit(f"unknown tool {tool!r}: use {', '.join(ALL_TOOLS)}")


def _quality(reported: set[str], truth: set[str]) -> dict[str, Any]:
    hits = reported & truth
    return {
        "reported": len(reported),
        "true_positives": len(hits),
        "precision": len(hits) / len(reported) if reported else None,
        "recall": len(hits) / len(truth) if truth else None,
    }


def _speed(cycle: Cycle, pages: int) -> dict[str, Any]:
    run = cycle.run
    return {
        "wall_s": round(run.wall, 3),
        "pages_per_s": round(pages / run.wall, 1),
        "cpu_s": round(run.cpu, 3),
        "cpu_waited_s": round(run.cpu_waited, 3),
        "cpu_polled_s": round(run.cpu_polled, 3),
        "cpu_ms_per_page": round(run.cpu * 1000 / pages, 3),
        "peak_rss_mb": round(run.peak_rss / 2**20, 1),
        "peak_pss_mb": round(run.peak_pss / 2**20, 1),
        "returncode": run.returncode,
        "errors": cycle.errors,
        **cycle.extra,
    }


def _warn_if_failed(tool: str, step: str, cycle: Cycle) -> None:
    if cycle.run.returncode != 0 or cycle.errors:
        print(
            f"  ! {tool} {step}: exit code {cycle.run.returncode}, {cycle.errors} failed pages; "
            f"stderr tail:\n{cycle.run.stderr[-2000:]}",
            file=sys.stderr,
        )


def bench_tool(
    tool: str, site: BenchSite, urls: list[str], truth: dict[str, str]
) -> dict[str, Any]:
    """The four steps of the module docstring for one tool; its figures."""
    pages = len(urls)
    truth_urls = {site.base + path for path in truth}
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        runner = make_runner(tool, Path(tmp))
        site.get("/__conditional/off")
        site.get("/__round/1")
        runner.setup(urls)
        print(f"  {tool}: baseline cycle …", file=sys.stderr, flush=True)
        baseline = runner.cycle()
        _warn_if_failed(tool, "baseline", baseline)

        site.get("/__conditional/on")
        site.get("/__round/2")
        site.get("/__stats/reset")
        print(f"  {tool}: measured cycle (noise + edits) …", file=sys.stderr, flush=True)
        second = runner.cycle()
        _warn_if_failed(tool, "second cycle", second)
        served_2 = site.get("/__stats/reset")

        print(f"  {tool}: 304 cycle …", file=sys.stderr, flush=True)
        third = runner.cycle()
        _warn_if_failed(tool, "304 cycle", third)
        served_3 = site.get("/__stats/reset")

        result: dict[str, Any] = {
            "baseline": _speed(baseline, pages),
            "second": {
                **_speed(second, pages),
                **_quality(second.changed, truth_urls),
                "served": served_2,
            },
            "not_modified": {
                **_speed(third, pages),
                "served": served_3,
                "reported": len(third.changed),
            },
        }
        missed = truth_urls - second.changed
        result["second"]["missed_by_kind"] = _count_kinds(missed, site.base, truth)
        if tool.startswith("veille"):
            site.get("/__conditional/off")
            site.get("/__round/3")
            print(f"  {tool}: noise-only cycle …", file=sys.stderr, flush=True)
            fourth = runner.cycle()
            _warn_if_failed(tool, "noise-only cycle", fourth)
            unchanged = max(1, int(fourth.extra.get("checks", 0)) - len(fourth.changed))
            result["noise_only"] = {
                **_speed(fourth, pages),
                "false_positives": len(fourth.changed),
                "bytes_per_unchanged_check": round(
                    fourth.extra["db_used_bytes_added"] / unchanged, 1
                ),
                "file_bytes_per_unchanged_check": round(
                    fourth.extra["db_file_bytes_added"] / unchanged, 1
                ),
                # The generated pages show a moving window of their reader comments, so a
                # noise-only round still brings new comments: their bytes are counted apart.
                "bytes_per_unchanged_check_without_comments": round(
                    (fourth.extra["db_used_bytes_added"] - fourth.extra["db_comment_bytes_added"])
                    / unchanged, 1
                ),
                "comment_bytes_added": fourth.extra["db_comment_bytes_added"],
                "new_comments": fourth.extra["comments_added"],
            }
            # The measured cycle's growth also stores the edited pages: an upper bound.
            truly_unchanged = max(1, pages - len(truth_urls))
            result["second"]["bytes_per_unchanged_check_upper_bound"] = round(
                second.extra["db_used_bytes_added"] / truly_unchanged, 1
            )
    return result


def _count_kinds(urls: set[str], base: str, truth: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for url in urls:
        kind = truth[url.removeprefix(base)]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _fmt(value: Any, spec: str = "") -> str:
    return "n/a" if value is None else format(value, spec)


def print_table(pages: int, edited: int, results: dict[str, dict[str, Any]]) -> None:
    """One table for one site size."""
    print(
        f"\nN = {pages} pages, {edited} truly edited in round 2, every page with new noise "
        f"({os.cpu_count()} CPUs; the site runs in its own process)"
    )
    head = (
        f"{'tool':<14}{'pages/s':>9}{'CPU s':>8}{'CPU ms/page':>13}{'peak RSS MB':>13}{'PSS MB':>8}"
        f"{'B/unchanged':>13}{'precision':>11}{'recall':>8}"
    )
    print(head)
    print("-" * len(head))
    for tool, res in results.items():
        sec = res["second"]
        per_check = res.get("noise_only", {}).get("bytes_per_unchanged_check")
        shown = tool + ("*" if sec["returncode"] else "")  # see the note below the table
        print(
            f"{shown:<14}{sec['pages_per_s']:>9.1f}{sec['cpu_s']:>8.2f}{sec['cpu_ms_per_page']:>13.2f}"
            f"{sec['peak_rss_mb']:>13.1f}{sec['peak_pss_mb']:>8.1f}{_fmt(per_check, '.0f'):>13}"
            f"{_fmt(sec['precision'], '.3f'):>11}{_fmt(sec['recall'], '.3f'):>8}"
        )
    parts = []
    for tool, res in results.items():
        nm = res["not_modified"]
        parts.append(f"{tool} {nm['pages_per_s']:.1f} pages/s ({nm['served'].get('304', 0)} × 304)")
    print("304 cycle (conditional GET, nothing changed): " + "; ".join(parts))
    for tool, res in results.items():
        noise = res.get("noise_only")
        if noise and "bytes_per_unchanged_check_without_comments" in noise:
            print(
                f"{tool} noise-only cycle: {noise['bytes_per_unchanged_check_without_comments']:.0f}"
                f" B per check for checks and versions, plus {noise['comment_bytes_added']} B of"
                f" reader comments ({noise['new_comments']} comments new to veille: the pages show a"
                " moving window of their comments)"
            )
    for tool, res in results.items():
        sec = res["second"]
        notes = []
        if sec.get("missed_by_kind"):
            notes.append(f"missed by kind {sec['missed_by_kind']}")
        if res.get("noise_only", {}).get("false_positives"):
            notes.append(
                f"{res['noise_only']['false_positives']} false positives on a noise-only cycle"
            )
        if sec["errors"] or sec["returncode"]:
            notes.append(f"exit code {sec['returncode']}, {sec['errors']} failed pages")
        if notes:
            print(f"  {tool}: " + "; ".join(notes))


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run every size and tool, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 1000])
    parser.add_argument(
        "--tools", default=",".join(ALL_TOOLS),
        help="comma-separated list; veille-N runs veille with [http] processes = N",
    )
    parser.add_argument("--skip-urlwatch", action="store_true", help="veille only")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    # SIGTERM (``timeout``, a CI stop) unwinds like Ctrl-C, so the site process is stopped too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if args.skip_urlwatch:
        tools = [t for t in tools if not t.startswith("urlwatch")]
    OUT.mkdir(parents=True, exist_ok=True)
    compile_veille()

    for pages in args.pages:
        print(f"N = {pages}: starting the site …", file=sys.stderr, flush=True)
        site = BenchSite(pages, args.seed)
        try:
            urls = site.get("/__urls").split()
            truth = site.get("/__truth/2")
            results = {tool: bench_tool(tool, site, urls, truth) for tool in tools}
        finally:
            site.close()
        print_table(pages, len(truth), results)
        record = {
            "pages": pages,
            "seed": args.seed,
            "edited": len(truth),
            "edits_by_kind": _count_kinds({site.base + p for p in truth}, site.base, truth),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tools": results,
        }
        path = OUT / f"check_cycle-{pages}.json"
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"(figures written to {path.relative_to(ROOT)})", flush=True)


if __name__ == "__main__":
    main()
