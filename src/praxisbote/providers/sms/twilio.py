"""Twilio adapter (Programmable Messaging, REST API 2010-04-01).

Sources: Messages resource https://www.twilio.com/docs/messaging/api/message-resource
(``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form ``To``, ``From`` or
``MessagingServiceSid``, ``Body``, ``StatusCallback``; answer the Message resource with
``sid``, ``status``, ``num_segments``, ``error_code``; ``GET …/Messages/{Sid}.json``), HTTP
Basic auth AccountSid:AuthToken, JSON errors ``{code, message, more_info, status}``
(https://www.twilio.com/docs/api/errors: 20003 authenticate, 20005/10001 account not active,
e.g. out of funds, 21211 invalid 'To' number, 21614 not a mobile number, 20429 too many
requests), balance ``GET …/Balance.json`` (twilio-oai ``Api20100401Balance``), and
https://www.twilio.com/docs/usage/webhooks/webhooks-security for the status callback's
``X-Twilio-Signature``: base64 HMAC-SHA1 with the auth token over the exact callback URL
followed by every POST parameter's name and value, sorted by name.

A callback whose signature does not match is refused as forged (the webhook route answers
403 and nothing changes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    STATUS_DELIVERED,
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

LABEL = "Twilio"
#: Key check answers (English like every reason; reasons.py translates them for staff).
ACCOUNT_STATUS = declare(gettext_noop("Twilio account is %(status)s."))
ACCOUNT_INACTIVE = declare(gettext_noop("Twilio account is not active."))
KEY_ACCEPTED = declare(gettext_noop("Twilio accepted Account SID and auth token."))
API = "2010-04-01/Accounts/{sid}"
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
STATUS_MAP: dict[str, str] = {
    "accepted": STATUS_SENT,
    "queued": STATUS_SENT,
    "sending": STATUS_SENT,
    "sent": STATUS_SENT,
    "delivered": STATUS_DELIVERED,
    "read": STATUS_DELIVERED,
    "undelivered": STATUS_UNDELIVERABLE,
    "failed": STATUS_UNDELIVERABLE,
    "canceled": STATUS_UNDELIVERABLE,
}
INVALID_TO = (21211, 21614, 21612, 21408, 21610)
INVALID_FROM = (21212, 21606, 21659, 21603)
INACTIVE = (20005, 10001, 30002)


def basic_header(user: str, password: object) -> str:
    """HTTP Basic credentials (aiohttp's BasicAuth is deprecated)."""
    return "Basic " + base64.b64encode(f"{user}:{password or ''}".encode()).decode()


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def error_for(code: int, status: int, recipient: str, text: str) -> ProviderError:
    detail = f"error {code}: {text}" if text else f"error {code}"
    if code == 20003:
        return base.wrong_key(LABEL, detail)
    if code in INACTIVE:
        return base.no_credit(LABEL, detail)
    if code == 20429 or status == 429:
        return base.throttled(LABEL, 1.0)
    if code in INVALID_TO:
        return base.invalid_number(LABEL, recipient, detail)
    if code in INVALID_FROM:
        return base.invalid_sender(LABEL, detail)
    if status >= 500:
        return base.gateway_trouble(LABEL, detail)
    return base.rejected(LABEL, detail)


class TwilioProvider(HttpSmsProvider):
    name: ClassVar[str] = "twilio"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://api.twilio.com"
    STATUS_MAP: ClassVar[Mapping[str, str]] = STATUS_MAP
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("auth_token",)
    CONFIG_FIELDS: ClassVar[tuple[str, ...]] = ("account_sid", "messaging_service_sid")
    supports_balance: ClassVar[bool] = True
    supports_webhook: ClassVar[bool] = True
    polls_status: ClassVar[bool] = True

    @classmethod
    def validate_config(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        cleaned = super().validate_config(values)
        errors: dict[str, str] = {}
        if not ACCOUNT_SID.match(str(cleaned.get("account_sid", ""))):
            errors["account_sid"] = _("The Account SID starts with AC followed by 32 hex digits.")
        service = str(cleaned.get("messaging_service_sid", ""))
        if service and not SERVICE_SID.match(service):
            errors["messaging_service_sid"] = _(
                "The Messaging Service SID starts with MG followed by 32 hex digits."
            )
        if errors:
            raise ValidationError(errors)
        return cleaned

    @property
    def account_sid(self) -> str:
        return str(self.config.get("account_sid", ""))

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": basic_header(self.account_sid, self.secrets.get("auth_token"))}

    def path(self, tail: str = "") -> str:
        return API.format(sid=self.account_sid) + tail

    def raise_for_http(self, response: HttpResponse) -> None:
        """Twilio names the reason in the JSON body, also for 401 (suspended ≠ wrong key)."""
        data = response.json()
        if response.status >= 400 and isinstance(data, dict) and "code" in data:
            raise error_for(
                int(data.get("code") or 0), response.status, "", str(data.get("message") or "")
            )
        super().raise_for_http(response)

    async def call(self, method: str, tail: str, **kw: Any) -> dict[str, Any]:
        response = await self.request(method, self.path(tail), **kw)
        data = response.json()
        if response.status >= 400 or not isinstance(data, dict):
            raise base.rejected(self.label, f"HTTP {response.status}")
        return data

    async def send_one(self, message: Outgoing) -> SendOutcome:
        form = {"To": message.recipient, "Body": message.body}
        service = str(self.config.get("messaging_service_sid") or "")
        if service:
            form["MessagingServiceSid"] = service
        else:
            form["From"] = self.sender_id
        if self.callback_url:
            form["StatusCallback"] = self.callback_url
        try:
            data = await self.call("POST", "/Messages.json", form=form)
        except PermanentError as exc:
            if exc.code == "invalid-number":
                raise base.invalid_number(self.label, message.recipient, exc.reason) from None
            raise
        payload = {k: data.get(k) for k in ("sid", "status", "num_segments", "error_code")}
        return self.accepted(message, str(data.get("sid", "")), payload)

    async def balance(self) -> Decimal | None:
        data = await self.call("GET", "/Balance.json")
        return base.parse_decimal(data.get("balance"))

    async def check_credentials(self) -> CheckResult:
        try:
            account = await self.call("GET", ".json")
            amount = await self.balance()
        except (PermanentError, TransientError) as exc:
            return CheckResult(ok=False, detail=exc.reason)
        status = str(account.get("status", ""))
        if status != "active":
            reason = ACCOUNT_STATUS.format(status=status) if status else ACCOUNT_INACTIVE.format()
            return CheckResult(ok=False, detail=reason)
        return CheckResult(ok=True, detail=KEY_ACCEPTED.format(), balance=amount)

    async def poll_status(self, provider_message_ids: Sequence[str]) -> list[StatusUpdate]:
        updates: list[StatusUpdate] = []
        for sid in provider_message_ids:
            data = await self.call("GET", f"/Messages/{sid}.json")
            error = str(data.get("error_code") or "")
            update = self.status_update(sid, str(data.get("status", "")), data, error=error)
            if update is not None:
                updates.append(update)
        return updates

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        given = {k.lower(): v for k, v in headers.items()}.get("x-twilio-signature", "")
        token = str(self.secrets.get("auth_token", ""))
        expected = signature(token, self.callback_url, params)
        if not given or not hmac.compare_digest(given, expected):
            raise PermanentError("Twilio callback signature does not match", code="signature")
        update = self.status_update(
            params.get("MessageSid", ""),
            params.get("MessageStatus", ""),
            params,
            error=params.get("ErrorCode", ""),
        )
        return [update] if update is not None else []


Adapter = TwilioProvider
