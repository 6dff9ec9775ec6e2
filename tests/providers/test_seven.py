"""The seven.io adapter against the fake seven server (tests/fakes/seven.py) on loopback."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from tests.fakes.seven import API_KEY, FakeSeven, SevenState, dlr_request

from praxisbote.providers.base import (
    STATUS_BUFFERED,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_SENT,
    STATUS_UNDELIVERABLE,
    Outgoing,
    PermanentError,
    ThrottledError,
    TransientError,
)
from praxisbote.providers.sms.base import validate_sender
from praxisbote.providers.sms.seven import SevenProvider

HOOK_URL = "https://praxis.example/hooks/sms/seven/tok"


@pytest.fixture(scope="module")
def fake_server():
    server = FakeSeven().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server):
    """A fresh state for every test on the shared server."""
    fake_server.state.__dict__.update(SevenState().__dict__)
    return fake_server


def adapter(fake, **config) -> SevenProvider:
    secrets = {"api_key": config.pop("api_key", API_KEY)}
    if "signing_secret" in config:
        secrets["signing_secret"] = config.pop("signing_secret")
    return SevenProvider({"base_url": fake.base_url, **config}, secrets)


def sms(to: str = "+4367612345678", text: str = "Ihr Termin morgen 10:30", n: int = 1):
    return Outgoing(
        message_id=f"0000000{n}-aaaa-bbbb-cccc-000000000000", channel="sms", recipient=to, body=text
    )


def run(provider: SevenProvider, coro_factory):
    async def go():
        try:
            return await coro_factory(provider)
        finally:
            await provider.close()

    return asyncio.run(go())


def test_send_success_speaks_sevens_api(fake):
    provider = adapter(fake, sender_id="PraxisHuber")
    [outcome] = run(provider, lambda p: p.send_batch([sms()]))
    assert outcome.error is None
    sent = fake.state.sent[0]
    assert outcome.provider_message_id == sent.id
    assert outcome.payload["parts"] == 1 and outcome.payload["encoding"] == "gsm"
    request = fake.state.requests[0]
    assert request["headers"]["X-Api-Key"] == API_KEY
    assert request["params"] == {
        "to": "+4367612345678",
        "text": "Ihr Termin morgen 10:30",
        "foreign_id": sms().message_id,  # our id as client reference
        "from": "PraxisHuber",
    }


@pytest.mark.parametrize(
    ("setup", "message", "config", "error_class", "code"),
    [
        ("", sms(), {"api_key": "wrong"}, PermanentError, "auth"),
        ("balance", sms(), {}, TransientError, "no-credit"),
        ("", sms(to="+12"), {}, PermanentError, "invalid-number"),
        ("", sms(), {"sender_id": "Praxis Dr. Huber"}, PermanentError, "sender"),
        ("", sms(text="x" * 1521), {}, PermanentError, "rejected"),
        ("throttle", sms(), {}, ThrottledError, "throttled"),
        ("600", sms(), {}, TransientError, "gateway"),
        ("402", sms(), {}, PermanentError, "rejected"),
        ("902", sms(), {}, PermanentError, "auth"),
        ("403", sms(), {}, TransientError, "limit"),
    ],
    ids=[
        "wrong-key",
        "no-credit",
        "invalid-number",
        "invalid-sender",
        "text-too-long",
        "throttled",
        "carrier-failed",
        "reload-lock",
        "api-disabled",
        "daily-limit",
    ],
)
def test_send_errors(fake, setup, message, config, error_class, code):
    if setup == "balance":
        fake.state.balance = 0
    elif setup == "throttle":
        fake.state.throttle_next = 1
    elif setup:
        fake.state.force_codes = [setup]
    [outcome] = run(adapter(fake, **config), lambda p: p.send_batch([message]))
    assert type(outcome.error) is error_class
    assert outcome.error.code == code
    assert API_KEY not in outcome.error.reason and "wrong" not in outcome.error.reason
    assert not fake.state.sent


def test_throttled_carries_retry_after(fake):
    fake.state.throttle_next, fake.state.retry_after = 1, 7
    [outcome] = run(adapter(fake), lambda p: p.send_batch([sms()]))
    assert isinstance(outcome.error, ThrottledError) and outcome.error.retry_after == 7
    assert outcome.error.throttled


def test_unreachable_gateway_is_transient(fake):
    provider = SevenProvider({"base_url": "http://127.0.0.1:9/api"}, {"api_key": API_KEY})
    [outcome] = run(provider, lambda p: p.send_batch([sms()]))
    assert isinstance(outcome.error, TransientError) and outcome.error.code == "connection"


def test_wrong_path_is_permanent_not_a_crash(fake):
    provider = SevenProvider({"base_url": fake.base_url + "/nope"}, {"api_key": API_KEY})
    [outcome] = run(provider, lambda p: p.send_batch([sms()]))
    assert isinstance(outcome.error, PermanentError) and "HTTP 404" in outcome.error.reason


def test_connections_are_reused(fake):
    provider = SevenProvider({"base_url": fake.base_url}, {"api_key": API_KEY}, concurrency=4)
    outcomes = run(provider, lambda p: p.send_batch([sms(n=i) for i in range(40)]))
    assert all(o.error is None for o in outcomes)
    assert len(fake.state.sent) == 40
    # Keep-alive and the pool's limit: at most 4 connections for 40 requests.
    assert 1 <= len(fake.state.peers) <= 4


def test_rate_limit_spaces_requests(fake):
    provider = adapter(fake, rate_limit=10)
    started = time.monotonic()
    run(provider, lambda p: p.send_batch([sms(n=i) for i in range(15)]))
    # 10 at once (one second's tokens), the other 5 at 10/s.
    assert time.monotonic() - started >= 0.4
    assert len(fake.state.sent) == 15


def test_rate_below_one_per_second(fake):
    provider = adapter(fake, rate_limit=4)
    started = time.monotonic()
    run(provider, lambda p: p.send_batch([sms(n=i) for i in range(6)]))
    assert 0.4 <= time.monotonic() - started < 5
    slow = adapter(fake, rate_limit=0.5)
    started = time.monotonic()
    run(slow, lambda p: p.send_batch([sms(n=i) for i in range(2)]))
    # The first goes at once, the second two seconds later (not never).
    assert 1.8 <= time.monotonic() - started < 6
    assert len(fake.state.sent) == 8


def test_balance_and_key_check(fake):
    fake.state.balance = 12.5
    assert run(adapter(fake), lambda p: p.balance()) == Decimal("12.5")
    check = run(adapter(fake), lambda p: p.check_credentials())
    assert check.ok and check.balance == Decimal("12.5")
    bad = run(adapter(fake, api_key="nope"), lambda p: p.check_credentials())
    assert not bad.ok and "refused the access key" in bad.detail


def test_poll_status_maps_every_outcome(fake):
    recipients = ["+4367612340001", "+4367612340009", "+4367612340008", "+4367612340007"]
    outcomes = run(
        adapter(fake), lambda p: p.send_batch([sms(to=r, n=i) for i, r in enumerate(recipients)])
    )
    ids = [o.provider_message_id for o in outcomes]
    updates = run(adapter(fake), lambda p: p.poll_status(ids))
    assert {u.provider_message_id: u.status for u in updates} == dict(
        zip(
            ids,
            [STATUS_DELIVERED, STATUS_UNDELIVERABLE, STATUS_EXPIRED, STATUS_BUFFERED],
            strict=True,
        )
    )
    assert updates[1].detail == "seven.io: NOTDELIVERED"
    assert updates[1].payload["status"] == "NOTDELIVERED"  # raw payload kept


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("DELIVERED", STATUS_DELIVERED),
        ("NOTDELIVERED", STATUS_UNDELIVERABLE),
        ("BUFFERED", STATUS_BUFFERED),
        ("TRANSMITTED", STATUS_SENT),
        ("ACCEPTED", STATUS_SENT),
        ("EXPIRED", STATUS_EXPIRED),
        ("REJECTED", STATUS_UNDELIVERABLE),
        ("FAILED", STATUS_UNDELIVERABLE),
        ("UNKNOWN", None),
    ],
)
def test_status_table(raw, ours):
    assert SevenProvider.map_status(raw) == ours


@pytest.mark.parametrize(
    ("raw", "ours"), [("DELIVERED", STATUS_DELIVERED), ("NOTDELIVERED", STATUS_UNDELIVERABLE)]
)
def test_webhook_dlr(fake, raw, ours):
    body, headers = dlr_request("77000000123", raw, HOOK_URL)
    [update] = adapter(fake).parse_webhook(body, headers, {})
    assert (update.provider_message_id, update.status) == ("77000000123", ours)
    assert update.payload["data"]["status"] == raw


def test_webhook_unknown_status_and_other_events_are_ignored(fake):
    body, headers = dlr_request("77000000123", "UNKNOWN", HOOK_URL)
    assert adapter(fake).parse_webhook(body, headers, {}) == []
    other = b'{"webhook_event": "sms_mo", "data": {}}'
    assert adapter(fake).parse_webhook(other, {}, {}) == []


def test_webhook_signature(fake):
    provider = adapter(fake, signing_secret="hook-secret", callback_url=HOOK_URL)
    body, headers = dlr_request("77000000123", "DELIVERED", HOOK_URL, "hook-secret")
    assert provider.parse_webhook(body, headers, {})[0].status == STATUS_DELIVERED
    forged, forged_headers = dlr_request("77000000123", "DELIVERED", HOOK_URL, "other-secret")
    with pytest.raises(PermanentError, match="does not match"):
        provider.parse_webhook(forged, forged_headers, {})
    unsigned, plain = dlr_request("77000000123", "DELIVERED", HOOK_URL)
    with pytest.raises(PermanentError, match="without signature"):
        provider.parse_webhook(unsigned, plain, {})
    tampered = body.replace(b"DELIVERED", b"NOTDELIVERED")
    with pytest.raises(PermanentError):
        provider.parse_webhook(tampered, headers, {})


@pytest.mark.parametrize(
    "value", ["PraxisHuber", "Praxis1", "A", "12345678901", "+4312345678", "4367612345678901"]
)
def test_sender_ids_accepted(value):
    assert validate_sender(f" {value} ") == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "PraxisHuber1",
        "Praxis Huber",
        "Dr.Huber",
        "Zahnärztin",
        "+43123456789012345",
        "++4312",
        "43-1-234",
    ],
)
def test_sender_ids_refused_with_the_rule(value):
    with translation.override("en"), pytest.raises(ValidationError) as info:
        validate_sender(value)
    assert "11 letters and digits" in info.value.messages[0]
    assert "16 digits" in info.value.messages[0]


def test_sender_rule_is_german_by_default():
    with translation.override("de"), pytest.raises(ValidationError) as info:
        validate_sender("Praxis Huber")
    assert "11 Buchstaben und Ziffern" in info.value.messages[0]
