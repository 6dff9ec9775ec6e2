"""API keys in the staff UI: listed, created (secret shown once), revoked after asking."""

from __future__ import annotations

import re

from django.test import Client

from praxisbote.practices.models import ApiKey
from praxisbote.practices.services import create_api_key

from .helpers import text


def key_check(secret: str) -> int:
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    return client.get("/api/v1/key-check").status_code


def test_a_new_key_is_shown_once_and_works(owner_client, practice):
    response = owner_client.post("/api-keys/", {"name": "Praxissoftware"})
    assert response.status_code == 200
    secret = re.search(r'value="(pb_[^"]+)"', response.content.decode()).group(1)
    assert key_check(secret) == 200
    key = ApiKey.objects.get(practice=practice, name="Praxissoftware")
    listing = owner_client.get("/api-keys/").content.decode()
    assert key.prefix in listing
    assert secret not in listing, "the secret is never shown again"


def test_a_key_needs_a_name(owner_client, practice):
    response = owner_client.post("/api-keys/", {"name": ""})
    assert response.status_code == 200
    assert 'id="id_name_error"' in response.content.decode()
    assert not ApiKey.objects.filter(practice=practice).exists()


def test_revoking_asks_first_then_the_key_stops_working(owner_client, practice):
    issued = create_api_key(practice, "Altsystem")
    url = f"/api-keys/{issued.key.pk}/revoke/"
    confirm = owner_client.get(url)
    assert confirm.status_code == 200
    assert "Altsystem" in text(confirm.content)
    assert key_check(issued.secret) == 200, "GET asks, it does not revoke"
    assert owner_client.post(url).status_code == 302
    assert key_check(issued.secret) == 401
    issued.key.refresh_from_db()
    assert issued.key.revoked_at is not None


def test_list_shows_name_prefix_and_use(owner_client, practice):
    used = create_api_key(practice, "Kalender")
    key_check(used.secret)
    create_api_key(practice, "Unbenutzt")
    page = text(owner_client.get("/api-keys/").content)
    assert "Kalender" in page and "Unbenutzt" in page
    assert used.key.prefix in page


def test_staff_see_keys_but_cannot_create_or_revoke(assistant_client, practice):
    issued = create_api_key(practice, "Praxissoftware")
    assert assistant_client.get("/api-keys/").status_code == 200
    assert assistant_client.post("/api-keys/", {"name": "Meins"}).status_code == 403
    assert assistant_client.post(f"/api-keys/{issued.key.pk}/revoke/").status_code == 403
    assert key_check(issued.secret) == 200
    assert ApiKey.objects.filter(practice=practice).count() == 1
