"""Stored English reasons are shown in German in the staff UI, and stay English in the API.

The protocol list, a message's page and timeline, an appointment's timeline and the webhook
page read the same stored texts through the ``readable`` filter (messaging/reasons.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from praxisbote.appointments.services import cancel_appointment, create_appointment
from praxisbote.messaging import webhooks
from praxisbote.messaging.models import Message, State, WebhookDelivery
from praxisbote.messaging.reasons import CLAIMED_BY, GAVE_UP, NO_ANSWER_WITHIN
from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.messaging.worker import Worker
from praxisbote.providers import sandbox
from praxisbote.providers.sms import base as sms

from .helpers import de, text

REFUSED = "fail-permanent@example.org"


def _german_refusal() -> str:
    return de(sandbox.RULE_REFUSED.template) % {"recipient": REFUSED}


@pytest.mark.django_db(transaction=True)
def test_a_refusal_reads_german_on_the_protocol_and_english_in_the_api(owner_client, api, practice):
    [message] = create_messages(
        practice, [MessageSpec(channel="email", to=REFUSED, text="Hallo")]
    ).messages
    Worker(exit_when_idle=True, idle_seconds=0.05, run_jobs=False, worker_id="w-7").run()
    message.refresh_from_db()
    stored = sandbox.RULE_REFUSED.format(recipient=REFUSED)
    assert message.state == State.FAILED and message.last_error == stored

    listing = text(owner_client.get("/protocol/").content)
    assert _german_refusal() in listing and stored not in listing
    page = text(owner_client.get(f"/protocol/{message.pk}/").content)
    assert page.count(_german_refusal()) == 2, "last error and the timeline's failed event"
    assert de(CLAIMED_BY.template) % {"worker": "w-7"} in page
    assert stored not in page

    body = api.get(f"/api/v1/messages/{message.pk}").json()
    assert body["last_error"] == stored
    assert [e["detail"] for e in body["events"]] == ["queued", "claimed by w-7", stored]
    german = api.client.get(f"/api/v1/messages/{message.pk}", headers={"Accept-Language": "de"})
    assert german.json()["last_error"] == stored, "the API stays English whatever the header"


def test_a_nested_reason_is_german_at_both_levels(owner_client, practice):
    [message] = create_messages(
        practice, [MessageSpec(channel="email", to="anna@example.org", text="Hallo")]
    ).messages
    inner = sms.NO_CREDIT_DETAIL.format(gateway="seven.io", detail="code 500")
    stored = GAVE_UP.format(n=4, reason=inner)
    Message.objects.filter(pk=message.pk).update(state=State.EXPIRED, last_error=stored)
    page = text(owner_client.get(f"/protocol/{message.pk}/").content)
    german_inner = de(sms.NO_CREDIT_DETAIL.template) % {"gateway": "seven.io", "detail": "code 500"}
    assert de(GAVE_UP.template) % {"n": 4, "reason": german_inner} in page


def test_an_unknown_text_is_shown_as_stored(owner_client, practice):
    [message] = create_messages(
        practice, [MessageSpec(channel="email", to="anna@example.org", text="Hallo")]
    ).messages
    raw = "550 5.1.1 <anna@example.org>: Recipient address rejected: %(host)s"
    Message.objects.filter(pk=message.pk).update(state=State.FAILED, last_error=raw)
    assert raw in text(owner_client.get(f"/protocol/{message.pk}/").content)


def test_the_appointment_timeline_says_why_reminders_were_withdrawn(owner_client, patient):
    practice = patient.practice
    practice.sms_enabled = True
    practice.save()
    start = timezone.now() + timedelta(days=5)
    appointment, _written = create_appointment(
        practice,
        {"patient_id": str(patient.pk), "start": start, "end": start + timedelta(minutes=30)},
    )
    cancel_appointment(appointment)
    page = text(owner_client.get(f"/appointments/{appointment.pk}/").content)
    assert de("appointment cancelled") == "Termin abgesagt"
    assert "Termin abgesagt" in page and "appointment cancelled" not in page


def test_the_webhook_page_shows_the_last_error_in_german(owner_client, practice):
    webhooks.configure(practice, url="https://praxis.example/hook")
    create_messages(practice, [MessageSpec(channel="email", to="anna@example.org", text="Hallo")])
    stored = GAVE_UP.format(n=2, reason=NO_ANSWER_WITHIN.format(seconds="10"))
    WebhookDelivery.objects.filter(practice=practice).update(attempts=2, last_error=stored)
    page = text(owner_client.get("/webhook/").content)
    assert "aufgegeben nach 2 Versuchen: keine Antwort innerhalb von 10 s" in page
