"""Provider status reports (webhook or poll) moving sent messages on (MSG-2, SMS-4)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from praxisbote.messaging import states
from praxisbote.messaging.models import Message, State
from praxisbote.messaging.reasons import NO_REPORT
from praxisbote.providers import base

STATUS_TO_STATE = {
    base.STATUS_DELIVERED: State.DELIVERED,
    base.STATUS_BUFFERED: State.BUFFERED,
    base.STATUS_UNDELIVERABLE: State.UNDELIVERABLE,
    base.STATUS_EXPIRED: State.EXPIRED,
}


def apply_updates(
    provider: str, updates: Sequence[base.StatusUpdate], practice_id: Any = None
) -> int:
    """Apply provider news to our messages; unknown ids and stale news are ignored.

    ``practice_id`` limits the news to one practice's messages: a report that came through
    one account's webhook or poll can never move another practice's message.
    """
    wanted = [u for u in updates if u.status in STATUS_TO_STATE]
    if not wanted:
        return 0
    by_pid = {u.provider_message_id: u for u in wanted if u.provider_message_id}
    by_ours = {u.message_id: u for u in wanted if u.message_id}
    moved = 0
    with transaction.atomic():
        scope = Message.objects.select_for_update()
        if practice_id is not None:
            scope = scope.filter(practice_id=practice_id)
        rows = list(
            scope.filter(provider=provider, provider_message_id__in=list(by_pid)).exclude(
                provider_message_id=""  # lets the partial index msg_provider_id serve
            )
        )
        if by_ours:
            rows += list(scope.filter(pk__in=_uuids(by_ours), provider=provider))
        groups: dict[str, list[Message]] = defaultdict(list)
        details, payloads = {}, {}
        for row in {r.pk: r for r in rows}.values():
            update = by_pid.get(row.provider_message_id) or by_ours.get(str(row.pk))
            if update is None:
                continue
            groups[STATUS_TO_STATE[update.status]].append(row)
            details[row.pk] = update.detail or update.status
            payloads[row.pk] = update.payload
        for to_state, group in groups.items():
            moved += len(states.apply(group, to_state, details=details, payloads=payloads))
    return moved


def _uuids(values) -> list[uuid.UUID]:
    """Our ids among a provider's client references (anything else is not ours)."""
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def expire_unconfirmed() -> int:
    """Sent or buffered for longer than the report window (seed 003: 3 days) -> expired."""
    cutoff = timezone.now() - timedelta(hours=settings.OUTBOX_REPORT_WINDOW_HOURS)
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update().filter(
                state__in=(State.SENT, State.BUFFERED),
                channel__in=("sms", "threema"),
                sent_at__lt=cutoff,
            )[:5000]
        )
        return len(states.apply(rows, State.EXPIRED, NO_REPORT.format()))
