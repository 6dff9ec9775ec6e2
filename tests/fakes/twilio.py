"""A fake Twilio Programmable Messaging API (2010-04-01) on loopback.

Sources:
- Messages resource, https://www.twilio.com/docs/messaging/api/message-resource
  (``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded ``To``, ``From`` or
  ``MessagingServiceSid``, ``Body`` (max 1,600 characters), ``StatusCallback``; answer 201
  with the Message resource: ``sid`` ``SM…``, ``status`` ``queued``, ``num_segments``,
  ``error_code``, ``error_message``; ``GET …/Messages/{Sid}.json`` fetches it).
- HTTP Basic auth ``AccountSid:AuthToken``; errors as JSON ``{code, message, more_info,
  status}``: 20003 Authenticate (401), 20005/10001 account not active (no funds,
  https://www.twilio.com/docs/api/errors/20005), 21211 invalid 'To' number (400),
  20429 Too Many Requests (429).
- Balance, ``GET /2010-04-01/Accounts/{AccountSid}/Balance.json`` →
  ``{account_sid, balance, currency}`` (twilio-oai spec, Api20100401Balance).
- Status callbacks and their signature, https://www.twilio.com/docs/usage/webhooks/webhooks-security:
  form POST with ``MessageSid``, ``MessageStatus`` (…, ``sent``, ``delivered``,
  ``undelivered``, ``failed``), ``ErrorCode``; header ``X-Twilio-Signature`` =
  base64(HMAC-SHA1(AuthToken, URL + every POST parameter name and value, sorted by name)).
  Twilio sends no callback for the initial ``queued`` status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from tests.fakes.gateway_base import DlrRequest, FakeGateway, SentSms

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's documented request signature (also used by the adapter's tests)."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


class TwilioFake(FakeGateway):
    SCENARIO = {"balance": "12.34", "account_active": True}

    def __init__(self) -> None:
        super().__init__()
        self.account_sid = ACCOUNT_SID
        self.auth_token = AUTH_TOKEN

    def routes(self, app: web.Application) -> None:
        base = "/2010-04-01/Accounts/{sid}"
        app.router.add_post(base + "/Messages.json", self.create)
        app.router.add_get(base + "/Messages/{msid}.json", self.fetch)
        app.router.add_get(base + "/Balance.json", self.get_balance)
        app.router.add_get(base + ".json", self.account)

    def _auth(self, request: web.Request) -> web.Response | None:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if (
            request.headers.get("Authorization") != f"Basic {expected}"
            or request.match_info["sid"] != self.account_sid
        ):
            return error(401, 20003, "Authenticate")
        return None

    def resource(self, sms: SentSms) -> dict[str, Any]:
        return {
            "sid": sms.provider_id,
            "account_sid": self.account_sid,
            "to": sms.to,
            "from": sms.sender,
            "messaging_service_sid": sms.extra.get("service"),
            "body": sms.text,
            "status": sms.extra["status"],
            "num_segments": str(sms.extra["segments"]),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "price": None,
            "price_unit": "EUR",
            "error_code": sms.extra.get("error_code"),
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sms.provider_id}.json",
        }

    async def create(self, request: web.Request) -> web.Response:
        if denied := self._auth(request):
            return denied
        if self.take_throttle():
            return error(429, 20429, "Too Many Requests")
        if not self.account_active:
            return error(401, 20005, "Account not active")
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        sender = str(form.get("From", ""))
        service = str(form.get("MessagingServiceSid", ""))
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not (sender or service):
            return error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        if not body:
            return error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return error(400, 21617, "The message body exceeds the 1600 character limit.")
        sid = "SM" + secrets.token_hex(16)
        units = len(body.encode("utf-16-le")) // 2
        gsm = all(ord(c) < 128 for c in body)
        single, multi = (160, 153) if gsm else (70, 67)
        sms = SentSms(
            sid,
            to,
            body,
            sender,
            "",
            str(form.get("StatusCallback", "")),
            {
                "status": "queued",
                "service": service or None,
                "segments": 1 if units <= single else -(-units // multi),
            },
        )
        self.messages[sid] = sms
        return web.json_response(self.resource(sms), status=201)

    async def fetch(self, request: web.Request) -> web.Response:
        if denied := self._auth(request):
            return denied
        sms = self.messages.get(request.match_info["msid"])
        if sms is None:
            return error(404, 20404, "The requested resource was not found")
        return web.json_response(self.resource(sms))

    async def get_balance(self, request: web.Request) -> web.Response:
        if denied := self._auth(request):
            return denied
        return web.json_response(
            {"account_sid": self.account_sid, "balance": self.balance, "currency": "EUR"}
        )

    async def account(self, request: web.Request) -> web.Response:
        if denied := self._auth(request):
            return denied
        return web.json_response(
            {
                "sid": self.account_sid,
                "friendly_name": "Praxis Dr. Huber",
                "status": "active" if self.account_active else "suspended",
                "type": "Full",
            }
        )

    def dlr_request(self, provider_id: str, status: str, **kw: Any) -> DlrRequest:
        """``status``: sent, delivered, undelivered, failed, read, …; ``error_code`` optional.

        ``token`` signs with another auth token (a forged or stale callback).
        """
        sms = self.messages[provider_id]
        sms.extra["status"] = status
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": sms.sender,
            "MessageSid": provider_id,
            "MessageStatus": status,
            "SmsSid": provider_id,
            "SmsStatus": status,
            "To": sms.to,
        }
        if kw.get("error_code"):
            params["ErrorCode"] = str(kw["error_code"])
            sms.extra["error_code"] = int(kw["error_code"])
        token = kw.get("token", self.auth_token)
        return DlrRequest(
            "POST",
            sms.callback,
            urlencode(params).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature(token, sms.callback, params),
            },
        )
