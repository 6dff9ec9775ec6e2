"""The worker's last check before a confirmation or reminder leaves (APT-3).

The worker claims a batch, then hands it to providers a moment later. An appointment
moved in between would otherwise let the claimed reminder go out with the old time. So,
right before the hand-over, this check locks the batch's appointments (``FOR UPDATE`` on
PostgreSQL; SQLite has one writer) and drops every confirmation/reminder written before
the appointment's last change of times (``times_changed_at``): those are cancelled with
the reason. A move waits for this lock; a reminder already handed over left before the
move and was right when it left.
"""

from __future__ import annotations

from django.db import transaction

from praxisbote.appointments.models import Appointment
from praxisbote.billing import services as billing
from praxisbote.messaging import states
from praxisbote.messaging.models import Kind, Message, State

TIMED_KINDS = frozenset({Kind.CONFIRMATION, Kind.REMINDER})


def drop_stale(worker_id: str, messages: list[Message]) -> list[Message]:
    """``messages`` without the stale ones (which are cancelled here)."""
    linked = [m for m in messages if m.appointment_id and m.kind in TIMED_KINDS]
    if not linked:
        return messages
    with transaction.atomic():
        changed = dict(
            Appointment.objects.select_for_update()
            .filter(pk__in={m.appointment_id for m in linked})
            .order_by("pk")
            .values_list("pk", "times_changed_at")
        )
        stale_ids = {
            m.pk
            for m in linked
            if m.appointment_id not in changed or m.created_at < changed[m.appointment_id]
        }
        if not stale_ids:
            return messages
        rows = list(
            Message.objects.select_for_update().filter(
                pk__in=stale_ids, state=State.SENDING, worker_id=worker_id
            )
        )
        billing.release(rows)
        states.apply(
            rows,
            State.CANCELLED,
            # Protocol details are stored in English, like the outbox's own.
            "appointment changed after the claim; not sent with the old time",
            fields=["reserved", "lease_until"],
        )
    return [m for m in messages if m.pk not in stale_ids]
