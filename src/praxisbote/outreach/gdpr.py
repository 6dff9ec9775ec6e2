"""Recalls, birthday greetings and waiting-list entries in the patient's GDPR export
(Art. 15) and erasure (Art. 17)."""

from __future__ import annotations

from typing import Any

from praxisbote.patients.models import Patient


def export(patient: Patient) -> dict[str, Any]:
    from praxisbote.outreach.models import BirthdayGreeting, Recall, WaitingListEntry

    recall = Recall.objects.filter(patient=patient).first()
    waiting = WaitingListEntry.objects.filter(patient=patient).order_by("created_at")
    return {
        "recall": None
        if recall is None
        else {
            "due_date": recall.due_date.isoformat() if recall.due_date else None,
            "interval_months": recall.interval_months,
            "note": recall.note,
            "last_sent_at": recall.last_sent_at.isoformat() if recall.last_sent_at else None,
        },
        "birthday_greetings": sorted(
            BirthdayGreeting.objects.filter(patient=patient).values_list("year", flat=True)
        ),
        "waiting_list": [
            {
                "wishes": e.wishes,
                "created_at": e.created_at.isoformat(),
                "offered_at": e.offered_at.isoformat() if e.offered_at else None,
            }
            for e in waiting
        ],
    }


def erase(patient: Patient) -> None:
    from praxisbote.outreach.models import BirthdayGreeting, Recall, WaitingListEntry

    Recall.objects.filter(patient=patient).delete()
    WaitingListEntry.objects.filter(patient=patient).delete()
    BirthdayGreeting.objects.filter(patient=patient).delete()


def register() -> None:
    from praxisbote.patients import services

    if export not in services.EXPORT_HOOKS:
        services.EXPORT_HOOKS.append(export)
    if erase not in services.ERASE_HOOKS:
        services.ERASE_HOOKS.append(erase)
