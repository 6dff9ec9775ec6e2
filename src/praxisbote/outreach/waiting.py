"""The waiting list: patients waiting for an appointment, offered free slots first-come.

Entries are added by staff, by the API or by a mass cancellation. A free slot is offered
with ``outreach.offers``: each invitee gets a message with a link of their own to take it
(or the practice's phone to call); the first to take it is booked and their entry is
closed (``closed_at``). ``offer`` below is the older call of ``POST /waiting-list/offer``,
kept for integrators: it makes the same offer and answers in its old shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from praxisbote.messaging.services import _is_uuid
from praxisbote.outreach import offers
from praxisbote.outreach.models import WaitingListEntry
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped


def add(practice: Practice, patient_id: Any, wishes: str = "") -> WaitingListEntry:
    patient = None
    if _is_uuid(patient_id):
        patient = scoped(Patient, practice).filter(pk=patient_id, erased_at__isnull=True).first()
    errors: dict[str, str] = {}
    if patient is None:
        errors["patient_id"] = _("No such patient in this practice.")
    if len(wishes or "") > 500:
        errors["wishes"] = _("At most %(n)d characters.") % {"n": 500}
    if errors:
        raise ValidationError(errors)
    return WaitingListEntry.objects.create(
        practice=practice, patient=patient, wishes=(wishes or "").strip()
    )


def offer(
    practice: Practice,
    *,
    start: datetime,
    end: datetime | None = None,
    location: str = "",
    count: int = 3,
    entry_ids: Sequence[int] = (),
    created_by: str = "",
) -> dict[str, Any]:
    """Offer a slot (see ``offers.create``); the entries offered to and those not reached."""
    created = offers.create(
        practice,
        {"start": start, "end": end, "location": location},
        count=count,
        entry_ids=entry_ids,
        created_by=created_by,
    )
    return {
        "offer": created.offer,
        "offered": created.offered,
        "message_ids": [m.pk for m in created.messages],
        "not_reached": created.not_reached,
    }
