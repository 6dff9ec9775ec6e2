"""The message state machine: the only place that decides which transition is allowed.

Every transition goes through ``transition`` / ``bulk_transition``, which checks it against
``ALLOWED`` and writes a ``DeliveryEvent`` in the same transaction, so the protocol always
matches the state. Status webhooks to the integrator are queued here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.utils import timezone

from praxisbote.db import fast_update, insert_values
from praxisbote.messaging.models import DeliveryEvent, Message, State

S = State
ALLOWED: dict[str, frozenset[str]] = {
    "": frozenset({S.SCHEDULED, S.QUEUED, S.FAILED}),  # creation
    S.SCHEDULED: frozenset({S.QUEUED, S.CANCELLED}),
    S.QUEUED: frozenset({S.SENDING, S.CANCELLED, S.EXPIRED, S.FAILED}),
    # sending -> queued: retry after a transient error, or the lease is given back.
    S.SENDING: frozenset({S.SENT, S.DELIVERED, S.QUEUED, S.FAILED, S.EXPIRED, S.CANCELLED}),
    S.SENT: frozenset({S.DELIVERED, S.BUFFERED, S.UNDELIVERABLE, S.EXPIRED}),
    S.BUFFERED: frozenset({S.DELIVERED, S.UNDELIVERABLE, S.EXPIRED}),
    S.DELIVERED: frozenset(),
    S.UNDELIVERABLE: frozenset(),
    S.FAILED: frozenset(),
    S.EXPIRED: frozenset(),
    S.CANCELLED: frozenset(),
}
PENDING = (S.SCHEDULED, S.QUEUED)
CLAIMABLE = (S.SCHEDULED, S.QUEUED)
FINAL = (S.DELIVERED, S.UNDELIVERABLE, S.FAILED, S.EXPIRED, S.CANCELLED)
# States in which a reservation of credit is given back.
RELEASING = (S.FAILED, S.EXPIRED, S.CANCELLED)


class TransitionError(Exception):
    pass


def check(from_state: str, to_state: str) -> None:
    if to_state not in ALLOWED.get(from_state, frozenset()):
        raise TransitionError(f"{from_state or 'new'} -> {to_state} is not allowed")


def allowed(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED.get(from_state, frozenset())


class EventRow(NamedTuple):
    """A checked transition, not yet stored (cheaper than a model instance per event)."""

    message: Message
    from_state: str
    to_state: str
    detail: str
    payload: Any
    at: datetime


EVENT_COLUMNS = ("message_id", "from_state", "to_state", "detail", "payload", "at")


def event_for(
    message: Message,
    from_state: str,
    to_state: str,
    detail: str = "",
    payload: Any = None,
    at: datetime | None = None,
) -> EventRow:
    check(from_state, to_state)
    return EventRow(message, from_state, to_state, detail[:2000], payload, at or timezone.now())


def record(events: Sequence[EventRow]) -> None:
    """Store events and queue their status webhooks; call inside the caller's transaction.

    Webhook rows need the events' ids, which only ``bulk_create`` returns; without an
    endpoint among the practices (the common case) the faster id-less insert is used.
    The PostgreSQL claim writes the same rows in SQL (``outcomes._CLAIM_READY_SQL``):
    change both together.
    """
    if not events:
        return
    from praxisbote.messaging import webhooks
    from praxisbote.messaging.models import WebhookEndpoint

    practice_ids = {e.message.practice_id for e in events}
    if WebhookEndpoint.objects.filter(practice_id__in=practice_ids, active=True).exists():
        objects = [
            DeliveryEvent(
                message=e.message,
                from_state=e.from_state,
                to_state=e.to_state,
                detail=e.detail,
                payload=e.payload,
                at=e.at,
            )
            for e in events
        ]
        webhooks.queue_for_events(DeliveryEvent.objects.bulk_create(objects, batch_size=1000))
    else:
        insert_values(
            DeliveryEvent,
            EVENT_COLUMNS,
            [(e.message.pk, e.from_state, e.to_state, e.detail, e.payload, e.at) for e in events],
        )


def apply(
    messages: Iterable[Message],
    to_state: str,
    detail: str = "",
    payload: Any = None,
    fields: Sequence[str] = (),
    details: Mapping[Any, str] | None = None,
    payloads: Mapping[Any, Any] | None = None,
) -> list[Message]:
    """Move messages (loaded and locked inside the caller's transaction) to ``to_state``.

    Messages for which the transition is not allowed are skipped and not returned: the
    caller decides whether that is an error. ``fields`` are other attributes the caller set;
    ``details``/``payloads`` give a per-message detail or raw payload by message id.
    """
    now = timezone.now()
    moved: list[Message] = []
    events: list[EventRow] = []
    for message in messages:
        if not allowed(message.state, to_state):
            continue
        text = details.get(message.id, detail) if details else detail
        raw = payloads.get(message.id, payload) if payloads else payload
        events.append(event_for(message, message.state, to_state, text, raw, now))
        message.state = to_state
        message.updated_at = now
        moved.append(message)
    if moved:
        fast_update(moved, ["state", "updated_at", *fields])
        record(events)
    return moved
