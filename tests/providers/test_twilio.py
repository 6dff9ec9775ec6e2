"""The Twilio adapter against the fake Twilio API (tests/fakes/twilio.py) on loopback."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from django.core.exceptions import ValidationError
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioFake
from tests.providers.sms_common import HOOK, gateway_fixtures, run, send, sms

from praxisbote.providers.base import (
    STATUS_DELIVERED,
    STATUS_SENT,
    STATUS_UNDELIVERABLE,
    PermanentError,
    ThrottledError,
    TransientError,
)
from praxisbote.providers.registry import provider_class
from praxisbote.providers.sms.twilio import TwilioProvider, signature

CALLBACK = HOOK.format(name="twilio")


server, fake = gateway_fixtures(TwilioFake)


def adapter(fake, token=AUTH_TOKEN, **config) -> TwilioProvider:
    config = {
        "base_url": fake.url,
        "account_sid": ACCOUNT_SID,
        "sender_id": "PraxisHuber",
        "callback_url": CALLBACK,
        **config,
    }
    return TwilioProvider(config, {"auth_token": token})


def test_registered():
    assert provider_class("twilio") is TwilioProvider


def test_twilios_published_signature_example():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_send_speaks_twilios_api(fake):
    [outcome] = send(adapter(fake), sms(text="Grüß Gott 😀"))
    assert outcome.error is None and outcome.provider_message_id.startswith("SM")
    request = fake.requests[-1]
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    assert form == {
        "To": "+4367612345678",
        "Body": "Grüß Gott 😀",
        "From": "PraxisHuber",
        "StatusCallback": CALLBACK,
    }
    assert outcome.payload["status"] == "queued" and outcome.payload["num_segments"] == "1"


def test_messaging_service_replaces_from(fake):
    service = "MG" + "ab" * 16
    send(adapter(fake, messaging_service_sid=service))
    form = parse_qs(fake.requests[-1].body.decode())
    assert form["MessagingServiceSid"] == [service] and "From" not in form


@pytest.mark.parametrize(
    ("setup", "recipient", "token", "error_class", "code"),
    [
        ({}, "+4367612345678", "wrong-token", PermanentError, "auth"),
        ({"account_active": False}, "+4367612345678", AUTH_TOKEN, TransientError, "no-credit"),
        ({}, "067612345678", AUTH_TOKEN, PermanentError, "invalid-number"),
        ({"throttle_next": 1}, "+4367612345678", AUTH_TOKEN, ThrottledError, "throttled"),
    ],
    ids=["wrong-key", "no-credit", "invalid-number", "throttled"],
)
def test_send_errors(fake, setup, recipient, token, error_class, code):
    for key, value in setup.items():
        setattr(fake, key, value)
    [outcome] = send(adapter(fake, token=token), sms(to=recipient))
    assert type(outcome.error) is error_class and outcome.error.code == code
    assert token not in outcome.error.reason
    # Throttling backs off without counting as a failure; other errors are no throttling.
    assert getattr(outcome.error, "throttled", False) is (code == "throttled")
    assert not fake.messages


def test_balance_and_key_check(fake):
    assert run(adapter(fake), lambda p: p.balance()) == Decimal("12.34")
    good = run(adapter(fake), lambda p: p.check_credentials())
    assert good.ok and good.balance == Decimal("12.34")
    bad = run(adapter(fake, token="nope"), lambda p: p.check_credentials())
    assert not bad.ok and "refused the access key" in bad.detail


def dlr(fake, provider_id, status, **kw):
    request = fake.dlr_request(provider_id, status, **kw)
    return request, adapter(fake).parse_webhook(request.body, request.headers, {})


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("sent", STATUS_SENT),
        ("delivered", STATUS_DELIVERED),
        ("read", STATUS_DELIVERED),
        ("undelivered", STATUS_UNDELIVERABLE),
        ("failed", STATUS_UNDELIVERABLE),
    ],
)
def test_status_callback_flow(fake, raw, ours):
    [outcome] = send(adapter(fake))
    kw = {"error_code": 30003} if raw in ("undelivered", "failed") else {}
    request, [update] = dlr(fake, outcome.provider_message_id, raw, **kw)
    assert request.url == CALLBACK
    assert update.provider_message_id == outcome.provider_message_id
    assert update.status == ours and update.payload["MessageStatus"] == raw
    if kw:
        assert "30003" in update.detail


@pytest.mark.parametrize("forgery", ["other-token", "tampered", "missing", "other-url"])
def test_forged_callbacks_are_refused(fake, forgery):
    [outcome] = send(adapter(fake))
    request = fake.dlr_request(
        outcome.provider_message_id,
        "delivered",
        token="not-the-token" if forgery == "other-token" else AUTH_TOKEN,
    )
    body, headers = request.body, dict(request.headers)
    if forgery == "tampered":
        body = body.replace(b"MessageStatus=delivered", b"MessageStatus=failed")
    if forgery == "missing":
        headers.pop("X-Twilio-Signature")
    provider = adapter(fake, callback_url=CALLBACK + "x" if forgery == "other-url" else CALLBACK)
    with pytest.raises(PermanentError) as exc:
        provider.parse_webhook(body, headers, {})
    assert exc.value.code == "signature"


def test_poll_status_fetches_each_message(fake):
    outcomes = send(adapter(fake), sms(n=1), sms(n=2))
    ids = [o.provider_message_id for o in outcomes]
    fake.dlr_request(ids[1], "delivered")  # moves the fake's message on
    updates = run(adapter(fake), lambda p: p.poll_status(ids))
    assert {u.provider_message_id: u.status for u in updates} == {
        ids[0]: STATUS_SENT,
        ids[1]: STATUS_DELIVERED,
    }


def test_base_url_defaults_to_twilio_and_is_overridable(fake):
    assert TwilioProvider({"account_sid": ACCOUNT_SID}, {}).base_url == "https://api.twilio.com"
    assert adapter(fake).base_url == fake.url


def test_config_validation_names_the_field():
    with pytest.raises(ValidationError) as exc:
        TwilioProvider.validate_config({"account_sid": "XY123", "messaging_service_sid": "MG1"})
    assert set(exc.value.message_dict) == {"account_sid", "messaging_service_sid"}
    ok = TwilioProvider.validate_config({"account_sid": ACCOUNT_SID})
    assert ok == {"account_sid": ACCOUNT_SID}
