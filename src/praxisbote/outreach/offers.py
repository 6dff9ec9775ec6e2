"""Waiting-list offers with a link: "first come, first served" for a free slot.

Why this shape:

* An offer is a free slot (a cancelled appointment's, or entered by staff) sent to the
  first open waiting-list entries that have no open offer yet, through the outbox, by each
  patient's preferred channel with consent and an address (the rule of a cancellation
  notice). Patients nobody can reach are listed for staff to call.
* Every invitee gets a link of their own, ``/o/<code>``: the slip's code scheme (7
  characters of 62 from ``secrets``), stored only as a SHA-256 digest with its own
  purpose, so the patient page knows who pressed "take" without a login and a leaked
  database holds no working link. Failed lookups share the slip's rate limit.
* Taking is one conditional UPDATE ``open -> taken`` on the offer row, in the transaction
  that books the appointment through ``appointments.services`` (slip, confirmation and
  reminders by the practice's rules). Of two patients pressing at once, PostgreSQL makes
  the second UPDATE wait for the first's row lock and then finds the offer no longer
  open; SQLite serialises writers. Exactly one appointment, the others see "taken".
* The offer message is automatic in kind: in the quiet hours it waits for their end. An
  offer expires at the slot's start; a slot that starts before the message could go out
  is refused (staff should call).
* The message keeps "or call us" as the fallback (seed 003: calls book appointments);
  the link only saves the call.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from praxisbote.appointments import rules, slip
from praxisbote.appointments import services as appts
from praxisbote.appointments.models import Appointment, Status
from praxisbote.messaging import services as messaging
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach.models import OfferInvite, OfferState, SlotOffer, WaitingListEntry
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.texts import rendering

log = logging.getLogger(__name__)

PURPOSE = "offer"
DEFAULT_DURATION = timedelta(minutes=30)
MAX_COUNT = 50

#: The offer's text per language ("short" for SMS and Threema), with the practice's blocks.
#: The SMS has no salutation, so that with the link it stays one GSM-7 part for usual
#: practice names (tested, like the shipped templates); the phone is always named.
TEXTS = {
    "de": {
        "short": "Termin frei geworden: {{ appointment.when }}. "
        "{% if link %}Übernehmen: {{ link }} oder Tel. {{ practice.phone }}"
        "{% else %}Interesse? Bitte rufen Sie uns an: {{ practice.phone }}{% endif %}"
        " {{ greeting }}",
        "subject": "Ein Termin ist frei geworden",
        "email": "{{ salutation }}\n\nein Termin ist frei geworden: {{ appointment.when }}"
        "{% if appointment.location %} ({{ appointment.location }}){% endif %}"
        "{% if appointment.practitioner %}, bei {{ appointment.practitioner }}{% endif %}.\n\n"
        "{% if link %}Wenn Sie ihn möchten, übernehmen Sie ihn hier; wer zuerst tippt, "
        "bekommt ihn:\n{{ link }}\n\nSie können uns auch anrufen: {{ practice.phone }}."
        "{% else %}Wenn Sie ihn möchten, rufen Sie uns bitte unter {{ practice.phone }} an; "
        "wer zuerst anruft, bekommt ihn.{% endif %}\n\n{{ greeting }}",
    },
    "en": {
        "short": "Appointment free: {{ appointment.when }}. "
        "{% if link %}Take it: {{ link }} or call {{ practice.phone }}"
        "{% else %}Interested? Please call us: {{ practice.phone }}{% endif %}"
        " {{ greeting }}",
        "subject": "An appointment has become free",
        "email": "{{ salutation }}\n\nan appointment has become free: {{ appointment.when }}"
        "{% if appointment.location %} ({{ appointment.location }}){% endif %}"
        "{% if appointment.practitioner %}, with {{ appointment.practitioner }}{% endif %}.\n\n"
        "{% if link %}If you would like it, take it here; the first to tap gets it:\n"
        "{{ link }}\n\nYou can also call us: {{ practice.phone }}."
        "{% else %}If you would like it, please call us on {{ practice.phone }}; the first "
        "to call gets it.{% endif %}\n\n{{ greeting }}",
    },
}


@dataclass
class Created:
    """What an offer wrote: the offer (None when nobody could be reached) and who got it."""

    offer: SlotOffer | None
    invites: list[OfferInvite] = field(default_factory=list)
    not_reached: list[WaitingListEntry] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    send_at: datetime | None = None

    @property
    def offered(self) -> list[WaitingListEntry]:
        return [i.entry for i in self.invites if i.entry is not None]


@dataclass
class Taken:
    """How pressing "take" ended: ``booked`` (just now), ``yours`` (pressed again),
    ``taken`` (someone else was first), ``expired``, ``withdrawn`` or ``failed``."""

    outcome: str
    appointment: Appointment | None = None


# ---------------------------------------------------------------- reading


def state_of(offer: SlotOffer, now: datetime | None = None) -> str:
    """The stored state, or ``expired`` for an open offer whose slot has started."""
    now = now or timezone.now()
    if offer.state == OfferState.OPEN and offer.expires_at <= now:
        return OfferState.EXPIRED
    return offer.state


def url_for(code: str) -> str:
    return f"{settings.BASE_URL}/o/{code}"


def find(code: str) -> OfferInvite | None:
    """The invite of a code, or None (unknown or malformed); expiry is the page's matter."""
    if not slip.well_formed(code):
        return None
    return (
        OfferInvite.objects.select_related("offer", "offer__practice", "patient")
        .filter(code_digest=slip.code_digest(code, PURPOSE))
        .first()
    )


def open_entries(practice: Practice) -> QuerySet[WaitingListEntry]:
    """Entries still waiting (not closed, patient not erased), oldest first."""
    return scoped(WaitingListEntry, practice).filter(
        closed_at__isnull=True, patient__erased_at__isnull=True
    )


def recent(practice: Practice, limit: int = 20) -> list[SlotOffer]:
    """The newest offers with their invitees, for the staff page."""
    return list(
        scoped(SlotOffer, practice)
        .select_related("taken_by")
        .prefetch_related("invites__patient")
        .order_by("-created_at", "id")[:limit]
    )


# ---------------------------------------------------------------- creating


def _slot(practice: Practice, data: Mapping[str, Any], errors: dict[str, str]) -> dict:
    """start, end, practitioner, location and the source appointment, validated."""
    source = _source(practice, data.get("appointment_id"), errors)
    start = appts._aware(data.get("start") or (source and source.start), "start", errors)
    end_value = data.get("end") or (source and source.end)
    if end_value:
        end = appts._aware(end_value, "end", errors)
    else:
        end = start + DEFAULT_DURATION if start else None
    appts._check_span(start, end, errors)
    texts = appts._clean_texts(
        {
            "practitioner": data.get("practitioner") or (source and source.practitioner) or "",
            "location": data.get("location") or (source and source.location) or "",
        },
        errors,
    )
    return {
        "start": start,
        "end": end,
        "source_appointment_id": source.pk if source else None,
        **texts,
    }


def _source(practice: Practice, appointment_id: Any, errors: dict[str, str]):
    if not appointment_id:
        return None
    found = None
    if messaging._is_uuid(appointment_id):
        found = scoped(Appointment, practice).filter(pk=appointment_id).first()
    if found is None:
        errors["appointment_id"] = _("No such appointment in this practice.")
    elif found.status != Status.CANCELLED:
        errors["appointment_id"] = _(
            "This appointment is still booked: its slot is not free. Cancel it first."
        )
        return None
    return found


def _check_timing(
    practice: Practice, slot: dict, send_at: datetime, now: datetime, errors: dict[str, str]
) -> None:
    start = slot["start"]
    if start is None or "start" in errors:
        return
    if start <= now:
        errors["start"] = _("The slot has already begun; offer a slot in the future.")
    elif start <= send_at:
        errors["start"] = _(
            "The offer would go out at %(time)s, when the quiet hours end, but the slot "
            "starts before that. Please call the patients instead."
        ) % {"time": send_at.astimezone(ZoneInfo(practice.timezone)).strftime("%H:%M")}


def _entries(
    practice: Practice, count: int, entry_ids: Sequence[Any], now: datetime, errors: dict
) -> list[WaitingListEntry]:
    entries = open_entries(practice).select_related("patient", "patient__category")
    if entry_ids:
        wanted = {str(i) for i in entry_ids}
        found = list(entries.filter(pk__in=[i for i in entry_ids if str(i).isdigit()]))
        if len(found) != len(wanted):
            errors["entry_ids"] = _("Some entries are not open entries of this waiting list.")
        return found
    if not 1 <= count <= MAX_COUNT:
        errors["count"] = _("Offer to 1 to %(n)d patients at once.") % {"n": MAX_COUNT}
        return []
    busy = OfferInvite.objects.filter(
        practice=practice,
        entry__isnull=False,  # NOT IN with a NULL would exclude everything
        offer__state=OfferState.OPEN,
        offer__expires_at__gt=now,
    ).values("entry_id")
    chosen: dict[Any, WaitingListEntry] = {}
    for entry in entries.exclude(pk__in=busy).iterator(chunk_size=200):
        chosen.setdefault(entry.patient_id, entry)  # a patient listed twice: one link
        if len(chosen) == count:
            break
    return list(chosen.values())


def _channel(practice: Practice, patient: Patient, rule: appts.Rule) -> str:
    """The cancellation rule's channel, if the address on record is also valid."""
    channel = appts.channel_for(practice, patient, rule, "cancellation")
    if not channel:
        return ""
    try:
        messaging.normalise_address(channel, patient.address_for(channel), practice.country)
    except ValidationError:
        return ""
    return channel


def render(
    practice: Practice, patient: Patient, channel: str, offer: SlotOffer, link: str | None
) -> rendering.Rendered:
    language = rendering.resolve_language(practice, patient.language)
    texts = TEXTS[language]
    blocks = rendering.sources_for(practice, Kind.FREE, channel, [language])[language]
    email = channel == Channel.EMAIL
    sources = rendering.Sources(
        text=texts["email"] if email else texts["short"],
        subject=texts["subject"],
        html="",
        salutation=blocks.salutation,
        greeting=blocks.greeting,
    )
    context = {"patient": patient, "appointment": offer, "practice": practice, "link": link}
    data = rendering.build_context(practice, language, context)
    return rendering.render_sources(sources, channel, data)


def create(
    practice: Practice,
    data: Mapping[str, Any],
    *,
    count: int = 3,
    entry_ids: Sequence[Any] = (),
    created_by: str = "",
    now: datetime | None = None,
) -> Created:
    """Offer a slot to the first ``count`` open entries without an open offer (or to
    exactly ``entry_ids``): the offer, one invite and one message each, one transaction.

    ``data``: ``start`` (with offset), ``end`` (default 30 minutes later),
    ``practitioner``, ``location``, or ``appointment_id`` of a cancelled appointment
    whose slot it is (its values are the defaults). ``ValidationError`` names each field.
    """
    now = now or timezone.now()
    errors: dict[str, str] = {}
    slot = _slot(practice, data, errors)
    send_at = rules.outside_quiet(now + appts.WRITE_AHEAD, rules.quiet_hours_of(practice))
    _check_timing(practice, slot, send_at, now, errors)
    entries = _entries(practice, count, entry_ids, now, errors) if not errors else []
    if not errors and not entries:
        errors["entry_ids"] = _("Nobody on the waiting list to offer it to.")
    if errors:
        raise ValidationError(errors)
    return _write(practice, slot, entries, send_at, created_by, now)


def _write(
    practice: Practice,
    slot: dict,
    entries: list[WaitingListEntry],
    send_at: datetime,
    created_by: str,
    now: datetime,
) -> Created:
    offer = SlotOffer(
        practice=practice,
        expires_at=slot["start"],
        created_by=created_by[:254],
        created_at=now,
        **slot,
    )
    rule = appts.practice_rule(practice)
    result = Created(offer=offer, send_at=send_at)
    specs: list[messaging.MessageSpec] = []
    for entry in entries:
        channel = _channel(practice, entry.patient, rule)
        if not channel:
            result.not_reached.append(entry)
            continue
        code = slip.new_code()
        out = render(practice, entry.patient, channel, offer, url_for(code))
        specs.append(
            messaging.MessageSpec.rendered(
                channel, out, patient_id=entry.patient_id, send_at=send_at, kind=Kind.FREE
            )
        )
        result.invites.append(
            OfferInvite(
                practice=practice,
                offer=offer,
                patient=entry.patient,
                entry=entry,
                channel=channel,
                code_digest=slip.code_digest(code, PURPOSE),
                created_at=now,
            )
        )
    if not specs:
        result.offer = None  # nobody to send it to: no offer, nothing written
        return result
    with transaction.atomic():
        offer.save()
        result.messages = messaging.create_messages(practice, specs, batch=True).messages
        for invite, message in zip(result.invites, result.messages, strict=True):
            invite.message_id = message.pk
        OfferInvite.objects.bulk_create(result.invites)
        offered = [e.pk for e in result.offered]
        WaitingListEntry.objects.filter(pk__in=offered).update(offered_at=now)
    for entry in result.offered:
        entry.offered_at = now
    return result


# ---------------------------------------------------------------- taking and withdrawing


def take(invite: OfferInvite, now: datetime | None = None) -> Taken:
    """The patient of ``invite`` presses "take": book them if the offer is still open."""
    now = now or timezone.now()
    offer = invite.offer
    try:
        with transaction.atomic():
            won = SlotOffer.objects.filter(
                pk=offer.pk, state=OfferState.OPEN, expires_at__gt=now
            ).update(
                state=OfferState.TAKEN,
                taken_by_id=invite.patient_id,
                taken_invite_id=invite.pk,
                taken_at=now,
            )
            if not won:
                return _lost(invite, now)
            appointment = _book(offer, invite)
            SlotOffer.objects.filter(pk=offer.pk).update(appointment_id=appointment.pk)
            WaitingListEntry.objects.filter(pk=invite.entry_id, closed_at__isnull=True).update(
                closed_at=now
            )
            _withdraw_messages(offer, keep=invite)
    except ValidationError as exc:  # e.g. the patient was erased since the offer
        log.info("offer %s not taken by invite %s: %s", offer.pk, invite.pk, exc.messages)
        return Taken("failed")
    return Taken("booked", appointment)


def _lost(invite: OfferInvite, now: datetime) -> Taken:
    offer = SlotOffer.objects.get(pk=invite.offer_id)
    if offer.state == OfferState.TAKEN and offer.taken_invite_id == invite.pk:
        appointment = Appointment.objects.filter(pk=offer.appointment_id).first()
        return Taken("yours", appointment)
    return Taken(state_of(offer, now))


def _book(offer: SlotOffer, invite: OfferInvite) -> Appointment:
    practice = offer.practice
    with translation.override(practice.language):
        note = _("Taken by the patient from a waiting-list offer.")
    appointment, _written = appts.create_appointment(
        practice,
        {
            "patient_id": invite.patient_id,
            "start": offer.start,
            "end": offer.end,
            "practitioner": offer.practitioner,
            "location": offer.location,
            "notes": note,
        },
    )
    return appointment


def _withdraw_messages(offer: SlotOffer, keep: OfferInvite | None = None) -> int:
    """Cancel the offer's messages that have not gone out (e.g. waiting for credit)."""
    ids = [
        i.message_id
        for i in OfferInvite.objects.filter(offer=offer)
        if i.message_id and (keep is None or i.pk != keep.pk)
    ]
    return messaging.cancel_many(offer.practice, pk__in=ids) if ids else 0


def withdraw(offer: SlotOffer, now: datetime | None = None) -> bool:
    """Staff close an open offer (e.g. the slot was given by phone); False if not open."""
    now = now or timezone.now()
    with transaction.atomic():
        done = SlotOffer.objects.filter(
            pk=offer.pk, state=OfferState.OPEN, expires_at__gt=now
        ).update(state=OfferState.WITHDRAWN, withdrawn_at=now)
        if done:
            _withdraw_messages(offer)
    offer.refresh_from_db()
    return bool(done)


def purge(now: datetime | None = None) -> int:
    """Delete offers (with their invites) whose slot began longer ago than the practice
    keeps its protocol; returns how many offers went.

    Who was offered which slot is personal data, and an offer past its slot serves only the
    record; the record is kept as long as the practice keeps its protocol (MSG-4), then
    both go. The appointment a patient booked from an offer stays: it is the practice's
    calendar, not the offer's.
    """
    now = now or timezone.now()
    removed = 0
    for practice in Practice.objects.only("id", "protocol_retention_days"):
        cutoff = now - timedelta(days=practice.protocol_retention_days)
        _count, per_model = scoped(SlotOffer, practice).filter(expires_at__lt=cutoff).delete()
        removed += per_model.get(SlotOffer._meta.label, 0)
    return removed
