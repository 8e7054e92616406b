"""Run a command and measure what it cost: wall time, CPU time and peak memory of its process tree.

CPU is the larger of two readings: ``os.wait4`` (user + system time of the process and of every
descendant it waited for, such as a process pool) and the sum, over every process seen in the
tree, of its last polled CPU time (which also catches descendants nobody waited for).

Memory is polled every 50 ms with psutil over the whole tree. ``peak_rss`` is the larger of
``ru_maxrss`` (the largest single process) and the largest sum of RSS; forked workers share
pages with their parent, which that sum counts twice, so ``peak_pss`` gives the largest sum of
PSS too (each shared page split between the processes sharing it).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from pathlib import Path

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Run:
    """What one command cost, and what it printed."""

    wall: float  # seconds
    cpu: float  # seconds, user + system, process tree: max(cpu_waited, cpu_polled)
    cpu_waited: float  # seconds, from os.wait4
    cpu_polled: float  # seconds, sum of the last polled CPU time of every process seen
    peak_rss: int  # bytes
    peak_pss: int  # bytes; 0 where the system does not report PSS
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Cycle:
    """One measured check cycle of a tool, and what it reported."""

    run: Run
    changed: set[str]  # URLs reported as changed
    errors: int  # pages the tool reported as failed
    extra: dict[str, Any] = field(default_factory=dict)


class _TreeWatcher:
    """Polls a process tree: peak RSS and PSS sums, last CPU time of every process seen."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self.peak_pss = 0
        self.cpu: dict[int, float] = {}
        self._pss_ok = True
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (the process has ended)."""
        self._done.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:  # the root is gone: wait4 has its figures
                return
            rss = pss = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        rss += proc.memory_info().rss
                        times = proc.cpu_times()
                    self.cpu[proc.pid] = times.user + times.system
                    if self._pss_ok:
                        pss += proc.memory_full_info().pss
                except psutil.AccessDenied:
                    self._pss_ok = False
                except (psutil.Error, AttributeError):  # ended meanwhile, or no PSS here
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss) if self._pss_ok else 0
            self._done.wait(POLL_SECONDS)


def run_measured(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> Run:
    """Run ``cmd`` to completion and measure it."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as inp,
    ):
        if stdin is not None:
            inp.write(stdin.encode("utf-8"))
            inp.seek(0)
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=inp, stdout=out, stderr=err)
        watcher = _TreeWatcher(proc.pid)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: take the command (and its workers) down with us
            for child in [*watcher.root.children(recursive=True), watcher.root]:
                child.kill()
            watcher.stop()
            proc.wait()
            raise
        wall = time.perf_counter() - start
        watcher.stop()
        waited = usage.ru_utime + usage.ru_stime
        polled = sum(watcher.cpu.values())
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen
        out.seek(0)
        err.seek(0)
        return Run(
            wall=wall,
            cpu=max(waited, polled),
            cpu_waited=waited,
            cpu_polled=polled,
            peak_rss=max(watcher.peak_rss, usage.ru_maxrss * 1024),
            peak_pss=watcher.peak_pss,
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
