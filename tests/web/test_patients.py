"""Patients in the staff UI: the API's validation, consent with time and source, GDPR."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from praxisbote.patients.models import Patient
from praxisbote.patients.services import create_patient, default_category, save_category

from .helpers import de, field_error, input_value, text

FORM = {"channels": "category", "category": ""}


def api_message(api, field: str, data: dict) -> str:
    """The message the API gives for ``field`` with the same input (in German)."""
    response = api.client.post(
        "/api/v1/patients", data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 422
    return {e["field"]: e["message"] for e in response.json()["errors"]}[field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mobile", "0123"),
        ("mobile", "01 5123456"),
        ("email", "anna@"),
        ("threema_id", "abc"),
        ("birth_date", "2999-01-01"),
        ("language", "fr"),
    ],
)
def test_a_mistake_gets_the_apis_message_next_to_its_field_and_the_input_stays(
    owner_client, api, field, value
):
    response = owner_client.post(
        "/patients/new/", {**FORM, "first_name": "Anna", "last_name": "Huber", field: value}
    )
    assert response.status_code == 200
    expected = api_message(api, field, {"last_name": "Huber", field: value})
    assert field_error(response.content, field) == expected
    if field != "language":
        assert input_value(response.content, field) == value
    assert input_value(response.content, "first_name") == "Anna"
    assert not Patient.objects.exists()


def test_several_mistakes_are_all_shown_and_listed_at_the_top(owner_client):
    response = owner_client.post(
        "/patients/new/", {**FORM, "last_name": "", "mobile": "abc", "email": "x"}
    )
    assert field_error(response.content, "mobile")
    assert field_error(response.content, "email")
    assert 'class="error-summary"' in response.content.decode()
    assert 'href="#id_mobile"' in response.content.decode()


def test_a_name_is_required(owner_client):
    response = owner_client.post("/patients/new/", {**FORM, "mobile": "067612345678"})
    message = de("Enter at least a first or a last name.")
    assert field_error(response.content, "last_name") == message


def test_austrian_mobile_is_saved_in_e164_and_shown_on_the_detail_page(owner_client, practice):
    response = owner_client.post(
        "/patients/new/", {**FORM, "last_name": "Huber", "mobile": "0676 123 456 78"}
    )
    patient = Patient.objects.get(practice=practice)
    assert response["Location"] == f"/patients/{patient.pk}/"
    assert patient.mobile == "+4367612345678"
    assert "+4367612345678" in text(owner_client.get(response["Location"]).content)


def test_new_patients_get_the_default_category_preselected(owner_client, practice):
    page = owner_client.get("/patients/new/").content.decode()
    default = default_category(practice)
    assert f'<option value="{default.pk}" selected>' in page


def test_consent_is_recorded_with_time_and_source(owner_client, practice):
    owner_client.post(
        "/patients/new/",
        {
            **FORM,
            "last_name": "Huber",
            "mobile": "067612345678",
            "consent_sms_granted": "on",
            "consent_sms_source": "Anmeldebogen",
        },
    )
    patient = Patient.objects.get(practice=practice)
    assert patient.consent["sms"]["granted"] is True
    assert patient.consent["sms"]["source"] == "Anmeldebogen"
    assert patient.consent["sms"]["at"]
    assert "email" not in patient.consent, "untouched channels record nothing"
    page = text(owner_client.get(f"/patients/{patient.pk}/").content)
    assert "Anmeldebogen" in page


def test_saving_without_touching_consent_keeps_its_time(owner_client, patient):
    before = patient.consent["sms"]["at"]
    form = owner_client.get(f"/patients/{patient.pk}/edit/")
    assert input_value(form.content, "consent_sms_source") == "Anmeldebogen"
    response = owner_client.post(
        f"/patients/{patient.pk}/edit/",
        {
            **FORM,
            "last_name": "Huber-Maier",
            "mobile": patient.mobile,
            "consent_sms_granted": "on",
            "consent_sms_source": "Anmeldebogen",
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.last_name == "Huber-Maier"
    assert patient.consent["sms"]["at"] == before


def test_withdrawing_consent_is_stamped(owner_client, patient):
    before = patient.consent["sms"]["at"]
    owner_client.post(
        f"/patients/{patient.pk}/edit/",
        {**FORM, "last_name": "Huber", "consent_sms_source": "Anruf"},
    )
    patient.refresh_from_db()
    assert patient.consent["sms"]["granted"] is False
    assert patient.consent["sms"]["source"] == "Anruf"
    assert patient.consent["sms"]["at"] != before


def test_channels_follow_the_category_or_an_own_order(owner_client, patient, practice):
    url = f"/patients/{patient.pk}/edit/"
    base = {"last_name": "Huber", "category": str(default_category(practice).pk)}
    owner_client.post(url, {**base, "channels": "own", "channel_1": "sms", "channel_2": "email"})
    patient.refresh_from_db()
    assert patient.channels == ["sms", "email"]
    owner_client.post(url, {**base, "channels": "category", "channel_1": "threema"})
    patient.refresh_from_db()
    assert patient.channels is None


def test_search_finds_by_name_and_mobile_and_pages_through(owner_client, practice):
    for i in range(30):
        create_patient(practice, {"last_name": f"Muster{i:02d}"})
    create_patient(practice, {"last_name": "Gruber", "mobile": "+4367698765432"})
    first = text(owner_client.get("/patients/").content)
    assert "Muster00" in first and "Muster29" not in first
    second = text(owner_client.get("/patients/?page=2").content)
    assert "Muster29" in second
    found = text(owner_client.get("/patients/?q=gruber").content)
    assert "Gruber" in found and "Muster00" not in found
    assert "Gruber" in text(owner_client.get("/patients/?q=067698765432").content)


def test_export_downloads_everything_held_as_json(owner_client, patient):
    response = owner_client.get(f"/patients/{patient.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["patient"]["mobile"] == "+4367612345678"
    assert data["patient"]["consent"]["sms"]["source"] == "Anmeldebogen"


def test_erasing_asks_first_then_removes_the_personal_data(owner_client, patient):
    url = f"/patients/{patient.pk}/erase/"
    assert "Anna Huber" in text(owner_client.get(url).content)
    patient.refresh_from_db()
    assert patient.erased_at is None, "GET asks, it does not erase"
    assert owner_client.post(url).status_code == 302
    patient.refresh_from_db()
    assert patient.erased_at is not None
    assert (patient.last_name, patient.mobile, patient.consent) == ("", "", {})
    assert owner_client.get(f"/patients/{patient.pk}/").status_code == 404
    assert "Anna" not in text(owner_client.get("/patients/").content)


def test_staff_members_manage_patients_too(assistant_client, patient):
    response = assistant_client.post(f"/patients/{patient.pk}/edit/", {**FORM, "last_name": "Neu"})
    assert response.status_code == 302


def test_categories_are_listed_created_and_edited(owner_client, practice):
    response = owner_client.post(
        "/categories/new/",
        {"name": "Kinder", "channel_1": "sms", "channel_2": "email", "notifications": ["recall"]},
    )
    assert response.status_code == 302
    category = practice.categories.get(name="Kinder")
    assert category.channels == ["sms", "email"]
    assert category.notifications == ["recall"]
    assert "Kinder" in text(owner_client.get("/categories/").content)
    response = owner_client.post(
        f"/categories/{category.pk}/edit/",
        {"name": "Kinder und Jugendliche", "channel_1": "email", "is_default": "on"},
    )
    assert response.status_code == 302
    category.refresh_from_db()
    assert category.name == "Kinder und Jugendliche"
    assert category.channels == ["email"]
    assert category.is_default
    assert default_category(practice) == category


def test_a_category_name_must_be_unique_in_the_practice(owner_client, practice):
    save_category(practice, None, {"name": "Kinder"})
    response = owner_client.post("/categories/new/", {"name": "Kinder"})
    assert field_error(response.content, "name") == de("A category with this name exists already.")


def test_the_overview_counts_patients(owner_client, patient):
    create_patient(patient.practice, {"last_name": "Zweite"})
    page = owner_client.get("/").content.decode()
    assert '<p class="big">2</p>' in page
    assert "Praxis Dr. Huber" in text(page)


def test_english_users_read_english_messages(owner, patient):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(f"/patients/{patient.pk}/edit/", {**FORM, "mobile": "0123"})
    assert "is not a valid phone number" in field_error(response.content, "mobile")
