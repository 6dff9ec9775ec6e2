"""The websms / LINK Mobility adapter against the fake websms API (tests/fakes/websms.py)."""

from __future__ import annotations

import json

import pytest
from tests.fakes.websms import TOKEN, WebsmsFake
from tests.providers.sms_common import HOOK, gateway_fixtures, run, send, sms

from praxisbote.providers.base import (
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_SENT,
    STATUS_UNDELIVERABLE,
    PermanentError,
    ThrottledError,
    TransientError,
)
from praxisbote.providers.registry import provider_class
from praxisbote.providers.sms.websms import WebsmsProvider

CALLBACK = HOOK.format(name="websms")


server, fake = gateway_fixtures(WebsmsFake)


def adapter(fake, token=TOKEN, **config) -> WebsmsProvider:
    config = {"base_url": fake.url, "sender_id": "PraxisHuber", "callback_url": CALLBACK, **config}
    return WebsmsProvider(config, {"api_key": token})


def test_registered():
    assert provider_class("websms") is WebsmsProvider


def test_send_speaks_websms_api(fake):
    [outcome] = send(adapter(fake), sms(text="Grüß Gott"))
    assert outcome.error is None and outcome.provider_message_id
    request = fake.requests[-1]
    assert request.path == "/rest/smsmessaging/text"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.body) == {
        "recipientAddressList": ["4367612345678"],
        "messageContent": "Grüß Gott",
        "clientMessageId": sms().message_id,
        "senderAddress": "PraxisHuber",
        "senderAddressType": "alphanumeric",
        "notificationCallbackUrl": CALLBACK,
    }
    assert outcome.payload["smsCount"] == 1


@pytest.mark.parametrize(
    ("sender", "address", "kind"),
    [
        ("+4312345678", "4312345678", "international"),
        ("004312345678", "4312345678", "international"),
        ("012345678", "012345678", "national"),
    ],
)
def test_numeric_senders_say_their_kind(fake, sender, address, kind):
    send(adapter(fake, sender_id=sender))
    body = json.loads(fake.requests[-1].body)
    assert (body["senderAddress"], body["senderAddressType"]) == (address, kind)


@pytest.mark.parametrize(
    ("setup", "recipient", "token", "error_class", "code"),
    [
        ({}, "+4367612345678", "wrong-token", PermanentError, "auth"),
        ({"limit_reached": True}, "+4367612345678", TOKEN, TransientError, "no-credit"),
        ({}, "+0676", TOKEN, PermanentError, "invalid-number"),
        ({"throttle_next": 1}, "+4367612345678", TOKEN, ThrottledError, "throttled"),
    ],
    ids=["wrong-key", "no-credit", "invalid-number", "throttled"],
)
def test_send_errors(fake, setup, recipient, token, error_class, code):
    for key, value in setup.items():
        setattr(fake, key, value)
    [outcome] = send(adapter(fake, token=token), sms(to=recipient))
    assert type(outcome.error) is error_class and outcome.error.code == code
    assert token not in outcome.error.reason
    assert getattr(outcome.error, "throttled", False) is (code == "throttled")
    assert not fake.messages


def test_key_check_uses_the_test_flag_and_sends_nothing(fake):
    good = run(adapter(fake), lambda p: p.check_credentials())
    assert good.ok and json.loads(fake.requests[-1].body)["test"] is True
    bad = run(adapter(fake, token="nope"), lambda p: p.check_credentials())
    assert not bad.ok and "refused the access key" in bad.detail
    assert not fake.messages


def test_no_balance_endpoint():
    assert WebsmsProvider.supports_balance is False


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("accepted", STATUS_SENT),
        ("delivered", STATUS_DELIVERED),
        ("undelivered", STATUS_UNDELIVERABLE),
        ("rejected", STATUS_UNDELIVERABLE),
        ("expired", STATUS_EXPIRED),
    ],
)
def test_delivery_report_flow(fake, raw, ours):
    [outcome] = send(adapter(fake))
    request = fake.dlr_request(outcome.provider_message_id, raw)
    assert request.url == CALLBACK
    [update] = adapter(fake).parse_webhook(request.body, request.headers, {})
    assert (update.provider_message_id, update.status) == (outcome.provider_message_id, ours)
    assert update.message_id == sms().message_id
    assert update.payload["deliveryReportMessageStatus"] == raw
    status, content_type, body = adapter(fake).webhook_response()
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body)["statusCode"] == 2000


def test_inbound_messages_and_garbage(fake):
    provider = adapter(fake)
    assert (
        provider.parse_webhook(b'{"messageType": "text", "textMessageContent": "Hi"}', {}, {}) == []
    )
    with pytest.raises(PermanentError):
        provider.parse_webhook(b"not json", {}, {})


def test_base_url_default_and_override(fake):
    assert WebsmsProvider({}, {}).base_url == "https://api.linkmobility.eu"
    assert adapter(fake).base_url == fake.url
