"""The Vonage adapter against the fake Vonage SMS API (tests/fakes/vonage.py)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from tests.fakes import vonage as fake_vonage
from tests.fakes.vonage import API_KEY, API_SECRET, SIGNATURE_SECRET, VonageFake
from tests.providers.sms_common import HOOK, gateway_fixtures, run, send, sms

from praxisbote.providers.base import (
    STATUS_BUFFERED,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_SENT,
    STATUS_UNDELIVERABLE,
    PermanentError,
    ThrottledError,
    TransientError,
)
from praxisbote.providers.registry import provider_class
from praxisbote.providers.sms.vonage import VonageProvider, sign

CALLBACK = HOOK.format(name="vonage")


server, fake = gateway_fixtures(VonageFake)


def adapter(fake, secret=API_SECRET, signature_secret="", **config) -> VonageProvider:
    config = {"base_url": fake.url, "sender_id": "PraxisHuber", "callback_url": CALLBACK, **config}
    secrets = {"api_key": API_KEY, "api_secret": secret}
    if signature_secret:
        secrets["signature_secret"] = signature_secret
    return VonageProvider(config, secrets)


def test_registered():
    assert provider_class("vonage") is VonageProvider


@pytest.mark.parametrize(("text", "kind"), [("Grüß Gott", "text"), ("Grüß Gott 😀", "unicode")])
def test_send_speaks_vonages_api(fake, text, kind):
    [outcome] = send(adapter(fake), sms(text=text))
    assert outcome.error is None and outcome.provider_message_id
    request = fake.requests[-1]
    assert request.path == "/sms/json"
    form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    assert form == {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "from": "PraxisHuber",
        "to": "4367612345678",
        "text": text,
        "type": kind,
        "client-ref": sms().message_id,
        "callback": CALLBACK,
        "status-report-req": "1",
    }
    assert outcome.payload["message-price"] == "0.03330000"


@pytest.mark.parametrize(
    ("setup", "recipient", "secret", "sender", "error_class", "code"),
    [
        ({}, "+4367612345678", "wrong", "PraxisHuber", PermanentError, "auth"),
        (
            {"balance": 0.0},
            "+4367612345678",
            API_SECRET,
            "PraxisHuber",
            TransientError,
            "no-credit",
        ),
        ({}, "+0676", API_SECRET, "PraxisHuber", PermanentError, "invalid-number"),
        ({}, "+4367612345678", API_SECRET, "Praxis-Dr-Huber!", PermanentError, "sender"),
        (
            {"throttle_next": 1},
            "+4367612345678",
            API_SECRET,
            "PraxisHuber",
            ThrottledError,
            "throttled",
        ),
    ],
    ids=["wrong-key", "no-credit", "invalid-number", "invalid-sender", "throttled"],
)
def test_send_errors(fake, setup, recipient, secret, sender, error_class, code):
    for key, value in setup.items():
        setattr(fake, key, value)
    [outcome] = send(adapter(fake, secret=secret, sender_id=sender), sms(to=recipient))
    assert type(outcome.error) is error_class and outcome.error.code == code
    assert secret not in outcome.error.reason
    assert getattr(outcome.error, "throttled", False) is (code == "throttled")
    assert not fake.messages


def test_balance_and_key_check(fake):
    assert run(adapter(fake), lambda p: p.balance()) == Decimal("15.5353")
    good = run(adapter(fake), lambda p: p.check_credentials())
    assert good.ok and good.balance == Decimal("15.5353")
    bad = run(adapter(fake, secret="nope"), lambda p: p.check_credentials())
    assert not bad.ok and "refused the access key" in bad.detail


def receipt(fake, provider, provider_id, status, **kw):
    request = fake.dlr_request(provider_id, status, **kw)
    if request.method == "GET":
        query = dict(parse_qsl(urlsplit(request.url).query))
        return provider.parse_webhook(b"", {}, query)
    return provider.parse_webhook(request.body, request.headers, {})


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("accepted", STATUS_SENT),
        ("buffered", STATUS_BUFFERED),
        ("delivered", STATUS_DELIVERED),
        ("failed", STATUS_UNDELIVERABLE),
        ("rejected", STATUS_UNDELIVERABLE),
        ("expired", STATUS_EXPIRED),
    ],
)
@pytest.mark.parametrize("method", ["POST-JSON", "GET"])
def test_delivery_receipt_flow(fake, raw, ours, method):
    fake.dlr_method = method
    [outcome] = send(adapter(fake))
    [update] = receipt(fake, adapter(fake), outcome.provider_message_id, raw)
    assert (update.provider_message_id, update.status) == (outcome.provider_message_id, ours)
    assert update.message_id == sms().message_id and update.payload["status"] == raw


def test_unknown_status_keeps_the_state(fake):
    [outcome] = send(adapter(fake))
    assert receipt(fake, adapter(fake), outcome.provider_message_id, "unknown") == []


@pytest.mark.parametrize("method", ["md5hash", "sha256", "sha512"])
def test_signed_receipts_are_checked(fake, method):
    fake.signature_secret, fake.signature_method = SIGNATURE_SECRET, method
    provider = adapter(fake, signature_secret=SIGNATURE_SECRET, signature_method=method)
    [outcome] = send(provider)
    [update] = receipt(fake, provider, outcome.provider_message_id, "delivered")
    assert update.status == STATUS_DELIVERED
    with pytest.raises(PermanentError) as exc:
        receipt(fake, provider, outcome.provider_message_id, "delivered", secret="forged")
    assert exc.value.code == "signature"
    fake.signature_secret = ""  # an unsigned receipt when one is expected
    with pytest.raises(PermanentError):
        receipt(fake, provider, outcome.provider_message_id, "delivered")


def test_signature_matches_the_fakes_independent_copy():
    params = {"messageId": "0B00000127FDBC63", "status": "delivered", "x": "a&b=c"}
    assert sign(params, "s3cr3t") == fake_vonage.sign(params, "s3cr3t")
    assert sign(params, "s3cr3t", "sha256") == fake_vonage.sign(params, "s3cr3t", "sha256").lower()


def test_base_url_default_and_override(fake):
    assert VonageProvider({}, {}).base_url == "https://rest.nexmo.com"
    assert adapter(fake).base_url == fake.url
