"""Test mode in the staff UI: the sandbox's outbox, channels, credits, the status webhook."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from praxisbote.billing.services import account_for, add_credit
from praxisbote.messaging import webhooks
from praxisbote.messaging.models import (
    ChannelAccount,
    Message,
    SandboxDelivery,
    State,
    WebhookDelivery,
    WebhookEndpoint,
)
from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.messaging.worker import Worker

from .helpers import de, field_error, text


def delivery(practice, **fields) -> SandboxDelivery:
    fields.setdefault("channel", "sms")
    fields.setdefault("recipient", "+4367612345678")
    fields.setdefault("body", "Ihr Termin morgen um 9 Uhr")
    fields.setdefault("message_id", uuid.uuid4())
    return SandboxDelivery.objects.create(practice=practice, provider_message_id="sbx-1", **fields)


# --- The sandbox's outbox ----------------------------------------------------------------------


def test_the_outbox_explains_itself_and_shows_an_sms_as_a_phone_bubble(owner_client, practice):
    delivery(practice, channel="sms")
    delivery(practice, channel="threema", recipient="ECHOECHO", body="Threema-Gruß")
    response = owner_client.get("/outbox/")
    assert response.status_code == 200
    page = response.content.decode()
    assert de("test mode: nothing leaves this server") in text(page)
    bubbles = re.findall(r'<div class="bubble pre">(.*?)</div>', page, re.S)
    assert bubbles == ["Threema-Gruß", "Ihr Termin morgen um 9 Uhr"], "newest first"
    assert "+4367612345678" in text(page) and "ECHOECHO" in text(page)


def test_an_email_is_shown_as_a_mail_from_the_practices_sender_name(owner_client, practice):
    practice.sender_name = "Dr. Anna Huber"
    practice.save()
    delivery(
        practice,
        channel="email",
        recipient="karl@example.org",
        subject="Ihre Rechnung",
        body="Sehr geehrter Herr Karl,\nanbei die Rechnung.",
        html="<p>nicht gezeigt</p><script>alert(1)</script>",
        attachments=[{"filename": "rechnung.pdf", "content_type": "application/pdf", "size": 3072}],
    )
    page = owner_client.get("/outbox/").content.decode()
    mail = text(re.search(r'<article class="mail".*?</article>', page, re.S).group(0))
    for expected in (
        "Dr. Anna Huber",
        "karl@example.org",
        "Ihre Rechnung",
        "anbei die Rechnung.",
        "rechnung.pdf",
        "3,0 KB",
    ):
        assert expected in mail, expected
    assert "<script>alert(1)</script>" not in page


def test_the_outbox_filters_by_channel_and_links_the_protocol(owner_client, practice):
    [message] = create_messages(
        practice, [MessageSpec(channel="email", to="a@example.org", text="Hallo")]
    ).messages
    delivery(practice, channel="email", recipient="a@example.org", message_id=message.pk)
    delivery(practice, channel="sms", body="Nur SMS")
    page = owner_client.get("/outbox/?channel=email").content.decode()
    assert "Nur SMS" not in page
    assert f'href="/protocol/{message.pk}/"' in page
    everything = owner_client.get("/outbox/").content.decode()
    assert "Nur SMS" in everything
    assert de("No longer in the protocol (deleted after the retention period).") in text(everything)


def test_another_practices_outbox_is_not_shown(owner_client, practice, other_practice):
    delivery(other_practice, body="Fremde Nachricht")
    page = text(owner_client.get("/outbox/").content)
    assert "Fremde Nachricht" not in page
    assert (
        de(
            "Nothing here yet. Messages to channels in test mode appear here as soon as the "
            "outbox has handled them (usually within seconds)."
        )
        in page
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_fills_the_outbox_and_the_protocol_shows_sent(owner_client, practice):
    owner_client.post(
        "/messages/new/",
        {"channel": "email", "to": "anna@example.org", "subject": "Termin", "text": "Bis bald"},
    )
    message = Message.objects.get()
    Worker(exit_when_idle=True, idle_seconds=0.05, run_jobs=False).run()
    message.refresh_from_db()
    assert message.state == State.SENT
    detail = owner_client.get(f"/protocol/{message.pk}/").content.decode()
    assert '<span class="state state-sent">' in detail
    assert de("Sandbox (test mode)") in text(detail)
    outbox = text(owner_client.get("/outbox/").content)
    assert "Bis bald" in outbox and "Termin" in outbox


# --- Channels ----------------------------------------------------------------------------------


def test_channels_say_test_mode_provider_and_sensitive_clearance(owner_client, practice):
    page = text(owner_client.get("/channels/").content)
    assert page.count(de("Sandbox (test mode)")) == 3
    assert page.count(de("test mode: nothing leaves this server")) == 3
    assert de("Cleared for sensitive data") in page
    assert de("Back to test mode") not in page, "nothing to switch back"
    assert "/practice/" in owner_client.get("/channels/").content.decode()


def test_the_owner_switches_a_real_provider_back_to_test_mode(owner_client, practice):
    ChannelAccount.objects.create(
        practice=practice, channel="sms", provider="websms", cleared_for_sensitive=False
    )
    page = owner_client.get("/channels/").content.decode()
    assert "websms" in page
    assert page.count(de("Back to test mode")) == 1
    response = owner_client.post("/channels/", {"channel": "sms"})
    assert response.status_code == 302
    account = ChannelAccount.objects.get(practice=practice, channel="sms")
    assert account.provider == "sandbox"
    assert account.config["previous_provider"] == "websms"
    page = text(owner_client.get("/channels/").content)
    assert page.count(de("Sandbox (test mode)")) == 3
    assert "websms" in page, "the provider used before is named"


def test_the_owner_switches_back_to_the_provider_used_before(owner_client, practice):
    ChannelAccount.objects.create(
        practice=practice, channel="sms", provider="websms", config={"user": "praxis"}
    )
    owner_client.post("/channels/", {"channel": "sms"})
    page = text(owner_client.get("/channels/").content)
    assert de("Use %(provider)s again") % {"provider": "websms"} in page
    response = owner_client.post("/channels/", {"channel": "sms", "action": "restore"})
    assert response.status_code == 302
    account = ChannelAccount.objects.get(practice=practice, channel="sms")
    assert account.provider == "websms" and account.config == {"user": "praxis"}
    page = text(owner_client.get("/channels/").content)
    assert (
        de("%(channel)s goes out through %(provider)s again.")
        % {
            "channel": "SMS",
            "provider": "websms",
        }
        in page
    )
    assert page.count(de("Sandbox (test mode)")) == 2


def test_switching_back_without_a_provider_used_before_says_so(owner_client, practice):
    response = owner_client.post("/channels/", {"channel": "email", "action": "restore"})
    assert response.status_code == 302
    page = text(owner_client.get("/channels/").content)
    assert de("There is no provider used before to switch back to; set one up.") in page
    assert not ChannelAccount.objects.filter(practice=practice).exists()


def test_staff_cannot_switch_channels(assistant_client, practice):
    ChannelAccount.objects.create(practice=practice, channel="email", provider="smtp")
    page = assistant_client.get("/channels/")
    assert page.status_code == 200
    assert de("Back to test mode") not in text(page.content)
    assert assistant_client.post("/channels/", {"channel": "email"}).status_code == 403
    assert ChannelAccount.objects.get(practice=practice).provider == "smtp"


def test_an_unknown_channel_is_refused(owner_client, practice):
    assert owner_client.post("/channels/", {"channel": "fax"}).status_code == 400
    assert not ChannelAccount.objects.exists()


def test_switching_back_touches_only_the_own_practice(owner_client, practice, other_practice):
    ChannelAccount.objects.create(practice=other_practice, channel="sms", provider="websms")
    owner_client.post("/channels/", {"channel": "sms"})
    assert ChannelAccount.objects.get(practice=other_practice).provider == "websms"


# --- Dashboard ---------------------------------------------------------------------------------


def test_the_overview_shows_credit_prices_free_units_and_todays_messages(owner_client, practice):
    practice.sms_enabled = True
    practice.save()
    account = account_for(practice)
    account.free_sms_per_month = 2
    account.save()
    add_credit(practice, Decimal("10"))
    # The month of the free units is the practice's, as on the page.
    with timezone.override(ZoneInfo(practice.timezone)):
        create_messages(practice, [MessageSpec(channel="sms", to="067612345678", text="eins")])
        create_messages(
            practice, [MessageSpec(channel="sms", to="067612345678", text="x" * 200)]
        )  # 2 parts: 1 free, 1 paid
    failed = create_messages(practice, [MessageSpec(channel="email", to="a@b.at", text="x")])
    Message.objects.filter(pk=failed.messages[0].pk).update(state=State.FAILED)
    page = owner_client.get("/").content.decode()
    words = text(page)
    assert "9,90 EUR" in words, "available = balance - reserved"
    assert "10,00 EUR" in words and "0,10 EUR" in words
    assert "0,015 EUR" in words, "Threema's price keeps its third decimal"
    assert de("free of charge") in words, "e-mail"
    assert de("%(left)s of %(total)s left") % {"left": 0, "total": 2} in words
    assert de("%(left)s of %(total)s left") % {"left": 5, "total": 5} in words, "Threema"
    assert '<p class="big">3</p>' in page, "three messages today"
    assert (
        '<span class="state state-queued">' in page and '<span class="state state-failed">' in page
    )
    assert 'href="/protocol/?state=failed"' in page
    assert de("test mode") in words


# --- Webhook -----------------------------------------------------------------------------------


def test_the_webhook_page_is_for_owners_only(assistant_client, owner_client, practice):
    assert assistant_client.get("/webhook/").status_code == 403
    response = assistant_client.post("/webhook/", {"url": "https://example.org/h"})
    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()
    assert "/webhook/" not in assistant_client.get("/").content.decode()
    assert "/webhook/" in owner_client.get("/").content.decode()


def test_setting_up_a_webhook_shows_the_secret_once(owner_client, practice):
    empty = de(
        "No webhook is set up. Enter the address your practice software gave you; the secret "
        "is shown once after saving."
    )
    page = owner_client.get("/webhook/").content.decode()
    assert empty in text(page)
    assert re.search(r'<input type="checkbox" name="active"[^>]*checked', page), "on by default"
    assert "errorlist" not in page
    response = owner_client.post(
        "/webhook/", {"action": "save", "url": "https://praxis.example/hook", "active": "on"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r'id="secret" [^>]*value="([^"]+)"', response.content.decode()).group(1)
    endpoint = WebhookEndpoint.objects.get(practice=practice)
    assert webhooks.secret_of(endpoint) == secret
    assert (endpoint.url, endpoint.active) == ("https://praxis.example/hook", True)
    page = owner_client.get("/webhook/").content.decode()
    assert "https://praxis.example/hook" in page and secret not in page
    changed = owner_client.post("/webhook/", {"action": "save", "url": "https://praxis.example/2"})
    assert changed.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.active) == ("https://praxis.example/2", False)
    assert webhooks.secret_of(endpoint) == secret, "changing the URL keeps the secret"


def test_a_wrong_address_gets_the_apis_message_next_to_the_field(owner_client, api, practice):
    response = owner_client.post(
        "/webhook/", {"action": "save", "url": "http://praxis.example/hook", "active": "on"}
    )
    expected = de(
        "Use https://. Plain http:// is only allowed to 127.0.0.1, localhost or ::1, "
        "for testing on your own machine."
    )
    assert field_error(response.content, "url") == expected
    assert not WebhookEndpoint.objects.exists()


def test_the_secret_can_be_replaced_and_the_webhook_removed(owner_client, practice):
    _endpoint, old = webhooks.configure(practice, url="https://praxis.example/hook")
    response = owner_client.post("/webhook/", {"action": "rotate"})
    new = re.search(r'id="secret" [^>]*value="([^"]+)"', response.content.decode()).group(1)
    assert new != old
    assert webhooks.secret_of(WebhookEndpoint.objects.get()) == new
    assert owner_client.post("/webhook/", {"action": "remove"}).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_last_deliveries_are_listed(owner_client, practice, other_practice):
    webhooks.configure(practice, url="https://praxis.example/hook")
    webhooks.configure(other_practice, url="https://fremd.example/hook")
    [message] = create_messages(
        practice, [MessageSpec(channel="email", to="a@b.at", text="x")]
    ).messages
    create_messages(other_practice, [MessageSpec(channel="email", to="f@x.de", text="x")])
    WebhookDelivery.objects.filter(practice=practice).update(attempts=2, last_error="HTTP 500")
    page = owner_client.get("/webhook/").content.decode()
    assert f'href="/protocol/{message.pk}/"' in page
    assert "HTTP 500" in page and de("waiting") in text(page)
    assert WebhookDelivery.objects.filter(practice=other_practice).count() == 1
    linked = re.findall(r'href="/protocol/([0-9a-f-]{36})/"', page)
    assert linked == [str(message.pk)], "only the own practice's deliveries"
