"""The rules through the real booking path: DST Sundays in Berlin and Zurich, and a
booking at night whose confirmation waits for the morning (APT-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from praxisbote.appointments import services
from praxisbote.messaging.models import Message
from praxisbote.patients.services import create_patient
from praxisbote.practices.services import create_practice

# 2027: clocks go forward on Sunday 28 March and back on Sunday 31 October.
CASES = [
    # (zone, appointment local, reminder local the day before, real hours between)
    ("Europe/Berlin", (2027, 3, 28, 10, 0), (2027, 3, 27, 10, 0), 23),
    ("Europe/Zurich", (2027, 10, 31, 10, 0), (2027, 10, 30, 10, 0), 25),
    ("Europe/Vienna", (2027, 3, 29, 9, 0), (2027, 3, 28, 9, 0), 24),
]


def practice_in(zone: str):
    country = {"Europe/Berlin": "DE", "Europe/Zurich": "CH", "Europe/Vienna": "AT"}[zone]
    practice = create_practice(name=f"Praxis {zone}", country=country, timezone_name=zone)
    patient = create_patient(
        practice,
        {"last_name": "Muster", "email": "m@example.org", "consent": {"email": {"granted": True}}},
    )
    return practice, patient


@pytest.mark.parametrize(("zone", "start", "expected", "hours"), CASES)
def test_booked_reminder_keeps_the_wall_clock_across_dst(db, zone, start, expected, hours):
    practice, patient = practice_in(zone)
    tz = ZoneInfo(zone)
    begin = datetime(*start, tzinfo=tz)
    appointment, _ = services.create_appointment(
        practice, {"patient_id": patient.pk, "start": begin, "end": begin + timedelta(hours=1)}
    )
    reminder = Message.objects.get(appointment_id=appointment.pk, kind="reminder")
    assert reminder.due_at.astimezone(tz) == datetime(*expected, tzinfo=tz)
    assert begin - reminder.due_at == timedelta(hours=hours)


def test_booking_at_night_confirms_in_the_morning_and_reminds_before_the_night(db):
    practice, patient = practice_in("Europe/Vienna")
    tz = ZoneInfo("Europe/Vienna")
    night = datetime(2027, 3, 27, 23, 30, tzinfo=tz)  # Saturday night before the change
    begin = datetime(2027, 3, 29, 7, 30, tzinfo=tz)  # Monday 07:30 summer time
    with (
        translation.override("en"),
        mock.patch("django.utils.timezone.now", return_value=night.astimezone(UTC)),
    ):
        appointment, written = services.create_appointment(
            practice,
            {"patient_id": patient.pk, "start": begin, "end": begin + timedelta(minutes=30)},
        )
    confirmation = Message.objects.get(appointment_id=appointment.pk, kind="confirmation")
    # Quiet until 08:00 Sunday, which is already summer time after the 02:00 change.
    assert confirmation.due_at.astimezone(tz) == datetime(2027, 3, 28, 8, 0, tzinfo=tz)
    assert confirmation.state == "scheduled"
    # 24 h before is Sunday 07:30, inside the quiet night, so it would go out Saturday 19:59,
    # which had passed at 23:30: no reminder is written, and the answer says so.
    assert not Message.objects.filter(appointment_id=appointment.pk, kind="reminder").exists()
    assert any("already passed" in n for n in written.notices)


def test_booking_at_night_for_later_reminds_the_evening_before(db):
    practice, patient = practice_in("Europe/Vienna")
    tz = ZoneInfo("Europe/Vienna")
    night = datetime(2027, 3, 27, 23, 30, tzinfo=tz)
    begin = datetime(2027, 3, 30, 7, 30, tzinfo=tz)  # Tuesday 07:30
    with mock.patch("django.utils.timezone.now", return_value=night.astimezone(UTC)):
        appointment, _ = services.create_appointment(
            practice,
            {"patient_id": patient.pk, "start": begin, "end": begin + timedelta(minutes=30)},
        )
    reminder = Message.objects.get(appointment_id=appointment.pk, kind="reminder")
    assert reminder.due_at.astimezone(tz) == datetime(2027, 3, 28, 19, 59, tzinfo=tz)
