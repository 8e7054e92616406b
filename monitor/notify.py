"""systemd's notify protocol: READY, STATUS, WATCHDOG and STOPPING datagrams.

Under ``Type=notify`` systemd passes a datagram socket in ``$NOTIFY_SOCKET``; without it (a
terminal, cron, tests) every call here does nothing. With ``WatchdogSec=`` systemd also sets
``$WATCHDOG_USEC``; the daemon then pings at half that period from its event loop, so a loop
that hangs stops the pings and systemd restarts the service.
"""

from __future__ import annotations

import logging
import os

from sdnotify import SystemdNotifier

logger = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages when ``$NOTIFY_SOCKET`` is set, else nothing."""

    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        # debug=False: sdnotify's debug mode raises in its constructor without a socket.
        self._notifier = SystemdNotifier() if self.enabled else None

    def send(self, message: str) -> bool:
        """Send one datagram (``KEY=value`` lines); True when it was sent."""
        if self._notifier is None:
            return False
        self._notifier.notify(message)
        return True

    def ready(self, status: str) -> None:
        """The service is up (systemd's start job completes)."""
        self.send(f"READY=1\nSTATUS={status}")

    def status(self, text: str) -> None:
        """The one-line summary ``systemctl status`` shows."""
        self.send(f"STATUS={text}")

    def watchdog(self) -> None:
        """Still alive."""
        self.send("WATCHDOG=1")

    def stopping(self, status: str = "stopping") -> None:
        """Shutdown has begun."""
        self.send(f"STOPPING=1\nSTATUS={status}")

    def watchdog_period(self) -> float | None:
        """Seconds between two pings (half of ``$WATCHDOG_USEC``), or None without a watchdog."""
        if self._notifier is None:
            return None
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            period = int(usec) / 2_000_000
        except ValueError:
            logger.warning("ignoring WATCHDOG_USEC=%r: not a number of microseconds", usec)
            return None
        return period if period > 0 else None
