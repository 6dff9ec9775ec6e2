"""The waiting list: patients waiting for an appointment, offered free slots first-come.

An offer is a message (through the outbox) to the first entries that have not had an
offer yet, by each patient's preferred channel with consent, naming the free slot and the
practice's phone: the patient calls to take it (seed 003: calls, not replies, book
appointments). Nothing is booked by the offer itself; staff book whoever calls first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote.appointments import services as appts
from praxisbote.messaging.models import Kind
from praxisbote.messaging.services import MessageSpec, _is_uuid, create_messages
from praxisbote.outreach.models import WaitingListEntry
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.texts import rendering

#: The offer's text per language ("short" for SMS and Threema), with the practice's blocks.
OFFER = {
    "de": {
        "short": "{{ salutation }} ein Termin ist frei geworden: {{ appointment.when }}"
        "{% if appointment.location %} ({{ appointment.location }}){% endif %}. Interesse? "
        "Bitte rufen Sie uns an: {{ practice.phone }} {{ greeting }}",
        "subject": "Ein Termin ist frei geworden",
        "email": "{{ salutation }}\n\nein Termin ist frei geworden: {{ appointment.when }}"
        "{% if appointment.location %} ({{ appointment.location }}){% endif %}.\n\n"
        "Wenn Sie ihn möchten, rufen Sie uns bitte unter {{ practice.phone }} an; "
        "wer zuerst anruft, bekommt ihn.\n\n{{ greeting }}",
    },
    "en": {
        "short": "{{ salutation }} an appointment has become free: {{ appointment.when }}"
        "{% if appointment.location %} ({{ appointment.location }}){% endif %}. Interested? "
        "Please call us: {{ practice.phone }} {{ greeting }}",
        "subject": "An appointment has become free",
        "email": "{{ salutation }}\n\nan appointment has become free: {{ appointment.when }}"
        "{% if appointment.location %} ({{ appointment.location }}){% endif %}.\n\n"
        "If you would like it, please call us on {{ practice.phone }}; the first to call "
        "gets it.\n\n{{ greeting }}",
    },
}


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


def _render(practice: Practice, patient: Patient, channel: str, slot: dict) -> rendering.Rendered:
    language = rendering.resolve_language(practice, patient.language)
    texts = OFFER[language]
    blocks = rendering.sources_for(practice, Kind.FREE, channel, [language])[language]
    email = channel == Channel.EMAIL
    sources = rendering.Sources(
        text=texts["email"] if email else texts["short"],
        subject=texts["subject"],
        html="",
        salutation=blocks.salutation,
        greeting=blocks.greeting,
    )
    data = rendering.build_context(
        practice, language, {"patient": patient, "appointment": slot, "practice": practice}
    )
    return rendering.render_sources(sources, channel, data)


def offer(
    practice: Practice,
    *,
    start: datetime,
    end: datetime | None = None,
    location: str = "",
    count: int = 3,
    entry_ids: Sequence[int] = (),
) -> dict[str, Any]:
    """Message the first ``count`` entries without an offer (or exactly ``entry_ids``)."""
    if timezone.is_naive(start) or (end is not None and timezone.is_naive(end)):
        raise ValidationError({"start": _("Give the time with its offset, e.g. +01:00.")})
    start = start.astimezone(UTC)
    slot = {"start": start, "end": (end or start + timedelta(minutes=30)), "location": location}
    entries = scoped(WaitingListEntry, practice).filter(patient__erased_at__isnull=True)
    if entry_ids:
        entries = entries.filter(pk__in=list(entry_ids))
    else:
        entries = entries.filter(offered_at__isnull=True)[:count]
    entries = list(entries.select_related("patient", "patient__category"))
    if not entries:
        raise ValidationError({"entry_ids": _("Nobody on the waiting list to offer it to.")})
    rule = appts.practice_rule(practice)
    now = timezone.now()
    specs, offered, not_reached = [], [], []
    for entry in entries:
        channel = appts.channel_for(practice, entry.patient, rule, "cancellation")
        if not channel:
            not_reached.append(entry)
            continue
        out = _render(practice, entry.patient, channel, slot)
        email = channel == Channel.EMAIL
        specs.append(
            MessageSpec(
                channel=channel,
                text=out.text,
                patient_id=entry.patient_id,
                subject=out.subject if email else "",
                html=out.html if email else "",
                send_at=now + appts.WRITE_AHEAD,
                kind=Kind.FREE,
            )
        )
        offered.append(entry)
    with transaction.atomic():
        messages = create_messages(practice, specs, batch=True).messages if specs else []
        WaitingListEntry.objects.filter(pk__in=[e.pk for e in offered]).update(offered_at=now)
    for entry in offered:
        entry.offered_at = now
    return {
        "offered": offered,
        "message_ids": [m.pk for m in messages],
        "not_reached": not_reached,
    }
