"""Appointments from an iCalendar file (icalendar): patient by id or ATTENDEE e-mail."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from icalendar import Calendar, Event, vCalAddress

from praxisbote.appointments.models import Appointment
from praxisbote.messaging.models import Message

from .conftest import VIENNA
from .test_api import future


def calendar_file(*events: Event) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Praxissoftware//Export//DE")
    cal.add("version", "2.0")
    for event in events:
        cal.add_component(event)
    return cal.to_ical()


def event(uid: str, start: datetime | None, minutes: int = 30, email: str = "") -> Event:
    item = Event()
    item.add("uid", uid)
    item.add("summary", "Kontrolle")
    if start is not None:
        item.add("dtstart", start)
        item.add("dtend", start + timedelta(minutes=minutes))
    item.add("location", "Raum 3")
    if email:
        item.add("attendee", vCalAddress(f"MAILTO:{email}"))
    return item


def upload(api, data: bytes, **form):
    return api.client.post(
        "/api/v1/appointments/import",
        {"file": SimpleUploadedFile("export.ics", data, "text/calendar"), **form},
    )


def test_import_matches_attendees_and_reports_what_it_skipped(api, patient):
    start = future(days=6, hour=11)
    data = calendar_file(
        event("a-1", start, email="ANNA@example.at"),
        event("a-2", start + timedelta(days=1), email="niemand@example.at"),
        event("a-3", None, email="anna@example.at"),
    )
    response = upload(api, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["created"]) == 1
    assert [s["uid"] for s in body["skipped"]] == ["a-2", "a-3"]
    appointment = Appointment.objects.get(pk=body["created"][0])
    assert appointment.patient == patient
    assert appointment.start == start and appointment.location == "Raum 3"
    kinds = set(
        Message.objects.filter(appointment_id=appointment.pk).values_list("kind", flat=True)
    )
    assert kinds == {"reminder"}, "imports write reminders, no confirmation by default"
    again = upload(api, data).json()
    assert again["created"] == [] and again["skipped"][0]["reason"] == "already imported"


def test_import_for_one_patient_with_floating_times(api, patient):
    floating = future(days=8, hour=9).replace(tzinfo=None)
    data = calendar_file(event("f-1", floating))
    response = upload(api, data, patient_id=str(patient.pk), create_reminders="false")
    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get(pk=response.json()["created"][0])
    assert appointment.start == floating.replace(tzinfo=VIENNA)
    assert not Message.objects.filter(appointment_id=appointment.pk).exists()


def test_broken_file_is_problem_json(api):
    response = upload(api, b"BEGIN:VCALENDAR\nthis is not ical")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "file"
