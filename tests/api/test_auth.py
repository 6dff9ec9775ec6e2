"""API keys, key check, problem details, OpenAPI."""

from __future__ import annotations

from django.test import Client

from praxisbote.practices.models import ApiKey
from praxisbote.practices.services import create_api_key, revoke_api_key


def test_key_check_names_the_practice(api, practice):
    body = api.get("/api/v1/key-check").json()
    assert body["valid"] is True
    assert body["practice_id"] == str(practice.id)
    assert body["practice_name"] == practice.name


def test_missing_wrong_and_revoked_keys_get_401_problem(practice):
    issued = create_api_key(practice, "x")
    assert Client().get("/api/v1/key-check").status_code == 401
    wrong = Client(headers={"Authorization": "Bearer " + issued.secret[:-2] + "zz"})
    response = wrong.get("/api/v1/key-check")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"]
    revoke_api_key(issued.key)
    revoked = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    assert revoked.get("/api/v1/key-check").status_code == 401


def test_key_is_stored_hashed_and_last_use_is_recorded(practice):
    issued = create_api_key(practice, "x")
    row = ApiKey.objects.get(pk=issued.key.pk)
    assert issued.secret not in (row.digest, row.prefix)
    assert row.last_used_at is None
    Client(headers={"Authorization": f"Bearer {issued.secret}"}).get("/api/v1/key-check")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_openapi_and_docs_are_public(db):
    spec = Client().get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert "/api/v1/patients" in spec.json()["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_practice_settings_patch_validates_everything_first(api, practice):
    response = api.patch("/api/v1/practice", {"phone": "+43 1 999", "timezone": "Mars/Base"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["timezone"]
    practice.refresh_from_db()
    assert practice.phone == "+43 1 5551234"
    ok = api.patch("/api/v1/practice", {"sms_enabled": True, "phone": "+43 1 999"})
    assert ok.json()["sms_enabled"] is True
    assert ok.json()["phone"] == "+43 1 999"


def test_new_practice_has_only_email_switched_on(api):
    body = api.get("/api/v1/practice").json()
    assert (body["email_enabled"], body["sms_enabled"], body["threema_enabled"]) == (
        True,
        False,
        False,
    )


def test_healthz(db):
    assert Client().get("/healthz").json()["status"] == "ok"
