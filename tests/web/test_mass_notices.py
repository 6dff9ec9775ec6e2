"""Mass notices in the staff UI (APT-9): preview with cost, confirm, errors by the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.outreach.conftest import make_patient, no_quiet_hours

from praxisbote.messaging.models import Message
from praxisbote.outreach.models import MassNotice

from .helpers import field_error, hidden_field_error, input_value, text

TEXT = "Die Praxis bleibt am 24.12. geschlossen."


@pytest.fixture(autouse=True)
def _daytime(practice):
    """These tests send "now"; the quiet hours have their own tests (test_quiet_hours.py)."""
    no_quiet_hours(practice)


def _form(**extra):
    return {"channels": ["sms", "email"], "order": "patient", "text": TEXT, **extra}


def _crowd(practice):
    practice.sms_enabled = True
    practice.save()
    make_patient(practice, "Adler", mobile="+4367612345601", consented=("sms",), channels=["sms"])
    make_patient(practice, "Berger", email="b@example.org", consented=("email",))
    make_patient(practice, "Dorn", email="d@example.org")


def test_new_notice_starts_from_the_mass_template(owner_client, practice):
    page = owner_client.get("/mass-notices/new/")
    assert page.status_code == 200
    assert "Praxis Dr. Huber informiert" in page.content.decode()
    assert input_value(page.content, "subject") == "Information von Praxis Dr. Huber"


def test_preview_shows_recipients_cost_and_reasons_then_confirm_sends(owner_client, practice):
    _crowd(practice)
    preview = owner_client.post("/mass-notices/new/", _form(preview="1"))
    assert preview.status_code == 200
    shown = text(preview.content)
    assert "2 Patienten erhalten diese Nachricht." in shown
    assert "Keine Einwilligung für die gewählten Kanäle: 1" in shown
    fingerprint = input_value(preview.content, "fingerprint")
    assert fingerprint and len(fingerprint) == 64
    assert Message.objects.count() == 0
    sent = owner_client.post("/mass-notices/new/", _form(send="1", fingerprint=fingerprint))
    assert sent.status_code == 302
    notice = MassNotice.objects.get()
    assert sent["Location"] == f"/mass-notices/{notice.pk}/"
    assert notice.created_by == "owner@praxis.test" and notice.recipients == 2
    assert Message.objects.filter(campaign_id=notice.pk).count() == 2
    detail = text(owner_client.get(sent["Location"]).content)
    assert "Adler" in detail and "Berger" in detail and TEXT in detail
    assert str(notice.pk) in owner_client.get("/mass-notices/").content.decode()


def test_a_change_after_the_preview_is_not_sent_but_shown_again(owner_client, practice):
    _crowd(practice)
    preview = owner_client.post("/mass-notices/new/", _form(preview="1"))
    fingerprint = input_value(preview.content, "fingerprint")
    make_patient(practice, "Neu", email="n@example.org", consented=("email",))
    again = owner_client.post("/mass-notices/new/", _form(send="1", fingerprint=fingerprint))
    assert again.status_code == 200
    assert Message.objects.count() == 0
    assert input_value(again.content, "fingerprint") != fingerprint  # the new figures
    assert 'role="alert"' in again.content.decode()


def test_personalised_text_is_refused_next_to_the_field(owner_client, practice):
    _crowd(practice)
    page = owner_client.post(
        "/mass-notices/new/", _form(text="Hallo {{ patient.name }}", preview="1")
    )
    assert "patient" in field_error(page.content, "text")
    none = owner_client.post("/mass-notices/new/", _form(channels=[], preview="1"))
    assert "mindestens einen Kanal" in hidden_field_error(none.content, "channels")
    assert Message.objects.count() == 0


def test_withdraw_cancels_what_has_not_gone_out(owner_client, practice):
    _crowd(practice)
    form = _form(send_at="2030-01-02T10:00", preview="1")
    fingerprint = input_value(owner_client.post("/mass-notices/new/", form).content, "fingerprint")
    form.pop("preview")
    sent = owner_client.post(
        "/mass-notices/new/", {**form, "send": "1", "fingerprint": fingerprint}
    )
    notice = MassNotice.objects.get()
    # Scheduled: the list price until the worker takes the SMS and reserves (free units then)
    assert notice.cost == Decimal("0.10")
    withdrawn = owner_client.post(f"{sent['Location']}withdraw/")
    assert withdrawn.status_code == 302
    assert set(Message.objects.values_list("state", flat=True)) == {"cancelled"}
