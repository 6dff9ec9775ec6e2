"""Writing one message in the staff UI (MSG-1): the service's errors, cost, test mode."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from praxisbote.billing.models import CreditAccount
from praxisbote.billing.services import account_for, add_credit
from praxisbote.messaging.models import ChannelAccount, DeliveryEvent, Message, State
from praxisbote.patients.models import Patient
from praxisbote.patients.services import create_patient

from .helpers import de, field_error, hidden_field_error, input_value, text

MAIL = {"channel": "email", "to": "anna@example.org", "subject": "Termin", "text": "Hallo Anna"}


def options(content: bytes, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', content.decode(), re.S)
    return re.findall(r'<option value="([^"]*)"', select.group(0))


@pytest.fixture
def sms_practice(practice):
    practice.sms_enabled = True
    practice.threema_enabled = True
    practice.save()
    return practice


def test_only_channels_switched_on_are_offered(owner_client, practice):
    assert options(owner_client.get("/messages/new/").content, "channel") == ["email"]
    practice.sms_enabled = True
    practice.save()
    assert options(owner_client.get("/messages/new/").content, "channel") == ["email", "sms"]


def test_without_any_channel_the_page_says_where_to_switch_one_on(owner_client, practice):
    practice.email_enabled = False
    practice.save()
    page = owner_client.get("/messages/new/").content.decode()
    assert 'name="text"' not in page
    assert 'href="/practice/"' in page


def test_an_email_is_written_to_the_outbox_and_its_page_shown(owner_client, practice):
    response = owner_client.post("/messages/new/", {**MAIL, "send": "1"})
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/protocol/{message.pk}/"
    assert (message.channel, message.recipient, message.subject, message.body) == (
        "email",
        "anna@example.org",
        "Termin",
        "Hallo Anna",
    )
    assert message.state == State.QUEUED and message.kind == "free"
    page = text(owner_client.get(response["Location"]).content)
    assert de("The message is in the outbox and goes out shortly.") in page


def test_a_patient_can_be_chosen_from_the_patient_page(owner_client, practice, patient):
    page = owner_client.get(f"/messages/new/?patient={patient.pk}")
    assert input_value(page.content, "patient_id") == str(patient.pk)
    assert "Anna Huber" in text(page.content)
    owner_client.post(
        "/messages/new/",
        {"channel": "email", "patient_id": str(patient.pk), "text": "Hallo", "send": "1"},
    )
    message = Message.objects.get()
    assert message.patient == patient and message.recipient == "anna@example.at"


def test_the_patient_search_links_to_the_prefilled_form(owner_client, practice, patient):
    page = owner_client.get("/messages/new/?find=Hub").content.decode()
    assert f'href="/messages/new/?patient={patient.pk}"' in page
    nobody = text(owner_client.get("/messages/new/?find=Niemand").content)
    assert "Niemand" in nobody


def test_the_practice_zone_decides_the_send_time(owner_client, practice):
    owner_client.post("/messages/new/", {**MAIL, "send_at": "2030-01-15T09:30", "send": "1"})
    message = Message.objects.get()
    assert message.state == State.SCHEDULED
    assert message.due_at == datetime(2030, 1, 15, 8, 30, tzinfo=UTC), "Vienna is UTC+1"


@pytest.mark.parametrize(
    ("field", "data", "message"),
    [
        ("to", {"to": "anna@"}, "Enter a valid email address."),
        ("to", {"to": ""}, "Give a patient_id or a 'to' address."),
        ("text", {"text": "  "}, "The message text is empty."),
        ("channel", {"channel": "sms"}, None),
        ("send_at", {"send_at": "morgen früh"}, None),
    ],
)
def test_a_mistake_is_shown_next_to_its_field_and_nothing_is_written(
    owner_client, practice, field, data, message
):
    response = owner_client.post("/messages/new/", {**MAIL, **data, "send": "1"})
    assert response.status_code == 200
    error = field_error(response.content, field)
    if message:
        assert error == de(message)
    assert input_value(response.content, "subject") == "Termin", "typed input is kept"
    assert not Message.objects.exists() and not DeliveryEvent.objects.exists()


def test_subject_is_for_email_only_and_the_patient_needs_an_address(
    owner_client, sms_practice, patient
):
    sms = owner_client.post(
        "/messages/new/", {"channel": "sms", "to": "067612345678", "subject": "x", "text": "Hallo"}
    )
    assert field_error(sms.content, "subject") == de("Subject and HTML are for e-mail only.")
    threema = owner_client.post(
        "/messages/new/", {"channel": "threema", "patient_id": str(patient.pk), "text": "Hallo"}
    )
    assert hidden_field_error(threema.content, "patient_id") == de(
        "The patient has no address for %(channel)s."
    ) % {"channel": "threema"}
    assert not Message.objects.exists()


def test_sensitive_data_needs_a_cleared_channel(owner_client, practice):
    ChannelAccount.objects.create(practice=practice, channel="email", provider="smtp")
    response = owner_client.post("/messages/new/", {**MAIL, "sensitive": "on", "send": "1"})
    assert field_error(response.content, "sensitive") == de(
        "This channel is not cleared for sensitive data. Send it through a channel with "
        "encryption and a data-processing agreement, or as a secure document."
    )
    assert not Message.objects.exists()


def test_another_practices_patient_is_refused(owner_client, practice, other_practice):
    foreign = create_patient(other_practice, {"last_name": "Fremd", "email": "f@x.de"})
    assert owner_client.get(f"/messages/new/?patient={foreign.pk}").status_code == 404
    response = owner_client.post(
        "/messages/new/", {"channel": "email", "patient_id": str(foreign.pk), "text": "x"}
    )
    assert hidden_field_error(response.content, "patient_id") == de(
        "No such patient in this practice."
    )
    assert "Fremd" not in text(response.content)
    assert not Message.objects.exists()
    assert Patient.objects.get(pk=foreign.pk).practice == other_practice


def test_not_enough_credit_is_said_at_the_top_and_nothing_is_written(owner_client, sms_practice):
    account = account_for(sms_practice)
    account.free_sms_per_month = 0
    account.save()
    add_credit(sms_practice, Decimal("0.05"))
    response = owner_client.post(
        "/messages/new/", {"channel": "sms", "to": "067612345678", "text": "Hallo", "send": "1"}
    )
    assert response.status_code == 200
    summary = response.content.decode().split('class="error-summary"')[1].split("</div>")[0]
    expected = de(
        "Not sent: the credit is not enough (%(needed)s %(cur)s needed, %(available)s %(cur)s "
        "available). Top up the credit, or choose e-mail, which costs nothing."
    ) % {"needed": "0.1000", "available": "0.0500", "cur": "EUR"}
    assert expected in text(summary)
    assert input_value(response.content, "to") == "067612345678"
    assert not Message.objects.exists()
    assert CreditAccount.objects.get(practice=sms_practice).reserved == 0


def test_the_preview_shows_parts_and_cost_and_writes_nothing(owner_client, sms_practice):
    account = account_for(sms_practice)
    account.free_sms_per_month = 5
    account.save()
    long_text = "Bitte denken Sie an Ihren Termin morgen um 9 Uhr. " * 4  # 200 characters
    response = owner_client.post(
        "/messages/new/",
        {"channel": "sms", "to": "067612345678", "text": long_text, "preview": "1"},
    )
    assert response.status_code == 200
    page = text(response.content)
    assert "GSM-7" in page and "2" in page
    estimate = de("Estimated cost: %(units)s × %(price)s %(cur)s = %(cost)s %(cur)s") % {  # noqa: RUF001
        "units": 2,
        "price": "0,10",
        "cost": "0,20",
        "cur": "EUR",
    }
    assert estimate in page
    assert "5" in page
    assert input_value(response.content, "to") == "067612345678"
    assert not Message.objects.exists()


def test_an_email_preview_says_it_costs_nothing(owner_client, practice):
    response = owner_client.post("/messages/new/", {**MAIL, "preview": "1"})
    assert de("This message costs nothing.") in text(response.content)
    assert not Message.objects.exists()


def test_the_test_mode_banner_shows_while_the_sandbox_serves_the_channel(owner_client, practice):
    page = owner_client.get("/messages/new/").content.decode()
    banner = page.split('id="test-mode-banner"')[1].split(">")[0]
    assert "hidden" not in banner and 'data-test-channels="email ' in banner
    assert de("test mode: nothing leaves this server") in text(page)
    ChannelAccount.objects.create(practice=practice, channel="email", provider="smtp")
    page = owner_client.get("/messages/new/").content.decode()
    banner = page.split('id="test-mode-banner"')[1].split(">")[0]
    assert "hidden" in banner, "a real provider: no test-mode banner"


def test_staff_write_messages_too(assistant_client, practice):
    response = assistant_client.post("/messages/new/", {**MAIL, "send": "1"})
    assert response.status_code == 302
    assert Message.objects.get().recipient == "anna@example.org"


def test_a_time_that_does_not_exist_in_the_practice_zone_is_named(owner_client, practice):
    # Vienna skips 02:00-03:00 on the last Sunday of March.
    response = owner_client.post("/messages/new/", {**MAIL, "send_at": "2030-03-31T02:30"})
    assert field_error(response.content, "send_at")
    assert not Message.objects.exists()


def test_a_tampered_patient_id_is_refused_without_a_crash(owner_client, practice):
    response = owner_client.post(
        "/messages/new/", {"channel": "email", "patient_id": "not-a-uuid", "text": "x"}
    )
    assert response.status_code == 200
    assert hidden_field_error(response.content, "patient_id")
    assert 'class="error-summary"' in response.content.decode()
    assert not Message.objects.exists()
