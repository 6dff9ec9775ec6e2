"""Staff UI fixtures: an owner and a (non-owner) staff member of the AT practice."""

from __future__ import annotations

import pytest
from django.test import Client

# The real SMTP server on loopback (aiosmtpd + trustme CA) for the e-mail settings page.
from tests.providers.conftest import ca, ca_file, smtp_tls, trusted  # noqa: F401

from praxisbote.patients.services import create_patient
from praxisbote.practices.services import create_user

STAFF_PASSWORD = "Geheim-Passwort-2026"


@pytest.fixture
def owner_client(staff_client):
    """The root conftest's ``staff_client`` is logged in as the owner; name it so."""
    return staff_client


@pytest.fixture
def assistant(practice):
    user, _ = create_user(
        practice=practice, email="empfang@praxis.test", role="staff", password=STAFF_PASSWORD
    )
    return user


@pytest.fixture
def assistant_client(assistant):
    client = Client()
    client.force_login(assistant)
    return client


@pytest.fixture
def patient(practice):
    return create_patient(
        practice,
        {
            "first_name": "Anna",
            "last_name": "Huber",
            "mobile": "067612345678",
            "email": "anna@example.at",
            "consent": {"sms": {"granted": True, "source": "Anmeldebogen"}},
        },
    )
