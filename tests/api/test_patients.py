"""Patients through the API: validation, normalisation, consent, GDPR."""

from __future__ import annotations

import pytest

from praxisbote.patients.models import Patient


def test_austrian_mobile_is_normalised_to_e164(api):
    response = api.post("/api/v1/patients", {"last_name": "Huber", "mobile": "067612345678"})
    assert response.status_code == 201, response.content
    assert response.json()["mobile"] == "+4367612345678"


@pytest.mark.parametrize("raw", ["004367612345678", "+43 676 12345678", "+4367612345678"])
def test_international_prefixes_are_accepted(api, raw):
    response = api.post("/api/v1/patients", {"last_name": "Huber", "mobile": raw})
    assert response.status_code == 201
    assert response.json()["mobile"] == "+4367612345678"


def test_german_practice_reads_numbers_as_german(other_api):
    response = other_api.post("/api/v1/patients", {"last_name": "Meier", "mobile": "0151 23456789"})
    assert response.status_code == 201
    assert response.json()["mobile"] == "+4915123456789"


@pytest.mark.parametrize(
    ("raw", "words"),
    [("0123", "not a valid phone number"), ("01 5123456", "not a mobile number"), ("abc", "not")],
)
def test_invalid_or_landline_numbers_are_refused_with_the_field_named(api, raw, words):
    response = api.post("/api/v1/patients", {"last_name": "Huber", "mobile": raw})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert "mobile" in fields
    assert words in fields["mobile"]
    assert Patient.objects.count() == 0


def test_several_bad_fields_are_reported_together_and_nothing_is_written(api):
    response = api.post(
        "/api/v1/patients",
        {"last_name": "X", "email": "nope", "threema_id": "abc", "language": "fr"},
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"email", "threema_id", "language"} <= fields
    assert Patient.objects.count() == 0


def test_consent_at_defaults_to_now_and_keeps_source(api):
    response = api.post(
        "/api/v1/patients",
        {"last_name": "Huber", "consent": {"sms": {"granted": True, "source": "Anmeldebogen"}}},
    )
    consent = response.json()["consent"]["sms"]
    assert consent["granted"] is True
    assert consent["source"] == "Anmeldebogen"
    assert consent["at"].startswith("20")


def test_patch_changes_only_given_fields_and_invalid_patch_keeps_row(api):
    created = api.post(
        "/api/v1/patients", {"first_name": "Anna", "last_name": "Huber", "email": "a@b.at"}
    ).json()
    url = f"/api/v1/patients/{created['id']}"
    assert api.patch(url, {"first_name": "Anne"}).json()["email"] == "a@b.at"
    bad = api.patch(url, {"email": "broken", "first_name": "Zzz"})
    assert bad.status_code == 422
    again = api.get(url).json()
    assert again["first_name"] == "Anne"
    assert again["email"] == "a@b.at"


def test_search_and_pagination(api):
    for name in ("Huber", "Hubmann", "Maier"):
        api.post("/api/v1/patients", {"last_name": name})
    page = api.get("/api/v1/patients", q="hub", limit=1).json()
    assert page["count"] == 2
    assert len(page["items"]) == 1
    assert api.get("/api/v1/patients", limit=0).status_code == 422


def test_category_gives_defaults_and_patient_overrides(api):
    category = api.post(
        "/api/v1/categories", {"name": "Kinder", "channels": ["sms"], "notifications": ["reminder"]}
    ).json()
    patient = api.post(
        "/api/v1/patients", {"last_name": "Klein", "category_id": category["id"]}
    ).json()
    assert patient["effective_channels"] == ["sms"]
    patched = api.patch(f"/api/v1/patients/{patient['id']}", {"channels": ["email"]}).json()
    assert patched["effective_channels"] == ["email"]
    assert patched["effective_notifications"] == ["reminder"]


def test_automatic_channels_need_consent_and_address(practice):
    from praxisbote.patients.services import create_patient

    patient = create_patient(
        practice,
        {
            "last_name": "Huber",
            "email": "a@b.at",
            "mobile": "067612345678",
            "consent": {"email": {"granted": True}, "sms": {"granted": False}},
        },
    )
    assert patient.automatic_channels("reminder") == ["email"]


def test_export_holds_everything_and_erase_removes_personal_data(api):
    patient = api.post(
        "/api/v1/patients",
        {"first_name": "Anna", "last_name": "Huber", "mobile": "067612345678", "notes": "x"},
    ).json()
    export = api.get(f"/api/v1/patients/{patient['id']}/export").json()
    assert export["patient"]["mobile"] == "+4367612345678"
    assert export["practice"]["name"] == "Praxis Dr. Huber"
    assert api.delete(f"/api/v1/patients/{patient['id']}").status_code == 204
    row = Patient.objects.get(pk=patient["id"])
    assert row.erased_at is not None
    assert (row.first_name, row.last_name, row.mobile, row.notes) == ("", "", "", "")
    assert api.get(f"/api/v1/patients/{patient['id']}").status_code == 404
