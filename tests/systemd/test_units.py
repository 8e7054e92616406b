"""The unit files in systemd/: `systemd-analyze verify` must have nothing at all to say.

systemd-analyze reports unknown keys and unparsable values as warnings with exit code 0, so any
output fails the test. ExecStart must name an executable that exists, so each unit is checked
as a copy whose ExecStart points at this environment's `veille`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = sorted((ROOT / "systemd").glob("*.service"))
INSTALLED = "/opt/veille/bin/veille"  # where the units expect veille (docs/daemon.md)
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian package `systemd`)"
)


def _local_copy(unit: Path, folder: Path) -> Path:
    veille = Path(sys.executable).with_name("veille")
    assert veille.exists(), f"{veille}: install veille in this environment (pip install -e .)"
    text = unit.read_text(encoding="utf-8")
    assert INSTALLED in text, f"{unit.name}: ExecStart should run {INSTALLED}"
    copy = folder / unit.name
    copy.write_text(text.replace(INSTALLED, str(veille)), encoding="utf-8")
    return copy


def test_both_units_are_there() -> None:
    assert [unit.name for unit in UNITS] == ["veille-datasette.service", "veille.service"]


@needs_analyze
@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_analyze_verify_says_nothing(unit: Path, tmp_path: Path) -> None:
    copy = _local_copy(unit, tmp_path)
    proc = subprocess.run(
        [str(ANALYZE), "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path,
    )
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def _settings(unit: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"(\w+)=(.*)", line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_the_daemon_unit_is_a_hardened_notify_service() -> None:
    settings = _settings(ROOT / "systemd" / "veille.service")
    expected = {
        "Type": "notify", "Restart": "on-failure", "DynamicUser": "yes", "StateDirectory": "veille",
        "ConfigurationDirectory": "veille", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
        "KillMode": "control-group", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    }  # fmt: skip
    assert {key: settings.get(key) for key in expected} == expected
    for key in ("WatchdogSec", "MemoryMax", "TimeoutStopSec"):
        assert key in settings, key
    assert settings["ExecStart"].endswith(" run") and "HUP" in settings["ExecReload"]


def test_the_datasette_unit_serves_read_only_beside_the_daemon() -> None:
    daemon = _settings(ROOT / "systemd" / "veille.service")
    datasette = _settings(ROOT / "systemd" / "veille-datasette.service")
    assert datasette["ExecStart"].endswith(" serve")
    # The same user and state directory, so the reader can open the daemon's database.
    for key in ("User", "StateDirectory", "ConfigurationDirectory"):
        assert datasette[key] == daemon[key], key
    assert datasette["IPAddressAllow"] == "localhost"
