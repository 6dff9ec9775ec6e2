"""Appointment fixtures: a patient who consented to SMS and e-mail, times in Vienna."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from praxisbote.patients.services import create_patient

VIENNA = ZoneInfo("Europe/Vienna")


def local(*args: int, zone: ZoneInfo = VIENNA) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.fixture
def patient(practice):
    return create_patient(
        practice,
        {
            "first_name": "Anna",
            "last_name": "Huber",
            "mobile": "067612345678",
            "email": "anna@example.at",
            "channels": ["sms", "email"],
            "consent": {
                "sms": {"granted": True, "source": "Anmeldebogen"},
                "email": {"granted": True, "source": "Anmeldebogen"},
            },
        },
    )


@pytest.fixture
def sms_practice(practice):
    practice.sms_enabled = True
    practice.save()
    return practice
