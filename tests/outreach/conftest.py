"""Patients with the consent and addresses the outreach tests need."""

from __future__ import annotations

from typing import Any

import pytest

from praxisbote.patients.services import create_patient, save_category


def consent(*channels: str) -> dict[str, Any]:
    return {c: {"granted": True, "source": "Anmeldebogen"} for c in channels}


def make_patient(practice, last_name: str, *, channels=None, consented=(), **fields):
    data: dict[str, Any] = {"last_name": last_name, "consent": consent(*consented), **fields}
    if channels is not None:
        data["channels"] = channels
    return create_patient(practice, data)


@pytest.fixture
def keep_language():
    """Requests through the test client activate a language and leave it active; tests
    that make them use this so that later tests see the language they started with."""
    from django.utils import translation

    language = translation.get_language()
    yield
    translation.activate(language) if language else translation.deactivate()


@pytest.fixture
def sms_practice(practice):
    practice.sms_enabled = True
    practice.save()
    return practice


@pytest.fixture
def category(practice):
    return save_category(practice, None, {"name": "Prophylaxe", "channels": ["sms", "email"]})


def no_quiet_hours(practice) -> None:
    """Tests that send "now" and drain must not depend on the hour they run at."""
    from datetime import time

    practice.quiet_hours_start = practice.quiet_hours_end = time(0, 0)
    practice.save(update_fields=["quiet_hours_start", "quiet_hours_end"])


def quiet_now(practice):
    """Quiet hours from an hour ago to an hour from now (practice time): the current moment
    is quiet whenever the test runs. Returns when they end (UTC)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    local = datetime.now(ZoneInfo(practice.timezone)).replace(second=0, microsecond=0)
    practice.quiet_hours_start = (local - timedelta(hours=1)).time()
    practice.quiet_hours_end = (local + timedelta(hours=1)).time()
    practice.save(update_fields=["quiet_hours_start", "quiet_hours_end"])
    return (local + timedelta(hours=1)).astimezone(UTC)
