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
def sms_practice(practice):
    practice.sms_enabled = True
    practice.save()
    return practice


@pytest.fixture
def category(practice):
    return save_category(practice, None, {"name": "Prophylaxe", "channels": ["sms", "email"]})
