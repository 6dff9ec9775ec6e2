"""A fake websms / LINK Mobility Austria gateway speaking its JSON REST API on loopback.

Sources (what this fake follows):
- websms REST API, https://developer.websms.com/rest-api (``POST /rest/smsmessaging/text``,
  JSON body ``recipientAddressList``, ``messageContent``, ``senderAddress``,
  ``senderAddressType``, ``clientMessageId``, ``notificationCallbackUrl``, ``test``,
  ``maxSmsPerMessage``; response ``statusCode``, ``statusMessage``, ``transferId``,
  ``clientMessageId``, ``smsCount``; delivery reports as JSON POST with
  ``messageType: "deliveryReport"`` answered by ``{"statusCode": 2000}``). The unofficial
  OpenAPI schema at https://hex.pm/packages/websms (priv/schema.yaml) mirrors the same shapes.
- Status codes as in the official clients (websms-com/websmscom-python, websms PHP/Java SDK
  ``StatusCodes``): 2000 OK, 2001 OK_QUEUED, 2002 OK_TEST, 4001 INVALID_CREDENTIALS,
  4002 INVALID_RECIPIENT, 4003 INVALID_SENDER, 4009 INVALID_TEXT, 4012 THROTTLING,
  4013 MSG_LIMIT_EXCEEDED, 4019 PARAMETER_MISSING, 4023/4024 throttling, 4026
  MAX_SMS_PER_MESSAGE_EXCEEDED, 5000 INTERNAL_ERROR, 5003 SERVICE_UNAVAILABLE.
- Auth: ``Authorization: Bearer <API token>`` (or HTTP Basic user/password); a missing or
  wrong token is HTTP 401. The API has no balance endpoint and does not sign callbacks.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from tests.fakes.gateway_base import DlrRequest, FakeGateway, SentSms

TOKEN = "websms-api-token-1"
USER, PASSWORD = "praxis-huber", "websms-pass"
SENDER_TYPES = {"national", "international", "alphanumeric", "shortcode"}
DIGITS = re.compile(r"^[1-9]\d{6,14}$")


class WebsmsFake(FakeGateway):
    #: limit_reached: the account's message limit is reached (websms 4013), "no credit".
    SCENARIO = {"limit_reached": False}

    def __init__(self) -> None:
        super().__init__()
        self.token = TOKEN

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/rest/smsmessaging/text", self.send)

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if auth == f"Bearer {self.token}":
            return True
        if auth.startswith("Basic "):
            raw = base64.b64decode(auth[6:]).decode()
            return raw == f"{USER}:{PASSWORD}"
        return False

    @staticmethod
    def answer(code: int, message: str, **extra: Any) -> web.Response:
        return web.json_response({"statusCode": code, "statusMessage": message, **extra})

    async def send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response(
                {"statusCode": 4001, "statusMessage": "Invalid credentials"}, status=401
            )
        try:
            body = json.loads(await request.read())
        except ValueError:
            return self.answer(4000, "Malformed JSON")
        if self.take_throttle():
            return self.answer(4023, "Request limit exceeded for this IP address")
        for name in ("recipientAddressList", "messageContent"):
            if not body.get(name):
                return self.answer(4019, f"Parameter missing: {name}")
        recipients = body["recipientAddressList"]
        if not all(isinstance(r, str | int) and DIGITS.match(str(r)) for r in recipients):
            return self.answer(4002, "Invalid recipient")
        sender_type = body.get("senderAddressType")
        if body.get("senderAddress") and sender_type not in SENDER_TYPES:
            return self.answer(4003, "Invalid sender")
        if self.limit_reached:
            return self.answer(4013, "Message limit is reached")
        text = body["messageContent"]
        segments = _segments(text)
        if segments > int(body.get("maxSmsPerMessage") or 1_000):
            return self.answer(4026, "Message content results in too many sms segments")
        transfer_id = self.next_id("0059" if not body.get("test") else "T")
        if body.get("test"):
            return self.answer(
                2002,
                "OK (test)",
                transferId=transfer_id,
                clientMessageId=body.get("clientMessageId"),
                smsCount=segments,
            )
        for recipient in recipients:
            self.messages[transfer_id] = SentSms(
                transfer_id,
                str(recipient),
                text,
                body.get("senderAddress", ""),
                body.get("clientMessageId", ""),
                body.get("notificationCallbackUrl", ""),
                {"senderAddressType": sender_type, "smsCount": segments},
            )
        return self.answer(
            2000,
            "OK",
            transferId=transfer_id,
            clientMessageId=body.get("clientMessageId"),
            smsCount=segments,
        )

    def dlr_request(self, provider_id: str, status: str, **kw: Any) -> DlrRequest:
        """``status``: delivered, undelivered, expired, deleted, accepted, rejected."""
        sms = self.messages[provider_id]
        now = datetime.now(UTC).isoformat(timespec="seconds")
        payload = {
            "messageType": "deliveryReport",
            "notificationId": self.next_id("N"),
            "transferId": provider_id,
            "messageFlashSms": False,
            "senderAddress": sms.sender,
            "senderAddressType": sms.extra.get("senderAddressType") or "national",
            "recipientAddress": sms.to,
            "recipientAddressType": "international",
            "sentOn": now,
            "deliveryReportMessageStatus": status,
            "deliveredOn": now,
            "deliveredAs": "sms",
            "clientMessageId": sms.reference,
        }
        return DlrRequest(
            "POST",
            sms.callback,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json"},
        )


def _segments(text: str) -> int:
    """Rough segment count (the gateway's own; tests do not depend on its exactness)."""
    units = len(text.encode("utf-16-le")) // 2
    gsm = all(ord(c) < 128 for c in text)
    single, multi = (160, 153) if gsm else (70, 67)
    return 1 if units <= single else -(-units // multi)
