"""Smart encoding as a practice setting (SMS-6): on by default, switched by PATCH, applied
when an SMS is written to the outbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from praxisbote.billing.services import add_credit
from praxisbote.messaging.models import Message

TYPOGRAPHIC = "\u201eBitte\u201c \u2013 Termin am Mo\u2026 " + "x" * 60  # 84 chars, UCS-2
PLAIN = '"Bitte" - Termin am Mo... ' + "x" * 60  # 86 septets, GSM-7


@pytest.fixture
def sms_on(practice):
    practice.sms_enabled = True
    practice.save()
    add_credit(practice, Decimal("5"))
    return practice


def _send(api, text):
    return api.post("/api/v1/messages", {"channel": "sms", "to": "067612345678", "text": text})


def test_on_by_default_and_switched_by_patch(api, practice):
    assert practice.sms_smart_encoding is True
    assert api.get("/api/v1/practice").json()["sms_smart_encoding"] is True
    off = api.patch("/api/v1/practice", {"sms_smart_encoding": False})
    assert off.status_code == 200
    assert off.json()["sms_smart_encoding"] is False
    practice.refresh_from_db()
    assert practice.sms_smart_encoding is False
    assert api.patch("/api/v1/practice", {"sms_smart_encoding": None}).status_code == 422
    assert api.patch("/api/v1/practice", {"sms_smart_encoding": "vielleicht"}).status_code == 422


def test_sending_replaces_lookalikes_when_on(api, sms_on):
    response = _send(api, TYPOGRAPHIC)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["text"] == PLAIN
    assert body["segments"] == 1  # 86 septets; as written: 84 UCS-2 units = 2 parts
    assert Message.objects.get().body == PLAIN


def test_sending_keeps_the_text_when_off(api, sms_on):
    api.patch("/api/v1/practice", {"sms_smart_encoding": False})
    response = _send(api, TYPOGRAPHIC)
    assert response.status_code == 201
    assert response.json()["text"] == TYPOGRAPHIC
    assert response.json()["segments"] == 2  # 84 units: 67 + 17


def test_sending_keeps_the_text_when_an_emoji_keeps_it_ucs2(api, sms_on):
    text = "\u201eBis bald\u201c \U0001f600"
    assert _send(api, text).json()["text"] == text


def test_email_is_never_changed(api, practice):
    text = "\u201eBitte\u201c \u2013 bis bald\u2026"
    response = api.post("/api/v1/messages", {"channel": "email", "to": "a@b.at", "text": text})
    assert response.status_code == 201, response.json()
    assert response.json()["text"] == text
