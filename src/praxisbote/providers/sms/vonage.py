"""Vonage (Nexmo) adapter for the SMS API.

Sources: https://developer.vonage.com/en/api/sms (``POST /sms/json``, form ``api_key``,
``api_secret``, ``from``, ``to`` digits without ``+``, ``text``, ``type`` text|unicode,
``callback``, ``client-ref`` up to 40 characters, ``status-report-req``; answer
``messages[]`` with ``status`` "0" or an error and ``error-text``), the error table
https://developer.vonage.com/en/api-errors/sms (1 throttled, 4 invalid credentials,
6 invalid message / unknown number prefix, 7 number barred, 8 account barred, 9 quota /
credit, 15 invalid sender), delivery receipts
https://developer.vonage.com/messaging/sms/guides/delivery-receipts (``messageId``,
``status``, ``err-code``, ``client-ref``; GET query or POST JSON), signed webhooks
https://developer.vonage.com/en/getting-started/concepts/signing-messages (``sig`` over the
sorted parameters with the signature secret, md5hash or HMAC; as Vonage's Python SDK
``Client.check_signature`` computes it), and the Account API balance
``GET /account/get-balance`` → ``value`` (EUR).

With a signature secret set, an unsigned or wrongly signed receipt is refused as forged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    STATUS_BUFFERED,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_SENT,
    STATUS_UNDELIVERABLE,
    CheckResult,
    Outgoing,
    PermanentError,
    ProviderError,
    SendOutcome,
    StatusUpdate,
    TransientError,
)
from praxisbote.providers.sms import base
from praxisbote.providers.sms.base import HttpSmsProvider
from praxisbote.texts.encoding import GSM7, encoding_of

LABEL = "Vonage"
#: Vonage's own reasons (English like every reason; reasons.py translates them for staff).
BARRED = declare(gettext_noop("Vonage account is barred (%(detail)s); contact Vonage."))
NO_BALANCE = declare(gettext_noop("no balance in the answer, HTTP %(status)s"))
KEY_ACCEPTED = declare(gettext_noop("Vonage accepted API key and secret."))
STATUS_MAP: dict[str, str] = {
    "accepted": STATUS_SENT,
    "buffered": STATUS_BUFFERED,
    "delivered": STATUS_DELIVERED,
    "failed": STATUS_UNDELIVERABLE,
    "rejected": STATUS_UNDELIVERABLE,
    "expired": STATUS_EXPIRED,
}
SIGNATURE_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")


def sign(params: Mapping[str, str], secret: str, method: str = "md5hash") -> str:
    """Vonage's signature over ``params`` (without ``sig``), lower-case hex."""
    text = "".join(
        "&{}={}".format(k, str(params[k]).replace("&", "_").replace("=", "_"))
        for k in sorted(params)
    )
    if method == "md5hash":
        return hashlib.md5((text + secret).encode()).hexdigest()  # noqa: S324 - Vonage's scheme
    return hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest()


def error_for(status: str, recipient: str, text: str) -> ProviderError:
    detail = f"status {status}: {text}" if text else f"status {status}"
    if status == "1":
        return base.throttled(LABEL, 1.0)
    if status == "4":
        return base.wrong_key(LABEL, detail)
    if status == "8":
        return PermanentError(BARRED.format(detail=detail), code="auth")
    if status == "9":
        return base.no_credit(LABEL, detail)
    if status in ("6", "7"):
        return base.invalid_number(LABEL, recipient, detail)
    if status == "15":
        return base.invalid_sender(LABEL, detail)
    if status in ("5", "13"):
        return base.gateway_trouble(LABEL, detail)
    return base.rejected(LABEL, detail)


class VonageProvider(HttpSmsProvider):
    name: ClassVar[str] = "vonage"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://rest.nexmo.com"
    STATUS_MAP: ClassVar[Mapping[str, str]] = STATUS_MAP
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_key", "api_secret")
    OPTIONAL_SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("signature_secret",)
    CONFIG_FIELDS: ClassVar[tuple[str, ...]] = ("signature_method",)
    supports_balance: ClassVar[bool] = True
    supports_webhook: ClassVar[bool] = True
    sender_required: ClassVar[bool] = True

    @classmethod
    def validate_config(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        cleaned = super().validate_config(values)
        method = cleaned.get("signature_method", "md5hash")
        if method not in SIGNATURE_METHODS:
            raise ValidationError(
                {"signature_method": _("One of: %s.") % ", ".join(SIGNATURE_METHODS)}
            )
        return cleaned

    def credentials(self) -> dict[str, str]:
        return {
            "api_key": str(self.secrets.get("api_key", "")),
            "api_secret": str(self.secrets.get("api_secret", "")),
        }

    async def send_one(self, message: Outgoing) -> SendOutcome:
        form = {
            **self.credentials(),
            "from": self.sender_id,
            "to": message.recipient.lstrip("+"),
            "text": message.body,
            "type": "text" if encoding_of(message.body) == GSM7 else "unicode",
            "client-ref": self.client_reference(message)[:40],
        }
        if self.callback_url:
            form["callback"] = self.callback_url
            form["status-report-req"] = "1"
        response = await self.request("POST", "sms/json", form=form)
        data = response.json()
        items = data.get("messages") if isinstance(data, dict) else None
        if not items:
            unexpected = base.UNEXPECTED_ANSWER.format(status=response.status)
            raise base.gateway_trouble(self.label, unexpected)
        item = items[0]
        status = str(item.get("status", ""))
        if status != "0":
            raise error_for(status, message.recipient, str(item.get("error-text") or ""))
        payload = {k: item.get(k) for k in ("message-id", "message-price", "remaining-balance")}
        return self.accepted(message, str(item.get("message-id", "")), payload)

    async def balance(self) -> Decimal | None:
        response = await self.request("GET", "account/get-balance", params=self.credentials())
        data = response.json()
        if not isinstance(data, dict) or "value" not in data:
            raise base.rejected(self.label, NO_BALANCE.format(status=response.status))
        return base.parse_decimal(data["value"])

    async def check_credentials(self) -> CheckResult:
        try:
            amount = await self.balance()
        except (PermanentError, TransientError) as exc:
            return CheckResult(ok=False, detail=exc.reason)
        return CheckResult(ok=True, detail=KEY_ACCEPTED.format(), balance=amount)

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        params = self._params(body, headers, query)
        self._verify(params)
        if "messageId" not in params:
            return []  # an inbound SMS or another event: acknowledged, not ours
        update = self.status_update(
            params["messageId"],
            params.get("status", ""),
            params,
            message_id=params.get("client-ref", ""),
            error=params.get("err-code", ""),
        )
        return [update] if update is not None else []

    @staticmethod
    def _params(body: bytes, headers: Mapping[str, str], query: Mapping[str, str]) -> dict:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if body and "json" in content_type:
            try:
                data = json.loads(body)
            except ValueError:
                raise PermanentError("Vonage receipt is not JSON", code="payload") from None
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        if body:
            return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return {str(k): str(v) for k, v in query.items()}

    def _verify(self, params: dict[str, str]) -> None:
        secret = str(self.secrets.get("signature_secret") or "")
        if not secret:
            return
        given = params.get("sig", "").lower()
        unsigned = {k: v for k, v in params.items() if k != "sig"}
        method = str(self.config.get("signature_method") or "md5hash")
        if not given or not hmac.compare_digest(given, sign(unsigned, secret, method)):
            raise PermanentError("Vonage receipt signature does not match", code="signature")


Adapter = VonageProvider
