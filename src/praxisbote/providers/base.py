"""The one contract every channel provider implements (DESIGN.md, "Providers").

The outbox owns retries, leases, credits and states; a provider only talks to its service.
It signals trouble by raising ``TransientError`` (try again later) or ``PermanentError``
(give up) with a reason a practice can read — never a bare bool, never a secret in it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare

#: A bug in a provider module: the message is tried again later.
UNEXPECTED = declare(gettext_noop("unexpected error in provider: %(error)s"))


class ProviderError(Exception):
    """Base for provider failures; ``reason`` is shown in the protocol and the UI."""

    def __init__(self, reason: str, *, code: str = "", retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retry_after = retry_after


class TransientError(ProviderError):
    """Worth another try later: timeouts, SMTP 4xx, HTTP 429/5xx, gateway hiccups."""

    #: HTTP 429-style throttling: back off, but do not count the attempt as a failure.
    throttled: bool = False


class ThrottledError(TransientError):
    throttled = True


class PermanentError(ProviderError):
    """Retrying cannot help: wrong credentials, invalid recipient, rejected content."""


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Outgoing:
    """What a provider needs to send one message; built by the worker from a Message."""

    message_id: str
    channel: str
    recipient: str
    body: str
    subject: str = ""
    html: str = ""
    attempt: int = 1
    sender_name: str = ""
    attachments: Sequence[OutgoingAttachment] = ()
    practice_id: str = ""


@dataclass
class SendOutcome:
    """The result for one message of a batch: a provider id, or the error."""

    message_id: str
    provider_message_id: str = ""
    error: ProviderError | None = None
    #: Some providers confirm delivery at once (e.g. an SMTP server that is the last hop).
    delivered: bool = False
    detail: str = ""
    payload: Any = None


#: Normalised delivery statuses from providers (seed 003's list), mapped to message states.
STATUS_SENT = "sent"
STATUS_BUFFERED = "buffered"
STATUS_DELIVERED = "delivered"
STATUS_UNDELIVERABLE = "undeliverable"
STATUS_EXPIRED = "expired"
STATUS_PENDING = "pending"


@dataclass
class StatusUpdate:
    """A provider's news about a message it accepted (webhook or poll)."""

    provider_message_id: str
    status: str
    detail: str = ""
    payload: Any = None
    message_id: str = ""  # our id, when the provider echoes the client reference


@dataclass
class CheckResult:
    ok: bool
    detail: str
    balance: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Provider(ABC):
    """Base class. Subclasses set ``name``/``channels`` and implement ``send_one``.

    ``send_batch`` sends concurrently with a bounded number of requests in flight; a provider
    with a real batch API overrides it. ``close`` releases pooled connections.
    """

    name: ClassVar[str]
    channels: ClassVar[tuple[str, ...]]
    #: True when the provider answers ``poll_status`` (no webhook, or as a fallback).
    polls_status: ClassVar[bool] = False

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
        *,
        concurrency: int = 8,
    ) -> None:
        self.config = dict(config or {})
        self.secrets = dict(secrets or {})
        self.concurrency = max(1, concurrency)
        #: Set by the worker: runs a sync function on its database thread. Providers that
        #: write to our database (the sandbox) use it, so no stray connections are opened.
        self.run_in_db: Callable[..., Awaitable[Any]] | None = None

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[SendOutcome]:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(message: Outgoing) -> SendOutcome:
            async with limit:
                try:
                    return await self.send_one(message)
                except ProviderError as exc:
                    return SendOutcome(message.message_id, error=exc)
                except Exception as exc:
                    reason = UNEXPECTED.format(error=type(exc).__name__)
                    return SendOutcome(message.message_id, error=TransientError(reason))

        return list(await asyncio.gather(*(one(m) for m in messages)))

    @abstractmethod
    async def send_one(self, message: Outgoing) -> SendOutcome:
        """Send one message; raise TransientError/PermanentError on failure."""

    def validate_address(self, address: str, country: str) -> str:
        """The normalised address, or ``django.core.exceptions.ValidationError``."""
        return address.strip()

    async def check_credentials(self) -> CheckResult:
        return CheckResult(ok=True, detail="no credentials needed")

    async def balance(self) -> Decimal | None:
        return None

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        """Status updates from a delivery-report callback; raise PermanentError if forged."""
        return []

    async def poll_status(self, provider_message_ids: Sequence[str]) -> list[StatusUpdate]:
        return []

    async def close(self) -> None:
        return None
