"""Claiming due messages and recording what providers answered: the outbox's database side.

Synchronous on purpose: the worker runs these on one database thread, so they stay plain
Django and testable without an event loop.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from praxisbote.billing import services as billing
from praxisbote.billing.models import CreditAccount
from praxisbote.billing.services import InsufficientCredit
from praxisbote.db import loaded
from praxisbote.messaging import metrics, states, wakeup
from praxisbote.messaging import reasons as R
from praxisbote.messaging.models import Message, State
from praxisbote.practices.models import Practice
from praxisbote.providers.base import ProviderError, SendOutcome, ThrottledError, TransientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    cap_seconds: float

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with jitter (50-100% of the step), or the provider's hint."""
        if retry_after:
            return retry_after
        step = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return step * (0.5 + random.random() / 2)


def policy() -> RetryPolicy:
    return RetryPolicy(settings.OUTBOX_RETRY_BASE_SECONDS, settings.OUTBOX_RETRY_CAP_SECONDS)


def max_age(channel: str) -> timedelta:
    return timedelta(hours=settings.OUTBOX_MAX_AGE_HOURS[channel])


#: Checks the worker runs right before it hands claimed messages to a provider; each takes
#: (worker_id, messages) and returns the messages that may still go. Domain apps register
#: theirs in ``AppConfig.ready`` (appointments: drop reminders of moved appointments), so
#: the outbox needs no knowledge of them.
HANDOVER_CHECKS: list[Callable[[str, list[Message]], list[Message]]] = []


def hand_over(worker_id: str, messages: list[Message]) -> list[Message]:
    """The claimed ``messages`` that every registered check lets go."""
    for check in HANDOVER_CHECKS:
        messages = check(worker_id, messages)
        if not messages:
            break
    return messages


# Columns the worker reads from a claimed message (delivery, recording, metrics, billing);
# any other attribute loads from the database on first access, like a deferred field - one
# query per message, so add here what a new reader needs. (Hand-over checks compare times
# in the database and need none of them; every timestamp costs ~5 µs to load in Python.)
_CLAIMED_COLUMNS = (
    "id",
    "practice_id",
    "patient_id",
    "kind",
    "appointment_id",
    "campaign_id",
    "channel",
    "recipient",
    "subject",
    "body",
    "html",
    "attempts",
    "due_at",
    "next_attempt_at",
    "segments",
    "cost",
    "free_units",
    "reserved",
    "last_error",
    "provider",
    "provider_message_id",
    "sent_at",
)

# One statement: pick due rows in order (skipping rows other workers hold), move the ready
# ones to ``sending``, write their protocol events and the integrators' status webhooks, and
# return what the worker needs. "Ready" is what the general path would claim without
# further work: holding its credit reservation or free for its channel (scheduled or
# queued: a due reminder by e-mail needs nothing but the two transitions). The rest stays
# locked by this transaction for the general path.
#
# The events are those ``states.record`` writes for the general path: (scheduled -> queued
# "due") then queued -> sending, at the same moment, inserted in that order so that their
# ids keep the protocol's order (their details are ``reasons.DUE`` and
# ``reasons.CLAIMED_BY``, spelled out here; ``readable`` translates them like any other); a
# webhook delivery per event for practices with an active endpoint
# (``webhooks.queue_for_events``). All in one snapshot, so an endpoint is either seen by the
# whole batch or by none of it.
_CLAIM_READY_SQL = """
WITH picked AS (
    SELECT id, state FROM messaging_message
    WHERE state IN ('scheduled', 'queued') AND next_attempt_at <= %(now)s
    ORDER BY next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE messaging_message AS m
    SET state = 'sending', updated_at = %(now)s, lease_until = %(lease)s,
        worker_id = %(worker)s, attempts = m.attempts + 1
    FROM picked
    WHERE m.id = picked.id AND (
        m.reserved OR NOT EXISTS (
            SELECT 1 FROM billing_creditaccount AS a
            WHERE a.practice_id = m.practice_id AND CASE m.channel
                WHEN 'email' THEN a.price_email
                WHEN 'sms' THEN a.price_sms
                WHEN 'threema' THEN a.price_threema
            END > 0
        )
    )
    RETURNING {columns}, picked.state AS was
), events AS (
    INSERT INTO messaging_deliveryevent (message_id, at, from_state, to_state, detail, payload)
    SELECT c.id, %(now)s, t.from_state, t.to_state, t.detail, NULL
    FROM claimed AS c
    CROSS JOIN (
        VALUES (1, 'scheduled', 'queued', 'due'), (2, 'queued', 'sending', %(detail)s)
    ) AS t (step, from_state, to_state, detail)
    WHERE t.step = 2 OR c.was = 'scheduled'
    ORDER BY c.id, t.step
    RETURNING id, message_id
), hooks AS (
    INSERT INTO messaging_webhookdelivery
        (practice_id, event_id, attempts, next_attempt_at, delivered_at, last_error, lease_until)
    SELECT c.practice_id, e.id, 0, %(now)s, NULL, '', NULL
    FROM events AS e
    JOIN claimed AS c ON c.id = e.message_id
    JOIN messaging_webhookendpoint AS w ON w.practice_id = c.practice_id AND w.active
)
SELECT {fields} FROM claimed
"""


def claim(worker_id: str, limit: int, lease_seconds: float) -> list[Message]:
    """Take up to ``limit`` due messages: state ``sending``, leased to ``worker_id``.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets many workers claim side by side; messages
    ready to send are claimed by one statement (``_claim_ready``), the others (credit to
    reserve) go the general way below. SQLite: the transaction takes the single write lock
    at BEGIN (IMMEDIATE), so claims queue up.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds)
    with transaction.atomic():
        ready: list[Message] = []
        if connection.vendor == "postgresql":
            _tune_claim_transaction()
            ready = _claim_ready(worker_id, limit, now, lease)
        if len(ready) == limit:
            return ready
        return ready + _claim_general(worker_id, limit - len(ready), now, lease)


def _claim_ready(worker_id: str, limit: int, now, lease) -> list[Message]:
    """Claim, in one statement, due messages that need nothing but the move to ``sending``.

    The general path loads whole rows as model instances, updates them by id, builds the
    events in Python and costs several round trips; here the database picks, locks, updates
    and records, and returns only the columns the worker reads.
    """
    sql = _CLAIM_READY_SQL.format(
        columns=", ".join(f"m.{c}" for c in _CLAIMED_COLUMNS),
        fields=", ".join(_CLAIMED_COLUMNS),
    )
    params = {
        "now": now,
        "limit": limit,
        "lease": lease,
        "worker": worker_id,
        "detail": R.CLAIMED_BY.format(worker=worker_id),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = loaded(Message, _CLAIMED_COLUMNS, cursor.fetchall())
    for row in rows:  # what the statement set, without sending it back
        row.__dict__.update(
            state=State.SENDING, lease_until=lease, worker_id=worker_id, updated_at=now
        )
    _attach_practices(rows)
    return rows


def _claim_general(worker_id: str, limit: int, now, lease) -> list[Message]:
    qs = Message.objects.filter(state__in=states.CLAIMABLE, next_attempt_at__lte=now).order_by(
        "next_attempt_at"
    )
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    rows = list(qs[:limit])
    if not rows:
        return []
    _attach_practices(rows)
    rows = _queue_scheduled(rows)
    rows = _reserve_credit(rows, now)
    for row in rows:
        row.lease_until = lease
        row.worker_id = worker_id
        row.attempts += 1
    return states.apply(
        rows,
        State.SENDING,
        R.CLAIMED_BY.format(worker=worker_id),
        fields=[
            "lease_until",
            "worker_id",
            "attempts",
            "cost",
            "free_units",
            "reserved",
            "last_error",
        ],
    )


def _tune_claim_transaction() -> None:
    """Settings for this claim's transaction only (``SET LOCAL``).

    ``enable_bitmapscan = off`` makes the claim walk the partial ``msg_claim`` index in
    order and stop after ``limit``. Right after a large batch is enqueued the table's
    statistics still say "nearly empty" (autovacuum has not analysed it yet). The planner
    then reads every queued row through a bitmap scan and sorts them all (``FOR UPDATE``
    rules out a top-N sort): each claim of 500 costs as much as the whole queue, 10 ms at
    10,000 queued and ten times that at 100,000. The ordered index scan reads only the rows
    it returns (0.5 ms for 500). Not ``enable_sort = off``: a plan that must sort anyway
    then costs "disabled" (10^10), and that cost starts JIT compilation (50-170 ms).

    ``synchronous_commit = off``: the claim's commit does not wait for its WAL to reach
    the disk (a flush per batch, 5-6 ms here). Nothing can be sent twice because of it: a
    claim lost in a crash is a message back in ``scheduled``/``queued``, the same as a claim
    whose lease ran out, and the outcome of any hand-over is recorded by a synchronous
    commit, which flushes all earlier WAL - this claim included - first.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off; SET LOCAL synchronous_commit = off")


def _attach_practices(rows: list[Message]) -> None:
    """One query for the batch's practices instead of a join that builds one per row."""
    practices = Practice.objects.in_bulk({m.practice_id for m in rows})
    for message in rows:
        message._state.fields_cache["practice"] = practices[message.practice_id]


def _queue_scheduled(rows: list[Message]) -> list[Message]:
    due = [m for m in rows if m.state == State.SCHEDULED]
    if due:
        states.apply(due, State.QUEUED, R.DUE.format())
    return rows


def _reserve_credit(rows: list[Message], now) -> list[Message]:
    """Reserve for messages that hold no reservation yet; without credit they wait queued."""
    accounts = {
        a.practice_id: a
        for a in CreditAccount.objects.filter(practice_id__in={m.practice_id for m in rows})
    }

    def paid(message: Message) -> bool:
        account = accounts.get(message.practice_id)
        return account is not None and account.price(message.channel) > 0

    ready = [m for m in rows if m.reserved or not paid(m)]
    for practice_id, group in _group(m for m in rows if not m.reserved and paid(m)).items():
        practice = group[0].practice
        try:
            charges = billing.reserve(practice, [(m.channel, m.segments) for m in group])
        except InsufficientCredit as exc:
            _wait_for_credit(group, exc.reason, now)
            log.info("practice %s: %d messages wait for credit", practice_id, len(group))
            continue
        for message, charge in zip(group, charges, strict=True):
            message.cost = charge.amount
            message.free_units = charge.free_units
            message.reserved = True
            message.last_error = ""  # the wait for credit is over
        ready.extend(group)
    return ready


def _wait_for_credit(group: list[Message], reason: str, now) -> None:
    """Keep them queued with the reason; past the channel's maximum age they expire."""
    too_old = [m for m in group if now - m.due_at > max_age(m.channel)]
    if too_old:
        details = {m.pk: R.CREDIT_TOO_LATE.format(reason=reason) for m in too_old}
        for message in too_old:
            message.last_error = details[message.pk]
        states.apply(too_old, State.EXPIRED, fields=["last_error"], details=details)
    waiting = [m.pk for m in group if m not in too_old]
    Message.objects.filter(pk__in=waiting).update(
        last_error=reason,
        next_attempt_at=now + timedelta(seconds=settings.OUTBOX_CREDIT_WAIT_SECONDS),
        updated_at=now,
    )


def _group(messages) -> dict[Any, list[Message]]:
    groups: dict[Any, list[Message]] = {}
    for message in messages:
        groups.setdefault(message.practice_id, []).append(message)
    return groups


def record(
    worker_id: str,
    outcomes: Sequence[SendOutcome],
    provider_name: str = "",
    claimed: Sequence[Message] = (),
) -> int:
    """Store outcomes for messages this worker still holds; returns how many were stored.

    A message whose lease was lost (another worker re-claimed it) is skipped: the other
    worker's result counts. ``claimed`` are the rows as the worker claimed them; only
    their ownership is checked again instead of loading them a second time.
    """
    by_id = {o.message_id: o for o in outcomes}
    now = timezone.now()
    with transaction.atomic():
        stored = 0
        if claimed and connection.vendor == "postgresql":
            accepted = [m for m in claimed if by_id.get(str(m.pk)) and not by_id[str(m.pk)].error]
            stored = _record_accepted(worker_id, accepted, by_id, provider_name, now)
            done = {str(m.pk) for m in accepted}
            by_id = {k: o for k, o in by_id.items() if k not in done}
            claimed = [m for m in claimed if str(m.pk) in by_id]
            if not by_id:
                _warn_lost(worker_id, len(accepted) - stored)
                return stored
            lost_before = len(accepted) - stored
        else:
            lost_before = 0
        rows = _still_held(worker_id, list(by_id), claimed)
        _warn_lost(worker_id, lost_before + len(by_id) - len(rows))
        sent, retry, failed, expired = [], [], [], []
        details: dict[Any, str] = {}
        payloads: dict[Any, Any] = {}
        for message in rows:
            outcome = by_id[str(message.pk)]
            message.lease_until = None
            message.updated_at = now
            if provider_name:
                message.provider = provider_name
            if outcome.error is None:
                message.provider_message_id = outcome.provider_message_id[:200]
                message.sent_at = now
                message.last_error = ""
                details[message.pk] = outcome.detail or R.ACCEPTED_BY.format(
                    provider=message.provider
                )
                payloads[message.pk] = outcome.payload
                sent.append(message)
                metrics.observe_sent(message)
                continue
            _classify(message, outcome.error, now, retry, failed, expired)
            details[message.pk] = outcome.error.reason
            metrics.observe_failure(message, outcome.error)
        billing.charge(sent)
        billing.release(failed + expired)
        extra = ["provider", "provider_message_id", "sent_at", "last_error", "attempts"]
        extra += ["reserved", "free_units", "next_attempt_at", "lease_until"]
        states.apply(sent, State.SENT, fields=extra, details=details, payloads=payloads)
        states.apply(retry, State.QUEUED, fields=extra, details=details)
        states.apply(failed, State.FAILED, fields=extra, details=details)
        states.apply(expired, State.EXPIRED, fields=extra, details=details)
    return stored + len(rows)


def _warn_lost(worker_id: str, lost: int) -> None:
    if lost:
        log.warning("worker %s lost the lease of %d messages", worker_id, lost)


# Accepted hand-overs, written by one statement per chunk: only rows still leased to this
# worker are updated (the WHERE replaces a locking SELECT), and RETURNING says which.
# The ids and provider ids travel as two arrays: two parameters instead of two per row,
# which the driver and the server would each parse.
_RECORD_ACCEPTED_SQL = """
UPDATE messaging_message AS m
SET state = 'sent', updated_at = %(now)s, sent_at = %(now)s, last_error = '',
    lease_until = NULL, reserved = false,
    provider = COALESCE(NULLIF(%(provider)s, ''), m.provider),
    provider_message_id = v.provider_message_id
FROM unnest(%(ids)s::uuid[], %(provider_ids)s::varchar(200)[]) AS v (id, provider_message_id)
WHERE m.id = v.id AND m.state = 'sending' AND m.worker_id = %(worker)s
RETURNING m.id
"""


def _record_accepted(
    worker_id: str,
    messages: Sequence[Message],
    by_id: dict[str, SendOutcome],
    provider_name: str,
    now,
) -> int:
    """PostgreSQL: sending -> sent for hand-overs the provider accepted, in few statements.

    The same writes, events, charges and metrics as the general path, without loading and
    locking the rows first and without a model-field round trip per value.
    """
    params = {
        "now": now,
        "provider": provider_name,
        "worker": worker_id,
        "ids": [m.pk for m in messages],
        "provider_ids": [by_id[str(m.pk)].provider_message_id[:200] for m in messages],
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_ACCEPTED_SQL, params)
        held = {pk for (pk,) in cursor.fetchall()}
    sent = [m for m in messages if m.pk in held]
    events = []
    for message in sent:
        outcome = by_id[str(message.pk)]
        if provider_name:
            message.provider = provider_name
        message.provider_message_id = outcome.provider_message_id[:200]
        message.sent_at = message.updated_at = now
        message.last_error = ""
        message.lease_until = None
        detail = outcome.detail or R.ACCEPTED_BY.format(provider=message.provider)
        events.append(
            states.event_for(message, State.SENDING, State.SENT, detail, outcome.payload, now)
        )
        message.state = State.SENT
    metrics.observe_sent_many(sent, now)
    billing.charge(sent)  # reserved -> charged; the UPDATE already cleared ``reserved``
    states.record(events)
    return len(sent)


def _still_held(worker_id: str, ids: list[str], claimed: Sequence[Message]) -> list[Message]:
    """The messages among ``ids`` still leased to ``worker_id``, locked until commit."""
    held = Message.objects.select_for_update().filter(
        pk__in=ids, state=State.SENDING, worker_id=worker_id
    )
    if not claimed:
        return list(held)
    owned = {str(pk) for pk in held.values_list("pk", flat=True)}
    return [m for m in claimed if str(m.pk) in owned]


def _classify(message: Message, error: ProviderError, now, retry, failed, expired) -> None:
    message.last_error = error.reason[:2000]
    if not isinstance(error, TransientError):
        failed.append(message)
        return
    if isinstance(error, ThrottledError):
        message.attempts = max(0, message.attempts - 1)  # throttling is not a failure
    if now - message.due_at > max_age(message.channel):
        message.last_error = R.GAVE_UP.format(n=message.attempts, reason=error.reason)[:2000]
        expired.append(message)
        return
    message.next_attempt_at = now + timedelta(
        seconds=policy().delay(message.attempts, error.retry_after)
    )
    retry.append(message)


def release_claims(worker_id: str, reason: str = R.RELEASED.format()) -> int:
    """Give back everything this worker holds, so another worker takes it at once."""
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update().filter(state=State.SENDING, worker_id=worker_id)
        )
        for row in rows:
            row.lease_until = None
            row.worker_id = ""
            row.next_attempt_at = timezone.now()
            row.attempts = max(0, row.attempts - 1)
        released = states.apply(rows, State.QUEUED, reason, fields=["attempts"])
        if released:
            wakeup.announce()  # another worker takes them at once
        return len(released)


def rescue_expired_leases() -> int:
    """Messages of workers that died: their lease ran out, so they are queued again."""
    now = timezone.now()
    with transaction.atomic():
        qs = Message.objects.filter(state=State.SENDING, lease_until__lt=now)
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs[:5000])
        details = {r.pk: R.LEASE_EXPIRED.format(worker=r.worker_id) for r in rows}
        for row in rows:
            row.lease_until = None
            row.worker_id = ""
            row.next_attempt_at = now
        rescued = states.apply(rows, State.QUEUED, details=details)
        if rescued:
            wakeup.announce()
        return len(rescued)


def due_count() -> int:
    return (
        Message.objects.filter(
            state__in=states.CLAIMABLE, next_attempt_at__lte=timezone.now()
        ).count()
        + Message.objects.filter(state=State.SENDING).count()
    )


def next_due_in(default: float) -> float:
    nxt = (
        Message.objects.filter(state__in=states.CLAIMABLE)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if nxt is None:
        return default
    return max(0.0, min(default, (nxt - timezone.now()).total_seconds()))
