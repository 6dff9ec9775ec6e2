"""seven.io (formerly sms77, Germany) SMS gateway adapter.

Follows seven's published API description and official clients:

- OpenAPI: https://github.com/seven-io/api-schemes (``yml/openapi.yml``; server
  ``https://gateway.seven.io/api``): ``POST /sms`` (``to``, ``text`` up to 1520 characters,
  ``from`` up to 11 alphanumeric or 16 numeric characters, ``foreign_id`` "returned in
  callbacks for status reports", ``label``, ``flash``, ``delay``) answering ``SmsResponse``
  ``{success, total_price, balance, messages: [{id, recipient, encoding, parts, price,
  success, error, error_text}]}``; ``GET /status?msg_id=a,b`` answering ``[{id, status,
  status_time}]`` with the statuses DELIVERED, NOTDELIVERED, BUFFERED, TRANSMITTED, ACCEPTED,
  EXPIRED, REJECTED, FAILED, UNKNOWN; ``GET /balance`` answering ``{amount, currency}``.
- Auth header ``X-Api-Key`` and JSON bodies as in seven-io/python-client
  (``seven_api/SevenApi.py``) and Apprise's seven plugin.
- Error codes as in seven-io/js-client ``src/lib/ErrorCode.ts``; the API answers them as a
  bare number body (js-client ``BaseClient.ts`` reads a numeric body as the error code).
- Delivery-report webhook (event ``dlr``): ``{"webhook_event": "dlr", "webhook_timestamp",
  "data": {"msg_id", "status", "timestamp"}}`` (js-client type ``SmsStatusChangePayload``),
  optionally signed: ``X-Signature`` = hex HMAC-SHA256 with the signing secret over
  ``timestamp \\n nonce \\n METHOD \\n URL \\n md5(body)`` with ``X-Timestamp``/``X-Nonce``
  (js-client ``src/lib/WebhookVerifier.ts``). Any 2xx answer acknowledges it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

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
from praxisbote.providers.sms.base import HttpResponse, HttpSmsProvider

#: seven's status -> ours (GATEWAYS.md's table). UNKNOWN is left out: it keeps the state.
STATUS_MAP: dict[str, str] = {
    "ACCEPTED": STATUS_SENT,
    "TRANSMITTED": STATUS_SENT,
    "BUFFERED": STATUS_BUFFERED,
    "DELIVERED": STATUS_DELIVERED,
    "NOTDELIVERED": STATUS_UNDELIVERABLE,
    "REJECTED": STATUS_UNDELIVERABLE,
    "FAILED": STATUS_UNDELIVERABLE,
    "EXPIRED": STATUS_EXPIRED,
}

SUCCESS = ("100", "101")  # 100: all sent; 101: some recipients failed (see per message)
#: Signed webhooks older than this are refused (the js-client's default).
SIGNATURE_MAX_AGE = 300
STATUS_BATCH = 100

# seven.io's own reasons (English in the protocol; reasons.py translates them for staff).
API_OFF = declare(
    gettext_noop(
        "seven.io: the HTTP API is switched off for this account (%(detail)s); switch it on "
        "in the seven.io dashboard."
    )
)
IP_REFUSED = declare(
    gettext_noop(
        "seven.io refused this server's IP address (%(detail)s); allow it in the seven.io "
        "dashboard."
    )
)
DAILY_LIMIT = declare(
    gettext_noop("seven.io: daily limit for %(recipient)s reached (%(detail)s); tried again later.")
)
TOO_LONG = declare(gettext_noop("text too long (%(detail)s)"))
DUPLICATE = declare(gettext_noop("the same text went to this number moments ago (%(detail)s)"))
INCOMPLETE = declare(gettext_noop("incomplete request (%(detail)s)"))
KEY_ACCEPTED = declare(gettext_noop("seven.io accepted the API key."))


def _error_for(code: str, recipient: str, text: str = "") -> ProviderError:
    """seven's numeric codes (js-client ``ErrorCode``) as our error classes."""
    label = "seven.io"
    detail = f"code {code}" + (f": {text}" if text else "")
    if code in ("201", "202"):
        return base.invalid_number(label, recipient, detail)
    if code in ("300", "900"):
        return base.wrong_key(label, detail)
    if code == "902":
        return PermanentError(API_OFF.format(detail=detail), code="auth")
    if code == "903":
        return PermanentError(IP_REFUSED.format(detail=detail), code="auth")
    if code == "306":
        return base.invalid_sender(label, detail)
    if code == "500":
        return base.no_credit(label, detail)
    if code == "401":
        return base.rejected(label, TOO_LONG.format(detail=detail))
    if code == "402":
        # Reload lock: the same SMS to the same number within 180 s. Sending again cannot
        # help, and the first one went out.
        return base.rejected(label, DUPLICATE.format(detail=detail))
    if code == "403":
        return TransientError(
            DAILY_LIMIT.format(recipient=recipient, detail=detail),
            code="limit",
            retry_after=3600,
        )
    if code in ("600", "700"):
        return base.gateway_trouble(label, detail)
    if code in ("301", "304", "305", "307", "400"):
        return base.rejected(label, INCOMPLETE.format(detail=detail))
    return base.gateway_trouble(label, detail)


class SevenProvider(HttpSmsProvider):
    name: ClassVar[str] = "seven"
    label: ClassVar[str] = "seven.io"
    default_base_url: ClassVar[str] = "https://gateway.seven.io/api"
    STATUS_MAP: ClassVar[Mapping[str, str]] = STATUS_MAP
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_key",)
    OPTIONAL_SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("signing_secret",)
    supports_balance: ClassVar[bool] = True
    supports_webhook: ClassVar[bool] = True
    polls_status: ClassVar[bool] = True

    def auth_headers(self) -> dict[str, str]:
        return {
            "X-Api-Key": str(self.secrets.get("api_key", "")),
            "Accept": "application/json",
            "SentWith": "praxisbote",
        }

    async def send_one(self, message: Outgoing) -> SendOutcome:
        body: dict[str, Any] = {
            "to": message.recipient,
            "text": message.body,
            "foreign_id": self.client_reference(message),
        }
        if self.sender_id:
            body["from"] = self.sender_id
        response = await self.request("POST", "sms", json_body=body)
        return self._outcome(message, response)

    def _outcome(self, message: Outgoing, response: HttpResponse) -> SendOutcome:
        data = response.json()
        if not isinstance(data, dict):
            code = response.text.strip()
            if response.status >= 400 and not code.isdigit():
                raise base.rejected(self.label, f"HTTP {response.status}")
            raise _error_for(code or "700", message.recipient)
        success = str(data.get("success", ""))
        items = data.get("messages") or []
        item = items[0] if items else {}
        if success not in SUCCESS or not item.get("success"):
            code = str(item.get("error") or success or "700")
            raise _error_for(code, message.recipient, str(item.get("error_text") or ""))
        payload = {
            "id": item.get("id"),
            "parts": item.get("parts"),
            "encoding": item.get("encoding"),
            "price": item.get("price"),
        }
        return self.accepted(message, str(item.get("id", "")), payload)

    async def balance(self) -> Decimal | None:
        response = await self.request("GET", "balance")
        data = response.json()
        if isinstance(data, dict) and "amount" in data:
            return base.parse_decimal(data["amount"])
        raise _error_for(response.text.strip() or "700", "")

    async def check_credentials(self) -> CheckResult:
        try:
            amount = await self.balance()
        except PermanentError as exc:
            return CheckResult(ok=False, detail=exc.reason)
        except TransientError as exc:
            return CheckResult(ok=False, detail=exc.reason)
        return CheckResult(ok=True, detail=KEY_ACCEPTED.format(), balance=amount, extra={})

    async def poll_status(self, provider_message_ids: Sequence[str]) -> list[StatusUpdate]:
        updates: list[StatusUpdate] = []
        for part in base.chunks(list(provider_message_ids), STATUS_BATCH):
            response = await self.request("GET", "status", params={"msg_id": ",".join(part)})
            data = response.json()
            if not isinstance(data, list):
                continue
            for item in data:
                if not isinstance(item, dict):
                    continue
                update = self.status_update(str(item.get("id", "")), item.get("status", ""), item)
                if update is not None:
                    updates.append(update)
        return updates

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        """A ``dlr`` event; others (inbound SMS, voice) are acknowledged and ignored."""
        self._verify_signature(body, headers, query)
        try:
            payload = json.loads(body)
        except ValueError:
            raise PermanentError("seven.io report is not JSON", code="payload") from None
        if not isinstance(payload, dict) or payload.get("webhook_event") != "dlr":
            return []
        data = payload.get("data") or {}
        update = self.status_update(str(data.get("msg_id", "")), data.get("status", ""), payload)
        if update is not None and data.get("foreign_id"):
            update.message_id = str(data["foreign_id"])
        return [update] if update is not None else []

    def _verify_signature(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> None:
        """With a signing secret configured, unsigned or wrongly signed reports are forged."""
        secret = str(self.secrets.get("signing_secret") or "")
        if not secret:
            return
        lower = {k.lower(): v for k, v in headers.items()}
        stamp, nonce, signature = (
            lower.get("x-timestamp", ""),
            lower.get("x-nonce", ""),
            lower.get("x-signature", ""),
        )
        if not (stamp.isdigit() and nonce and signature):
            raise PermanentError("seven.io report without signature", code="signature")
        if abs(time.time() - int(stamp)) > SIGNATURE_MAX_AGE:
            raise PermanentError("seven.io report signature too old", code="signature")
        # Signed over the URL seven calls: the DLR URL we registered (config callback_url).
        expected = sign(secret, int(stamp), nonce, "POST", self.callback_url, body)
        if not hmac.compare_digest(expected, signature.lower()):
            raise PermanentError("seven.io report signature does not match", code="signature")


def sign(secret: str, stamp: int, nonce: str, method: str, url: str, body: bytes) -> str:
    """seven's webhook signature (js-client ``WebhookVerifier``); the fake signs with it too."""
    digest = hashlib.md5(body).hexdigest()  # noqa: S324 - seven's scheme, not our security
    to_sign = "\n".join([str(stamp), nonce, method.upper(), url, digest])
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


Adapter = SevenProvider
