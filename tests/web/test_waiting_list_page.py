"""The waiting list in the staff UI: add, offer a free slot with links to the first ones,
the offers' state (open, taken by whom), withdraw, offer a cancelled appointment's slot."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from tests.outreach.conftest import make_patient, no_quiet_hours

from praxisbote.appointments.services import cancel_appointment, create_appointment
from praxisbote.messaging.models import Message
from praxisbote.outreach import offers, waiting
from praxisbote.outreach.models import SlotOffer, WaitingListEntry

from .helpers import field_error, input_value, text


def test_add_offer_and_remove(owner_client, practice):
    first = make_patient(practice, "Erste", email="1@example.org", consented=("email",))
    nobody = make_patient(practice, "Ohne", email="2@example.org")
    for patient in (first, nobody):
        added = owner_client.post(
            "/waiting-list/", {"add": "1", "patient_id": str(patient.pk), "wishes": "vormittags"}
        )
        assert added.status_code == 302
    page = text(owner_client.get("/waiting-list/").content)
    assert "Erste" in page and "vormittags" in page
    offer = owner_client.post(
        "/waiting-list/", {"offer": "1", "start": "2030-03-11T09:00", "count": "5"}, follow=True
    )
    shown = text(offer.content)
    assert "Angeboten an: Erste." in shown and "Ohne" in shown
    message = Message.objects.get(patient=first)
    assert "11.03. um 09:00 Uhr" in message.body
    entry = WaitingListEntry.objects.get(patient=first)
    assert entry.offered_at is not None
    removed = owner_client.post(f"/waiting-list/{entry.pk}/remove/")
    assert removed.status_code == 302
    assert list(WaitingListEntry.objects.values_list("patient__last_name", flat=True)) == ["Ohne"]


def test_errors_are_shown_next_to_the_field(owner_client, practice):
    missing = owner_client.post("/waiting-list/", {"offer": "1", "count": "3"})
    assert field_error(missing.content, "start")
    empty = owner_client.post("/waiting-list/", {"add": "1", "patient_id": ""})
    assert field_error(empty.content, "patient_id")
    assert not WaitingListEntry.objects.exists()


def _waiting(practice, *names, consented=True):
    people = []
    for name in names:
        patient = make_patient(
            practice,
            name,
            email=f"{name.lower()}@example.org",
            consented=("email",) if consented else (),
        )
        waiting.add(practice, patient.pk)
        people.append(patient)
    return people


def test_offer_with_links_shows_its_state_and_can_be_withdrawn(owner_client, practice):
    no_quiet_hours(practice)
    _first, second = _waiting(practice, "Erste", "Zweite")
    start = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    owner_client.post(
        "/waiting-list/",
        {
            "offer": "1",
            "start": start,
            "duration": "45",
            "practitioner": "Dr. Huber",
            "location": "Raum 2",
            "count": "1",
        },
    )
    offer = SlotOffer.objects.get()
    assert (offer.end - offer.start).total_seconds() == 45 * 60
    assert (offer.practitioner, offer.location, offer.created_by) == (
        "Dr. Huber",
        "Raum 2",
        "owner@praxis.test",
    )
    page = text(owner_client.get("/waiting-list/").content)
    assert "offen bis" in page and "Zurückziehen" in page
    # Erste takes it on her phone: the staff page says so and her entry is closed.
    offers.take(offer.invites.get())
    page = text(owner_client.get("/waiting-list/").content)
    assert "übernommen von Erste" in page
    rows = re.search(
        r'<table class="waiting">(.*?)</table>',
        owner_client.get("/waiting-list/").content.decode(),
        re.S,
    )
    assert "Zweite" in rows.group(1) and "Erste" not in rows.group(1)
    # A second offer goes to Zweite; staff withdraw it (given away by phone).
    owner_client.post("/waiting-list/", {"offer": "1", "start": start, "count": "1"})
    other = SlotOffer.objects.exclude(pk=offer.pk).get()
    assert [i.patient for i in other.invites.all()] == [second]
    done = owner_client.post(f"/waiting-list/offers/{other.pk}/withdraw/", follow=True)
    assert "zurückgezogen" in text(done.content)
    other.refresh_from_db()
    assert other.state == "withdrawn"
    assert owner_client.get(f"/waiting-list/offers/{other.pk}/withdraw/").status_code == 405


def test_the_slot_of_a_cancelled_appointment_is_offered_from_its_page(owner_client, practice):
    no_quiet_hours(practice)
    _waiting(practice, "Erste")
    other = make_patient(practice, "Absager", email="a@example.org", consented=("email",))
    start = timezone.now() + timedelta(days=4)
    appointment, _written = create_appointment(
        practice,
        {
            "patient_id": other.pk,
            "start": start,
            "end": start + timedelta(minutes=20),
            "location": "Raum 7",
        },
    )
    detail = owner_client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert "Termin der Warteliste anbieten" not in detail, "still booked"
    cancel_appointment(appointment)
    detail = owner_client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert f"/waiting-list/?appointment={appointment.pk}" in detail
    form = owner_client.get(f"/waiting-list/?appointment={appointment.pk}")
    assert input_value(form.content, "appointment_id") == str(appointment.pk)
    assert input_value(form.content, "location") == "Raum 7"
    assert input_value(form.content, "duration") == "20"
    local = appointment.start.astimezone(ZoneInfo(practice.timezone))
    assert input_value(form.content, "start") == f"{local:%Y-%m-%dT%H:%M}"
    posted = owner_client.post(
        "/waiting-list/",
        {
            "offer": "1",
            "appointment_id": str(appointment.pk),
            "start": f"{local:%Y-%m-%dT%H:%M}",
            "duration": "20",
            "location": "Raum 7",
            "count": "3",
        },
    )
    assert posted.status_code == 302
    offer = SlotOffer.objects.get()
    assert offer.source_appointment_id == appointment.pk and offer.location == "Raum 7"


def test_offer_errors_are_shown_next_to_the_field(owner_client, practice):
    _waiting(practice, "Ohne", consented=False)
    past = owner_client.post(
        "/waiting-list/", {"offer": "1", "start": "2020-03-11T09:00", "count": "3"}
    )
    assert "begonnen" in field_error(past.content, "start")
    nobody = owner_client.post(
        "/waiting-list/", {"offer": "1", "start": "2030-03-11T09:00", "count": "3"}
    )
    assert "Ohne" in field_error(nobody.content, "count")
    assert not SlotOffer.objects.exists()
