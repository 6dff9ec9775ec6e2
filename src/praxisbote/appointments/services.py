"""Appointment writes and the messages they cause; shared by API, staff UI and import.

Every change writes its messages through ``messaging.services.create_messages`` in the
same transaction as the appointment row (DESIGN.md, "The outbox"): an appointment is
never saved without its confirmation and reminders, nor the other way round.

Stale reminders (APT-3): a move locks the appointment row, bumps ``version`` and
``times_changed_at`` and cancels the pending (scheduled/queued) confirmation and
reminders at once. A reminder the worker already claimed is not touched here: right
before the hand-over, the worker (``handover.drop_stale``) drops every message written
before the last committed change of times; one still in flight when the move commits is
reported in ``Written.in_flight``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.appointments import rules, slip
from praxisbote.appointments.models import DEFAULTS, Appointment, ReminderRule, Status
from praxisbote.billing import services as billing
from praxisbote.messaging import states
from praxisbote.messaging.models import Kind, Message, MessageAppointment, State
from praxisbote.messaging.reasons import declare
from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.patients.models import Patient, PatientCategory
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped

if TYPE_CHECKING:
    from praxisbote.texts.rendering import Rendered

#: Messages that describe the appointment's time and become wrong when it moves.
TIMED_KINDS = (Kind.CONFIRMATION, Kind.REMINDER)
TEXT_FIELDS = {"practitioner": 200, "location": 200, "notes": 5000}
MAX_DURATION = timedelta(days=1)
MAX_LEADS = 5
MAX_LEAD_HOURS = 24 * 60
#: Why pending confirmations/reminders were withdrawn (protocol, English; reasons.py).
WITHDRAWN_MOVED = declare(gettext_noop("appointment moved; not sent with the old time"))
WITHDRAWN_CANCELLED = declare(gettext_noop("appointment cancelled"))
WITHDRAWN_DELETED = declare(gettext_noop("appointment deleted"))
#: Appointment messages are written ``scheduled`` at least this far ahead: the worker then
#: reserves credit when it takes them, so a booking never fails for lack of SMS credit
#: (the message waits for credit instead, MSG-5).
WRITE_AHEAD = timedelta(seconds=1)


# ---------------------------------------------------------------- reminder rules


@dataclass(frozen=True)
class Rule:
    confirm_on_booking: bool
    lead_hours: list[int]
    channels: list[str]
    category_id: int | None = None
    is_default: bool = True  # no stored row: the shipped defaults / the practice's rule


def _rule_from(row: ReminderRule | None, category_id: int | None = None) -> Rule:
    if row is None:
        return Rule(
            DEFAULTS["confirm_on_booking"],
            list(DEFAULTS["lead_hours"]),
            list(DEFAULTS["channels"]),
            category_id,
            True,
        )
    return Rule(
        row.confirm_on_booking, list(row.lead_hours), list(row.channels), row.category_id, False
    )


def practice_rule(practice: Practice) -> Rule:
    return _rule_from(scoped(ReminderRule, practice).filter(category__isnull=True).first())


def rule_for(practice: Practice, patient: Patient) -> Rule:
    """The patient's category's rule, else the practice's, else the shipped defaults."""
    if patient.category_id:
        row = scoped(ReminderRule, practice).filter(category_id=patient.category_id).first()
        if row is not None:
            return _rule_from(row)
    return practice_rule(practice)


def rule_of(row: ReminderRule) -> Rule:
    """A stored rule as the services use it, for a page that looked the row up by its id."""
    return _rule_from(row)


def category_rules(practice: Practice) -> list[Rule]:
    return [_rule_from(r) for r in scoped(ReminderRule, practice).filter(category__isnull=False)]


def clean_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    """The one check of a rule's fields. ``PUT /api/v1/reminder-rules`` and the staff UI's
    reminder rules page both reach it through ``save_rule``, so the same mistake gets the
    same message (keys: the ``RuleIn`` field names) in both."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    if "confirm_on_booking" in data:
        cleaned["confirm_on_booking"] = bool(data["confirm_on_booking"])
    if "lead_hours" in data:
        leads = data["lead_hours"]
        if not isinstance(leads, list) or not all(
            isinstance(h, int) and not isinstance(h, bool) for h in leads
        ):
            errors["lead_hours"] = _("Give the reminders as a list of whole hours, e.g. [48, 24].")
        elif len(leads) > MAX_LEADS:
            errors["lead_hours"] = _("At most %(n)d reminders per appointment.") % {"n": MAX_LEADS}
        elif any(h < 1 or h > MAX_LEAD_HOURS for h in leads):
            errors["lead_hours"] = _(
                "A reminder goes out between 1 and %(max)d hours before the appointment."
            ) % {"max": MAX_LEAD_HOURS}
        else:
            cleaned["lead_hours"] = sorted(set(leads), reverse=True)
    if "channels" in data:
        channels = data["channels"] or []
        if not isinstance(channels, list) or any(c not in Channel.values for c in channels):
            errors["channels"] = _("Channels must be email, sms or threema.")
        elif len(set(channels)) != len(channels):
            errors["channels"] = _("Name each channel only once.")
        else:
            cleaned["channels"] = list(channels)
    if errors:
        raise ValidationError(errors)
    return cleaned


def save_rule(
    practice: Practice, category: PatientCategory | None, data: Mapping[str, Any]
) -> Rule:
    """Create or change the practice's rule (category None) or a category's rule."""
    cleaned = clean_rule(data)
    base = practice_rule(practice)
    with transaction.atomic():
        # get_or_create: two people creating the same rule at once both succeed (the
        # second insert fails on the unique constraint and then changes the first's row).
        row, _created = (
            scoped(ReminderRule, practice)
            .select_for_update()
            .get_or_create(
                category=category,
                defaults={
                    "practice": practice,
                    "confirm_on_booking": base.confirm_on_booking,
                    "lead_hours": base.lead_hours,
                    "channels": base.channels,
                },
            )
        )
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.updated_at = timezone.now()
        row.save()
    return _rule_from(row)


def delete_category_rule(practice: Practice, category: PatientCategory) -> None:
    """The category follows the practice's rule again."""
    scoped(ReminderRule, practice).filter(category=category).delete()


def channel_for(practice: Practice, patient: Patient, rule: Rule, notification: str) -> str:
    """The first channel the rule's order allows that the patient wants and consented to.

    ``notification`` "cancellation" is not an opt-in kind (a patient must hear that an
    appointment is off), so only consent and address count for it.
    """
    if notification == "cancellation":
        allowed = [
            c
            for c in patient.effective_channels()
            if patient.has_consent(c) and patient.address_for(c) and not patient.erased_at
        ]
    else:
        allowed = patient.automatic_channels(notification)
    allowed = [c for c in allowed if practice.channel_enabled(c)]
    order = rule.channels or allowed
    for channel in order:
        if channel in allowed:
            return channel
    return ""


# ---------------------------------------------------------------- validation


def _aware(value: Any, name: str, errors: dict[str, str]) -> datetime | None:
    if value is None or value == "":
        errors[name] = _("This field is required.")
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            value = parse_datetime(value)
        except ValueError:
            value = None
        if value is None:
            errors[name] = _("Not a valid date and time (ISO 8601, e.g. 2026-03-30T10:00+02:00).")
            return None
    if timezone.is_naive(value):
        errors[name] = _("Give the time with its offset, e.g. +01:00.")
        return None
    return value.astimezone(UTC)


def _check_span(start: datetime | None, end: datetime | None, errors: dict[str, str]) -> None:
    if start is None or end is None or "start" in errors or "end" in errors:
        return
    if end <= start:
        errors["end"] = _("The end must be after the start.")
    elif end - start > MAX_DURATION:
        errors["end"] = _("An appointment lasts at most 24 hours.")


def _clean_texts(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, limit in TEXT_FIELDS.items():
        if name in data and data[name] is not None:
            value = str(data[name]).strip()
            if len(value) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            cleaned[name] = value
    return cleaned


def _patient(practice: Practice, value: Any, errors: dict[str, str]) -> Patient | None:
    patient = None
    if value:
        try:
            patient = (
                scoped(Patient, practice)
                .select_related("category")
                .filter(pk=value, erased_at__isnull=True)
                .first()
            )
        except (ValidationError, ValueError):
            patient = None
    if patient is None:
        errors["patient_id"] = (
            _("No such patient in this practice.") if value else _("This field is required.")
        )
    return patient


# ---------------------------------------------------------------- messages


@dataclass
class Written:
    """What a change wrote or withdrew, for the API answer and the UI's flash message."""

    messages: list[Message] = field(default_factory=list)
    withdrawn: int = 0
    in_flight: int = 0
    notices: list[str] = field(default_factory=list)


def _render(appointment: Appointment, kind: str, channel: str) -> Rendered:
    from praxisbote.texts.rendering import render

    patient = appointment.patient
    context = {
        "patient": patient,
        "appointment": appointment,
        "practice": appointment.practice,
        "link": slip.url_of(appointment) or None,
        "code": None,
    }
    return render(appointment.practice, kind, channel, patient.effective_language, context)


def _spec(appointment: Appointment, kind: str, channel: str, send_at: datetime) -> MessageSpec:
    return MessageSpec.rendered(
        channel,
        _render(appointment, kind, channel),
        patient_id=appointment.patient_id,
        send_at=send_at,
        kind=kind,
        appointment_id=appointment.pk,
    )


def write_messages(
    appointment: Appointment,
    *,
    confirmation: bool,
    reminders: bool,
    written: Written,
    now: datetime | None = None,
) -> None:
    """Write the confirmation and/or scheduled reminders the patient's rule asks for."""
    practice = appointment.practice
    patient = appointment.patient
    rule = rule_for(practice, patient)
    quiet = rules.quiet_hours_of(practice)
    now = now or timezone.now()
    earliest = now + WRITE_AHEAD
    specs: list[MessageSpec] = []
    if confirmation and rule.confirm_on_booking:
        channel = channel_for(practice, patient, rule, "confirmation")
        if channel:
            due = max(rules.confirmation_due(now, quiet), earliest)
            specs.append(_spec(appointment, Kind.CONFIRMATION, channel, due))
        else:
            written.notices.append(_("No confirmation: the patient has no channel with consent."))
    if reminders and rule.lead_hours:
        channel = channel_for(practice, patient, rule, "reminder")
        times = rules.reminder_times(appointment.start, rule.lead_hours, quiet, earliest)
        if not channel:
            written.notices.append(_("No reminder: the patient has no channel with consent."))
        elif not times:
            written.notices.append(_("No reminder: its time has already passed."))
        for _lead, due in times if channel else ():
            specs.append(_spec(appointment, Kind.REMINDER, channel, due))
    if specs:
        written.messages.extend(create_messages(practice, specs).messages)


def send_cancellation(appointment: Appointment, written: Written) -> None:
    practice = appointment.practice
    rule = rule_for(practice, appointment.patient)
    channel = channel_for(practice, appointment.patient, rule, "cancellation")
    if not channel:
        written.notices.append(
            _("The patient could not be told: no channel with consent. Please call.")
        )
        return
    # Urgent: at once, also at night, unless the appointment is later than the coming day.
    now = timezone.now()
    due = rules.urgent_due(now, appointment.start, rules.quiet_hours_of(practice))
    spec = _spec(appointment, Kind.CANCELLATION, channel, max(due, now + WRITE_AHEAD))
    written.messages.extend(create_messages(practice, [spec]).messages)


def withdraw(appointment: Appointment, reason: str, written: Written) -> None:
    """Cancel the pending confirmation and reminders; count the ones a worker holds.

    ``reason`` goes into the protocol: English, from a declared reason (``reasons.py``).
    """
    pending = list(
        Message.objects.select_for_update()
        .filter(
            practice_id=appointment.practice_id,
            appointment_id=appointment.pk,
            kind__in=TIMED_KINDS,
            state__in=states.PENDING,
        )
        .order_by("pk")
    )
    billing.release(pending)
    written.withdrawn += len(
        states.apply(pending, State.CANCELLED, reason, fields=["reserved", "lease_until"])
    )
    written.in_flight += Message.objects.filter(
        practice_id=appointment.practice_id,
        appointment_id=appointment.pk,
        kind__in=TIMED_KINDS,
        state=State.SENDING,
    ).count()


# ---------------------------------------------------------------- appointments


def _lock(appointment: Appointment) -> Appointment:
    # of=self: the patient's category is an outer join, which PostgreSQL cannot lock.
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practice", "patient", "patient__category")
        .get(pk=appointment.pk)
    )


def create_appointment(
    practice: Practice,
    data: Mapping[str, Any],
    *,
    send_confirmation: bool = True,
    create_reminders: bool = True,
    external_uid: str = "",
) -> tuple[Appointment, Written]:
    """Book an appointment with its slip, confirmation and reminders (one transaction)."""
    errors: dict[str, str] = {}
    patient = _patient(practice, data.get("patient_id"), errors)
    start = _aware(data.get("start"), "start", errors)
    end = _aware(data.get("end"), "end", errors)
    _check_span(start, end, errors)
    texts = _clean_texts(data, errors)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    appointment = Appointment(
        practice=practice,
        patient=patient,
        start=start,
        end=end,
        external_uid=external_uid,
        times_changed_at=now,
        created_at=now,
        updated_at=now,
        **texts,
    )
    written = Written()
    with transaction.atomic():
        slip.issue(appointment)
        appointment.save()
        write_messages(
            appointment,
            confirmation=send_confirmation,
            reminders=create_reminders,
            written=written,
            now=now,
        )
    return appointment, written


def update_appointment(
    appointment: Appointment,
    data: Mapping[str, Any],
    *,
    renew_reminders: bool | None = None,
    notify_patient: bool = False,
) -> tuple[Appointment, Written]:
    """Change fields; a move (start/end) withdraws the old reminders at once (APT-3).

    ``renew_reminders`` must be said explicitly when the time changes: seed 002 asks.
    """
    errors: dict[str, str] = {}
    texts = _clean_texts(data, errors)
    status = data.get("status")
    if status is not None and status not in (Status.BOOKED, Status.COMPLETED, Status.NO_SHOW):
        errors["status"] = _(
            "Status can be booked, completed or no_show here; cancel with the cancel action."
        )
    new_start = _aware(data["start"], "start", errors) if data.get("start") else None
    new_end = _aware(data["end"], "end", errors) if data.get("end") else None
    if errors:
        raise ValidationError(errors)
    written = Written()
    with transaction.atomic():
        locked = _lock(appointment)
        start = new_start or locked.start
        end = new_end or (start + (locked.end - locked.start) if new_start else locked.end)
        _check_span(start, end, errors)
        moved = (start, end) != (locked.start, locked.end)
        if moved and locked.status == Status.CANCELLED:
            errors["start"] = _("A cancelled appointment cannot be moved; book a new one.")
        if moved and renew_reminders is None:
            errors["renew_reminders"] = _(
                "The appointment moves: say whether new reminders are to be created "
                "(renew_reminders true or false)."
            )
        if status == Status.BOOKED and locked.status == Status.CANCELLED:
            errors["status"] = _("A cancelled appointment cannot be booked again; copy it.")
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        for name, value in texts.items():
            setattr(locked, name, value)
        if status is not None:
            locked.status = status
        if moved:
            locked.start, locked.end = start, end
            locked.version += 1
            locked.times_changed_at = now
            slip.refresh_expiry(locked)
            withdraw(locked, WITHDRAWN_MOVED.format(), written)
        locked.updated_at = now
        locked.save()
        if moved and (renew_reminders or notify_patient):
            write_messages(
                locked,
                confirmation=notify_patient,
                reminders=bool(renew_reminders),
                written=written,
                now=now,
            )
    return locked, written


def copy_appointment(
    appointment: Appointment,
    data: Mapping[str, Any],
    *,
    create_reminders: bool = False,
    notify_patient: bool = False,
) -> tuple[Appointment, Written]:
    """A new appointment like this one at another time; its reminders are not copied
    (seed 002): the copy gets new ones only when asked."""
    errors: dict[str, str] = {}
    start = _aware(data.get("start"), "start", errors)
    end = _aware(data["end"], "end", errors) if data.get("end") else None
    if start is not None and end is None and "end" not in errors:
        end = start + (appointment.end - appointment.start)
    _check_span(start, end, errors)
    if errors:
        raise ValidationError(errors)
    if appointment.patient.erased_at:
        raise ValidationError({"patient_id": _("The patient was erased.")})
    source = {
        "patient_id": appointment.patient_id,
        "start": start,
        "end": end,
        "practitioner": appointment.practitioner,
        "location": appointment.location,
        "notes": appointment.notes,
    }
    source.update({k: v for k, v in data.items() if k in TEXT_FIELDS and v is not None})
    return create_appointment(
        appointment.practice,
        source,
        send_confirmation=notify_patient,
        create_reminders=create_reminders,
    )


def cancel_appointment(
    appointment: Appointment, *, notify_patient: bool = False
) -> tuple[Appointment, Written]:
    """Cancel: pending reminders are withdrawn; optionally the patient is told (APT-5)."""
    written = Written()
    with transaction.atomic():
        locked = _lock(appointment)
        if locked.status == Status.CANCELLED:
            raise ValidationError({"status": _("The appointment is already cancelled.")})
        now = timezone.now()
        locked.status = Status.CANCELLED
        locked.cancelled_at = now
        locked.times_changed_at = now  # messages written before this are stale now
        locked.version += 1
        locked.updated_at = now
        withdraw(locked, WITHDRAWN_CANCELLED.format(), written)
        locked.save()
        if notify_patient:
            send_cancellation(locked, written)
    return locked, written


def delete_appointment(appointment: Appointment) -> Written:
    """Remove the row; pending messages are withdrawn, sent ones stay in the protocol."""
    written = Written()
    with transaction.atomic():
        locked = _lock(appointment)
        locked.times_changed_at = timezone.now()
        locked.save(update_fields=["times_changed_at"])
        withdraw(locked, WITHDRAWN_DELETED.format(), written)
        locked.delete()
    return written


def mark_cannot_come(appointment: Appointment) -> bool:
    """APT-11: the patient says so on the slip; nothing about the appointment changes.

    Returns False when it was said before (pressing twice tells the practice once).
    """
    return bool(
        Appointment.objects.filter(pk=appointment.pk, cannot_come_at__isnull=True).update(
            cannot_come_at=timezone.now()
        )
    )


# ---------------------------------------------------------------- reading


def in_range(
    practice: Practice,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    patient_id: Any = None,
    status: str | None = None,
):
    qs = scoped(Appointment, practice).select_related("patient", "practice")
    if start is not None:
        qs = qs.filter(end__gt=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("start", "pk")


def messages_by_appointment(appointments: Iterable[Appointment]) -> dict[Any, list[Message]]:
    """The messages of many appointments in two queries, oldest first; a notice about
    several appointments (mass cancellation) is listed under each of them."""
    appointments = list(appointments)
    if not appointments:
        return {}
    groups: dict[Any, list[Message]] = {a.pk: [] for a in appointments}
    further: dict[Any, list[Any]] = defaultdict(list)
    for message_id, appointment_id in MessageAppointment.objects.filter(
        appointment_id__in=list(groups)
    ).values_list("message_id", "appointment_id"):
        further[message_id].append(appointment_id)
    about = Q(appointment_id__in=list(groups))
    if further:
        about |= Q(pk__in=list(further))
    rows = Message.objects.filter(about, practice_id=appointments[0].practice_id)
    for message in rows.order_by("created_at", "pk"):
        for appointment_id in {message.appointment_id, *further.get(message.pk, ())}:
            if appointment_id in groups:
                groups[appointment_id].append(message)
    return groups


NOTIFIED = {State.SENT, State.DELIVERED, State.BUFFERED}
WAITING = {State.SCHEDULED, State.QUEUED, State.SENDING}


def bubble(messages: Iterable[Message]) -> str:
    """Seed 001's speech bubble: "notified" once anything reached a provider, else
    "pending" while something waits, "failed" when everything failed, else "none"."""
    found = {m.state for m in messages}
    if found & NOTIFIED:
        return "notified"
    if found & WAITING:
        return "pending"
    if found & {State.FAILED, State.UNDELIVERABLE, State.EXPIRED}:
        return "failed"
    return "none"
