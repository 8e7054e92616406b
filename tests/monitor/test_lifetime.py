"""A start-up the garbage collector stays out of, and a quick exit (monitor.lifetime).

Each runs in a fresh interpreter: freezing pytest's own objects, or leaving it, would be wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # output buffered
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        check=False, timeout=60,
    )


def test_start_up_runs_no_collection_then_freezes_and_restores_the_collector() -> None:
    done = _python(
        "import gc\n"
        "from monitor.lifetime import start_up\n"
        "runs = lambda: sum(s['collections'] for s in gc.get_stats())\n"
        "before = runs()\n"
        "with start_up():\n"
        "    inside = gc.isenabled()\n"
        "    kept = [[i] for i in range(200_000)]  # would trigger hundreds of collections\n"
        "print(inside, runs() - before, gc.isenabled(), gc.get_freeze_count() >= 200_000)\n"
        "gc.disable()\n"
        "try:\n"
        "    with start_up():\n"
        "        raise ValueError\n"
        "except ValueError:\n"
        "    print(gc.isenabled())\n"
    )
    assert done.returncode == 0, done.stderr
    # Off inside, no collection ran, on again after with everything frozen; a collector that
    # was off before stays off, even when the block fails.
    assert done.stdout.split() == ["False", "0", "True", "True", "False"]


def test_exit_now_flushes_output_and_logs_and_runs_nothing_after(tmp_path: Path) -> None:
    log = tmp_path / "veille.log"
    done = _python(
        "import atexit, logging, sys\n"
        "from logging.handlers import MemoryHandler\n"
        "from monitor.lifetime import exit_now\n"
        f"target = logging.FileHandler({str(log)!r})\n"
        "logging.getLogger().addHandler(MemoryHandler(1000, logging.CRITICAL, target))\n"
        "logging.getLogger().setLevel(logging.INFO)\n"
        "logging.getLogger('veille').info('held in memory until the exit')\n"
        "sys.stdout.write('summary without a newline')  # a pipe: block-buffered\n"
        "atexit.register(print, 'teardown ran')\n"
        "try:\n"
        "    exit_now(3)\n"
        "finally:\n"
        "    print('finally ran')\n"
    )
    assert done.returncode == 3
    assert done.stdout == "summary without a newline"
    assert log.read_text(encoding="utf-8") == "held in memory until the exit\n"
