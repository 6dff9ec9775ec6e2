"""Appointments from an iCalendar file (RFC 5545, parsed by ``icalendar``).

Practice software and calendars export .ics; each VEVENT with a start and end becomes an
appointment of one patient. The patient is the one given, or the patient whose e-mail is
an ATTENDEE of the event. Re-importing the same file skips events whose UID was imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from icalendar import Calendar

from praxisbote.appointments import services
from praxisbote.appointments.models import Appointment
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped

MAX_EVENTS = 2000


@dataclass
class ImportResult:
    created: list[Appointment] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    """An aware time; floating times (no zone) are the practice's wall-clock time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return None  # all-day events are not appointments
    return None


def _attendee_emails(event: Any) -> list[str]:
    attendees = event.get("attendee")
    if attendees is None:
        return []
    if not isinstance(attendees, list):
        attendees = [attendees]
    emails = []
    for attendee in attendees:
        text = str(attendee)
        if text.lower().startswith("mailto:"):
            emails.append(text[7:].strip().lower())
    return emails


def parse(data: bytes) -> Calendar:
    try:
        return Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ValidationError(
            {"file": _("Not a valid iCalendar file: %(e)s") % {"e": exc}}
        ) from exc


def import_ics(
    practice: Practice,
    data: bytes,
    *,
    patient_id: Any = None,
    create_reminders: bool = True,
    send_confirmation: bool = False,
) -> ImportResult:
    calendar = parse(data)
    zone = ZoneInfo(practice.timezone)
    fixed = None
    if patient_id is not None:
        fixed = scoped(Patient, practice).filter(pk=patient_id, erased_at__isnull=True).first()
        if fixed is None:
            raise ValidationError({"patient_id": _("No such patient in this practice.")})
    events = list(calendar.walk("VEVENT"))
    if len(events) > MAX_EVENTS:
        raise ValidationError({"file": _("At most %(n)d events per file.") % {"n": MAX_EVENTS}})
    result = ImportResult()
    for index, event in enumerate(events):
        uid = str(event.get("uid", "") or "")[:255]
        reason = _import_one(
            practice, event, uid, zone, fixed, result, create_reminders, send_confirmation
        )
        if reason:
            result.skipped.append({"index": str(index), "uid": uid, "reason": reason})
    return result


def _import_one(
    practice: Practice,
    event: Any,
    uid: str,
    zone: ZoneInfo,
    fixed: Patient | None,
    result: ImportResult,
    create_reminders: bool,
    send_confirmation: bool,
) -> str:
    """Import one event; returns why it was skipped, or "" when it was created."""
    if uid and scoped(Appointment, practice).filter(external_uid=uid).exists():
        return _("already imported")
    start = _moment(event.decoded("dtstart", None), zone) if event.get("dtstart") else None
    end = _moment(event.decoded("dtend", None), zone) if event.get("dtend") else None
    if start is not None and end is None and event.get("duration"):
        end = start + event.decoded("duration")
    if start is None or end is None:
        return _("no start and end time (all-day events are not imported)")
    patient = fixed
    if patient is None:
        emails = _attendee_emails(event)
        if emails:
            patient = (
                scoped(Patient, practice)
                .filter(email__in=emails, erased_at__isnull=True)
                .order_by("created_at")
                .first()
            )
    if patient is None:
        return _("no patient: give patient_id or an ATTENDEE with a patient's e-mail")
    data = {
        "patient_id": patient.pk,
        "start": start,
        "end": end,
        "location": str(event.get("location", "") or ""),
        "notes": str(event.get("description", "") or ""),
    }
    try:
        appointment, _written = services.create_appointment(
            practice,
            data,
            send_confirmation=send_confirmation,
            create_reminders=create_reminders,
            external_uid=uid,
        )
    except ValidationError as exc:
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    result.created.append(appointment)
    return ""
