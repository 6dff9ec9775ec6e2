"""A small configurable HTTP SMS gateway for the generic adapter, shaped like firmensms.at.

firmensms.at (and dentportSMS) publish no standard API. The shape below follows the only
public material, community clients of firmensms (mwllgr/firmensms-flutter,
albertzak/firmensms; see /work/shared/GATEWAYS.md): ``POST /gateway/rest/sms`` with HTTP Basic
auth and a JSON body ``{to: "0043…", text, senderid, route, encoding}``, answered by
``{"error": "0", "msgid", "cost", "balance"}``; error numbers 1/2 auth, 3 text, 4 recipient,
5 sender, 8 credit, 10 sender invalid, 14 recipient invalid, 15 IP lock. The server refuses a
``Content-Type`` with a ``; charset`` suffix, as reported by those clients.

Not documented anywhere, so chosen here and configurable on the adapter side: throttling is
HTTP 429, and delivery reports are a GET to the configured URL with ``msgid`` and ``status``
(DELIVERED, FAILED, BUFFERED) in the query string. A balance query answers
``GET /gateway/rest/balance`` → ``{"error": "0", "balance"}``.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from tests.fakes.gateway_base import DlrRequest, FakeGateway, SentSms

USER, PASSWORD = "praxis-huber", "firmensms-pass"


class GenericFake(FakeGateway):
    SCENARIO = {"balance": 9.80, "cost": 0.07, "callback": ""}

    def __init__(self) -> None:
        super().__init__()
        self.user, self.password = USER, PASSWORD

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/gateway/rest/sms", self.send)
        app.router.add_get("/gateway/rest/balance", self.get_balance)

    def _authorised(self, request: web.Request) -> bool:
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {token}"

    @staticmethod
    def err(code: str) -> web.Response:
        return web.json_response({"error": code})

    async def send(self, request: web.Request) -> web.Response:
        if self.take_throttle():
            return web.Response(status=429, text="Too Many Requests")
        if request.headers.get("Content-Type", "") != "application/json":
            return web.Response(status=415, text="Content-Type must be application/json")
        if not self._authorised(request):
            return self.err("1")
        body = json.loads(await request.read())
        to, text = str(body.get("to", "")), str(body.get("text", ""))
        if not text:
            return self.err("3")
        if not (to.startswith("00") and to[2:].isdigit() and 9 <= len(to) <= 17):
            return self.err("14")
        sender = str(body.get("senderid", ""))
        if sender and not ((sender.isalnum() and len(sender) <= 11) or sender.isdigit()):
            return self.err("10")
        if self.balance < self.cost:
            return self.err("8")
        self.balance = round(self.balance - self.cost, 4)
        msgid = self.next_id("F")
        self.messages[msgid] = SentSms(msgid, to, text, sender, "", self.callback, dict(body))
        return web.json_response(
            {
                "error": "0",
                "msgid": msgid,
                "cost": f"{self.cost:.3f}",
                "balance": f"{self.balance:.3f}",
            }
        )

    async def get_balance(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self.err("1")
        return web.json_response({"error": "0", "balance": f"{self.balance:.3f}"})

    def dlr_request(self, provider_id: str, status: str, **kw: Any) -> DlrRequest:
        url = kw.get("url") or self.messages[provider_id].callback
        sep = "&" if "?" in url else "?"
        return DlrRequest("GET", url + sep + urlencode({"msgid": provider_id, "status": status}))
