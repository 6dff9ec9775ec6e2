"""Shared plumbing for the SMS gateway fakes: an aiohttp.web app on loopback in its own thread.

Why a thread with its own event loop: the adapters under test run in ``asyncio.run`` (tests)
or in the worker's loop, and Django's live server answers callbacks from yet another thread;
a fake that owns its loop serves all of them without coupling to any caller's loop.

Each fake records every request (``requests``), keeps the messages it accepted
(``messages``: provider id -> record) and can push delivery reports to the callback URL the
client gave (``push_dlr``) or hand back the exact request it would send (``dlr_request``),
so adapters can be tested with and without an HTTP round trip.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class SentSms:
    """One message the fake accepted: what arrived, and where its reports go."""

    provider_id: str
    to: str
    text: str
    sender: str = ""
    reference: str = ""
    callback: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DlrRequest:
    """A delivery-report request exactly as the provider would send it."""

    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FakeGateway:
    """Base class: subclasses add routes in ``routes()`` and build reports in ``dlr_request``.

    ``SCENARIO`` holds a subclass's account state that tests change (balance, an inactive
    account, ...) with its starting values; ``reset`` restores it between tests.
    """

    SCENARIO: dict[str, Any] = {}

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.messages: dict[str, SentSms] = {}
        #: Answer the next N send requests as "too many requests" (throttling).
        self.throttle_next = 0
        self.__dict__.update(self.SCENARIO)
        self._counter = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def reset(self, **scenario: Any) -> FakeGateway:
        """Forget requests and messages, back to the starting scenario (plus ``scenario``)."""
        self.requests.clear()
        self.messages.clear()
        self.throttle_next = 0
        self.__dict__.update({**self.SCENARIO, **scenario})
        return self

    # -- to implement ---------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def dlr_request(self, provider_id: str, status: str, **kw: Any) -> DlrRequest:
        raise NotImplementedError  # pragma: no cover

    # -- helpers for subclasses -----------------------------------------------------------
    def next_id(self, prefix: str = "") -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:08d}"

    def take_throttle(self) -> bool:
        with self._lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                return True
            return False

    @web.middleware
    async def _record(self, request: web.Request, handler):
        body = await request.read()
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                body,
            )
        )
        return await handler(request)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeGateway:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application(middlewares=[self._record])
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake gateway did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- delivery reports -----------------------------------------------------------------
    def push_dlr(self, provider_id: str, status: str, **kw: Any) -> int:
        """Send the report to the message's callback URL over HTTP; returns the HTTP status."""
        req = self.dlr_request(provider_id, status, **kw)

        async def go() -> int:
            async with aiohttp.ClientSession() as session:
                async with session.request(
                    req.method, req.url, data=req.body or None, headers=req.headers
                ) as resp:
                    await resp.read()
                    return resp.status

        assert self._loop is not None, "start the fake first"
        return asyncio.run_coroutine_threadsafe(go(), self._loop).result(15)

    def sent_to(self, number: str) -> list[SentSms]:
        return [m for m in self.messages.values() if m.to == number]
