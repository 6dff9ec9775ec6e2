"""Mass cancellation of a day in the staff UI (APT-6): channels, expert mode, report."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.outreach.conftest import make_patient

from praxisbote.appointments.models import Appointment
from praxisbote.appointments.services import create_appointment
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach.models import WaitingListEntry

from .helpers import text

VIENNA = ZoneInfo("Europe/Vienna")


def _day(practice):
    practice.sms_enabled = True
    practice.save()
    sms = make_patient(
        practice, "Adler", mobile="+4367612345601", consented=("sms",), channels=["sms"]
    )
    nobody = make_patient(practice, "Cerny", mobile="+4367612345603")
    booked = []
    for hour, patient in ((9, sms), (10, nobody)):
        start = datetime(2030, 3, 11, hour, tzinfo=VIENNA)
        appointment, _w = create_appointment(
            practice, {"patient_id": patient.pk, "start": start, "end": start.replace(minute=30)}
        )
        booked.append(appointment)
    return booked


def test_the_day_list_links_to_the_mass_cancellation(owner_client, practice):
    page = owner_client.get("/appointments/?day=2030-03-11").content.decode()
    assert "/appointments/mass-cancel/?day=2030-03-11" in page


def test_page_shows_channels_and_cancels_with_an_override(owner_client, practice):
    first, second = _day(practice)
    page = text(owner_client.get("/appointments/mass-cancel/?day=2030-03-11").content)
    assert "Adler" in page and "SMS" in page
    assert "kein Kanal mit Einwilligung und Adresse: bitte anrufen" in page
    response = owner_client.post(
        "/appointments/mass-cancel/",
        {
            "day": "2030-03-11",
            "appointment": [str(first.pk), str(second.pk)],
            f"channel_{second.patient_id}": "sms",
            "notify": "1",
            "waiting_list": "1",
        },
    )
    assert response.status_code == 302, response.content
    assert set(Appointment.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Message.objects.filter(kind=Kind.CANCELLATION).count() == 2
    assert WaitingListEntry.objects.count() == 2
    report = text(owner_client.get(response["Location"]).content)
    assert "2 Termine abgesagt" in report and "Expertenmodus" in report


def test_an_impossible_override_is_shown_in_its_row_and_nothing_changes(owner_client, practice):
    first, _second = _day(practice)
    response = owner_client.post(
        "/appointments/mass-cancel/",
        {
            "day": "2030-03-11",
            "appointment": [str(first.pk)],
            f"channel_{first.patient_id}": "email",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="err_{first.patient_id}"' in page and 'aria-invalid="true"' in page
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}
    nothing = owner_client.post("/appointments/mass-cancel/", {"day": "2030-03-11"})
    assert "Kreuzen Sie mindestens einen Termin an." in text(nothing.content)


def test_week_view_shows_seven_days_with_their_appointments(owner_client, practice):
    first, second = _day(practice)  # Monday 11 March 2030
    page = owner_client.get("/appointments/week/?day=2030-03-13")
    assert page.status_code == 200
    shown = text(page.content)
    assert "Adler" in shown and "Cerny" in shown
    html = page.content.decode()
    assert html.count('class="week-day') == 7
    assert "/appointments/mass-cancel/?day=2030-03-11" in html
    assert "?day=2030-03-04" in html and "?day=2030-03-18" in html  # previous / next week
    assert f"/appointments/{first.pk}/" in html and f"/appointments/{second.pk}/" in html
    assert "Adler" not in text(owner_client.get("/appointments/week/?day=2030-03-18").content)
