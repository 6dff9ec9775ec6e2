"""Shared fixtures: two practices, keys for each, API clients."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("PRAXISBOTE_DATA_DIR", tempfile.mkdtemp(prefix="praxisbote-test-"))

import pytest
from django.test import Client

from praxisbote.practices.services import (
    create_api_key,
    create_practice,
    create_user,
)

STAFF_PASSWORD = "Geheim-Passwort-2026"


class ApiClient:
    """A Django test client that sends the practice's bearer key and JSON bodies."""

    def __init__(self, key: str) -> None:
        # Integrators' tools usually ask for English; German is the default without a header.
        self.client = Client(headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"})

    def get(self, path: str, **params):
        return self.client.get(path, params)

    def post(self, path: str, data=None, headers=None):
        return self.client.post(
            path, data or {}, content_type="application/json", headers=headers or {}
        )

    def patch(self, path: str, data=None):
        return self.client.patch(path, data or {}, content_type="application/json")

    def put(self, path: str, data=None):
        return self.client.put(path, data or {}, content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(path)


@pytest.fixture
def practice(db):
    return create_practice(name="Praxis Dr. Huber", country="AT", phone="+43 1 5551234")


@pytest.fixture
def other_practice(db):
    return create_practice(name="Praxis Berlin", country="DE")


@pytest.fixture
def api_key(practice):
    return create_api_key(practice, "test").secret


@pytest.fixture
def api(api_key):
    return ApiClient(api_key)


@pytest.fixture
def other_api(other_practice):
    return ApiClient(create_api_key(other_practice, "other").secret)


@pytest.fixture
def owner(practice):
    user, _ = create_user(
        practice=practice, email="owner@praxis.test", role="owner", password=STAFF_PASSWORD
    )
    return user


@pytest.fixture
def staff_client(owner):
    client = Client()
    client.force_login(owner)
    return client
