"""Helpers for outbox tests: draining the queue with a real worker."""

from __future__ import annotations

import pytest

from praxisbote.messaging.worker import Worker


def drain(**kwargs) -> Worker:
    """Run a real worker until nothing is due any more (jobs off unless asked)."""
    kwargs.setdefault("run_jobs", False)
    worker = Worker(exit_when_idle=True, idle_seconds=0.05, **kwargs)
    worker.run()
    return worker


@pytest.fixture
def fast_retries(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 0.01
    settings.OUTBOX_RETRY_CAP_SECONDS = 0.02
    return settings


@pytest.fixture
def sms_practice(practice):
    practice.sms_enabled = True
    practice.save()
    return practice
