"""ASPSMS (Switzerland) adapter for the JSON API at json.aspsms.com.

Sources: https://json.aspsms.com/ (``POST /SendTextSMS`` with ``UserName`` (userkey),
``Password``, ``Originator``, ``Recipients``, ``MessageText``, ``URLDeliveryNotification``,
``URLNonDeliveryNotification``, ``URLBufferedMessageNotification``; ``POST /CheckCredits``
→ ``Credits``; answers ``{StatusCode, StatusInfo}``), the per-recipient transaction
reference number ``"number:TRN"`` appended by ASPSMS to the notification URL
(http://aspsms.com/asptoken/documentation/), and the status codes used by
nadar/aspsms-php-class: "1" Ok, "3" authorization failed, "5" not enough credits;
``InquireDeliveryNotifications`` delivery status 0 delivered, 1 buffered, 2 not delivered,
-1 not yet submitted or rejected.

Our message id (without hyphens: ASPSMS allows letters and digits only) is the TRN, so the
TRN is both the provider id and our reference. Reports come as GET to the notification URL
(``?s=delivered&trn=`` with the TRN appended); they are unsigned, the URL's opaque token
authenticates them. Polling (``InquireDeliveryNotifications``) is the fallback. "-1" is
ambiguous (not yet submitted, or rejected), so it keeps the message's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    STATUS_BUFFERED,
    STATUS_DELIVERED,
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

LABEL = "ASPSMS"
#: Key check answer (English like every reason; reasons.py translates it for staff).
KEY_ACCEPTED = declare(gettext_noop("ASPSMS accepted userkey and password."))
STATUS_MAP: dict[str, str] = {
    # notification URLs (our ``s`` parameter)
    "delivered": STATUS_DELIVERED,
    "not_delivered": STATUS_UNDELIVERABLE,
    "buffered": STATUS_BUFFERED,
    # InquireDeliveryNotifications' DeliveryStatus
    "0": STATUS_DELIVERED,
    "1": STATUS_BUFFERED,
    "2": STATUS_UNDELIVERABLE,
}
POLL_BATCH = 50


def error_for(code: str, info: str) -> ProviderError:
    detail = f"{code}: {info}" if info else code
    if code == "3":
        return base.wrong_key(LABEL, detail)
    if code == "5":
        return base.no_credit(LABEL, detail)
    return base.rejected(LABEL, detail)


def trn_of(message_id: str) -> str:
    return "".join(c for c in message_id if c.isalnum())


class AspsmsProvider(HttpSmsProvider):
    name: ClassVar[str] = "aspsms"
    label: ClassVar[str] = LABEL
    default_base_url: ClassVar[str] = "https://json.aspsms.com"
    STATUS_MAP: ClassVar[Mapping[str, str]] = STATUS_MAP
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("userkey", "password")
    supports_balance: ClassVar[bool] = True
    supports_webhook: ClassVar[bool] = True
    polls_status: ClassVar[bool] = True

    def credentials(self) -> dict[str, str]:
        return {
            "UserName": str(self.secrets.get("userkey", "")),
            "Password": str(self.secrets.get("password", "")),
        }

    def notification_urls(self) -> dict[str, str]:
        if not self.callback_url:
            return {}
        sep = "&" if "?" in self.callback_url else "?"
        url = f"{self.callback_url}{sep}s={{}}&trn="
        return {
            "URLDeliveryNotification": url.format("delivered"),
            "URLNonDeliveryNotification": url.format("not_delivered"),
            "URLBufferedMessageNotification": url.format("buffered"),
        }

    async def call(self, operation: str, **fields: Any) -> dict[str, Any]:
        response: HttpResponse = await self.request(
            "POST", operation, json_body={**self.credentials(), **fields}
        )
        data = response.json()
        if not isinstance(data, dict):
            unexpected = base.UNEXPECTED_ANSWER.format(status=response.status)
            raise base.gateway_trouble(self.label, unexpected)
        code = str(data.get("StatusCode", ""))
        if code != "1":
            raise error_for(code, str(data.get("StatusInfo") or ""))
        return data

    async def send_one(self, message: Outgoing) -> SendOutcome:
        trn = trn_of(self.client_reference(message))
        fields: dict[str, Any] = {
            "Recipients": [f"{message.recipient}:{trn}"],
            "MessageText": message.body,
            **self.notification_urls(),
        }
        if self.sender_id:
            fields["Originator"] = self.sender_id
        data = await self.call("SendTextSMS", **fields)
        return self.accepted(message, trn, data)

    async def balance(self) -> Decimal | None:
        data = await self.call("CheckCredits")
        return base.parse_decimal(data.get("Credits"))

    async def check_credentials(self) -> CheckResult:
        try:
            credits = await self.balance()
        except (PermanentError, TransientError) as exc:
            return CheckResult(ok=False, detail=exc.reason)
        return CheckResult(ok=True, detail=KEY_ACCEPTED.format(), balance=credits)

    async def poll_status(self, provider_message_ids: Sequence[str]) -> list[StatusUpdate]:
        updates: list[StatusUpdate] = []
        for part in base.chunks(list(provider_message_ids), POLL_BATCH):
            data = await self.call(
                "InquireDeliveryNotifications", TransactionReferenceNumbers=";".join(part)
            )
            for item in data.get("DeliveryNotifications") or []:
                trn = str(item.get("TransactionReferenceNumber", ""))
                update = self.status_update(
                    trn,
                    str(item.get("DeliveryStatus", "")),
                    item,
                    error=str(item.get("Reasoncode") or ""),
                )
                if update is not None:
                    updates.append(update)
        return updates

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        trn, status = str(query.get("trn", "")), str(query.get("s", ""))
        if not trn:
            raise PermanentError("ASPSMS notification without reference number", code="payload")
        update = self.status_update(trn, status, dict(query))
        return [update] if update is not None else []


Adapter = AspsmsProvider
