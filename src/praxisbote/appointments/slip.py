"""The express appointment slip (APT-10, APT-11): short codes, expiry, the .ics file.

A code is 7 characters from 62 (``secrets``, not a counter): 62^7 ≈ 3.5 * 10^12 codes.
It is stored as a SHA-256 digest for the lookup (like API keys) and encrypted for showing
the link again; the slip page names no patient, and failed lookups are limited per client
(``portal.views``), so guessing finds nothing useful in practice.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from praxisbote import crypto
from praxisbote.appointments.models import Appointment
from praxisbote.appointments.rules import wall_to_utc

ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 7


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_digest(code: str, purpose: str) -> str:
    """The lookup digest of a short code; ``purpose`` keeps a slip code from opening an
    offer and the other way round (waiting-list offers use the same code scheme)."""
    return hashlib.sha256(f"{purpose}:{code}".encode()).hexdigest()


def digest(code: str) -> str:
    return code_digest(code, "slip")


def well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


def _purpose(appointment: Appointment) -> str:
    return f"slip:{appointment.pk}"


def expiry(appointment: Appointment) -> datetime:
    """Midnight after the appointment's day (practice time): the slip stays readable on
    the day itself, then the link is dead."""
    zone = ZoneInfo(appointment.practice.timezone)
    day = appointment.end.astimezone(zone).date() + timedelta(days=1)
    return wall_to_utc(day, time.min, zone)


def issue(appointment: Appointment) -> str:
    """Give the appointment a fresh code (on create and copy); the caller saves it."""
    code = new_code()
    appointment.slip_digest = digest(code)
    appointment.slip_code_encrypted = crypto.encrypt_text(code, purpose=_purpose(appointment))
    appointment.slip_expires_at = expiry(appointment)
    return code


def refresh_expiry(appointment: Appointment) -> None:
    """After a move the link stays the same (it always shows the current time)."""
    if appointment.slip_digest:
        appointment.slip_expires_at = expiry(appointment)


def code_of(appointment: Appointment) -> str:
    if not appointment.slip_code_encrypted:
        return ""
    return crypto.decrypt_text(appointment.slip_code_encrypted, purpose=_purpose(appointment))


def url_of(appointment: Appointment) -> str:
    code = code_of(appointment)
    return f"{settings.BASE_URL}/t/{code}" if code else ""


def find(code: str) -> Appointment | None:
    """The appointment of a live code, or None (unknown, malformed or expired)."""
    if not well_formed(code):
        return None
    appointment = (
        Appointment.objects.select_related("practice", "patient")
        .filter(slip_digest=digest(code))
        .first()
    )
    if appointment is None or appointment.slip_expires_at is None:
        return None
    if appointment.slip_expires_at <= timezone.now():
        return None
    return appointment


def ics(appointment: Appointment) -> bytes:
    """An RFC 5545 calendar with the one appointment, for the patient's own calendar."""
    practice = appointment.practice
    cal = Calendar()
    cal.add("prodid", "-//praxisbote//appointment slip//DE")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{appointment.pk}@praxisbote")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", f"{practice.display_sender}")
    if appointment.location:
        event.add("location", appointment.location)
    description = [p for p in (appointment.practitioner, practice.phone) if p]
    if description:
        event.add("description", "\n".join(description))
    event.add("sequence", appointment.version - 1)
    if appointment.status == "cancelled":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()
