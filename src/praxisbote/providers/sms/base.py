"""The base every HTTP SMS gateway adapter builds on (issue 5, DESIGN.md "Providers").

An adapter is one subclass of ``HttpSmsProvider``: its API paths, its request fields, one
table from its statuses to ours (``STATUS_MAP``), and how its answers map to errors. What
all gateways share lives here, so that each adapter stays small and they all behave alike:

- one pooled ``aiohttp.ClientSession`` per account (the worker keeps the provider for its
  lifetime): keep-alive connections, at most ``concurrency`` requests in flight, timeouts;
- ``base_url`` in the account's config overrides the gateway's address (fake servers in
  tests, on-premise proxies);
- HTTP trouble mapped to the outbox's error classes with reasons a receptionist can act
  on: wrong key, no credit at the gateway, invalid number, throttled (``ThrottledError``
  with ``retry_after``: backs off without counting as a failed attempt), gateway down;
- an optional per-account rate limit (requests per second);
- sender ID validation (seed 003's rule), refused at configuration time;
- delivery reports by webhook (``parse_webhook``) and by polling (``poll_status``), both
  through ``map_status`` and the adapter's one table.

Reasons are English, like the SMTP provider's: they are stored in the protocol as written
and declared as templates (``messaging/reasons.py``), so the staff UI shows them translated.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import aiohttp
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.messaging import reasons as R
from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    STATUS_BUFFERED,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_PENDING,
    STATUS_SENT,
    STATUS_UNDELIVERABLE,
    CheckResult,
    Outgoing,
    PermanentError,
    Provider,
    SendOutcome,
    StatusUpdate,
    ThrottledError,
    TransientError,
)

#: The normalised statuses an adapter's ``STATUS_MAP`` may map to (seed 003's list).
#: A provider's "failed"/"rejected" after acceptance is ``undeliverable`` for us: the SMS was
#: paid for and did not arrive. A raw status missing from the table ("UNKNOWN") maps to
#: nothing and keeps the message's state (GATEWAYS.md's rule).
NORMALISED = frozenset(
    {
        STATUS_PENDING,
        STATUS_SENT,
        STATUS_BUFFERED,
        STATUS_DELIVERED,
        STATUS_UNDELIVERABLE,
        STATUS_EXPIRED,
    }
)

# --- Sender IDs (seed 003) -------------------------------------------------------------

SENDER_ALNUM = re.compile(r"^[A-Za-z0-9]{1,11}$")
SENDER_NUMBER = re.compile(r"^\+?[0-9]{1,16}$")


def sender_rule() -> str:
    return _(
        "A sender ID is either up to 11 letters and digits (e.g. PraxisHuber) or a phone "
        "number of up to 16 digits with an optional leading + (e.g. +4312345678)."
    )


def validate_sender(value: str) -> str:
    """The sender ID as the gateway gets it, or ``ValidationError`` stating the rule.

    Seed 003: "16 Ziffern oder 11 Buchstaben (oder eine Kombination aus Buchstaben und
    Zahlen)". Spaces, umlauts and punctuation are refused: networks drop or mangle them.
    """
    text = (value or "").strip()
    if SENDER_NUMBER.match(text) or SENDER_ALNUM.match(text):
        return text
    raise ValidationError(sender_rule(), code="sender_id")


# --- HTTP plumbing ---------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    """A gateway's answer, read completely (the connection goes back to the pool)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (some gateways answer bare codes)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class RateLimiter:
    """At most ``rate`` requests per second for one account (a token bucket holding one
    second's worth, and at least one token, so that rates below 1/s work too)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


def retry_after_seconds(headers: Mapping[str, str], default: float | None = None) -> float | None:
    """``Retry-After`` in seconds (HTTP dates are rare from gateways and read as default)."""
    value = headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def parse_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


# --- Readable errors -------------------------------------------------------------------
# One place for the wording, so that every adapter says the same thing for the same trouble.
# Each has a form with the gateway's own code or text in brackets (``detail``) and one
# without. ``rejected`` and ``gateway_trouble`` take a phrase of ours or the gateway's text.

WRONG_KEY = declare(
    gettext_noop(
        "%(gateway)s refused the access key. Check the key in the SMS settings (Key-Check)."
    )
)
WRONG_KEY_DETAIL = declare(
    gettext_noop(
        "%(gateway)s refused the access key (%(detail)s). Check the key in the SMS settings "
        "(Key-Check)."
    )
)
NO_CREDIT = declare(
    gettext_noop(
        "No credit left at %(gateway)s. Top up the gateway account; the SMS will be tried again."
    )
)
NO_CREDIT_DETAIL = declare(
    gettext_noop(
        "No credit left at %(gateway)s (%(detail)s). Top up the gateway account; the SMS will "
        "be tried again."
    )
)
INVALID_NUMBER = declare(gettext_noop("%(gateway)s refused the number %(recipient)s as invalid."))
INVALID_NUMBER_DETAIL = declare(
    gettext_noop("%(gateway)s refused the number %(recipient)s as invalid (%(detail)s)."),
    nested=["detail"],  # Twilio passes its own reason on
)
INVALID_SENDER = declare(
    gettext_noop("%(gateway)s refused the sender ID. Check it in the SMS settings.")
)
INVALID_SENDER_DETAIL = declare(
    gettext_noop("%(gateway)s refused the sender ID (%(detail)s). Check it in the SMS settings.")
)
REJECTED = declare(gettext_noop("%(gateway)s refused the SMS: %(detail)s."), nested=["detail"])
THROTTLED = declare(gettext_noop("%(gateway)s asked us to slow down (too many requests); waiting."))
THROTTLED_FOR = declare(
    gettext_noop(
        "%(gateway)s asked us to slow down (too many requests); waiting for %(seconds)s s."
    )
)
TROUBLE = declare(
    gettext_noop("%(gateway)s has a problem right now (%(detail)s); the SMS will be tried again."),
    nested=["detail"],
)
UNREACHABLE = declare(
    gettext_noop("%(gateway)s could not be reached (%(error)s); the SMS will be tried again.")
)
#: Phrases inside ``rejected``/``gateway_trouble`` that adapters share.
UNEXPECTED_ANSWER = declare(gettext_noop("unexpected answer, HTTP %(status)s"))
NO_MESSAGE_ID = declare(gettext_noop("no message id in the answer"))
#: Key check.
KEY_ACCEPTED = declare(gettext_noop("%(gateway)s accepted the key."))
NO_KEY_CHECK = declare(gettext_noop("%(gateway)s offers no key check."))


def wrong_key(gateway: str, detail: str = "") -> PermanentError:
    if detail:
        return PermanentError(WRONG_KEY_DETAIL.format(gateway=gateway, detail=detail), code="auth")
    return PermanentError(WRONG_KEY.format(gateway=gateway), code="auth")


def no_credit(gateway: str, detail: str = "") -> TransientError:
    """No credit at the gateway: the practice tops up there; until then messages wait."""
    if detail:
        reason = NO_CREDIT_DETAIL.format(gateway=gateway, detail=detail)
    else:
        reason = NO_CREDIT.format(gateway=gateway)
    return TransientError(reason, code="no-credit")


def invalid_number(gateway: str, recipient: str, detail: str = "") -> PermanentError:
    if detail:
        reason = INVALID_NUMBER_DETAIL.format(gateway=gateway, recipient=recipient, detail=detail)
    else:
        reason = INVALID_NUMBER.format(gateway=gateway, recipient=recipient)
    return PermanentError(reason, code="invalid-number")


def invalid_sender(gateway: str, detail: str = "") -> PermanentError:
    if detail:
        reason = INVALID_SENDER_DETAIL.format(gateway=gateway, detail=detail)
    else:
        reason = INVALID_SENDER.format(gateway=gateway)
    return PermanentError(reason, code="sender")


def rejected(gateway: str, detail: str) -> PermanentError:
    return PermanentError(REJECTED.format(gateway=gateway, detail=detail), code="rejected")


def throttled(gateway: str, retry_after: float | None = None) -> ThrottledError:
    if retry_after:
        reason = THROTTLED_FOR.format(gateway=gateway, seconds=f"{retry_after:g}")
    else:
        reason = THROTTLED.format(gateway=gateway)
    return ThrottledError(reason, code="throttled", retry_after=retry_after)


def gateway_trouble(gateway: str, detail: str) -> TransientError:
    return TransientError(TROUBLE.format(gateway=gateway, detail=detail), code="gateway")


class HttpSmsProvider(Provider):
    """Base class of the SMS gateway adapters.

    Subclasses set ``name``, ``label`` (how the gateway is called in reasons),
    ``default_base_url``, ``STATUS_MAP`` and implement ``send_one``; optionally
    ``check_credentials``/``balance`` (``supports_balance``), ``parse_webhook``
    (``supports_webhook``) and ``poll_status`` (``polls_status``).

    Config keys every adapter accepts: ``base_url``, ``sender_id``, ``rate_limit``
    (requests per second, 0 or absent: none), ``timeout`` (seconds), ``callback_url``
    (our DLR URL, set by the settings service; adapters that send a callback URL per
    message use it), ``delivery_reports`` ("webhook" or "poll").
    """

    channels: ClassVar[tuple[str, ...]] = ("sms",)
    label: ClassVar[str] = "The SMS gateway"
    default_base_url: ClassVar[str] = ""
    #: Raw provider status (as the provider spells it, compared case-insensitively) ->
    #: normalised status. Statuses not in it keep the message where it is.
    STATUS_MAP: ClassVar[Mapping[str, str]] = {}
    #: Secrets the adapter needs, e.g. ("api_key",); the settings service requires them.
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_key",)
    #: Optional secrets (e.g. a webhook signing secret).
    OPTIONAL_SECRET_FIELDS: ClassVar[tuple[str, ...]] = ()
    #: Adapter-specific settings kept in the account's config besides the common ones
    #: (e.g. Twilio's account SID); ``validate_config`` checks them.
    CONFIG_FIELDS: ClassVar[tuple[str, ...]] = ()
    supports_balance: ClassVar[bool] = False
    supports_webhook: ClassVar[bool] = False
    #: Delivery reports by polling are possible (the worker's poll job asks).
    polls_status: ClassVar[bool] = False
    #: A sender ID is required by the gateway (others fall back to their default).
    sender_required: ClassVar[bool] = False
    default_timeout: ClassVar[float] = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("worker_id", None)
        super().__init__(*args, **kwargs)
        self.base_url = str(self.config.get("base_url") or self.default_base_url).rstrip("/")
        self.sender_id = str(self.config.get("sender_id") or "")
        self.callback_url = str(self.config.get("callback_url") or "")
        self.timeout = float(self.config.get("timeout") or self.default_timeout)
        rate = float(self.config.get("rate_limit") or 0)
        self.limiter = RateLimiter(rate) if rate > 0 else None
        # Polling only where the adapter can and the account did not choose webhooks.
        mode = self.config.get("delivery_reports") or ("webhook" if self.supports_webhook else "")
        self.polls_status = type(self).polls_status and (
            mode == "poll" or not self.supports_webhook
        )
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def validate_config(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """The adapter's own settings (``CONFIG_FIELDS``) cleaned, or ``ValidationError``
        with a message per field. Called by the SMS settings service before saving; the
        common fields (base_url, sender_id, rate_limit, ...) are checked there."""
        return {k: values[k] for k in cls.CONFIG_FIELDS if values.get(k) not in (None, "")}

    # -- connections ---------------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        """The account's pooled session, made on first use inside the running loop."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.concurrency, limit_per_host=self.concurrency, keepalive_timeout=30
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout, connect=min(10, self.timeout)),
                headers={"User-Agent": "praxisbote"},
                raise_for_status=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate every request (an adapter with header auth overrides)."""
        return {}

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: aiohttp.BasicAuth | None = None,
    ) -> HttpResponse:
        """One request with the account's limits; connection trouble, 429 and 5xx raise.

        4xx answers other than 401/403/429 are returned: their meaning is the adapter's to
        read (many gateways put their own error code in the body).
        """
        if self.limiter is not None:
            await self.limiter.wait()
        all_headers = {**self.auth_headers(), **(headers or {})}
        try:
            async with self.session().request(
                method,
                self.url(path),
                json=json_body,
                data=form,
                params=params,
                headers=all_headers,
                auth=auth,
            ) as response:
                body = await response.read()
                result = HttpResponse(response.status, dict(response.headers), body)
        except TimeoutError:
            no_answer = R.NO_ANSWER_WITHIN.format(seconds=f"{self.timeout:g}")
            raise gateway_trouble(self.label, no_answer) from None
        except aiohttp.ClientConnectionError as exc:
            raise TransientError(
                UNREACHABLE.format(gateway=self.label, error=type(exc).__name__),
                code="connection",
            ) from None
        except aiohttp.ClientError as exc:
            raise gateway_trouble(self.label, type(exc).__name__) from None
        self.raise_for_http(result)
        return result

    def raise_for_http(self, response: HttpResponse) -> None:
        """The HTTP status classes every gateway shares."""
        status = response.status
        if status == 429:
            raise throttled(self.label, retry_after_seconds(response.headers))
        if status in (401, 403):
            raise wrong_key(self.label, f"HTTP {status}")
        if status >= 500:
            raise gateway_trouble(self.label, f"HTTP {status}")

    # -- statuses ------------------------------------------------------------------------

    @classmethod
    def map_status(cls, raw: str) -> str | None:
        """Our status for the provider's ``raw`` one, or None (unknown: keep the state)."""
        table = {k.upper(): v for k, v in cls.STATUS_MAP.items()}
        return table.get(str(raw).strip().upper())

    def status_update(
        self,
        provider_message_id: str,
        raw_status: str,
        payload: Any,
        *,
        message_id: str = "",
        error: str = "",
    ) -> StatusUpdate | None:
        """A StatusUpdate carrying the raw status in its detail, or None for unknown ones."""
        status = self.map_status(raw_status)
        if status is None:
            return None
        detail = f"{self.label}: {raw_status}" + (f" ({error})" if error else "")
        return StatusUpdate(
            provider_message_id=str(provider_message_id),
            status=status,
            detail=detail,
            payload=payload,
            message_id=message_id,
        )

    # -- webhooks ------------------------------------------------------------------------

    def webhook_response(self) -> tuple[int, str, bytes]:
        """What the gateway expects as the answer to a delivery report."""
        return 200, "text/plain", b"OK"

    # -- defaults for the optional capabilities --------------------------------------------

    async def check_credentials(self) -> CheckResult:
        if self.supports_balance:
            amount = await self.balance()
            detail = KEY_ACCEPTED.format(gateway=self.label)
            return CheckResult(ok=True, detail=detail, balance=amount)
        return CheckResult(ok=False, detail=NO_KEY_CHECK.format(gateway=self.label))

    # -- helpers for adapters ------------------------------------------------------------

    def client_reference(self, message: Outgoing) -> str:
        """Our message id, sent as the gateway's client reference (echoed in reports)."""
        return message.message_id

    def accepted(self, message: Outgoing, provider_id: str, payload: Any = None) -> SendOutcome:
        return SendOutcome(
            message.message_id,
            provider_message_id=str(provider_id),
            detail=R.ACCEPTED_BY.format(provider=self.label),
            payload=payload,
        )


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
