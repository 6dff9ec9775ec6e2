"""Recalls, birthday greetings, waiting-list entries and slot offers in the patient's GDPR
export (Art. 15) and erasure (Art. 17)."""

from __future__ import annotations

from typing import Any

from praxisbote.patients.models import Patient


def export(patient: Patient) -> dict[str, Any]:
    from praxisbote.outreach.models import (
        BirthdayGreeting,
        OfferInvite,
        Recall,
        WaitingListEntry,
    )

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
                "closed_at": e.closed_at.isoformat() if e.closed_at else None,
            }
            for e in waiting
        ],
        "slot_offers": [
            {
                "start": i.offer.start.isoformat(),
                "end": i.offer.end.isoformat(),
                "channel": i.channel,
                "offered_at": i.created_at.isoformat(),
                "taken": i.offer.taken_invite_id == i.pk,
            }
            for i in OfferInvite.objects.filter(patient=patient)
            .select_related("offer")
            .order_by("created_at", "pk")
        ],
    }


def erase(patient: Patient) -> None:
    from praxisbote.outreach.models import (
        BirthdayGreeting,
        OfferInvite,
        Recall,
        SlotOffer,
        WaitingListEntry,
    )

    Recall.objects.filter(patient=patient).delete()
    WaitingListEntry.objects.filter(patient=patient).delete()
    BirthdayGreeting.objects.filter(patient=patient).delete()
    # The offer stays (staff's record of the slot); who took it and the links go.
    SlotOffer.objects.filter(taken_by=patient).update(taken_by=None)
    OfferInvite.objects.filter(patient=patient).delete()


def register() -> None:
    from praxisbote.patients import services

    if export not in services.EXPORT_HOOKS:
        services.EXPORT_HOOKS.append(export)
    if erase not in services.ERASE_HOOKS:
        services.ERASE_HOOKS.append(erase)
