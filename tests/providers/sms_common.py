"""Helpers shared by the SMS adapter tests: run an adapter call, build messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from tests.fakes.gateway_base import FakeGateway

from praxisbote.providers.base import Outgoing, SendOutcome
from praxisbote.providers.sms.base import HttpSmsProvider

HOOK = "https://praxis.example/hooks/sms/{name}/opaque-token"


def gateway_fixtures(fake_class: type[FakeGateway], **scenario: Any):
    """The ``server`` (one fake per test module) and ``fake`` (that server, reset to its
    starting scenario plus ``scenario`` for each test) fixtures of an adapter's tests::

        server, fake = gateway_fixtures(TwilioFake)
    """

    @pytest.fixture(scope="module")
    def server() -> Iterator[FakeGateway]:
        running = fake_class().start()
        yield running
        running.stop()

    @pytest.fixture
    def fake(server: FakeGateway) -> FakeGateway:
        return server.reset(**scenario)

    return server, fake


def sms(to: str = "+4367612345678", text: str = "Ihr Termin morgen 10:30", n: int = 1):
    return Outgoing(
        message_id=f"0000000{n}-aaaa-bbbb-cccc-000000000000",
        channel="sms",
        recipient=to,
        body=text,
    )


def run(provider: HttpSmsProvider, call: Callable[[HttpSmsProvider], Awaitable[Any]]) -> Any:
    """One call in a fresh loop, closing the pooled session afterwards."""

    async def go():
        try:
            return await call(provider)
        finally:
            await provider.close()

    return asyncio.run(go())


def send(provider: HttpSmsProvider, *messages: Outgoing) -> list[SendOutcome]:
    return run(provider, lambda p: p.send_batch(list(messages) or [sms()]))
