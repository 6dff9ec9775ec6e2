"""What the outbox holds about a patient: in the GDPR export, scrubbed on erasure."""

from __future__ import annotations

from typing import Any

from praxisbote.patients.models import Patient


def export(patient: Patient) -> dict[str, Any]:
    from praxisbote.messaging.models import Message

    return {
        "messages": [
            {
                "id": str(m.id),
                "channel": m.channel,
                "recipient": m.recipient,
                "kind": m.kind,
                "subject": m.subject,
                "text": m.body,
                "state": m.state,
                "created_at": m.created_at.isoformat(),
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "from": e.from_state,
                        "to": e.to_state,
                        "detail": e.detail,
                    }
                    for e in m.events.all()
                ],
            }
            for m in Message.objects.filter(patient=patient).prefetch_related("events")
        ]
    }


def erase(patient: Patient) -> None:
    """Withdraw pending messages and blank addresses and texts; costs stay for billing."""
    from praxisbote.messaging import services
    from praxisbote.messaging.models import Attachment, Message, SandboxDelivery

    services.cancel_many(patient.practice, patient=patient)
    ids = list(Message.objects.filter(patient=patient).values_list("pk", flat=True))
    files = list(Attachment.objects.filter(message_id__in=ids))
    Attachment.objects.filter(pk__in=[f.pk for f in files]).delete()
    services.delete_attachment_files(files)
    Message.objects.filter(pk__in=ids).update(recipient="", subject="", body="", html="")
    SandboxDelivery.objects.filter(message_id__in=ids).update(
        recipient="", subject="", body="", html=""
    )


def register() -> None:
    from praxisbote.patients import services

    if export not in services.EXPORT_HOOKS:
        services.EXPORT_HOOKS.append(export)
    if erase not in services.ERASE_HOOKS:
        services.ERASE_HOOKS.append(erase)
