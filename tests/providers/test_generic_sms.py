"""The generic HTTP adapter, configured as firmensms.at, against tests/fakes/generic.py."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import ValidationError
from tests.fakes.generic import PASSWORD, USER, GenericFake
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
from praxisbote.providers.sms.generic import GenericHttpProvider

CALLBACK = HOOK.format(name="generic")


server, fake = gateway_fixtures(GenericFake, callback=CALLBACK)


def adapter(fake, password=PASSWORD, **config) -> GenericHttpProvider:
    config = {
        "preset": "firmensms",
        "base_url": fake.url,
        "username": USER,
        "sender_id": "PraxisHuber",
        "callback_url": CALLBACK,
        **config,
    }
    return GenericHttpProvider(config, {"api_key": password})


def test_registered():
    assert provider_class("generic") is GenericHttpProvider


def test_firmensms_preset_speaks_its_api(fake):
    [outcome] = send(adapter(fake), sms(text="Grüß Gott"))
    assert outcome.error is None and outcome.provider_message_id.startswith("F")
    request = fake.requests[-1]
    assert request.path == "/gateway/rest/sms"
    assert request.headers["Content-Type"] == "application/json"  # no "; charset"
    assert json.loads(request.body) == {
        "to": "004367612345678",
        "text": "Grüß Gott",
        "senderid": "PraxisHuber",
    }
    assert outcome.payload["cost"] == "0.070"


@pytest.mark.parametrize(
    ("setup", "recipient", "password", "sender", "error_class", "code"),
    [
        ({}, "+4367612345678", "wrong", "PraxisHuber", PermanentError, "auth"),
        ({"balance": 0.0}, "+4367612345678", PASSWORD, "PraxisHuber", TransientError, "no-credit"),
        ({}, "+43", PASSWORD, "PraxisHuber", PermanentError, "invalid-number"),
        ({}, "+4367612345678", PASSWORD, "Praxis Huber!", PermanentError, "sender"),
        (
            {"throttle_next": 1},
            "+4367612345678",
            PASSWORD,
            "PraxisHuber",
            ThrottledError,
            "throttled",
        ),
    ],
    ids=["wrong-key", "no-credit", "invalid-number", "invalid-sender", "throttled"],
)
def test_send_errors(fake, setup, recipient, password, sender, error_class, code):
    for key, value in setup.items():
        setattr(fake, key, value)
    [outcome] = send(adapter(fake, password=password, sender_id=sender), sms(to=recipient))
    assert type(outcome.error) is error_class and outcome.error.code == code
    assert password not in outcome.error.reason and "firmensms.at" in outcome.error.reason
    assert getattr(outcome.error, "throttled", False) is (code == "throttled")
    assert not fake.messages


def test_balance_and_key_check(fake):
    assert run(adapter(fake), lambda p: p.balance()) == Decimal("9.800")
    good = run(adapter(fake), lambda p: p.check_credentials())
    assert good.ok and good.balance == Decimal("9.800")
    bad = run(adapter(fake, password="nope"), lambda p: p.check_credentials())
    assert not bad.ok and "refused the access key" in bad.detail


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("DELIVERED", STATUS_DELIVERED),
        ("FAILED", STATUS_UNDELIVERABLE),
        ("BUFFERED", STATUS_BUFFERED),
    ],
)
def test_delivery_reports_by_the_configured_fields(fake, raw, ours):
    [outcome] = send(adapter(fake))
    request = fake.dlr_request(outcome.provider_message_id, raw)
    query = dict(parse_qsl(urlsplit(request.url).query))
    [update] = adapter(fake).parse_webhook(b"", {}, query)
    assert (update.provider_message_id, update.status) == (outcome.provider_message_id, ours)
    assert adapter(fake).parse_webhook(b"", {}, {**query, "status": "WHATEVER"}) == []


def test_a_hand_made_form_gateway_with_header_auth(fake):
    """Everything configured by hand: form body, key in a header, nested id path."""
    provider = GenericHttpProvider(
        {
            "base_url": fake.url,
            "path": "gateway/rest/sms",
            "auth": "header",
            "auth_header": "X-Key",
            "body_format": "query",
            "label": "Hausgateway",
            "body_template": (
                '{"nummer": "{to_digits}", "nachricht": "{text}", "ref": "{reference}"}'
            ),
            "response_id_path": "msgid",
            "success_path": "error",
            "success_values": ["0"],
        },
        {"api_key": "k-123"},
    )
    [outcome] = send(provider)
    request = fake.requests[-1]
    assert request.headers["X-Key"] == "k-123" and request.query == {
        "nummer": "4367612345678",
        "nachricht": sms().body,
        "ref": sms().message_id,
    }
    # The fake wants JSON and Basic auth: this gateway's answer is refused, and says whose.
    assert outcome.error is not None and "Hausgateway" in outcome.error.reason


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"method": "PUT"}, "method"),
        ({"auth": "header"}, "auth_header"),
        ({"body_template": "[1]"}, "body_template"),
        ({"status_map": {"OK": "fine"}}, "status_map"),
        ({"error_classes": {"9": "boom"}}, "error_classes"),
        ({"body_template": '{"a": 1}'}, "response_id_path"),
    ],
)
def test_config_validation_names_the_field(config, field):
    with pytest.raises(ValidationError) as exc:
        GenericHttpProvider.validate_config(config)
    assert field in exc.value.message_dict


def test_preset_validates():
    assert GenericHttpProvider.validate_config({"preset": "firmensms"})["body_template"]


def test_base_url_override(fake):
    assert GenericHttpProvider({"preset": "firmensms"}, {}).base_url == "https://www.firmensms.at"
    assert adapter(fake).base_url == fake.url
