"""Status webhooks to the integrator (MSG-8): every state change, signed, POSTed, retried.

A practice configures one endpoint (URL + a secret that praxisbote generates). Each
``DeliveryEvent`` of that practice gets a ``WebhookDelivery`` row in the transaction that
wrote the event (``queue_for_events``, called by ``states.record``): a webhook is never lost
and never sent for a change that was rolled back. The worker calls ``send_due`` on every
loop: it claims due rows under a lease, builds and signs the payloads on the database
thread, POSTs them concurrently and records the answers. Retries back off exponentially;
after ``WEBHOOK_MAX_ATTEMPTS`` (about a day) a delivery counts as failed.

A slow or silent receiver must not hold up patients' messages, so a batch runs as a task of
the worker's loop: ``send_due`` waits for it at most ``WEBHOOK_WAIT_SECONDS`` and, while it
is still in flight, returns at once. A batch cut off by a stopping worker is sent again when
its lease ends (at least once; the payload ``id`` lets receivers drop repeats).

Signature (docs/webhooks.md): ``X-Praxisbote-Signature: v1=<hex HMAC-SHA256(secret,
"<timestamp>.<raw body>")>`` with ``X-Praxisbote-Timestamp: <unix seconds>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import secrets
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote import __version__, crypto
from praxisbote.db import fast_insert
from praxisbote.messaging import reasons as R
from praxisbote.messaging.models import DeliveryEvent, WebhookDelivery, WebhookEndpoint
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped

log = logging.getLogger(__name__)

EVENT_TYPE = "message.state_changed"
TEST_TYPE = "webhook.test"
USER_AGENT = f"praxisbote/{__version__}"
TIMESTAMP_HEADER = "X-Praxisbote-Timestamp"
SIGNATURE_HEADER = "X-Praxisbote-Signature"
# http:// only to these hosts (a receiver on the integrator's own machine while testing).
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
URL_MAX_LENGTH = 500
# Concurrent requests to one host; the per-request timeout starts after this queue, so a
# batch of 100 events for one practice does not time out waiting for connections.
PER_HOST = 10

#: Fallbacks for a settings module without them; ``settings.py`` sets the tunable ones from
#: ``PRAXISBOTE_WEBHOOK_*`` (docs/configuration.md). WAIT_SECONDS is internal (tests shorten it).
DEFAULTS: dict[str, float] = {
    "TIMEOUT_SECONDS": 10,
    "BATCH_SIZE": 100,
    "LEASE_SECONDS": 300,
    "WAIT_SECONDS": 2,
    "RETRY_BASE_SECONDS": 10,
    "RETRY_CAP_SECONDS": 3600,
    "MAX_ATTEMPTS": 35,
}


def setting(name: str) -> float:
    """``settings.WEBHOOK_<name>`` or the default above (tests shorten them)."""
    return getattr(settings, f"WEBHOOK_{name}", DEFAULTS[name])


def max_attempts() -> int:
    return int(setting("MAX_ATTEMPTS"))


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling, capped, jitter.

    The jitter (80-100% of the step) spreads a receiver's backlog after an outage instead
    of sending it all again in the same second.
    """
    step = min(
        setting("RETRY_CAP_SECONDS"), setting("RETRY_BASE_SECONDS") * 2 ** max(0, attempts - 1)
    )
    return step * random.uniform(0.8, 1.0)


# --- Queueing (inside the transaction of the state change) ---------------------------------


def queue_for_events(events: Sequence[DeliveryEvent]) -> None:
    """Queue one webhook delivery per event for practices with an active endpoint.

    One query for the endpoints, one insert; the events must carry ids and their message.
    The PostgreSQL claim queues the same deliveries in SQL (``outcomes._CLAIM_READY_SQL``).
    """
    if not events:
        return
    practice_ids = {e.message.practice_id for e in events}
    active = set(
        WebhookEndpoint.objects.filter(practice_id__in=practice_ids, active=True).values_list(
            "practice_id", flat=True
        )
    )
    if not active:
        return
    now = timezone.now()
    fast_insert(
        [
            WebhookDelivery(practice_id=e.message.practice_id, event_id=e.pk, next_attempt_at=now)
            for e in events
            if e.message.practice_id in active
        ]
    )


# --- Signing and payloads ---------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def payload_for(delivery: WebhookDelivery) -> dict[str, Any]:
    event = delivery.event
    message = event.message
    return {
        "id": delivery.pk,
        "type": EVENT_TYPE,
        "message_id": str(message.pk),
        "practice_id": str(message.practice_id),
        "from_state": event.from_state or None,
        "to_state": event.to_state,
        "at": event.at.isoformat(),
        "detail": event.detail,
        "channel": message.channel,
        "kind": message.kind,
        "patient_id": _str_or_none(message.patient_id),
        "appointment_id": _str_or_none(message.appointment_id),
        "provider_message_id": message.provider_message_id or None,
    }


def ping_payload(practice: Practice) -> dict[str, Any]:
    """The ping of ``POST /webhook/test``: the keys of a real event, id 0, no message."""
    return {
        "id": 0,
        "type": TEST_TYPE,
        "message_id": None,
        "practice_id": str(practice.pk),
        "from_state": None,
        "to_state": None,
        "at": timezone.now().isoformat(),
        "detail": "test ping from praxisbote",
        "channel": None,
        "kind": None,
        "patient_id": None,
        "appointment_id": None,
        "provider_message_id": None,
    }


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# --- Endpoint configuration (API and, later, the staff UI) -----------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _purpose(practice_id: Any) -> str:
    return f"webhook:{practice_id}"


def seal(practice_id: Any, secret: str) -> str:
    return crypto.encrypt_text(secret, purpose=_purpose(practice_id))


def secret_of(endpoint: WebhookEndpoint) -> str:
    return crypto.decrypt_text(endpoint.secret, purpose=_purpose(endpoint.practice_id))


def validate_url(url: str) -> str:
    """The URL, stripped; ``ValidationError`` on field ``url`` when it may not be used."""

    def refuse(message: str) -> ValidationError:
        return ValidationError({"url": [message]})

    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise refuse(_("At most %(n)d characters.") % {"n": URL_MAX_LENGTH})
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise refuse(
            _("Not a valid web address; expected e.g. https://example.com/hooks/praxisbote.")
        ) from None
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise refuse(_("Put no user name or password in the address; check the signature instead."))
    if parts.scheme != "https" and parts.hostname not in LOCAL_HOSTS:
        raise refuse(
            _(
                "Use https://. Plain http:// is only allowed to 127.0.0.1, localhost or ::1, "
                "for testing on your own machine."
            )
        )
    return url


def endpoint_of(practice: Practice) -> WebhookEndpoint | None:
    return scoped(WebhookEndpoint, practice).first()


def configure(
    practice: Practice, *, url: str, active: bool = True
) -> tuple[WebhookEndpoint, str | None]:
    """Create or change the practice's endpoint.

    Returns the endpoint and, only when it was created, the new secret in plain text: the
    one moment it is shown. Changing URL or ``active`` keeps the secret.
    """
    url = validate_url(url)
    for _attempt in range(2):
        with transaction.atomic():
            endpoint = scoped(WebhookEndpoint, practice).select_for_update().first()
            if endpoint is not None:
                endpoint.url = url
                endpoint.active = active
                endpoint.save(update_fields=["url", "active"])
                return endpoint, None
            secret = new_secret()
            try:
                with transaction.atomic():
                    endpoint = WebhookEndpoint.objects.create(
                        practice=practice, url=url, active=active, secret=seal(practice.pk, secret)
                    )
            except IntegrityError:
                continue  # a concurrent request created it: change that one instead
            return endpoint, secret
    raise RuntimeError("could not create or update the webhook endpoint")


def rotate_secret(practice: Practice) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned once. Deliveries sent from now on are signed with it."""
    with transaction.atomic():
        endpoint = scoped(WebhookEndpoint, practice).select_for_update().get()
        secret = new_secret()
        endpoint.secret = seal(practice.pk, secret)
        endpoint.save(update_fields=["secret"])
    return endpoint, secret


def remove(practice: Practice) -> bool:
    """Delete the endpoint and the deliveries still waiting for it; False if there was none.

    Delivered and failed ones stay listed until retention removes their messages.
    """
    with transaction.atomic():
        deleted, _rows = scoped(WebhookEndpoint, practice).delete()
        if deleted:
            scoped(WebhookDelivery, practice).filter(_pending(timezone.now())).delete()
    return bool(deleted)


# --- States of a delivery, for lists -----------------------------------------------------------


class HookState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _lease_free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lte=now)


def _failed(now: datetime) -> Q:
    return Q(delivered_at__isnull=True, attempts__gte=max_attempts()) & _lease_free(now)


def _pending(now: datetime) -> Q:
    return Q(delivered_at__isnull=True) & (Q(attempts__lt=max_attempts()) | Q(lease_until__gt=now))


def state_of(delivery: WebhookDelivery, now: datetime | None = None) -> HookState:
    now = now or timezone.now()
    if delivery.delivered_at is not None:
        return HookState.DELIVERED
    if delivery.attempts >= max_attempts() and (
        delivery.lease_until is None or delivery.lease_until <= now
    ):
        return HookState.FAILED
    return HookState.PENDING


def deliveries(practice: Practice, state: str | None = None) -> QuerySet[WebhookDelivery]:
    """The practice's deliveries, newest first, optionally in one ``HookState``."""
    qs = scoped(WebhookDelivery, practice).select_related("event").order_by("-pk")
    now = timezone.now()
    if state == HookState.DELIVERED:
        qs = qs.filter(delivered_at__isnull=False)
    elif state == HookState.FAILED:
        qs = qs.filter(_failed(now))
    elif state == HookState.PENDING:
        qs = qs.filter(_pending(now))
    return qs


# --- Sending (the worker) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Result:
    delivery_id: int
    error: str = ""  # empty: the receiver answered 2xx


@dataclass
class Claim:
    lease: datetime  # also the token that says the rows are still ours when recording
    requests: list[Request] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)  # settled without a request

    def __len__(self) -> int:
        return len(self.requests) + len(self.results)


def _due(now: datetime) -> Q:
    return Q(
        delivered_at__isnull=True, next_attempt_at__lte=now, attempts__lt=max_attempts()
    ) & _lease_free(now)


def claim(limit: int, lease_seconds: float) -> Claim | None:
    """Lease up to ``limit`` due deliveries and build their signed requests (database thread).

    Nothing due is one indexed query and no write: the worker asks on every loop.
    """
    now = timezone.now()
    if not WebhookDelivery.objects.filter(_due(now)).exists():
        return None
    lease = now + timedelta(seconds=lease_seconds)
    with transaction.atomic():
        qs = WebhookDelivery.objects.filter(_due(now)).order_by("next_attempt_at")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:limit])
        if not ids:
            return None
        # next_attempt_at moves to the lease's end too: a crashed worker's rows come back.
        WebhookDelivery.objects.filter(pk__in=ids).update(
            attempts=F("attempts") + 1, lease_until=lease, next_attempt_at=lease
        )
    rows = WebhookDelivery.objects.filter(pk__in=ids).select_related(
        "event__message", "practice__webhook"
    )
    batch = Claim(lease)
    secrets_by_practice: dict[Any, str] = {}
    for row in rows:
        endpoint = getattr(row.practice, "webhook", None)
        if endpoint is None or not endpoint.active:
            missing = R.WEBHOOK_NO_ENDPOINT if endpoint is None else R.WEBHOOK_ENDPOINT_OFF
            batch.results.append(Result(row.pk, missing.format()))
            continue
        secret = secrets_by_practice.get(row.practice_id)
        if secret is None:
            try:
                secret = secrets_by_practice[row.practice_id] = secret_of(endpoint)
            except crypto.DecryptionError:
                batch.results.append(Result(row.pk, R.WEBHOOK_NO_SECRET.format()))
                continue
        body = encode(payload_for(row))
        batch.requests.append(Request(row.pk, endpoint.url, body, headers_for(secret, body)))
    return batch


def record(lease: datetime, results: Sequence[Result]) -> int:
    """Store the answers for rows still held under ``lease``; returns how many were stored."""
    errors = {r.delivery_id: r.error for r in results}
    now = timezone.now()
    limit = max_attempts()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update().filter(
                pk__in=list(errors), lease_until=lease, delivered_at__isnull=True
            )
        )
        for row in rows:
            error = errors[row.pk]
            row.lease_until = None
            if not error:
                row.delivered_at = now
                row.last_error = ""
            elif row.attempts >= limit:
                row.last_error = R.GAVE_UP.format(n=row.attempts, reason=error)[:2000]
                row.next_attempt_at = now
            else:
                row.last_error = error[:2000]
                row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts))
        WebhookDelivery.objects.bulk_update(
            rows, ["lease_until", "delivered_at", "last_error", "next_attempt_at"]
        )
    lost = len(errors) - len(rows)
    if lost:
        log.warning("webhooks: %d deliveries were no longer held (lease ran out or deleted)", lost)
    failed = sum(1 for r in rows if r.delivered_at is None)
    if failed:
        log.info("webhooks: %d of %d deliveries failed", failed, len(rows))
    return len(rows)


async def post(session: aiohttp.ClientSession, request: Request, timeout: float) -> Result:
    """One POST; 2xx is delivered, anything else (redirects too) an error to retry."""
    try:
        async with asyncio.timeout(timeout):
            async with session.post(
                request.url, data=request.body, headers=request.headers, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    return Result(request.delivery_id)
                excerpt = (await response.content.read(200)).decode("utf-8", "replace")
        text = f"HTTP {response.status}"
        excerpt = " ".join(excerpt.split())
        return Result(request.delivery_id, f"{text}: {excerpt}" if excerpt else text)
    except TimeoutError:
        return Result(request.delivery_id, R.NO_ANSWER_WITHIN.format(seconds=f"{timeout:g}"))
    except aiohttp.ClientError as exc:
        error = f"{type(exc).__name__}: {exc}"
        return Result(request.delivery_id, R.WEBHOOK_NO_CONNECTION.format(error=error))
    except OSError as exc:
        return Result(request.delivery_id, R.WEBHOOK_NO_CONNECTION.format(error=str(exc)))


@dataclass
class _Sender:
    """What one event loop (one worker) keeps between ``send_due`` calls."""

    holder: Any = None  # the async generator that owns the session
    session: aiohttp.ClientSession | None = None
    inflight: asyncio.Task | None = None


_senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sender] = (
    weakref.WeakKeyDictionary()
)
_senders_lock = threading.Lock()


def _sender() -> _Sender:
    loop = asyncio.get_running_loop()
    with _senders_lock:
        sender = _senders.get(loop)
        if sender is None:
            sender = _senders[loop] = _Sender()
        return sender


async def _hold_session() -> AsyncIterator[aiohttp.ClientSession]:
    """Own the worker's session and close it when closed.

    The worker does not know about this session; ``asyncio.run`` closes every async
    generator of its loop on the way out (``shutdown_asyncgens``), so the session is closed
    cleanly with the loop. ``close()`` does the same earlier, on purpose.
    """
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=int(setting("BATCH_SIZE")), limit_per_host=PER_HOST),
        headers={"User-Agent": USER_AGENT},
    )
    try:
        yield session
    finally:
        await session.close()


async def _session(sender: _Sender) -> aiohttp.ClientSession:
    if sender.session is None or sender.session.closed:
        sender.holder = _hold_session()
        sender.session = await anext(sender.holder)
    return sender.session


async def send_due(in_db: Callable[..., Any], worker_id: str) -> int:
    """Send one batch of due deliveries; called by the worker on every loop.

    ``in_db(func, *args)`` runs ``func`` on the worker's database thread. Returns how many
    deliveries were claimed (0 while the previous batch is still in flight).
    """
    sender = _sender()
    if sender.inflight is not None:
        if not sender.inflight.done():
            return 0
        sender.inflight = None
    batch: Claim | None = await in_db(
        claim, int(setting("BATCH_SIZE")), float(setting("LEASE_SECONDS"))
    )
    if not batch:
        return 0
    session = await _session(sender)
    sender.inflight = asyncio.create_task(
        _deliver(session, in_db, batch), name=f"webhooks-{worker_id}"
    )
    await asyncio.wait({sender.inflight}, timeout=float(setting("WAIT_SECONDS")))
    return len(batch)


async def _deliver(session: aiohttp.ClientSession, in_db: Callable[..., Any], batch: Claim) -> None:
    timeout = float(setting("TIMEOUT_SECONDS"))
    hosts: dict[str, asyncio.Semaphore] = {}

    async def one(request: Request) -> Result:
        host = hosts.setdefault(urlsplit(request.url).netloc, asyncio.Semaphore(PER_HOST))
        async with host:
            return await post(session, request, timeout)

    try:
        results = [*batch.results, *await asyncio.gather(*(one(r) for r in batch.requests))]
        await in_db(record, batch.lease, results)
    except Exception:
        log.exception("webhooks: a batch failed; it is sent again when its lease ends")


async def close(timeout: float | None = None) -> None:
    """Let the batch in flight finish (or cancel it after ``timeout``) and close the session.

    For a worker that stops: call before its database thread goes away.
    """
    with _senders_lock:
        sender = _senders.get(asyncio.get_running_loop())
    if sender is None:
        return
    if sender.inflight is not None and not sender.inflight.done():
        wait = float(setting("TIMEOUT_SECONDS")) + 5 if timeout is None else timeout
        _done, pending = await asyncio.wait({sender.inflight}, timeout=wait)
        for task in pending:
            task.cancel()
    sender.inflight = None
    if sender.holder is not None:
        await sender.holder.aclose()
    sender.holder = sender.session = None


# --- The test ping (POST /webhook/test) ------------------------------------------------------


@dataclass(frozen=True)
class PingResult:
    ok: bool
    status_code: int | None
    error: str
    duration_ms: int


def _prepare_ping(practice: Practice) -> Request:
    endpoint = scoped(WebhookEndpoint, practice).get()
    body = encode(ping_payload(practice))
    return Request(0, endpoint.url, body, headers_for(secret_of(endpoint), body))


async def send_test(practice: Practice) -> PingResult:
    """POST a signed ``webhook.test`` ping now (also to an inactive endpoint) and report.

    Raises ``WebhookEndpoint.DoesNotExist`` without an endpoint. Nothing is stored.
    """
    from asgiref.sync import sync_to_async

    request = await sync_to_async(_prepare_ping)(practice)
    timeout = float(setting("TIMEOUT_SECONDS"))
    started = time.monotonic()
    status: int | None = None
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:
        try:
            async with asyncio.timeout(timeout):
                async with session.post(
                    request.url, data=request.body, headers=request.headers, allow_redirects=False
                ) as response:
                    status = response.status
        except TimeoutError:
            error = R.NO_ANSWER_WITHIN.format(seconds=f"{timeout:g}")
        except (aiohttp.ClientError, OSError) as exc:
            error = R.WEBHOOK_NO_CONNECTION.format(error=f"{type(exc).__name__}: {exc}")
        else:
            error = "" if 200 <= status < 300 else f"HTTP {status}"
    return PingResult(
        ok=not error,
        status_code=status,
        error=error,
        duration_ms=round((time.monotonic() - started) * 1000),
    )
