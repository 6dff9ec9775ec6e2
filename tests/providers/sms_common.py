"""Helpers shared by the SMS adapter tests: run an adapter call, build messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from praxisbote.providers.base import Outgoing, SendOutcome
from praxisbote.providers.sms.base import HttpSmsProvider

HOOK = "https://praxis.example/hooks/sms/{name}/opaque-token"


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
