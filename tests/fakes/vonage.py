"""A fake Vonage (Nexmo) SMS API on loopback.

Sources:
- Send, https://developer.vonage.com/en/api/sms (``POST /sms/json``, form-encoded or JSON
  ``api_key``, ``api_secret``, ``from``, ``to`` (digits, no ``+``), ``text``, ``type``
  (text|unicode), ``callback``, ``client-ref``, ``status-report-req``); answer
  ``{"message-count", "messages": [{"to", "message-id", "status", "remaining-balance",
  "message-price", "network"}]}`` or, on error, ``{"status", "error-text"}`` per message.
- Error status codes, https://developer.vonage.com/en/api-errors/sms and the troubleshooting
  guide https://developer.vonage.com/messaging/sms/guides/troubleshooting-sms:
  1 Throttled, 2 Missing Parameters, 3 Invalid Parameters, 4 Invalid Credentials,
  5 Internal Error, 6 Invalid Message (e.g. unrecognised number prefix), 7 Number Barred,
  8 Partner Account Barred, 9 Partner Quota Violation (not enough credit), 15 Invalid Sender
  Address.
- Delivery receipts, https://developer.vonage.com/messaging/sms/guides/delivery-receipts:
  ``msisdn``, ``to``, ``network-code``, ``messageId``, ``price``, ``status`` (delivered,
  expired, failed, rejected, accepted, buffered, unknown), ``scts``, ``err-code``,
  ``api-key``, ``client-ref``, ``message-timestamp``; sent as GET query or POST JSON
  (dashboard setting). Signed webhooks add ``timestamp``, ``nonce`` and ``sig``
  (https://developer.vonage.com/en/getting-started/concepts/signing-messages): parameters
  sorted by name, each appended as ``&name=value`` with ``&``/``=`` in values replaced by
  ``_``; md5hash appends the signature secret and takes MD5, the HMAC methods key
  HMAC-MD5/SHA1/SHA256/SHA512 with it (as in Vonage's Python SDK ``Client.signature``).
- Balance, ``GET /account/get-balance?api_key=…&api_secret=…`` → ``{"value", "autoReload"}``
  (Account API, https://developer.vonage.com/en/api/account).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from tests.fakes.gateway_base import DlrRequest, FakeGateway, SentSms

API_KEY, API_SECRET = "a1b2c3d4", "VonageSecret123"
SIGNATURE_SECRET = "vonage-signature-secret"
DIGITS = re.compile(r"^[1-9]\d{6,14}$")
SENDER = re.compile(r"^([A-Za-z0-9 ]{1,11}|\d{1,15})$")


def sign(params: Mapping[str, str], secret: str, method: str = "md5hash") -> str:
    """Vonage's signed-request digest over ``params`` (without ``sig``)."""
    text = "".join(
        "&{}={}".format(k, str(params[k]).replace("&", "_").replace("=", "_"))
        for k in sorted(params)
    )
    if method == "md5hash":
        return hashlib.md5((text + secret).encode()).hexdigest()  # noqa: S324 - Vonage's scheme
    digest = {
        "md5": hashlib.md5,
        "sha1": hashlib.sha1,
        "sha256": hashlib.sha256,
        "sha512": hashlib.sha512,
    }[method]
    return hmac.new(secret.encode(), text.encode(), digest).hexdigest().upper()


class VonageFake(FakeGateway):
    #: signature_secret: when set, delivery receipts are signed with it and
    #: signature_method; dlr_method: "GET" (query string) or "POST-JSON".
    SCENARIO = {
        "balance": 15.5353,
        "price": 0.0333,
        "signature_secret": "",
        "signature_method": "md5hash",
        "dlr_method": "POST-JSON",
    }

    def __init__(self) -> None:
        super().__init__()
        self.api_key, self.api_secret = API_KEY, API_SECRET

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/sms/json", self.send)
        app.router.add_get("/account/get-balance", self.get_balance)

    @staticmethod
    def one(status: str, **fields: Any) -> web.Response:
        return web.json_response({"message-count": "1", "messages": [{"status": status, **fields}]})

    async def _params(self, request: web.Request) -> dict[str, str]:
        if request.content_type == "application/json":
            return {k: str(v) for k, v in json.loads(await request.read()).items()}
        return {k: str(v) for k, v in (await request.post()).items()}

    async def send(self, request: web.Request) -> web.Response:
        p = await self._params(request)
        for name in ("api_key", "api_secret", "from", "to", "text"):
            if not p.get(name):
                return self.one("2", **{"error-text": f"Missing {name}"})
        if (p["api_key"], p["api_secret"]) != (self.api_key, self.api_secret):
            return self.one("4", **{"error-text": "Bad Credentials"})
        if self.take_throttle():
            text = "Throughput Rate Exceeded - please wait [ 1000 ] and retry"
            return self.one("1", **{"error-text": text})
        if not SENDER.match(p["from"]):
            return self.one("15", **{"error-text": "Illegal Sender Address - rejected"})
        if not DIGITS.match(p["to"]):
            return self.one("6", **{"error-text": "Invalid Message"})
        if self.balance < self.price:
            return self.one("9", **{"error-text": "Partner Quota Exceeded"})
        self.balance = round(self.balance - self.price, 8)
        mid = secrets.token_hex(8).upper()
        self.messages[mid] = SentSms(
            mid,
            p["to"],
            p["text"],
            p["from"],
            p.get("client-ref", ""),
            p.get("callback", ""),
            {"type": p.get("type", "text")},
        )
        return self.one(
            "0",
            to=p["to"],
            **{
                "message-id": mid,
                "remaining-balance": f"{self.balance:.8f}",
                "message-price": f"{self.price:.8f}",
                "network": "23201",
            },
        )

    async def get_balance(self, request: web.Request) -> web.Response:
        q = request.query
        if (q.get("api_key"), q.get("api_secret")) != (self.api_key, self.api_secret):
            return web.json_response(
                {
                    "type": "https://developer.nexmo.com/api-errors#unauthorized",
                    "title": "Unauthorized",
                    "detail": "You did not provide correct credentials.",
                },
                status=401,
            )
        return web.json_response({"value": self.balance, "autoReload": False})

    def dlr_request(self, provider_id: str, status: str, **kw: Any) -> DlrRequest:
        """``status``: delivered, expired, failed, rejected, accepted, buffered, unknown."""
        sms = self.messages[provider_id]
        params = {
            "msisdn": sms.to,
            "to": sms.sender,
            "network-code": "23201",
            "messageId": provider_id,
            "price": f"{self.price:.8f}",
            "status": status,
            "scts": datetime.now(UTC).strftime("%y%m%d%H%M"),
            "err-code": str(kw.get("err_code", "0" if status == "delivered" else "1")),
            "api-key": self.api_key,
            "message-timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }
        if sms.reference:
            params["client-ref"] = sms.reference
        secret = kw.get("secret", self.signature_secret)
        if secret:
            params["timestamp"] = str(int(time.time()))
            params["nonce"] = secrets.token_hex(8)
            params["sig"] = sign(params, secret, self.signature_method)
        if self.dlr_method == "GET":
            sep = "&" if "?" in sms.callback else "?"
            return DlrRequest("GET", sms.callback + sep + urlencode(params))
        return DlrRequest(
            "POST", sms.callback, json.dumps(params).encode(), {"Content-Type": "application/json"}
        )
