"""The practice's SMS channel (issue 5): gateway settings, key check, balance, test SMS.

Credentials go in (``PUT``) and never come out: responses say only ``credentials_set``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from praxisbote.api.auth import practice_of
from praxisbote.api.errors import Problem
from praxisbote.messaging import sms_settings
from praxisbote.providers.base import ProviderError

router = Router(tags=["sms"])
URL = "/channels/sms"


class GatewayOut(Schema):
    name: str
    label: str
    default_base_url: str
    credentials: list[str] = Field(..., description="Credentials the gateway requires")
    optional_credentials: list[str]
    options: list[str] = Field(..., description="Gateway-specific settings")
    supports_balance: bool
    supports_webhook: bool
    supports_polling: bool
    sender_required: bool


class SmsSettingsOut(Schema):
    gateway: str = Field(..., description="The chosen gateway, or 'sandbox' in test mode")
    test_mode: bool
    sms_enabled: bool = Field(
        ..., description="Seed 001's 'SMS erlauben (extra abgerechnet)': off, no SMS is accepted"
    )
    sender_id: str
    base_url: str = Field(..., description="Override of the gateway's address; empty: default")
    effective_base_url: str
    rate_limit: float | None = Field(..., description="Our limit in SMS per second, or none")
    delivery_reports: str = Field(..., description="'webhook' or 'poll'")
    options: dict[str, Any]
    credentials_set: dict[str, bool] = Field(..., description="Which credentials are stored")
    webhook_url: str = Field(
        ...,
        description="Delivery-report URL to register at the gateway (contains this account's "
        "secret token: treat it like a password)",
    )
    supports_balance: bool
    supports_webhook: bool


class SmsSettingsIn(Schema):
    gateway: str = Field(..., description="A gateway name from GET /channels/sms/gateways")
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="E.g. {'api_key': '…'}; an empty or missing one keeps the stored value",
    )
    sender_id: str = Field(
        "", description="Up to 11 letters/digits, or a phone number of up to 16 digits (+ ok)"
    )
    base_url: str = ""
    rate_limit: float | None = None
    delivery_reports: str = Field("", description="'webhook' (default where possible) or 'poll'")
    options: dict[str, Any] = Field(default_factory=dict)
    sms_enabled: bool | None = Field(
        None, description="Switch SMS on or off for the practice; omitted: unchanged"
    )


class KeyCheckOut(Schema):
    ok: bool
    detail: str
    balance: Decimal | None = None


class BalanceOut(Schema):
    gateway: str
    balance: Decimal | None


class TestIn(Schema):
    to: str = Field("", description="Mobile number; default: the practice's own phone number")


class TestOut(Schema):
    message_id: UUID
    state: str
    recipient: str
    detail: str


@router.get(URL, response=SmsSettingsOut, summary="SMS gateway settings")
def get_settings(request: HttpRequest):
    return sms_settings.read(practice_of(request))


@router.put(URL, response=SmsSettingsOut, summary="Choose and set up the SMS gateway")
def put_settings(request: HttpRequest, payload: SmsSettingsIn):
    """Switches SMS from test mode to the gateway (or back with gateway 'sandbox')."""
    practice = practice_of(request)
    sms_settings.save(practice, sms_settings.SmsSettingsInput(**payload.model_dump()))
    return sms_settings.read(practice)


@router.get(f"{URL}/gateways", response=list[GatewayOut], summary="SMS gateways to choose from")
def list_gateways(request: HttpRequest):
    return sms_settings.gateways()


@router.post(
    f"{URL}/key-check", response=KeyCheckOut, summary="Check the gateway key (seed 003 Key-Check)"
)
def key_check(request: HttpRequest):
    result = sms_settings.key_check(practice_of(request))
    return {"ok": result.ok, "detail": result.detail, "balance": result.balance}


@router.get(f"{URL}/balance", response=BalanceOut, summary="Credit left at the SMS gateway")
def balance(request: HttpRequest):
    try:
        amount, label = sms_settings.balance(practice_of(request))
    except sms_settings.NotSupported as exc:
        raise Problem(409, _("Not available"), str(exc), slug="not-supported") from None
    except ProviderError as exc:
        raise Problem(502, _("Gateway error"), exc.reason, slug="gateway-error") from None
    return {"gateway": label, "balance": amount}


@router.post(
    f"{URL}/test",
    response={202: TestOut},
    summary="Queue a test SMS to a number or the practice's own number",
)
def send_test(request: HttpRequest, payload: TestIn):
    """Goes through the outbox like every SMS: watch its state in the protocol."""
    message = sms_settings.send_test(practice_of(request), payload.to)
    return 202, {
        "message_id": message.pk,
        "state": message.state,
        "recipient": message.recipient,
        "detail": _("Queued; the worker sends it through the configured gateway."),
    }
