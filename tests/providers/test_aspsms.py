"""The ASPSMS adapter against the fake ASPSMS JSON API (tests/fakes/aspsms.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.fakes.aspsms import PASSWORD, USERKEY, AspsmsFake
from tests.providers.sms_common import HOOK, gateway_fixtures, run, send, sms

from praxisbote.providers.base import (
    STATUS_BUFFERED,
    STATUS_DELIVERED,
    STATUS_UNDELIVERABLE,
    PermanentError,
    ThrottledError,
    TransientError,
)
from praxisbote.providers.registry import provider_class
from praxisbote.providers.sms.aspsms import AspsmsProvider

CALLBACK = HOOK.format(name="aspsms")
TRN = sms().message_id.replace("-", "")


server, fake = gateway_fixtures(AspsmsFake)


def adapter(fake, password=PASSWORD, **config) -> AspsmsProvider:
    config = {"base_url": fake.url, "sender_id": "PraxisHuber", "callback_url": CALLBACK, **config}
    return AspsmsProvider(config, {"userkey": USERKEY, "password": password})


def test_registered():
    assert provider_class("aspsms") is AspsmsProvider


def test_send_speaks_aspsms_json_api(fake):
    [outcome] = send(adapter(fake), sms(to="+41791234567"))
    assert outcome.error is None and outcome.provider_message_id == TRN
    request = fake.requests[-1]
    assert request.path == "/SendTextSMS"
    body = json.loads(request.body)
    assert body["UserName"] == USERKEY and body["Password"] == PASSWORD
    assert body["Recipients"] == [f"+41791234567:{TRN}"]
    assert body["Originator"] == "PraxisHuber" and body["MessageText"] == sms().body
    assert body["URLDeliveryNotification"] == CALLBACK + "?s=delivered&trn="
    assert body["URLNonDeliveryNotification"] == CALLBACK + "?s=not_delivered&trn="
    assert body["URLBufferedMessageNotification"] == CALLBACK + "?s=buffered&trn="


@pytest.mark.parametrize(
    ("setup", "password", "error_class", "code"),
    [
        ({}, "wrong", PermanentError, "auth"),
        ({"credits": 0}, PASSWORD, TransientError, "no-credit"),
        ({"throttle_next": 1}, PASSWORD, ThrottledError, "throttled"),
    ],
    ids=["wrong-key", "no-credit", "throttled"],
)
def test_send_errors(fake, setup, password, error_class, code):
    for key, value in setup.items():
        setattr(fake, key, value)
    [outcome] = send(adapter(fake, password=password))
    assert type(outcome.error) is error_class and outcome.error.code == code
    assert password not in outcome.error.reason
    assert getattr(outcome.error, "throttled", False) is (code == "throttled")
    assert not fake.messages


def test_balance_and_key_check(fake):
    assert run(adapter(fake), lambda p: p.balance()) == Decimal("25.00")
    good = run(adapter(fake), lambda p: p.check_credentials())
    assert good.ok and good.balance == Decimal("25.00")
    bad = run(adapter(fake, password="nope"), lambda p: p.check_credentials())
    assert not bad.ok and "refused the access key" in bad.detail


def notification(fake, status, **kw):
    request = fake.dlr_request(TRN, status, **kw)
    parts = urlsplit(request.url)
    assert request.method == "GET" and request.url.startswith(CALLBACK)
    return adapter(fake).parse_webhook(b"", {}, dict(parse_qsl(parts.query)))


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("delivered", STATUS_DELIVERED),
        ("not_delivered", STATUS_UNDELIVERABLE),
        ("buffered", STATUS_BUFFERED),
    ],
)
def test_notification_urls_flow(fake, raw, ours):
    send(adapter(fake))
    [update] = notification(fake, raw)
    assert (update.provider_message_id, update.status) == (TRN, ours)


def test_an_invalid_number_ends_undeliverable_with_its_reason(fake):
    """ASPSMS accepts any number and reports it later: reason 206 invalid destination."""
    send(adapter(fake), sms(to="+41000"))
    [update] = notification(fake, "not_delivered", reason="206")
    assert update.status == STATUS_UNDELIVERABLE
    polled = run(adapter(fake), lambda p: p.poll_status([TRN]))
    assert polled[0].status == STATUS_UNDELIVERABLE and "206" in polled[0].detail


def test_polling_maps_every_delivery_status(fake):
    outcomes = send(adapter(fake), sms(n=1), sms(n=2), sms(n=3), sms(n=4))
    ids = [o.provider_message_id for o in outcomes]
    fake.set_status(ids[0], "delivered")
    fake.set_status(ids[1], "buffered")
    fake.set_status(ids[2], "not_delivered", "107")
    updates = run(adapter(fake), lambda p: p.poll_status(ids))
    assert json.loads(fake.requests[-1].body)["TransactionReferenceNumbers"] == ";".join(ids)
    # "-1" (not yet submitted, or rejected) is ambiguous and keeps the state.
    assert {u.provider_message_id: u.status for u in updates} == {
        ids[0]: STATUS_DELIVERED,
        ids[1]: STATUS_BUFFERED,
        ids[2]: STATUS_UNDELIVERABLE,
    }


def test_notification_without_reference_is_refused(fake):
    with pytest.raises(PermanentError):
        adapter(fake).parse_webhook(b"", {}, {"s": "delivered"})


def test_base_url_default_and_override(fake):
    assert AspsmsProvider({}, {}).base_url == "https://json.aspsms.com"
    assert adapter(fake).base_url == fake.url
