"""websms / LINK Mobility Austria adapter (JSON REST API, Bearer token).

Sources: websms REST API https://developer.websms.com/rest-api (``POST
/rest/smsmessaging/text``; request ``recipientAddressList`` (MSISDNs as digits without
``+``), ``messageContent``, ``senderAddress``/``senderAddressType``, ``clientMessageId``,
``notificationCallbackUrl``, ``test``; answer ``statusCode``, ``statusMessage``,
``transferId``, ``smsCount``; delivery reports as JSON POST ``messageType:
"deliveryReport"`` with ``deliveryReportMessageStatus``, answered with ``{"statusCode":
2000}``), and the status codes of the official clients (websms-com/websmscom-python, the
PHP/Java SDK ``StatusCodes``). The legacy host ``api.websms.com`` serves the same paths.

websms offers no balance query and does not sign delivery reports: the report URL carries
our opaque per-account token instead. Key check: a request with the ``test`` flag (websms
simulates it; nothing is sent or charged) and the key is judged by whether websms got past
authentication.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
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

LABEL = "websms"
#: websms's own reasons (English like every reason; reasons.py translates them for staff).
IP_REFUSED = declare(
    gettext_noop(
        "websms refused this server's IP address (%(detail)s); allow it in the websms account."
    )
)
KEY_ACCEPTED = declare(gettext_noop("websms accepted the API token."))
STATUS_MAP: dict[str, str] = {
    "accepted": STATUS_SENT,
    "delivered": STATUS_DELIVERED,
    "undelivered": STATUS_UNDELIVERABLE,
    "rejected": STATUS_UNDELIVERABLE,
    "deleted": STATUS_UNDELIVERABLE,
    "expired": STATUS_EXPIRED,
}
OK_CODES = (2000, 2001, 2002)
AUTH_CODES = (4001, 4020, 4021, 4022)
THROTTLE_CODES = (4012, 4023, 4024, 4025)


def error_for(code: int, recipient: str, text: str) -> ProviderError:
    """websms ``statusCode`` -> our error classes."""
    detail = f"{code}: {text}" if text else str(code)
    if code in AUTH_CODES:
        return base.wrong_key(LABEL, detail)
    if code == 4014:
        return PermanentError(IP_REFUSED.format(detail=detail), code="auth")
    if code == 4002:
        return base.invalid_number(LABEL, recipient, detail)
    if code == 4003:
        return base.invalid_sender(LABEL, detail)
    if code == 4013:
        return base.no_credit(LABEL, detail)
    if code in THROTTLE_CODES:
        return base.throttled(LABEL, 1.0)
    if code >= 5000:
        return base.gateway_trouble(LABEL, detail)
    return base.rejected(LABEL, detail)


def sender_fields(sender: str) -> dict[str, str]:
    """websms wants the kind of sender spelled out; numbers go without ``+``/``00``."""
    if not sender:
        return {}
    if sender.lstrip("+").isdigit():
        digits = sender.lstrip("+")
        international = sender.startswith("+") or digits.startswith("00")
        return {
            "senderAddress": digits.removeprefix("00") if international else digits,
            "senderAddressType": "international" if international else "national",
        }
    return {"senderAddress": sender, "senderAddressType": "alphanumeric"}


class WebsmsProvider(HttpSmsProvider):
    name: ClassVar[str] = "websms"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://api.linkmobility.eu"
    STATUS_MAP: ClassVar[Mapping[str, str]] = STATUS_MAP
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_key",)
    supports_webhook: ClassVar[bool] = True

    def auth_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.secrets.get('api_key', '')}",
            "Accept": "application/json",
        }

    def body(self, message: Outgoing) -> dict[str, Any]:
        body: dict[str, Any] = {
            "recipientAddressList": [message.recipient.lstrip("+")],
            "messageContent": message.body,
            "clientMessageId": self.client_reference(message),
            **sender_fields(self.sender_id),
        }
        if self.callback_url:
            body["notificationCallbackUrl"] = self.callback_url
        return body

    async def send_one(self, message: Outgoing) -> SendOutcome:
        response = await self.request(
            "POST", "rest/smsmessaging/text", json_body=self.body(message)
        )
        data = response.json()
        if not isinstance(data, dict) or "statusCode" not in data:
            unexpected = base.UNEXPECTED_ANSWER.format(status=response.status)
            raise base.gateway_trouble(self.label, unexpected)
        code = int(data["statusCode"])
        if code not in OK_CODES:
            raise error_for(code, message.recipient, str(data.get("statusMessage") or ""))
        payload = {k: data.get(k) for k in ("transferId", "smsCount", "statusCode")}
        return self.accepted(message, str(data.get("transferId", "")), payload)

    async def check_credentials(self) -> CheckResult:
        """A ``test`` request without content: past authentication means the token is good."""
        try:
            response = await self.request(
                "POST",
                "rest/smsmessaging/text",
                json_body={"test": True, "recipientAddressList": [], "messageContent": ""},
            )
        except (PermanentError, TransientError) as exc:
            return CheckResult(ok=False, detail=exc.reason)
        data = response.json() or {}
        code = int(data.get("statusCode") or 0) if isinstance(data, dict) else 0
        if code in AUTH_CODES or code == 4014:
            return CheckResult(ok=False, detail=error_for(code, "", "").reason)
        return CheckResult(ok=True, detail=KEY_ACCEPTED.format())

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        try:
            payload = json.loads(body)
        except ValueError:
            raise PermanentError("websms report is not JSON", code="payload") from None
        if not isinstance(payload, dict) or payload.get("messageType") != "deliveryReport":
            return []  # inbound SMS and others: acknowledged, not ours to handle
        update = self.status_update(
            str(payload.get("transferId", "")),
            str(payload.get("deliveryReportMessageStatus", "")),
            payload,
            message_id=str(payload.get("clientMessageId") or ""),
        )
        return [update] if update is not None else []

    def webhook_response(self) -> tuple[int, str, bytes]:
        return 200, "application/json", b'{"statusCode": 2000, "statusMessage": "ok"}'


Adapter = WebsmsProvider
