"""POST/GET /api/v1/messages: validation, idempotency, batches, credit, cancel."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from praxisbote.billing.models import CreditAccount
from praxisbote.billing.services import account_for, add_credit
from praxisbote.messaging.models import ChannelAccount, DeliveryEvent, Message
from praxisbote.messaging.services import attachment_dir
from praxisbote.patients.services import create_patient


def email(**extra):
    return {
        "channel": "email",
        "to": "anna@example.org",
        "subject": "Termin",
        "text": "Hallo",
        **extra,
    }


def test_message_is_written_queued_with_its_first_event_and_test_mode(api):
    response = api.post("/api/v1/messages", email())
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "queued"
    assert body["test_mode"] is True
    assert body["due_at"]
    assert [(e["from_state"], e["to_state"]) for e in body["events"]] == [("", "queued")]
    assert Message.objects.get(pk=body["id"]).state == "queued"


def test_patient_address_is_used_and_missing_address_is_named(api, practice):
    patient = create_patient(practice, {"last_name": "Huber", "email": "h@example.org"})
    ok = api.post(
        "/api/v1/messages", {"channel": "email", "patient_id": str(patient.pk), "text": "Hallo"}
    )
    assert ok.json()["recipient"] == "h@example.org"
    assert ok.json()["patient_id"] == str(patient.pk)
    practice.threema_enabled = True
    practice.save()
    bad = api.post(
        "/api/v1/messages", {"channel": "threema", "patient_id": str(patient.pk), "text": "Hallo"}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "patient_id"


def test_switched_off_channel_and_bad_address_are_422_and_nothing_is_written(api):
    sms = api.post("/api/v1/messages", {"channel": "sms", "to": "067612345678", "text": "x"})
    assert sms.status_code == 422
    assert {e["field"] for e in sms.json()["errors"]} == {"channel"}
    bad = api.post("/api/v1/messages", email(to="not-an-address"))
    assert {e["field"] for e in bad.json()["errors"]} == {"to"}
    assert Message.objects.count() == 0
    assert DeliveryEvent.objects.count() == 0


def test_idempotency_key_replays_and_conflicts(api):
    first = api.post("/api/v1/messages", email(), headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/messages", email(), headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = api.post("/api/v1/messages", email(text="Anders"), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409
    assert other["Content-Type"] == "application/problem+json"
    assert Message.objects.count() == 1


def test_idempotency_keys_are_per_practice(api, other_api):
    a = api.post("/api/v1/messages", email(), headers={"Idempotency-Key": "same"})
    b = other_api.post("/api/v1/messages", email(), headers={"Idempotency-Key": "same"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


def test_batch_is_all_or_nothing_with_indexed_field_names(api):
    messages = [email(to=f"p{i}@example.org") for i in range(5)]
    messages[3]["to"] = "broken"
    response = api.post("/api/v1/messages/batch", {"messages": messages})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["messages.3.to"]
    assert Message.objects.count() == 0
    messages[3]["to"] = "ok@example.org"
    created = api.post("/api/v1/messages/batch", {"messages": messages})
    assert created.status_code == 201
    assert created.json()["count"] == 5
    assert Message.objects.filter(state="queued").count() == 5
    assert DeliveryEvent.objects.count() == 5


def test_batch_over_ten_thousand_is_refused(api):
    response = api.post("/api/v1/messages/batch", {"messages": [email()] * 10_001})
    assert response.status_code == 422
    assert Message.objects.count() == 0


def test_sms_cost_uses_free_units_then_credit_and_402_queues_nothing(api, sms_practice):
    def sms(text="Termin morgen 10 Uhr"):
        return {"channel": "sms", "to": "067612345678", "text": text}

    five = api.post("/api/v1/messages/batch", {"messages": [sms()] * 5})
    assert five.status_code == 201
    assert Decimal(five.json()["cost"]) == 0  # 5 free per month (seed 001)
    refused = api.post("/api/v1/messages", sms())
    assert refused.status_code == 402
    assert refused.json()["needed"] == "0.1000"
    assert Message.objects.count() == 5
    add_credit(sms_practice, Decimal("1.00"))
    two_parts = api.post("/api/v1/messages", sms("x" * 161))
    assert two_parts.status_code == 201
    assert two_parts.json()["segments"] == 2
    assert Decimal(two_parts.json()["cost"]) == Decimal("0.20")
    account = CreditAccount.objects.get(practice=sms_practice)
    assert account.reserved == Decimal("0.20")


def test_cancel_releases_credit_and_refuses_when_too_late(api, sms_practice):
    add_credit(sms_practice, Decimal("1"))
    account_for(sms_practice)
    CreditAccount.objects.filter(practice=sms_practice).update(free_sms_per_month=0)
    created = api.post("/api/v1/messages", {"channel": "sms", "to": "067612345678", "text": "x"})
    url = f"/api/v1/messages/{created.json()['id']}/cancel"
    cancelled = api.post(url)
    assert cancelled.json()["state"] == "cancelled"
    assert CreditAccount.objects.get(practice=sms_practice).reserved == 0
    assert api.post(url).status_code == 409


def test_scheduled_message_has_due_at_and_is_filterable(api, practice):
    patient = create_patient(
        practice,
        {"last_name": "Huber", "email": "h@example.org", "consent": {"email": {"granted": True}}},
    )
    later = api.post(
        "/api/v1/messages",
        {
            "channel": "email",
            "patient_id": str(patient.pk),
            "text": "Bis bald",
            "send_at": "2099-01-01T10:00:00+01:00",
            "kind": "reminder",
        },
    )
    assert later.json()["state"] == "scheduled"
    assert later.json()["due_at"].startswith("2099-01-01T09:00:00")
    api.post("/api/v1/messages", email())
    assert api.get("/api/v1/messages", state="scheduled").json()["count"] == 1
    assert api.get("/api/v1/messages", kind="reminder").json()["count"] == 1
    assert api.get("/api/v1/messages", patient_id=str(patient.pk)).json()["count"] == 1
    assert api.get("/api/v1/messages", channel="email").json()["count"] == 2
    assert api.get("/api/v1/messages", state="bogus").status_code == 422


def test_naive_send_at_is_refused(api):
    response = api.post("/api/v1/messages", email(send_at="2099-01-01T10:00:00"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "send_at"


def test_attachments_are_stored_encrypted_outside_the_row(api):
    pdf = b"%PDF-1.4 Rechnung 42"
    response = api.post(
        "/api/v1/messages",
        email(
            attachments=[
                {
                    "filename": "rechnung.pdf",
                    "content_type": "application/pdf",
                    "content_base64": base64.b64encode(pdf).decode(),
                }
            ]
        ),
    )
    assert response.status_code == 201
    meta = response.json()["attachments"][0]
    assert (meta["filename"], meta["size"]) == ("rechnung.pdf", len(pdf))
    stored = list(attachment_dir().rglob("*"))
    files = [p for p in stored if p.is_file()]
    assert files
    assert all(pdf not in p.read_bytes() for p in files)


def test_bad_base64_and_sms_attachments_are_named(api, sms_practice):
    bad = api.post(
        "/api/v1/messages", email(attachments=[{"filename": "a.pdf", "content_base64": "%%%"}])
    )
    assert bad.json()["errors"][0]["field"] == "attachments.0.content_base64"


def test_sensitive_message_refused_on_channel_not_cleared(api, practice):
    assert api.post("/api/v1/messages", email(sensitive=True)).status_code == 201
    ChannelAccount.objects.create(practice=practice, channel="email", provider="smtp")
    refused = api.post("/api/v1/messages", email(sensitive=True))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "sensitive"


def test_channels_say_test_mode_plainly(api, practice):
    channels = {c["channel"]: c for c in api.get("/api/v1/channels").json()}
    assert channels["email"]["test_mode"] is True
    assert "nothing leaves this server" in channels["email"]["notice"]
    ChannelAccount.objects.create(practice=practice, channel="email", provider="smtp")
    assert api.get("/api/v1/channels").json()[0]["test_mode"] is False
    back = api.post("/api/v1/channels/email/sandbox")
    assert back.json()["test_mode"] is True
    assert ChannelAccount.objects.get(practice=practice).config["previous_provider"] == "smtp"


def test_gdpr_export_lists_messages_and_erase_blanks_them(api, practice):
    patient = create_patient(practice, {"last_name": "Huber", "email": "h@example.org"})
    api.post(
        "/api/v1/messages", {"channel": "email", "patient_id": str(patient.pk), "text": "Befund da"}
    )
    export = api.get(f"/api/v1/patients/{patient.pk}/export").json()
    assert export["messages"][0]["text"] == "Befund da"
    api.delete(f"/api/v1/patients/{patient.pk}")
    message = Message.objects.get(patient=patient)
    assert (message.body, message.recipient, message.state) == ("", "", "cancelled")


@pytest.mark.parametrize("path", ["/api/v1/messages", "/api/v1/credits", "/api/v1/channels"])
def test_message_endpoints_need_a_key(client, db, path):
    assert client.get(path).status_code == 401


def test_reminder_needs_consent_for_the_channel(api, practice):
    patient = create_patient(practice, {"last_name": "Huber", "email": "h@example.org"})
    body = {"channel": "email", "patient_id": str(patient.pk), "text": "Morgen", "kind": "reminder"}
    refused = api.post("/api/v1/messages", body)
    assert refused.status_code == 422
    assert "consent" in refused.json()["errors"][0]["message"]
    assert api.post("/api/v1/messages", {**body, "kind": "free"}).status_code == 201


def test_api_answers_in_german_without_accept_language(api_key, db):
    from django.test import Client

    german = Client(headers={"Authorization": f"Bearer {api_key}"})
    response = german.post(
        "/api/v1/messages",
        {"channel": "sms", "to": "0676", "text": "x"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "nicht" in response.json()["errors"][0]["message"]


def test_service_reports_a_malformed_patient_id_as_a_field_error(practice):
    from django.core.exceptions import ValidationError

    from praxisbote.messaging.services import MessageSpec, create_messages

    with pytest.raises(ValidationError) as caught:
        create_messages(practice, [MessageSpec(channel="email", patient_id="nope", text="x")])
    assert "patient_id" in caught.value.message_dict


def test_free_units_are_counted_in_the_practices_month(practice, settings):
    from django.utils import timezone as tz

    from praxisbote.billing.models import FreeQuota
    from praxisbote.billing.services import month_key, reserve

    practice.sms_enabled = True
    practice.save()
    with tz.override("Pacific/Kiritimati"):  # a zone far from the practice's
        reserve(practice, [("sms", 1)])
    assert FreeQuota.objects.get(practice=practice, channel="sms").month == month_key(practice)
