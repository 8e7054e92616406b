"""How many CPUs this process may really use, for ``processes = 0`` (one process per core).

``os.cpu_count()`` counts the machine's cores, not this process's share of them: a container
limited to two CPUs on a 64-core host, or a systemd unit with ``CPUQuota=150%``, would start 64
check processes that then take turns on 1.5 cores. The share is the smallest of the CPUs the
process may be scheduled on (its affinity, a cpuset) and its cgroup's CPU quota (cgroup v2
``cpu.max``, or v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), rounded down, at least one.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cpus(proc_cgroup: Path = PROC_CGROUP, cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may use: its affinity, capped by its cgroup's quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota(proc_cgroup, cgroup_root)
    if quota is not None:
        count = min(count, math.floor(quota))
    return max(1, count)


def cgroup_cpu_quota(proc_cgroup: Path = PROC_CGROUP, cgroup_root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (1.5 for 150 %), or None for no limit.

    The limit of every cgroup between this one and the root counts: a unit inside a limited
    slice gets no more than the slice.
    """
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: "0::/system.slice/veille.service"
            limits += _limits(cgroup_root, path, _v2_quota)
        elif "cpu" in controllers.split(","):  # cgroup v1: "4:cpu,cpuacct:/docker/…"
            mounted = [d for d in (cgroup_root / "cpu", cgroup_root / controllers) if d.is_dir()]
            if mounted:
                limits += _limits(mounted[0], path, _v1_quota)
    return min(limits) if limits else None


def _limits(root: Path, path: str, read: Callable[[Path], float | None]) -> list[float]:
    """The quotas found in ``root``/``path`` and each of its parents up to ``root``."""
    found: list[float] = []
    folder = root / path.strip("/")
    while True:
        quota = read(folder)
        if quota is not None:
            found.append(quota)
        if folder == root or root not in folder.parents:
            return found
        folder = folder.parent


def _v2_quota(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text(encoding="utf-8").split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text(encoding="utf-8"))
        period = int((folder / "cpu.cfs_period_us").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period
