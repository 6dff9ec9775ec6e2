"""Templates in the staff UI (TPL-1..5): list, editor, errors next to the field, blocks,
the JSON preview the editor calls, and filling the compose page from a template."""

from __future__ import annotations

import pytest

from praxisbote.messaging.models import Message
from praxisbote.patients.services import create_patient
from praxisbote.texts.models import Block, Template

from .helpers import de, field_error, text

EDIT = "/templates/reminder/sms/de/"


def test_list_shows_every_kind_with_default_or_own(owner_client, practice):
    Template.objects.create(
        practice=practice, kind="recall", channel="sms", language="de", text="x"
    )
    page = owner_client.get("/templates/")
    assert page.status_code == 200
    body = text(page.content)
    assert de("Templates") in body
    assert body.count(de("own")) >= 1
    assert 'href="/templates/recall/sms/de/"' in page.content.decode()
    assert 'href="/templates/invitation/threema/en/"' in page.content.decode()


def test_editor_starts_with_shipped_text_and_its_preview(owner_client, practice):
    page = owner_client.get(EDIT)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Verhindert? Tel. {{ practice.phone }}" in content
    body = text(page.content)
    assert "Erinnerung Silvana Müller:" in body  # rendered preview with sample data
    assert "GSM-7" in body and "1 SMS" in body
    assert 'name="subject"' not in content  # SMS: text only


def test_save_valid_template(owner_client, practice):
    response = owner_client.post(
        EDIT, {"text": "Hallo {{ patient.name }}, bis {{ appointment.time }}"}
    )
    assert response.status_code == 302
    template = Template.objects.get(practice=practice)
    assert template.text == "Hallo {{ patient.name }}, bis {{ appointment.time }}"
    again = owner_client.get(EDIT)
    assert "Hallo Frau Müller, bis 16:30 Uhr" in text(again.content)


def test_invalid_template_error_next_to_field_with_line(owner_client, practice):
    response = owner_client.post(EDIT, {"text": "Hallo\n{{ patient.vorname }}"})
    assert response.status_code == 200
    message = field_error(response.content, "text")
    assert "Zeile 2" in message and "vorname" in message
    assert not Template.objects.exists()
    # what was typed is kept
    assert "{{ patient.vorname }}" in response.content.decode()


def test_email_editor_has_subject_and_html(owner_client, practice):
    response = owner_client.post(
        "/templates/confirmation/email/en/",
        {"subject": "Appt {{ appointment.when", "text": "ok", "html": ""},
    )
    assert "Syntax" in field_error(response.content, "subject")
    ok = owner_client.post(
        "/templates/confirmation/email/en/",
        {"subject": "Appt {{ appointment.when }}", "text": "{{ salutation }}", "html": ""},
    )
    assert ok.status_code == 302
    assert Template.objects.get().subject == "Appt {{ appointment.when }}"


def test_reset_to_shipped_text(owner_client, practice):
    owner_client.post(EDIT, {"text": "Eigener Text"})
    assert Template.objects.count() == 1
    owner_client.post(EDIT, {"reset": "1"})
    assert not Template.objects.exists()


def test_unknown_kind_is_404(owner_client):
    assert owner_client.get("/templates/spam/sms/de/").status_code == 404
    assert owner_client.get("/templates/reminder/fax/de/").status_code == 404


def test_preview_json(owner_client, practice):
    data = {"kind": "reminder", "channel": "sms", "language": "en", "text": "Hi {{ patient.name }}"}
    body = owner_client.post("/templates/preview/", data).json()
    assert body["text"] == "Hi Frau Müller"
    assert body["sms"]["segments"] == 1
    bad = owner_client.post("/templates/preview/", {**data, "text": "x\n\n{{ nope }}"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["line"] == 3


def test_preview_json_refuses_another_practices_patient(owner_client, other_practice):
    stranger = create_patient(other_practice, {"last_name": "Fremd"})
    data = {"kind": "reminder", "channel": "sms", "language": "de", "text": "x"}
    response = owner_client.post("/templates/preview/", {**data, "patient_id": str(stranger.pk)})
    assert response.status_code == 404


def test_blocks_page_saves_and_shows_errors(owner_client, practice):
    page = owner_client.get("/templates/blocks/")
    assert page.status_code == 200
    assert "Viele Grüße {{ practice.sender }}" in page.content.decode()
    response = owner_client.post(
        "/templates/blocks/",
        {"greeting_sms_de": "LG {{ practice.name }}", "salutation_sms_de": "Hallo,"},
    )
    # unchanged fields are not stored; the changed ones are
    assert response.status_code == 302
    stored = {(b.name, b.channel, b.language): b.text for b in Block.objects.all()}
    assert stored[("greeting", "sms", "de")] == "LG {{ practice.name }}"
    bad = owner_client.post("/templates/blocks/", {"greeting_sms_en": "{{ greeting }}"})
    assert "greeting" in field_error(bad.content, "greeting_sms_en")


@pytest.fixture
def maria(practice):
    return create_patient(
        practice,
        {
            "salutation": "Frau",
            "first_name": "Maria",
            "last_name": "Berger",
            "mobile": "06761234567",
            "language": "de",
            "consent": {"sms": {"granted": True, "source": "Bogen"}},
        },
    )


def test_compose_fills_text_from_template_and_sends_edited(owner_client, practice, maria):
    practice.sms_enabled = True
    practice.save()
    page = owner_client.get(
        f"/messages/new/?patient={maria.pk}&template=recall&template_channel=sms"
    )
    content = page.content.decode()
    assert "Hallo Frau Berger, es ist wieder Zeit für eine Kontrolle." in content
    assert 'name="kind" value="recall"' in content
    # staff edit the text before sending; the edited text is what goes to the outbox
    response = owner_client.post(
        "/messages/new/",
        {
            "patient_id": str(maria.pk),
            "channel": "sms",
            "kind": "recall",
            "text": "Hallo Frau Berger, bitte rufen Sie uns an: +43 1 5551234. Praxis Dr. Huber",
            "send": "1",
        },
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.kind == "recall"
    assert message.body.startswith("Hallo Frau Berger, bitte rufen Sie uns an")
    assert message.state == "queued"


def test_editor_only_touches_the_own_practice(owner_client, practice, other_practice):
    """The editor's URL names a kind, not a row: the other practice's template of the same
    kind is neither shown nor changed nor reset."""
    theirs = Template.objects.create(
        practice=other_practice, kind="reminder", channel="sms", language="de", text="Fremd"
    )
    assert "Fremd" not in owner_client.get(EDIT).content.decode()
    owner_client.post(EDIT, {"text": "Unser Text"})
    owner_client.post(EDIT, {"reset": "1"})
    theirs.refresh_from_db()
    assert theirs.text == "Fremd"
    assert Template.objects.filter(practice=practice).count() == 0
    assert "Fremd" not in owner_client.get("/templates/blocks/").content.decode()


def booked_for(practice, patient):
    from datetime import UTC, datetime

    from praxisbote.appointments.services import create_appointment

    start = datetime(2030, 8, 19, 14, 30, tzinfo=UTC)
    return create_appointment(
        practice,
        {"patient_id": patient.pk, "start": start, "end": start.replace(hour=15)},
        send_confirmation=False,
        create_reminders=False,
    )[0]


def test_message_about_an_appointment_from_its_page(owner_client, practice, maria):
    """Seed 001's speech bubble: a reminder text for this appointment, edited, then sent."""
    from praxisbote.appointments import slip

    practice.sms_enabled = True
    practice.save()
    appointment = booked_for(practice, maria)
    detail = owner_client.get(f"/appointments/{appointment.pk}/").content.decode()
    link = f"/messages/new/?appointment={appointment.pk}&amp;template=reminder"
    assert link in detail
    page = owner_client.get(f"/messages/new/?appointment={appointment.pk}&template=reminder")
    content = page.content.decode()
    expected = f"Erinnerung Maria Berger: 19.08. um 16:30 Uhr. Verhindert? Tel. {practice.phone}"
    assert expected in content
    assert slip.url_of(appointment) in content
    assert f'name="appointment_id" value="{appointment.pk}"' in content
    response = owner_client.post(
        "/messages/new/",
        {
            "patient_id": str(maria.pk),
            "appointment_id": str(appointment.pk),
            "channel": "sms",
            "kind": "reminder",
            "text": "Erinnerung Maria Berger: 19.08. um 16:30 Uhr. Bitte 10 Minuten früher.",
            "send": "1",
        },
    )
    assert response.status_code == 302
    message = Message.objects.get(kind="reminder")
    assert message.appointment_id == appointment.pk
    assert message.body.endswith("Bitte 10 Minuten früher.")


def test_compose_refuses_another_practices_appointment(
    owner_client, practice, maria, other_practice
):
    stranger = create_patient(other_practice, {"last_name": "Fremd"})
    foreign = booked_for(other_practice, stranger)
    assert owner_client.get(f"/messages/new/?appointment={foreign.pk}").status_code == 404
    practice.sms_enabled = True
    practice.save()
    before = Message.objects.count()
    response = owner_client.post(
        "/messages/new/",
        {
            "patient_id": str(maria.pk),
            "appointment_id": str(foreign.pk),
            "channel": "sms",
            "text": "x",
            "send": "1",
        },
    )
    assert response.status_code == 200
    assert Message.objects.count() == before
