"""Rows of the outreach app for the isolation tests (another practice's rows to attack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from praxisbote.outreach import mass
from praxisbote.patients.services import create_patient
from praxisbote.practices.models import Practice


def mass_notice(practice: Practice):
    """A notice with a message scheduled for tomorrow: a withdraw would change it."""
    create_patient(
        practice,
        {
            "last_name": "Fremd",
            "email": "fremd@example.de",
            "consent": {"email": {"granted": True, "source": "Bogen"}},
        },
    )
    notice, _replayed = mass.send(
        practice,
        mass.Audience(q="Fremd"),
        mass.Content(text="Fremd", subject="Fremd"),
        ["email"],
        send_at=datetime.now(UTC) + timedelta(days=1),
    )
    return notice.pk


def mass_cancellation(practice: Practice):
    """A cancelled appointment of tomorrow with its report."""
    from praxisbote.appointments.services import create_appointment
    from praxisbote.outreach import mass_cancel

    patient = create_patient(practice, {"last_name": "Fremd", "email": "fremd@example.de"})
    start = datetime.now(UTC) + timedelta(days=2)
    appointment, _written = create_appointment(
        practice, {"patient_id": patient.pk, "start": start, "end": start + timedelta(hours=1)}
    )
    from zoneinfo import ZoneInfo

    day = appointment.start.astimezone(ZoneInfo(practice.timezone)).date()
    return mass_cancel.cancel(practice, [day], [appointment.pk]).pk


def waiting_entry(practice: Practice):
    from praxisbote.outreach import waiting

    patient = create_patient(practice, {"last_name": "Fremd", "email": "fremd@example.de"})
    return waiting.add(practice, patient.pk, "Fremd").pk


def slot_offer(practice: Practice):
    """An open offer of a slot in three days, sent to one patient by e-mail."""
    from praxisbote.outreach import offers, waiting

    patient = create_patient(
        practice,
        {
            "last_name": "Fremd",
            "email": "fremd@example.de",
            "consent": {"email": {"granted": True, "source": "Bogen"}},
        },
    )
    waiting.add(practice, patient.pk, "Fremd")
    start = datetime.now(UTC) + timedelta(days=3)
    return offers.create(practice, {"start": start}).offer.pk
