"""/api/v1/templates: CRUD, validation at save time, previews with SMS figures (TPL-1..5)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from praxisbote.patients.services import create_patient
from praxisbote.texts.models import Block, Template

REMINDER = {
    "kind": "reminder",
    "channel": "sms",
    "language": "de",
    "text": "Erinnerung {{ patient.full_name }}: {{ appointment.when }}. Tel. {{ practice.phone }}",
}


@pytest.fixture
def created(api):
    response = api.post("/api/v1/templates", REMINDER)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_get_list_patch_delete(api, created, practice):
    assert created["kind"] == "reminder" and created["subject"] == "" and created["html"] == ""
    got = api.get(f"/api/v1/templates/{created['id']}").json()
    assert got["text"] == REMINDER["text"]
    api.post("/api/v1/templates", {**REMINDER, "language": "en", "text": "Hi {{ patient.name }}"})
    api.post(
        "/api/v1/templates",
        {"kind": "recall", "channel": "email", "language": "de", "subject": "S", "text": "T"},
    )
    listing = api.get("/api/v1/templates").json()
    assert listing["count"] == 3
    only = api.get("/api/v1/templates", kind="reminder", language="en").json()
    assert [t["language"] for t in only["items"]] == ["en"]
    assert api.get("/api/v1/templates", channel="email").json()["count"] == 1

    changed = api.patch(f"/api/v1/templates/{created['id']}", {"text": "Neu {{ code }}"})
    assert changed.status_code == 200 and changed.json()["text"] == "Neu {{ code }}"
    assert Template.objects.get(pk=created["id"]).text == "Neu {{ code }}"

    assert api.delete(f"/api/v1/templates/{created['id']}").status_code == 204
    assert not Template.objects.filter(pk=created["id"]).exists()
    assert api.get(f"/api/v1/templates/{created['id']}").status_code == 404


def test_unknown_placeholder_is_a_field_error_with_line(api, created):
    response = api.patch(
        f"/api/v1/templates/{created['id']}",
        {"text": "Hallo {{ patient.name }}\nTermin {{ appointment.datum }}"},
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "text" and error["line"] == 2
    assert "has no field 'datum'" in error["message"]
    # nothing stored changed
    assert Template.objects.get(pk=created["id"]).text == REMINDER["text"]


def test_syntax_error_in_subject_and_html(api):
    response = api.post(
        "/api/v1/templates",
        {
            "kind": "confirmation",
            "channel": "email",
            "language": "de",
            "subject": "Termin {{ appointment.when",
            "text": "ok",
            "html": "<p>\n{% if patient %}\n</p>",
        },
    )
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["subject"]["line"] == 1 and "Syntax error" in errors["subject"]["message"]
    assert errors["html"]["line"] == 2  # the unclosed {% if %}
    assert not Template.objects.exists()


def test_bad_choices_and_duplicates(api, created):
    response = api.post("/api/v1/templates", {**REMINDER, "kind": "spam", "channel": "fax"})
    fields = {e["field"] for e in response.json()["errors"]}
    assert response.status_code == 422 and {"kind", "channel"} <= fields
    duplicate = api.post("/api/v1/templates", REMINDER)
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "kind"
    assert Template.objects.count() == 1


def test_attribute_escape_is_refused_at_save(api):
    response = api.post("/api/v1/templates", {**REMINDER, "text": "{{ patient.__class__ }}"})
    assert response.status_code == 422
    assert "__class__" in response.json()["errors"][0]["message"]


def test_defaults_listing(api):
    rows = api.get("/api/v1/templates/defaults", kind="reminder", channel="sms").json()
    assert {r["language"] for r in rows} == {"de", "en"}
    assert all("{{ practice.phone }}" in r["text"] for r in rows)


def test_preview_with_sample_data_has_sms_figures(api, practice):
    response = api.post("/api/v1/templates/preview", REMINDER)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sample_data"] is True
    assert body["text"].startswith("Erinnerung Silvana Müller: ")
    assert body["sms"]["encoding"] == "GSM-7" and body["sms"]["segments"] == 1
    assert Decimal(body["cost"]) == Decimal("0.1") and body["currency"] == "EUR"
    assert body["sms"]["characters"] == len(body["text"])


def test_preview_of_saved_template_for_a_patient(api, created, practice):
    patient = create_patient(practice, {"first_name": "Zoë", "last_name": "Ång"})
    response = api.post(
        f"/api/v1/templates/{created['id']}/preview", {"patient_id": str(patient.pk)}
    )
    body = response.json()
    assert body["sample_data"] is False
    assert body["text"].startswith("Erinnerung Zoë Ång:")
    assert body["sms"]["encoding"] == "UCS-2"  # ë is not GSM
    assert body["sms"]["non_gsm_characters"] == ["ë"]


def test_long_real_names_push_into_a_second_part(api, practice):
    # 150 GSM characters with "Silvana Müller": one part; the long real name needs two.
    text = "Erinnerung {{ patient.full_name }}: " + "x" * (150 - len("Erinnerung Silvana Müller: "))
    create_patient(practice, {"first_name": "Anna", "last_name": "Eder"})
    create_patient(
        practice, {"first_name": "Maximiliane", "last_name": "Schwarzenberger-Hohenstein"}
    )
    body = api.post("/api/v1/templates/preview", {**REMINDER, "text": text}).json()
    assert body["sms"]["segments"] == 1
    long = body["long_name"]
    assert long["from_patients"] is True
    assert long["name"] == "Maximiliane Schwarzenberger-Hohenstein"
    assert long["segments"] == 2 and Decimal(long["cost"]) == Decimal("0.2")
    (warning,) = body["warnings"]
    assert "Maximiliane Schwarzenberger-Hohenstein" in warning and "2 parts" in warning


def test_no_warning_when_long_names_still_fit(api, practice):
    create_patient(
        practice, {"first_name": "Maximiliane", "last_name": "Schwarzenberger-Hohenstein"}
    )
    body = api.post("/api/v1/templates/preview", {**REMINDER, "text": "Hallo {{ patient.name }}"})
    assert body.json()["warnings"] == []
    assert body.json()["long_name"]["segments"] == 1


def test_long_sample_when_practice_has_no_patients(api):
    body = api.post("/api/v1/templates/preview", REMINDER).json()
    assert body["long_name"]["from_patients"] is False
    assert body["long_name"]["name"] == "Maximiliane Schwarzenberger-Hohenstein"


def test_preview_of_invalid_unsaved_source_is_422_with_line(api):
    response = api.post(
        "/api/v1/templates/preview", {**REMINDER, "text": "ok\n{% if patient %}offen"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["line"] == 2


def test_email_preview_has_subject_and_html_and_no_sms(api):
    body = api.post(
        "/api/v1/templates/preview",
        {
            "kind": "confirmation",
            "channel": "email",
            "language": "en",
            "subject": "Appointment {{ appointment.when }}",
            "text": "{{ salutation }}\n\nSee you.",
        },
    ).json()
    assert body["subject"].startswith("Appointment ") and " at " in body["subject"]
    assert body["html"].startswith("<p>Dear Frau Müller,</p>")
    assert body["sms"] is None and Decimal(body["cost"]) == 0


def test_preview_for_another_practices_patient_is_404(api, other_practice):
    stranger = create_patient(other_practice, {"last_name": "Fremd"})
    response = api.post("/api/v1/templates/preview", {**REMINDER, "patient_id": str(stranger.pk)})
    assert response.status_code == 404


def test_blocks_list_set_and_reset(api, practice):
    rows = api.get("/api/v1/text-blocks").json()
    assert len(rows) == 2 * 3 * 2 and all(r["is_default"] for r in rows)
    response = api.put(
        "/api/v1/text-blocks",
        {"name": "greeting", "channel": "sms", "language": "de", "text": "{{ practice.name }}"},
    )
    assert response.status_code == 200 and response.json()["is_default"] is False
    body = api.post("/api/v1/templates/preview", {**REMINDER, "text": "x {{ greeting }}"}).json()
    assert body["text"] == f"x {practice.name}"
    bad = api.put(
        "/api/v1/text-blocks",
        {"name": "greeting", "channel": "sms", "language": "de", "text": "{{ greeting }}"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "text"
    assert Block.objects.get().text == "{{ practice.name }}"
    reset = api.delete("/api/v1/text-blocks?name=greeting&channel=sms&language=de")
    assert reset.status_code == 204 and not Block.objects.exists()


def test_other_practice_cannot_see_or_change(api, other_api, created):
    assert other_api.get("/api/v1/templates").json()["count"] == 0
    tid = created["id"]
    assert other_api.get(f"/api/v1/templates/{tid}").status_code == 404
    assert other_api.patch(f"/api/v1/templates/{tid}", {"text": "x"}).status_code == 404
    assert other_api.post(f"/api/v1/templates/{tid}/preview").status_code == 404
    assert other_api.delete(f"/api/v1/templates/{tid}").status_code == 404
    assert Template.objects.get(pk=tid).text == REMINDER["text"]


def test_mass_notices_cannot_name_the_patient(api):
    """Seed 001: mass notices are general, no personalisation."""
    mass = {"kind": "mass", "channel": "sms", "language": "de"}
    response = api.post("/api/v1/templates", {**mass, "text": "Hallo\n{{ patient.name }}"})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["line"] == 2 and "mass notice" in error["message"]
    ok = api.post("/api/v1/templates", {**mass, "text": "Praxis zu. {{ practice.phone }}"})
    assert ok.status_code == 201
    # other kinds may still use it
    assert api.post("/api/v1/templates/preview", {**REMINDER}).status_code == 200


def booked(practice, **patient_fields):
    from datetime import UTC, datetime

    from praxisbote.appointments.services import create_appointment

    patient = create_patient(
        practice, {"first_name": "Maria", "last_name": "Berger", **patient_fields}
    )
    start = datetime(2030, 8, 19, 14, 30, tzinfo=UTC)  # 16:30 in Vienna (summer)
    appointment, _written = create_appointment(
        practice,
        {
            "patient_id": patient.pk,
            "start": start,
            "end": start.replace(hour=15),
            "location": "Raum 3",
        },
        send_confirmation=False,
        create_reminders=False,
    )
    return appointment


def test_preview_for_a_real_appointment_uses_its_patient_time_and_slip(api, practice):
    from praxisbote.appointments import slip

    appointment = booked(practice)
    text = "{{ patient.full_name }}: {{ appointment.when }}, {{ appointment.location }} {{ link }}"
    body = api.post(
        "/api/v1/templates/preview",
        {**REMINDER, "text": text, "appointment_id": str(appointment.pk)},
    ).json()
    assert body["sample_data"] is False
    url = slip.url_of(appointment)
    assert url and body["text"] == f"Maria Berger: 19.08. um 16:30 Uhr, Raum 3 {url}"


def test_preview_of_another_practices_appointment_is_404(api, other_practice):
    foreign = booked(other_practice)
    response = api.post(
        "/api/v1/templates/preview", {**REMINDER, "appointment_id": str(foreign.pk)}
    )
    assert response.status_code == 404


def test_a_name_outside_gsm_makes_the_sms_ucs2_and_is_found(api, practice):
    """'ë' is not GSM-7: 'Zoë Ång' turns an 80-character SMS into UCS-2 (70 per SMS)."""
    create_patient(practice, {"first_name": "Anna", "last_name": "Eder-Hofbauer"})
    create_patient(practice, {"first_name": "Jürgen", "last_name": "Müller"})  # umlauts are GSM
    create_patient(practice, {"first_name": "Zoë", "last_name": "Ång"})
    text = "Termin {{ patient.full_name }}: " + "x" * (80 - len("Termin Silvana Müller: "))
    body = api.post("/api/v1/templates/preview", {**REMINDER, "text": text}).json()
    assert body["sms"]["segments"] == 1 and body["sms"]["encoding"] == "GSM-7"
    long = body["long_name"]
    assert long["name"] == "Zoë Ång"
    assert long["encoding"] == "UCS-2" and long["segments"] == 2
    (warning,) = body["warnings"]
    assert "Zoë Ång" in warning
