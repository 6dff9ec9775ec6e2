"""A fake ASPSMS (Switzerland) JSON API on loopback.

Sources:
- ASPSMS JSON API, https://json.aspsms.com/ (``POST /SendTextSMS`` and
  ``/SendSimpleTextSMS`` with a JSON object ``UserName`` (the userkey), ``Password``,
  ``Originator``, ``Recipients`` (array), ``MessageText``, ``DeferredDeliveryTime``,
  ``FlashingSMS``, ``URLDeliveryNotification``, ``URLNonDeliveryNotification``,
  ``URLBufferedMessageNotification``, ``ForceGSM7bit``; answer ``{"StatusCode",
  "StatusInfo"}``. ``POST /CheckCredits`` → ``{"Credits", "StatusCode", "StatusInfo"}``.
  The notification URLs may carry tags replaced when called: ``<RCPNT>`` (recipient),
  ``<SCTSUTC>``/``<DSCTSUTC>`` (submission and notification time, ISO 8601 UTC).
- Recipient with its own transaction reference number ``"number:TRN"`` (letters and digits
  only), and the TRN appended to the notification URL when it is called: ASPSMS
  documentation, http://aspsms.com/asptoken/documentation/ ("The submitted
  TransactionReferenceNumber will be added to the URL"), and nadar/aspsms-php-class.
- Status codes (nadar/aspsms-php-class, ASPSMS XML/JSON docs): "1" Ok, "3" Authorization
  failed, "5" Not enough Credits available. Delivery status for ``InquireDeliveryNotifications``
  (``TransactionReferenceNumbers`` "a;b"): -1 not yet submitted or rejected, 0 delivered,
  1 buffered, 2 not delivered; reason code e.g. 206 "Invalid destination address".
  [unverified] The JSON field names of the ``InquireDeliveryNotifications`` answer
  (``DeliveryNotifications`` list) follow GATEWAYS.md; ASPSMS publishes no throttling code,
  so throttling here is plain HTTP 429.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from tests.fakes.gateway_base import DlrRequest, FakeGateway, SentSms

USERKEY, PASSWORD = "ASPSMSUSERKEY1", "aspsms-pass"
TRN = re.compile(r"^[A-Za-z0-9]+$")
DIGITS = re.compile(r"^\+?\d{7,15}$")
#: DeliveryStatus values of InquireDeliveryNotifications
STATUS_CODES = {"delivered": "0", "buffered": "1", "not_delivered": "2", "pending": "-1"}


class AspsmsFake(FakeGateway):
    SCENARIO = {"credits": 25.0}

    def __init__(self) -> None:
        super().__init__()
        self.userkey, self.password = USERKEY, PASSWORD

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/SendTextSMS", self.send)
        app.router.add_post("/SendSimpleTextSMS", self.send)
        app.router.add_post("/CheckCredits", self.check_credits)
        app.router.add_post("/InquireDeliveryNotifications", self.inquire)

    @staticmethod
    def status(code: str, info: str, **extra: Any) -> web.Response:
        return web.json_response({"StatusCode": code, "StatusInfo": info, **extra})

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None
        if (body.get("UserName"), body.get("Password")) != (self.userkey, self.password):
            return None
        return body

    async def send(self, request: web.Request) -> web.Response:
        if self.take_throttle():
            return web.Response(status=429, text="Too Many Requests")
        body = await self._body(request)
        if body is None:
            return self.status("3", "Authorization failed")
        recipients = body.get("Recipients") or []
        if isinstance(recipients, str):
            recipients = [recipients]
        if not recipients or not body.get("MessageText"):
            return self.status("2", "Missing parameter")  # [unverified] code
        if self.credits < len(recipients):
            return self.status("5", "Not enough Credits available")
        for entry in recipients:
            number, _, trn = str(entry).partition(":")
            if trn and not TRN.match(trn):
                return self.status("2", "Invalid transaction reference number")
            trn = trn or self.next_id("T")
            self.credits -= 1
            self.messages[trn] = SentSms(
                trn,
                number,
                body["MessageText"],
                body.get("Originator", ""),
                trn,
                "",
                {
                    "urls": {
                        "delivered": body.get("URLDeliveryNotification", ""),
                        "not_delivered": body.get("URLNonDeliveryNotification", ""),
                        "buffered": body.get("URLBufferedMessageNotification", ""),
                    },
                    "status": "-1",
                    "reason": "",
                    "submitted": datetime.now(UTC).strftime("%d%m%Y%H%M%S"),
                },
            )
        return self.status("1", "OK")

    async def check_credits(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body is None:
            return web.json_response(
                {"Credits": "", "StatusCode": "3", "StatusInfo": "Authorization failed"}
            )
        return web.json_response(
            {"Credits": f"{self.credits:.2f}", "StatusCode": "1", "StatusInfo": "OK"}
        )

    async def inquire(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body is None:
            return self.status("3", "Authorization failed")
        out = []
        for trn in str(body.get("TransactionReferenceNumbers", "")).split(";"):
            if sms := self.messages.get(trn):
                out.append(
                    {
                        "TransactionReferenceNumber": trn,
                        "DeliveryStatus": sms.extra["status"],
                        "SubmissionDate": sms.extra["submitted"],
                        "NotificationDate": sms.extra.get("notified", ""),
                        "Reasoncode": sms.extra["reason"],
                    }
                )
        return self.status("1", "OK", DeliveryNotifications=out)

    def set_status(self, trn: str, status: str, reason: str = "") -> None:
        """Move a message on (for polling); ``status`` a key of STATUS_CODES."""
        sms = self.messages[trn]
        sms.extra.update(
            status=STATUS_CODES[status],
            reason=reason,
            notified=datetime.now(UTC).strftime("%d%m%Y%H%M%S"),
        )

    def dlr_request(self, provider_id: str, status: str, **kw: Any) -> DlrRequest:
        """``status``: delivered, not_delivered or buffered; calls that notification URL."""
        reason = kw.get("reason", "" if status == "delivered" else "206")
        self.set_status(provider_id, status, reason)
        sms = self.messages[provider_id]
        now = datetime.now(UTC).isoformat(timespec="seconds")
        url = (
            sms.extra["urls"][status]
            .replace("<RCPNT>", sms.to)
            .replace("<SCTSUTC>", now)
            .replace("<DSCTSUTC>", now)
        )
        return DlrRequest("GET", url + provider_id)
