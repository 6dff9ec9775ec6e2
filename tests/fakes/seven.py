"""A fake seven.io gateway (aiohttp.web on 127.0.0.1) speaking seven's documented HTTP API.

Sources (the same as the adapter's, ``praxisbote/providers/sms/seven.py``):
https://github.com/seven-io/api-schemes ``yml/openapi.yml`` (paths under ``/api``: ``POST
/sms``, ``GET /status``, ``GET /balance``; ``SmsResponse``, ``SmsStatus``), seven-io/js-client
(``ErrorCode`` values answered as a bare number body; ``SmsStatusChangePayload`` for the
``dlr`` webhook; ``WebhookVerifier`` for its signature) and seven-io/python-client
(``X-Api-Key`` header, JSON bodies).

What it does, so that tests and the benchmark exercise every path:
- ``X-Api-Key`` must be one of ``keys`` (``"900"`` otherwise, ``"300"`` when missing);
- ``to``/``text`` required (``"301"``/``"305"``), text up to 1520 characters (``"401"``),
  ``from`` up to 11 alphanumeric or 16 digits (``"306"``), recipient digits with optional
  ``+``/``00`` (``"202"``), price 0.075 per part against ``balance`` (``"500"``);
- ``force_codes`` answers the next requests with given codes; ``throttle_next`` answers
  the next requests with HTTP 429 and ``Retry-After``;
- statuses by recipient: ending ``0009`` NOTDELIVERED, ``0008`` EXPIRED, ``0007``
  BUFFERED, otherwise DELIVERED; ``dlr_request`` builds the ``dlr`` webhook as seven sends it.

Run alone (the benchmark does): ``python tests/fakes/seven.py PORT`` prints ``ready``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

API_KEY = "seven-test-key-0123456789"
PRICE_PER_PART = 0.075
SENDER_ALNUM = re.compile(r"^[A-Za-z0-9]{1,11}$")
SENDER_NUMBER = re.compile(r"^\+?[0-9]{1,16}$")
RECIPIENT = re.compile(r"^(\+|00)?[1-9][0-9]{6,15}$")
# GSM 03.38 basic table and extension table, enough for the fake's own part count.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXT = set("^{}\\[~]|€\f")


def parts_of(text: str) -> tuple[str, int]:
    """seven's ``encoding`` and ``parts`` for a text (plain length rules, no splitting)."""
    if all(c in GSM_BASIC or c in GSM_EXT for c in text):
        units = sum(2 if c in GSM_EXT else 1 for c in text)
        return "gsm", 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return "ucs2", 1 if units <= 70 else math.ceil(units / 67)


def status_for(recipient: str) -> str:
    digits = recipient.lstrip("+")
    for suffix, status in (("0009", "NOTDELIVERED"), ("0008", "EXPIRED"), ("0007", "BUFFERED")):
        if digits.endswith(suffix):
            return status
    return "DELIVERED"


@dataclass
class Sent:
    id: str
    to: str
    text: str
    sender: str
    foreign_id: str
    status: str
    parts: int
    encoding: str


@dataclass
class SevenState:
    keys: set[str] = field(default_factory=lambda: {API_KEY})
    balance: float = 1000.0
    sent: list[Sent] = field(default_factory=list)
    by_id: dict[str, Sent] = field(default_factory=dict)
    force_codes: list[str] = field(default_factory=list)
    throttle_next: int = 0
    retry_after: int = 2
    requests: list[dict[str, Any]] = field(default_factory=list)
    record_requests: bool = True
    ids: Any = field(default_factory=lambda: itertools.count(77_000_000_001))
    signing_secret: str = ""
    #: Client (host, port) pairs seen: how many TCP connections the client opened.
    peers: set[Any] = field(default_factory=set)


STATE = web.AppKey("state", SevenState)


def _auth(state: SevenState, request: web.Request) -> str | None:
    """The error code for a request's key, or None when it is valid."""
    key = request.headers.get("X-Api-Key", "")
    if not key:
        auth = request.headers.get("Authorization", "")
        key = auth.split(" ", 1)[1] if " " in auth else ""
    if not key:
        return "300"
    return None if key in state.keys else "900"


def code(value: str) -> web.Response:
    """seven answers errors as a bare numeric body (HTTP 200)."""
    return web.Response(text=value, content_type="application/json")


async def send_sms(request: web.Request) -> web.Response:
    state: SevenState = request.app[STATE]
    if state.throttle_next > 0:
        state.throttle_next -= 1
        return web.Response(status=429, headers={"Retry-After": str(state.retry_after)})
    if (err := _auth(state, request)) is not None:
        return code(err)
    if request.content_type == "application/json":
        params = await request.json()
    else:
        params = dict(await request.post())
    if state.record_requests:
        state.requests.append({"headers": dict(request.headers), "params": params})
        if request.transport is not None:
            state.peers.add(request.transport.get_extra_info("peername"))
    if state.force_codes:
        return code(state.force_codes.pop(0))
    to, text = str(params.get("to") or ""), str(params.get("text") or "")
    sender = str(params.get("from") or "")
    if not to:
        return code("301")
    if not text:
        return code("305")
    if len(text) > 1520:
        return code("401")
    if sender and not (SENDER_ALNUM.match(sender) or SENDER_NUMBER.match(sender)):
        return code("306")
    recipients = [r.strip() for r in to.split(",") if r.strip()]
    if not all(RECIPIENT.match(r) for r in recipients):
        return code("202")
    encoding, parts = parts_of(text)
    price = round(PRICE_PER_PART * parts * len(recipients), 4)
    if price > state.balance:
        return code("500")
    state.balance = round(state.balance - price, 4)
    messages = []
    for recipient in recipients:
        sms = Sent(
            id=str(next(state.ids)),
            to=recipient,
            text=text,
            sender=sender or "seven.io",
            foreign_id=str(params.get("foreign_id") or ""),
            status=status_for(recipient),
            parts=parts,
            encoding=encoding,
        )
        state.sent.append(sms)
        state.by_id[sms.id] = sms
        messages.append(
            {
                "id": sms.id,
                "sender": sms.sender,
                "recipient": recipient.lstrip("+"),
                "text": text,
                "encoding": encoding,
                "label": params.get("label"),
                "parts": parts,
                "udh": None,
                "is_binary": False,
                "price": round(PRICE_PER_PART * parts, 4),
                "success": True,
                "error": None,
                "error_text": None,
            }
        )
    return web.json_response(
        {
            "success": "100",
            "total_price": price,
            "balance": state.balance,
            "debug": "false",
            "sms_type": "direct",
            "messages": messages,
        }
    )


async def status(request: web.Request) -> web.Response:
    state: SevenState = request.app[STATE]
    if (err := _auth(state, request)) is not None:
        return code(err)
    ids = [i for i in request.query.get("msg_id", "").split(",") if i]
    known = [state.by_id[i] for i in ids if i in state.by_id]
    if not known:
        return code("901")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000")
    return web.json_response([{"id": s.id, "status": s.status, "status_time": now} for s in known])


async def balance(request: web.Request) -> web.Response:
    state: SevenState = request.app[STATE]
    if (err := _auth(state, request)) is not None:
        return code(err)
    return web.json_response({"amount": state.balance, "currency": "EUR"})


def make_app(state: SevenState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_post("/api/sms", send_sms)
    app.router.add_get("/api/status", status)
    app.router.add_get("/api/balance", balance)
    return app


def dlr_request(
    sms_id: str, status_value: str, url: str, signing_secret: str = ""
) -> tuple[bytes, dict[str, str]]:
    """The ``dlr`` webhook seven POSTs to ``url``: JSON body and headers (signed if asked)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    body = json.dumps(
        {
            "webhook_event": "dlr",
            "webhook_timestamp": now,
            "data": {"msg_id": sms_id, "status": status_value, "timestamp": now},
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    if signing_secret:
        stamp, nonce = int(time.time()), secrets.token_hex(16)
        digest = hashlib.md5(body).hexdigest()  # noqa: S324 - seven's scheme
        to_sign = "\n".join([str(stamp), nonce, "POST", url, digest])
        headers.update(
            {
                "X-Timestamp": str(stamp),
                "X-Nonce": nonce,
                "X-Signature": hmac.new(
                    signing_secret.encode(), to_sign.encode(), hashlib.sha256
                ).hexdigest(),
            }
        )
    return body, headers


class FakeSeven:
    """The fake on its own thread and event loop; ``base_url`` is what the adapter gets."""

    def __init__(self) -> None:
        self.state = SevenState()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> FakeSeven:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        self.runner = web.AppRunner(make_app(self.state), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def main() -> None:
    """Serve on the given port until terminated; print the number of SMS accepted at exit."""
    import signal

    port = int(sys.argv[1])
    state = SevenState(record_requests=False, balance=1e9)

    async def serve() -> None:
        runner = web.AppRunner(make_app(state), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        print("ready", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()
        print(f"accepted {len(state.sent)}", flush=True)

    asyncio.run(serve())


if __name__ == "__main__":
    main()
