"""The express appointment slip (APT-10/11): short unguessable link, mobile page, .ics,
"I cannot come" that changes nothing; unknown and expired codes are 404, guessing is
throttled."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from praxisbote.appointments import services, slip
from praxisbote.appointments.models import Appointment
from praxisbote.patients.services import update_patient

from .test_api import book, future


def code_of(data) -> str:
    return data["slip_url"].rsplit("/", 1)[1]


def test_codes_are_random_not_sequential():
    codes = {slip.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 7 and c.isalnum() for c in codes)


def test_slip_page_shows_time_place_and_phone_without_the_patients_name(api, patient):
    data = book(api, patient, future(days=4, hour=14, minute=45))
    page = Client().get(f"/t/{code_of(data)}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "14:45" in html and "Raum 2" in html
    assert "+43 1 5551234" in html and 'href="tel:+4315551234"' in html
    assert "Huber" in html  # the practitioner Dr. Huber ...
    assert "Anna" not in html, "... but never the patient's name"
    assert 'lang="de"' in html and "Ich kann nicht kommen" in html
    assert page["Cache-Control"] == "no-store"
    assert "<script" not in html and "https://" not in html  # no third-party assets


def test_slip_speaks_the_patients_language(api, patient):
    update_patient(patient, {"language": "en"})
    data = book(api, patient)
    html = Client().get(f"/t/{code_of(data)}").content.decode()
    assert 'lang="en"' in html and "I cannot come" in html and "Add to my calendar" in html


def test_ics_download_has_the_appointment(api, patient):
    start = future(days=4, hour=9)
    data = book(api, patient, start)
    response = Client().get(f"/t/{code_of(data)}/ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    calendar = Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    assert event.decoded("dtstart") == start
    assert event.decoded("dtend") == start + timedelta(minutes=30)
    assert str(event["location"]) == "Raum 2"
    assert str(event["uid"]) == f"{data['id']}@praxisbote"
    assert "Anna" not in response.content.decode()


def test_moved_appointment_shows_new_time_on_the_same_link(api, patient):
    data = book(api, patient, future(days=4, hour=9))
    api.patch(
        f"/api/v1/appointments/{data['id']}",
        {"start": future(days=5, hour=17, minute=15).isoformat(), "renew_reminders": False},
    )
    html = Client().get(f"/t/{code_of(data)}").content.decode()
    assert "17:15" in html and "09:00" not in html
    event = next(
        iter(Calendar.from_ical(Client().get(f"/t/{code_of(data)}/ics").content).walk("VEVENT"))
    )
    assert int(event["sequence"]) == 1


def test_i_cannot_come_tells_the_practice_and_changes_nothing(api, patient):
    data = book(api, patient)
    before = Appointment.objects.get(pk=data["id"])
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/t/{code_of(data)}")
    token = client.cookies["csrftoken"].value
    response = client.post(f"/t/{code_of(data)}/cannot-come", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    after = Appointment.objects.get(pk=data["id"])
    assert after.cannot_come_at is not None
    assert (after.start, after.end, after.status, after.version) == (
        before.start,
        before.end,
        before.status,
        before.version,
    )
    assert api.get(f"/api/v1/appointments/{data['id']}").json()["cannot_come_at"]
    html = client.get(response["Location"]).content.decode()
    assert "Praxis wurde informiert" in html
    assert page.status_code == 200


def test_unknown_malformed_and_expired_codes_are_404(api, patient):
    data = book(api, patient)
    client = Client()
    assert client.get("/t/AAAAAAA").status_code == 404
    assert client.get("/t/abc").status_code == 404
    assert client.get("/t/AAAAAAA/ics").status_code == 404
    Appointment.objects.filter(pk=data["id"]).update(
        slip_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(f"/t/{code_of(data)}").status_code == 404
    assert client.get(f"/t/{code_of(data)}/ics").status_code == 404


def test_slip_expires_after_the_appointment_day(api, patient, practice):
    start = future(days=4, hour=22)
    data = book(api, patient, start, minutes=60)
    appointment = Appointment.objects.get(pk=data["id"])
    local_expiry = appointment.slip_expires_at.astimezone(start.tzinfo)
    assert local_expiry.date() == (start + timedelta(days=1)).date()
    assert (local_expiry.hour, local_expiry.minute) == (0, 0)


def test_guessing_is_throttled_per_client(api, patient):
    data = book(api, patient)
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(30):
        assert client.get(f"/t/Zz{i:05d}").status_code == 404
    assert client.get("/t/Zzzzzzz").status_code == 429
    assert client.get(f"/t/{code_of(data)}").status_code == 429, "even a right code waits"
    assert Client(REMOTE_ADDR="203.0.113.8").get(f"/t/{code_of(data)}").status_code == 200


def test_cancelled_appointment_slip_says_so(api, patient):
    data = book(api, patient)
    services.cancel_appointment(Appointment.objects.get(pk=data["id"]))
    html = Client().get(f"/t/{code_of(data)}").content.decode()
    assert "abgesagt" in html and "Ich kann nicht kommen" not in html
