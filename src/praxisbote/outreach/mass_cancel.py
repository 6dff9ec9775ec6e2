"""Mass cancellation (APT-6): all or selected appointments of one or more days at once.

Why this shape:

* Seed 001: staff choose how patients are told (e-mail, SMS, Threema) and may decide per
  patient in an "expert mode"; patients can be put on the waiting list. So ``plan``
  chooses a channel per patient automatically (the patient's reminder rule order with
  consent, as a single cancellation does) and ``overrides`` replace it per patient
  (a channel, or ``"none"``: we call them ourselves).
* Everything happens in one transaction: the appointments are cancelled (status, version,
  ``times_changed_at``: a reminder the worker holds is dropped at hand-over), their
  pending confirmations and reminders withdrawn, the cancellation notices written through
  ``create_messages(batch=True)``, waiting-list entries created, the report stored.
  Bulk statements, and templates loaded once per (channel, language), keep a day of 500
  appointments well under the 3 s target (bench/bench_mass_cancel.py).
* One notice per patient: a patient with several cancelled appointments gets one message
  listing them all (template context ``appointments``), one SMS instead of several. The
  report still has a row per appointment, each naming that message. A practice's own
  cancellation template that does not name ``appointments`` would mention only the first
  appointment, so with it every appointment keeps its own notice.
* Notices are written ``scheduled`` a moment ahead (like every appointment message): the
  worker reserves credit when it takes them, so a low SMS balance never stops a
  cancellation; the notice waits for credit instead.
* Quiet hours: a cancellation is urgent. The notice for an appointment that starts before
  the next quiet period begins (e.g. tomorrow morning, when it is night now) goes out at
  once, also at night; notices for later appointments wait until the current quiet
  period ends (``rules.urgent_due``, the same rule as a single cancellation); a notice
  about several appointments goes out as its most urgent one needs. The plan says per
  row when its notice goes out (``held_until``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from praxisbote.appointments import services as appts
from praxisbote.appointments import slip
from praxisbote.appointments.models import Appointment, Status
from praxisbote.appointments.rules import quiet_hours_of, urgent_due
from praxisbote.billing import services as billing
from praxisbote.messaging import services as messaging
from praxisbote.messaging import states
from praxisbote.messaging.models import Kind, Message, MessageAppointment, State
from praxisbote.messaging.reasons import declare
from praxisbote.outreach.models import MassCancellation, WaitingListEntry
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.texts.rendering import (
    Rendered,
    Sources,
    build_context,
    lists_appointments,
    render_sources,
    resolve_language,
    sources_for,
)

NONE = "none"
MAX_DAYS = 31
#: Protocol detail of the withdrawn reminders (English; the staff UI translates it).
MASS_CANCELLED = declare(gettext_noop("appointment cancelled (mass cancellation)"))
#: Why a patient was not told; the keys are API values.
REASONS = {
    "no_channel": gettext_lazy("no channel with consent and address: please call"),
    "not_notified": gettext_lazy("not notified (chosen in expert mode)"),
    "notify_off": gettext_lazy("patients are not notified for this cancellation"),
}


@dataclass
class Row:
    appointment: Appointment
    channel: str = ""
    reason: str = ""
    overridden: bool = False
    message: Message | None = None
    # When the notice is held for the end of the quiet hours; None: it goes out at once.
    held_until: datetime | None = None

    def as_report(self, tz: ZoneInfo) -> dict[str, Any]:
        patient = self.appointment.patient
        return {
            "appointment_id": str(self.appointment.pk),
            "patient_id": str(patient.pk),
            "patient": patient.full_name,
            "start": self.appointment.start.astimezone(tz).isoformat(),
            "channel": self.channel,
            "overridden": self.overridden,
            "message_id": str(self.message.pk) if self.message else None,
            "reason": self.reason,
            "held_until": self.held_until.astimezone(tz).isoformat() if self.held_until else None,
        }


@dataclass
class Plan:
    rows: list[Row] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for row in self.rows:
            out[row.channel or row.reason] += 1
        return dict(out)


# ---------------------------------------------------------------- choosing


def _days(practice: Practice, days: Sequence[Any], errors: dict[str, str]) -> list[date]:
    parsed: list[date] = []
    for value in days or ():
        try:
            parsed.append(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            errors["days"] = _("Enter the days as YYYY-MM-DD.")
            return []
    if not parsed:
        errors["days"] = _("Choose at least one day.")
    elif len(set(parsed)) > MAX_DAYS:
        errors["days"] = _("At most %(n)d days at once.") % {"n": MAX_DAYS}
    return sorted(set(parsed))


def appointments_of(practice: Practice, days: Iterable[date], ids: Sequence[Any] = ()):
    """Booked appointments starting on the practice's ``days`` (optionally only ``ids``)."""
    zone = ZoneInfo(practice.timezone)
    on_days = Q(pk__in=[])
    for day in days:
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        on_days |= Q(start__gte=start, start__lt=end)
    qs = scoped(Appointment, practice).filter(on_days, status=Status.BOOKED)
    if ids:
        qs = qs.filter(pk__in=list(ids))
    return qs.select_related("patient", "patient__category", "practice").order_by("start", "pk")


class _Rules:
    """The practice's reminder rules read once: the channel order per patient category."""

    def __init__(self, practice: Practice) -> None:
        self.default = appts.practice_rule(practice)
        self.by_category = {r.category_id: r for r in appts.category_rules(practice)}

    def of(self, patient) -> appts.Rule:
        return self.by_category.get(patient.category_id, self.default)


def _check_overrides(
    practice: Practice, overrides: Mapping[str, str], patients: Mapping[str, Any]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for patient_id, channel in overrides.items():
        key = f"overrides.{patient_id}"
        patient = patients.get(str(patient_id))
        if patient is None:
            errors[key] = _("This patient has no appointment in the selection.")
        elif channel == NONE:
            continue
        elif channel not in Channel.values:
            errors[key] = _("Choose email, sms, threema or none.")
        elif not practice.channel_enabled(channel):
            errors[key] = _(
                "The channel %(channel)s is not switched on for this practice (practice settings)."
            ) % {"channel": channel}
        elif not patient.address_for(channel):
            errors[key] = _("The patient has no address for %(channel)s.") % {"channel": channel}
    return errors


def plan(
    practice: Practice,
    days: Sequence[Any],
    appointment_ids: Sequence[Any] = (),
    overrides: Mapping[str, str] | None = None,
    notify: bool = True,
) -> Plan:
    """Who is told by which channel (or why not); nothing is written."""
    errors: dict[str, str] = {}
    parsed = _days(practice, days, errors)
    for value in appointment_ids or ():
        if not messaging._is_uuid(value):
            errors["appointment_ids"] = _("Not a valid appointment id: %(id)s") % {"id": value}
            break
    if errors:
        raise ValidationError(errors)
    found = list(appointments_of(practice, parsed, appointment_ids))
    if appointment_ids and len(found) != len(set(map(str, appointment_ids))):
        errors["appointment_ids"] = _(
            "Some appointments are not booked appointments of the chosen days."
        )
    patients = {str(a.patient_id): a.patient for a in found}
    errors.update(_check_overrides(practice, overrides or {}, patients))
    if errors:
        raise ValidationError(errors)
    rules = _Rules(practice)
    result = Plan()
    quiet = quiet_hours_of(practice)
    now = timezone.now()
    for appointment in found:
        row = Row(appointment)
        wanted = (overrides or {}).get(str(appointment.patient_id))
        if not notify:
            row.reason = "notify_off"
        elif wanted == NONE:
            row.reason, row.overridden = "not_notified", True
        elif wanted:
            row.channel, row.overridden = wanted, True
        else:
            patient = appointment.patient
            row.channel = appts.channel_for(practice, patient, rules.of(patient), "cancellation")
            row.reason = "" if row.channel else "no_channel"
        result.rows.append(row)
    for notice in _notices(practice, result.rows):
        _hold(notice.rows, now, quiet)
    return result


# ---------------------------------------------------------------- doing


def cancel(
    practice: Practice,
    days: Sequence[Any],
    appointment_ids: Sequence[Any] = (),
    overrides: Mapping[str, str] | None = None,
    *,
    notify: bool = True,
    waiting_list: bool = False,
    wishes: str = "",
    created_by: str = "",
) -> MassCancellation:
    """Cancel, withdraw, notify, put on the waiting list, report: one transaction."""
    if len(wishes) > 500:
        raise ValidationError({"wishes": _("At most %(n)d characters.") % {"n": 500}})
    now = timezone.now()
    with transaction.atomic():
        planned = plan(practice, days, appointment_ids, overrides, notify)
        rows = _lock_booked(planned.rows)
        if not rows:
            raise ValidationError({"days": _("There is no booked appointment to cancel.")})
        _cancel_rows(rows, now)
        _notify(practice, [r for r in rows if r.channel], now)
        if waiting_list:
            _enqueue(practice, rows, wishes, now)
        tz = ZoneInfo(practice.timezone)
        return MassCancellation.objects.create(
            practice=practice,
            days=sorted({r.appointment.start.astimezone(tz).date().isoformat() for r in rows}),
            notify=notify,
            waiting_list=waiting_list,
            cancelled=len(rows),
            notified=sum(1 for r in rows if r.message is not None),
            report=[r.as_report(tz) for r in rows],
            created_by=created_by[:254],
            created_at=now,
        )


def _lock_booked(rows: list[Row]) -> list[Row]:
    """Lock the appointments; keep those still booked (a colleague may have been quicker)."""
    ids = [r.appointment.pk for r in rows]
    booked = set(
        Appointment.objects.select_for_update()
        .filter(pk__in=ids, status=Status.BOOKED)
        .values_list("pk", flat=True)
    )
    return [r for r in rows if r.appointment.pk in booked]


def _cancel_rows(rows: list[Row], now: datetime) -> None:
    ids = [r.appointment.pk for r in rows]
    Appointment.objects.filter(pk__in=ids).update(
        status=Status.CANCELLED,
        cancelled_at=now,
        times_changed_at=now,  # a reminder written before this is stale at hand-over
        version=F("version") + 1,
        updated_at=now,
    )
    for row in rows:
        row.appointment.status = Status.CANCELLED
    pending = list(
        Message.objects.select_for_update()
        .filter(
            practice_id=rows[0].appointment.practice_id,
            appointment_id__in=ids,
            kind__in=appts.TIMED_KINDS,
            state__in=states.PENDING,
        )
        .order_by("pk")
    )
    billing.release(pending)
    states.apply(
        pending,
        State.CANCELLED,
        MASS_CANCELLED.format(),
        fields=["reserved", "lease_until"],
    )


def _notify(practice: Practice, rows: list[Row], now: datetime) -> None:
    """One notice per patient and channel, listing all their cancelled appointments (one
    SMS instead of one per appointment), rendered with the templates loaded once per
    (channel, language); all written in one batch."""
    if not rows:
        return
    specs: list[messaging.MessageSpec] = []
    notices = _notices(practice, rows)
    quiet = quiet_hours_of(practice)
    for notice in notices:
        data = build_context(practice, notice.language, _context(practice, notice.rows))
        out = render_sources(notice.sources, notice.channel, data)
        send_at = max(_hold(notice.rows, now, quiet), now + appts.WRITE_AHEAD)
        specs.append(_spec(notice.channel, notice.rows, out, send_at))
    written = messaging.create_messages(practice, specs, batch=True).messages
    links = []
    for notice, message in zip(notices, written, strict=True):
        for row in notice.rows:
            row.message = message
        links += [
            MessageAppointment(message=message, appointment_id=r.appointment.pk)
            for r in notice.rows[1:]
        ]
    MessageAppointment.objects.bulk_create(links)


@dataclass
class _Notice:
    """One message to write: the rows (appointments) it tells about, and how."""

    channel: str
    language: str
    sources: Sources
    rows: list[Row]


def _notices(practice: Practice, rows: list[Row]) -> list[_Notice]:
    """The rows with a channel as notices: one per patient (and channel: an override is
    per patient, so one), unless the practice's own template names only the first
    appointment (``lists_appointments``): then one per appointment. Templates are loaded
    once per (channel, language)."""
    by_patient: dict[tuple[Any, str], list[Row]] = {}
    for row in sorted(rows, key=lambda r: (r.appointment.start, str(r.appointment.pk))):
        if row.channel:
            by_patient.setdefault((row.appointment.patient_id, row.channel), []).append(row)
    loaded: dict[tuple[str, str], Sources] = {}
    notices: list[_Notice] = []
    for (_patient, channel), members in by_patient.items():
        language = resolve_language(practice, members[0].appointment.patient.language)
        if (channel, language) not in loaded:
            found = sources_for(practice, Kind.CANCELLATION, channel, [language])
            loaded[(channel, language)] = found[language]
        sources = loaded[(channel, language)]
        parts = [members] if lists_appointments(sources, channel) else [[r] for r in members]
        notices += [_Notice(channel, language, sources, part) for part in parts]
    return notices


def _hold(rows: list[Row], now: datetime, quiet: Any) -> datetime:
    """When one notice about ``rows`` is due: at once, or at the end of the quiet hours
    when every appointment in it can wait (the most urgent one decides, since one
    message tells about all); sets each row's ``held_until``."""
    due = min(urgent_due(now, row.appointment.start, quiet) for row in rows)
    for row in rows:
        row.held_until = due if due > now else None
    return due


def _spec(
    channel: str, notice: list[Row], out: Rendered, send_at: datetime
) -> messaging.MessageSpec:
    """The notice of ``notice`` (one patient's rows): about the first appointment; the
    others are linked after writing (``MessageAppointment``)."""
    first = notice[0].appointment
    return messaging.MessageSpec.rendered(
        channel,
        out,
        patient_id=first.patient_id,
        send_at=send_at,
        kind=Kind.CANCELLATION,
        appointment_id=first.pk,
    )


def _context(practice: Practice, notice: list[Row]) -> dict[str, Any]:
    first = notice[0].appointment
    return {
        "patient": first.patient,
        "appointment": first,
        "appointments": [r.appointment for r in notice],
        "practice": practice,
        "link": slip.url_of(first) or None,
        "code": None,
    }


def _enqueue(practice: Practice, rows: list[Row], wishes: str, now: datetime) -> None:
    """One waiting-list entry per patient (not per appointment), unless one is open."""
    waiting = set(
        scoped(WaitingListEntry, practice)
        .filter(patient_id__in=[r.appointment.patient_id for r in rows], closed_at__isnull=True)
        .values_list("patient_id", flat=True)
    )
    entries = []
    for row in rows:
        patient_id = row.appointment.patient_id
        if patient_id in waiting:
            continue
        waiting.add(patient_id)
        entries.append(
            WaitingListEntry(
                practice=practice,
                patient_id=patient_id,
                wishes=wishes,
                source_appointment_id=row.appointment.pk,
                created_at=now,
            )
        )
    WaitingListEntry.objects.bulk_create(entries)
