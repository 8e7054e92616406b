"""Fixtures of the alert tests: real receivers on 127.0.0.1 (see receivers.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.alerts.receivers import SmtpSink, WebhookSink

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """An SMTP server (aiosmtpd) on 127.0.0.1, behind ``smtp.url()``."""
    sink = SmtpSink()
    yield sink
    sink.close()


@pytest.fixture
def smtp_login() -> Iterator[SmtpSink]:
    """An SMTP server that requires the login ``alice`` / ``pw-S3CRET-smtp`` (AUTH without TLS)."""
    sink = SmtpSink(login=("alice", "pw-S3CRET-smtp"))
    yield sink
    sink.close()


@pytest.fixture
def webhook() -> Iterator[WebhookSink]:
    """A JSON webhook on 127.0.0.1 recording POSTs, behind ``webhook.url()``."""
    sink = WebhookSink()
    yield sink
    sink.close()
