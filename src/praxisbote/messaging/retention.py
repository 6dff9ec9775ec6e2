"""Retention (MSG-4): the protocol is deleted after each practice's retention period."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from praxisbote.messaging import states
from praxisbote.messaging.models import Attachment, IdempotencyRecord, Message, SandboxDelivery
from praxisbote.practices.models import Practice

IDEMPOTENCY_HOURS = 48


def purge() -> int:
    """Delete finished messages (events, attachments, sandbox copies) past retention."""
    removed = 0
    now = timezone.now()
    for practice in Practice.objects.only("id", "protocol_retention_days"):
        cutoff = now - timedelta(days=practice.protocol_retention_days)
        while True:
            ids = list(
                Message.objects.filter(
                    practice=practice, state__in=(*states.FINAL, "sent"), updated_at__lt=cutoff
                ).values_list("pk", flat=True)[:1000]
            )
            if not ids:
                break
            removed += _delete(ids)
        SandboxDelivery.objects.filter(practice=practice, at__lt=cutoff).delete()
    IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=IDEMPOTENCY_HOURS)
    ).delete()
    return removed


def _delete(ids: list) -> int:
    from praxisbote.messaging.services import delete_attachment_files

    with transaction.atomic():
        files = list(Attachment.objects.filter(message_id__in=ids))
        count, _ = Message.objects.filter(pk__in=ids).delete()
    delete_attachment_files(files)
    return len(ids) if count else 0
