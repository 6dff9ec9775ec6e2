"""Appointments in the staff UI: the day list with its speech bubbles, booking, the
reminder question on a move (seed 002), copy, cancel, errors next to the field."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from praxisbote.appointments.models import Appointment
from praxisbote.messaging.models import Message
from praxisbote.patients.services import create_patient

from .helpers import de, field_error, hidden_field_error, text


@pytest.fixture(autouse=True)
def sms_on(practice):
    """The web fixtures' patient consented to SMS only."""
    practice.sms_enabled = True
    practice.save()


def _day(days: int = 5) -> str:
    return (timezone.now() + timedelta(days=days)).date().isoformat()


def book(client, who, day=None, clock="10:00", **extra):
    data = {
        "patient": str(who.pk),
        "date": day or _day(),
        "time": clock,
        "duration": "30",
        "practitioner": "Dr. Huber",
        "location": "Raum 2",
        "send_confirmation": "on",
        "create_reminders": "on",
        **extra,
    }
    return client.post("/appointments/new/", data)


def test_booking_shows_the_appointment_with_its_messages(owner_client, patient):
    response = book(owner_client, patient)
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert response["Location"] == f"/appointments/{appointment.pk}/"
    page = owner_client.get(response["Location"])
    body = text(page.content)
    assert "Raum 2" in body and "Anna Huber" in body
    assert de("not yet notified") in body
    assert de("confirmation") in body.lower() or "Bestätigung" in body
    assert "/t/" in body
    day = owner_client.get(f"/appointments/?day={_day()}")
    assert "Anna Huber" in text(day.content) and de("not yet notified") in text(day.content)


def test_missing_patient_and_bad_duration_are_named_next_to_the_field(owner_client, patient):
    response = book(owner_client, patient, patient="", duration="0")
    assert response.status_code == 200
    assert field_error(response.content, "patient")
    assert field_error(response.content, "duration")
    assert not Appointment.objects.exists()


def test_other_practices_patient_cannot_be_booked(owner_client, patient, other_practice):
    stranger = create_patient(other_practice, {"last_name": "Fremd", "email": "f@x.de"})
    page = owner_client.get("/appointments/new/").content.decode()
    assert str(stranger.pk) not in page
    response = book(owner_client, stranger)
    assert response.status_code == 200
    assert field_error(response.content, "patient")
    assert not Appointment.objects.exists()


def test_move_asks_about_the_reminder_and_follows_the_answer(owner_client, patient):
    book(owner_client, patient)
    appointment = Appointment.objects.get()
    url = f"/appointments/{appointment.pk}/move/"
    unanswered = owner_client.post(url, {"date": _day(6), "time": "11:00", "duration": "30"})
    assert unanswered.status_code == 200
    assert hidden_field_error(unanswered.content, "renew_reminders")
    appointment.refresh_from_db()
    assert appointment.version == 1
    answered = owner_client.post(
        url, {"date": _day(6), "time": "11:00", "duration": "30", "renew_reminders": "no"}
    )
    assert answered.status_code == 302
    appointment.refresh_from_db()
    assert appointment.version == 2
    assert not Message.objects.filter(appointment_id=appointment.pk, state="scheduled").exists()


def test_copy_without_reminders_and_cancel_with_notice(owner_client, patient):
    book(owner_client, patient)
    original = Appointment.objects.get()
    copied = owner_client.post(
        f"/appointments/{original.pk}/copy/", {"date": _day(12), "time": "09:00", "duration": "45"}
    )
    assert copied.status_code == 302
    copy = Appointment.objects.exclude(pk=original.pk).get()
    assert (copy.end - copy.start) == timedelta(minutes=45)
    assert not Message.objects.filter(appointment_id=copy.pk).exists()
    cancelled = owner_client.post(f"/appointments/{original.pk}/cancel/", {"notify_patient": "on"})
    assert cancelled.status_code == 302
    original.refresh_from_db()
    assert original.status == "cancelled"
    assert Message.objects.filter(appointment_id=original.pk, kind="cancellation").exists()
    page = owner_client.get(f"/appointments/{original.pk}/").content.decode()
    assert f"/appointments/{original.pk}/move/" not in page, "a cancelled one cannot move"


def test_overview_lists_patients_who_cannot_come(owner_client, patient):
    from praxisbote.appointments.services import mark_cannot_come

    book(owner_client, patient)
    appointment = Appointment.objects.get()
    assert de("Patients who cannot come") not in text(owner_client.get("/").content)
    mark_cannot_come(appointment)
    home = owner_client.get("/").content.decode()
    assert de("Patients who cannot come") in text(home)
    assert f"/appointments/{appointment.pk}/" in home


@pytest.mark.parametrize("day", ["2030-02-30", "9999-12-31", "0001-01-01", "morgen"])
@pytest.mark.parametrize("page", ["/appointments/", "/appointments/week/", "/appointments/new/"])
def test_an_impossible_day_in_the_address_shows_today_instead_of_an_error(
    owner_client, practice, page, day
):
    """2030-02-30 made ``parse_date`` raise, 9999-12-31 overflowed on "next day": 500."""
    response = owner_client.get(f"{page}?day={day}")
    assert response.status_code == 200
    today = timezone.now().astimezone(ZoneInfo(practice.timezone)).date().isoformat()
    assert today in response.content.decode()


def test_date_and_time_inputs_are_prefilled_in_the_format_a_browser_takes(owner_client, patient):
    """A date input ignores "11.03.2030" (the German format): the new appointment's day and
    the move form's current date showed empty in the browser."""
    import re

    def values(url):
        page = owner_client.get(url).content.decode()
        return {
            name: re.search(rf'<input type="{kind}" name="{name}" value="([^"]*)"', page).group(1)
            for kind, name in (("date", "date"), ("time", "time"))
            if re.search(rf'<input type="{kind}" name="{name}" value=', page)
        }

    assert values("/appointments/new/?day=2030-03-11")["date"] == "2030-03-11"
    book(owner_client, patient, day="2030-03-11", clock="09:30")
    appointment = Appointment.objects.get()
    moved = values(f"/appointments/{appointment.pk}/move/")
    assert moved == {"date": "2030-03-11", "time": "09:30"}
    assert values(f"/appointments/{appointment.pk}/copy/")["date"] == "2030-03-18"
