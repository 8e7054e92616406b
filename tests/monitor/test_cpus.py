"""How many processes "one per core" means: affinity and cgroup quota, read as the kernel lays them out."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from monitor.cpus import cgroup_cpu_quota, usable_cpus
from tests.conftest import ROOT


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_cgroup_v2_quota_of_the_unit_and_of_its_slice(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    root = tmp_path / "fs"
    write(proc, "0::/system.slice/veille.service\n")
    write(root / "cpu.max", "max 100000\n")
    write(root / "system.slice/cpu.max", "max 100000\n")
    write(root / "system.slice/veille.service/cpu.max", "150000 100000\n")  # CPUQuota=150%
    assert cgroup_cpu_quota(proc, root) == 1.5
    assert usable_cpus(proc, root) == 1
    write(root / "system.slice/cpu.max", "50000 100000\n")  # the slice is tighter still
    assert cgroup_cpu_quota(proc, root) == 0.5
    assert usable_cpus(proc, root) == 1  # never fewer than one
    write(root / "system.slice/cpu.max", "max 100000\n")
    write(root / "system.slice/veille.service/cpu.max", "max 100000\n")
    assert cgroup_cpu_quota(proc, root) is None


def test_cgroup_v1_quota_and_no_cgroup_at_all(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    root = tmp_path / "fs"
    write(proc, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n")
    write(root / "cpu/docker/abc/cpu.cfs_quota_us", "200000\n")
    write(root / "cpu/docker/abc/cpu.cfs_period_us", "100000\n")
    write(root / "cpu/cpu.cfs_quota_us", "-1\n")  # no limit at the top
    write(root / "cpu/cpu.cfs_period_us", "100000\n")
    assert cgroup_cpu_quota(proc, root) == 2.0
    assert usable_cpus(proc, root) == min(2, len(os.sched_getaffinity(0)))
    assert cgroup_cpu_quota(tmp_path / "missing", root) is None
    assert usable_cpus(tmp_path / "missing", root) == len(os.sched_getaffinity(0))


def test_a_process_in_a_real_limited_cgroup_counts_its_quota() -> None:
    """A cgroup of this machine limited to 1.5 CPUs: a process inside it counts one."""
    name = f"veille-test-{uuid.uuid4().hex[:8]}"
    v1 = Path("/sys/fs/cgroup/cpu")
    v2 = Path("/sys/fs/cgroup")
    if (v1 / "cpu.cfs_quota_us").exists():
        folder = v1 / name
        files = {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "150000"}
    elif (v2 / "cgroup.controllers").exists() and "cpu" in (v2 / "cgroup.subtree_control").read_text().split():
        folder = v2 / name
        files = {"cpu.max": "150000 100000"}
    else:
        pytest.skip("no cgroup CPU controller to try here")
    try:
        folder.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot create a cgroup here: {exc}")
    try:
        for file, value in files.items():
            (folder / file).write_text(value, encoding="utf-8")
        code = (
            "import os, sys\n"
            f"open({str(folder / 'cgroup.procs')!r}, 'w').write(str(os.getpid()))\n"
            "from monitor.cpus import cgroup_cpu_quota, usable_cpus\n"
            "print(cgroup_cpu_quota(), usable_cpus())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["1.5", "1"], done.stdout + done.stderr
    finally:
        folder.rmdir()
