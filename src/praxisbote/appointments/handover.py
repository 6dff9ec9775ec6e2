"""The worker's last check before a confirmation or reminder leaves (APT-3).

The worker claims a batch, then hands it to providers a moment later. An appointment
moved in between would otherwise let the claimed reminder go out with the old time. So,
right before the hand-over, this check drops every confirmation/reminder written before
its appointment's last change of times (``times_changed_at``), or whose appointment is
gone; those are cancelled with the reason.

No row lock: one read of the committed state is enough. A move that has committed is
seen and its stale reminders stay. A move still in progress has not happened yet for
anyone outside it (its caller gets no answer before the commit): the reminder leaves as
checked, correct for the times committed at that moment, and the move reports it as in
flight (``Written.in_flight``). Locking the appointments would only make that move wait
until the check is over, which orders the two the same way, at the price of a write to
every appointment row of every batch.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_noop

from praxisbote.appointments.models import Appointment
from praxisbote.billing import services as billing
from praxisbote.messaging import states
from praxisbote.messaging.models import Kind, Message, State
from praxisbote.messaging.reasons import declare

TIMED_KINDS = frozenset({Kind.CONFIRMATION, Kind.REMINDER})
#: Stored in English like the outbox's own details; the staff UI translates it.
CHANGED_AFTER_CLAIM = declare(
    gettext_noop("appointment changed after the claim; not sent with the old time")
)


def drop_stale(worker_id: str, messages: list[Message]) -> list[Message]:
    """``messages`` without the stale ones (which are cancelled here)."""
    linked = [m.pk for m in messages if m.appointment_id and m.kind in TIMED_KINDS]
    if not linked:
        return messages
    stale_ids = set(stale(linked))
    if not stale_ids:
        return messages
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update()
            .filter(pk__in=stale_ids, state=State.SENDING, worker_id=worker_id)
            .order_by("pk")
        )
        billing.release(rows)
        states.apply(
            rows,
            State.CANCELLED,
            CHANGED_AFTER_CLAIM.format(),
            fields=["reserved", "lease_until"],
        )
    return [m for m in messages if m.pk not in stale_ids]


# PostgreSQL: the ids travel as one array parameter instead of one placeholder each.
_STALE_SQL = """
SELECT m.id FROM messaging_message AS m
WHERE m.id = ANY(%s::uuid[]) AND NOT EXISTS (
    SELECT 1 FROM appointments_appointment AS a
    WHERE a.id = m.appointment_id AND a.times_changed_at <= m.created_at
)
"""


def stale(message_ids: list) -> list:
    """Of ``message_ids``, those written before their appointment's last change of times
    (or whose appointment is gone).

    One query that returns only the (rare) stale ids: the database compares the times, so
    neither side's timestamps travel to Python.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_STALE_SQL, [message_ids])
            return [pk for (pk,) in cursor.fetchall()]
    current = Appointment.objects.filter(
        pk=OuterRef("appointment_id"), times_changed_at__lte=OuterRef("created_at")
    )
    return list(
        Message.objects.filter(pk__in=message_ids)
        .exclude(Exists(current))
        .order_by()
        .values_list("pk", flat=True)
    )
