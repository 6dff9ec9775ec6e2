"""Waiting-list offers with a link: one link per invitee stored as a digest, the first to
take it is booked (real appointment, slip, confirmation), the others see "taken", expiry at
the slot's start, withdrawal, the API with problem+json, tenant isolation, GDPR."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from tests.outreach.conftest import make_patient, no_quiet_hours, quiet_now

from praxisbote.appointments.models import Appointment
from praxisbote.appointments.services import cancel_appointment, create_appointment
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach import offers, waiting
from praxisbote.outreach.models import OfferInvite, SlotOffer, WaitingListEntry
from praxisbote.patients.models import Patient
from praxisbote.patients.services import erase_patient, export_patient, update_patient
from praxisbote.texts import encoding

pytestmark = pytest.mark.usefixtures("keep_language")

LINK = re.compile(r"https?://[^/\s]+/o/([A-Za-z0-9]{7})")


def soon(days: int = 3, hour: int = 10) -> datetime:
    """A slot some days ahead at ``hour`` o'clock Vienna time (outside quiet hours)."""
    from zoneinfo import ZoneInfo

    day = (timezone.now() + timedelta(days=days)).astimezone(ZoneInfo("Europe/Vienna")).date()
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZoneInfo("Europe/Vienna"))


@pytest.fixture
def waiting_room(sms_practice):
    """Three patients waiting, oldest first: e-mail, SMS, and one nobody can reach."""
    p = sms_practice
    no_quiet_hours(p)
    people = {
        "erste": make_patient(
            p, "Erste", first_name="Eva", email="1@example.org", consented=("email",)
        ),
        "zweite": make_patient(
            p, "Zweite", mobile="+4367612345602", consented=("sms",), channels=["sms"]
        ),
        "dritte": make_patient(p, "Dritte", email="3@example.org"),  # no consent
    }
    for patient in people.values():
        waiting.add(p, patient.pk, "vormittags")
    return people


def code_in(message: Message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def codes(created: offers.Created) -> dict[str, str]:
    """Patient last name -> the code in the message each one got."""
    return {
        i.patient.last_name: code_in(Message.objects.get(pk=i.message_id)) for i in created.invites
    }


def offer_api(api, **body):
    body.setdefault("start", soon().isoformat())
    return api.post("/api/v1/slot-offers", body)


# ---------------------------------------------------------------- creating


def test_offer_goes_to_the_reachable_first_ones_each_with_an_own_link(api, waiting_room):
    response = offer_api(api, practitioner="Dr. Huber", location="Raum 2")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "open"
    assert [i["patient"] for i in data["invites"]] == ["Eva Erste", "Zweite"]
    assert [e["patient"] for e in data["not_reached"]] == ["Dritte"]
    assert data["expires_at"] == data["start"]
    messages = Message.objects.filter(pk__in=[i["message_id"] for i in data["invites"]])
    assert {m.channel for m in messages} == {"email", "sms"}
    found = {m.channel: code_in(m) for m in messages}
    assert found["email"] != found["sms"], "every invitee has an own link"
    for message in messages:
        assert "+43 1 5551234" in message.body, "calling stays the fallback"
    email = messages.get(channel="email")
    assert "Raum 2" in email.body and "Dr. Huber" in email.body
    assert email.subject == "Ein Termin ist frei geworden"
    # Only digests are stored: no column of any invite holds a code.
    stored = " ".join(str(v) for v in OfferInvite.objects.values_list("code_digest", flat=True))
    assert all(code not in stored for code in found.values())
    assert all(len(d) == 64 for d in OfferInvite.objects.values_list("code_digest", flat=True))
    entries = WaitingListEntry.objects.filter(patient__last_name__in=["Erste", "Zweite"])
    assert all(e.offered_at is not None for e in entries)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_sms_with_its_link_stays_one_part_with_typical_names(db, language):
    """Like the shipped templates (tests/texts/test_defaults.py): one GSM-7 SMS."""
    from tests.texts.test_defaults import PATIENTS, PRACTICES

    from praxisbote.practices.models import Practice

    start = datetime(2026, 12, 19, 15, 30, tzinfo=UTC)
    slot = SlotOffer(start=start, end=start + timedelta(minutes=30), location="Raum 2")
    for fields in PRACTICES:
        practice = Practice.objects.create(country="AT", timezone="Europe/Vienna", **fields)
        for person in PATIENTS:
            patient = Patient(practice=practice, language=language, **person)
            out = offers.render(practice, patient, "sms", slot, "https://praxis.example/o/Ab3dE5f")
            analysis = encoding.analyze(out.text)
            assert analysis.encoding == encoding.GSM7 and analysis.segments == 1, out.text
            assert fields["phone"] in out.text and "/o/Ab3dE5f" in out.text


def test_english_patients_get_the_english_text(api, waiting_room):
    update_patient(waiting_room["erste"], {"language": "en"})
    offer_api(api)
    email = Message.objects.get(channel="email")
    assert email.subject == "An appointment has become free"
    assert "the first to tap gets it" in email.body and "You can also call us" in email.body


def test_a_second_offer_skips_entries_with_an_open_offer(api, waiting_room):
    offer_api(api, count=1)
    second = offer_api(api, count=1, start=soon(days=4).isoformat()).json()
    assert [i["patient"] for i in second["invites"]] == ["Zweite"]
    third = offer_api(api, count=1, start=soon(days=5).isoformat())
    assert third.status_code == 422, "only Dritte is left and cannot be reached"
    assert [e["patient"] for e in third.json()["not_reached"]] == ["Dritte"]
    assert third.json()["errors"][0]["field"] == "entry_ids"
    assert SlotOffer.objects.count() == 2


def test_a_patient_listed_twice_gets_one_link(api, waiting_room, practice):
    first = WaitingListEntry.objects.get(patient=waiting_room["erste"])
    again = waiting.add(practice, waiting_room["erste"].pk, "nachmittags")
    WaitingListEntry.objects.filter(pk=again.pk).update(created_at=first.created_at)
    assert [e.patient.last_name for e in offers.open_entries(practice)][:2] == ["Erste"] * 2
    data = offer_api(api, count=2).json()
    assert [i["patient"] for i in data["invites"]] == ["Eva Erste", "Zweite"]


def test_the_slot_of_a_cancelled_appointment(api, waiting_room, practice):
    other = make_patient(practice, "Absager", email="a@example.org", consented=("email",))
    start = soon(days=2, hour=15)
    appointment, _written = create_appointment(
        practice,
        {
            "patient_id": other.pk,
            "start": start,
            "end": start + timedelta(minutes=45),
            "practitioner": "Dr. Huber",
            "location": "Raum 3",
        },
    )
    booked = offer_api(api, appointment_id=str(appointment.pk), start=None)
    assert booked.status_code == 422
    assert booked.json()["errors"][0]["field"] == "appointment_id"
    cancel_appointment(appointment)
    data = offer_api(api, appointment_id=str(appointment.pk), start=None).json()
    assert data["source_appointment_id"] == str(appointment.pk)
    assert datetime.fromisoformat(data["start"]) == start
    assert datetime.fromisoformat(data["end"]) == start + timedelta(minutes=45)
    assert (data["practitioner"], data["location"]) == ("Dr. Huber", "Raum 3")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": None}, "start"),
        ({"start": "2030-03-11T09:00:00"}, "start"),  # no offset
        ({"start": "2030-03-11T09:00:00+01:00", "end": "2030-03-11T08:00:00+01:00"}, "end"),
        ({"start": "2020-03-11T09:00:00+01:00"}, "start"),  # the past
        (
            {"appointment_id": "00000000-0000-0000-0000-000000000000", "start": None},
            "appointment_id",
        ),
        ({"count": 0}, "count"),
        ({"entry_ids": [999999]}, "entry_ids"),
        ({"location": "x" * 201}, "location"),
    ],
)
def test_bad_input_is_problem_json_with_the_field_and_nothing_is_written(
    api, waiting_room, body, field
):
    response = offer_api(api, **body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert not SlotOffer.objects.exists() and not Message.objects.exists()


def test_nobody_on_the_list(api, practice):
    response = offer_api(api)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "entry_ids"


def test_quiet_hours_hold_the_offer_until_they_end(api, waiting_room, practice):
    end = quiet_now(practice)
    data = offer_api(api, start=soon(days=2).isoformat()).json()
    assert datetime.fromisoformat(data["send_at"]) == end
    for message in Message.objects.all():
        assert message.state == "scheduled" and message.due_at == end
    too_soon = offer_api(api, start=(end - timedelta(minutes=10)).isoformat())
    assert too_soon.status_code == 422
    assert too_soon.json()["errors"][0]["field"] == "start"
    assert "call" in too_soon.json()["errors"][0]["message"]


def test_older_waiting_list_offer_call_still_works_and_names_the_offer(api, waiting_room):
    response = api.post("/api/v1/waiting-list/offer", {"start": soon().isoformat(), "count": 5})
    assert response.status_code == 200, response.content
    data = response.json()
    assert [e["patient"] for e in data["offered"]] == ["Eva Erste", "Zweite"]
    assert [e["patient"] for e in data["not_reached"]] == ["Dritte"]
    offer = api.get(f"/api/v1/slot-offers/{data['offer_id']}").json()
    assert offer["state"] == "open" and len(offer["invites"]) == 2


# ---------------------------------------------------------------- the patient page


def test_page_shows_the_slot_without_the_patients_name(waiting_room, practice):
    created = offers.create(practice, {"start": soon(hour=14), "location": "Raum 2"})
    code = codes(created)["Erste"]
    page = Client().get(f"/o/{code}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "14:00" in html and "Raum 2" in html and 'href="tel:+4315551234"' in html
    assert "Termin übernehmen" in html and 'lang="de"' in html
    assert "Erste" not in html and "Eva" not in html
    assert page["Cache-Control"] == "no-store"
    assert "<script" not in html and "https://" not in html


def take(client: Client, code: str, page=None):
    """Open the offer page (unless given) and press its button."""
    page = page if page is not None else client.get(f"/o/{code}")
    cookie = client.cookies.get("csrftoken")
    token = cookie.value if cookie is not None else ""
    return page, client.post(f"/o/{code}/take", {"csrfmiddlewaretoken": token})


def test_the_first_to_take_it_is_booked_and_sees_the_slip(api, waiting_room, practice):
    created = offers.create(practice, {"start": soon(hour=11), "practitioner": "Dr. Huber"})
    links = codes(created)
    first = Client(enforce_csrf_checks=True)
    _page, response = take(first, links["Zweite"])
    assert response.status_code == 302
    assert re.fullmatch(r"/t/[A-Za-z0-9]{7}", response["Location"])
    appointment = Appointment.objects.get()
    assert appointment.patient == waiting_room["zweite"]
    assert appointment.start == soon(hour=11) and appointment.end == soon(hour=11) + timedelta(
        minutes=30
    )
    assert appointment.practitioner == "Dr. Huber" and appointment.status == "booked"
    assert "Warteliste" in appointment.notes
    # The practice's rules: a confirmation (by the patient's SMS) and a reminder.
    kinds = set(
        Message.objects.filter(appointment_id=appointment.pk).values_list("kind", flat=True)
    )
    assert {Kind.CONFIRMATION, Kind.REMINDER} <= kinds
    slip = first.get(response["Location"])
    assert slip.status_code == 200 and "11:00" in slip.content.decode()
    entry = WaitingListEntry.objects.get(patient=waiting_room["zweite"])
    assert entry.closed_at is not None
    state = api.get(f"/api/v1/slot-offers/{created.offer.pk}").json()
    assert state["state"] == "taken" and state["taken_by"] == "Zweite"
    assert state["appointment_id"] == str(appointment.pk)
    # Pressing again (or opening the link again) leads to the same slip, books nothing more.
    assert first.get(f"/o/{links['Zweite']}")["Location"] == response["Location"]
    token = first.cookies["csrftoken"].value
    again = first.post(f"/o/{links['Zweite']}/take", {"csrfmiddlewaretoken": token})
    assert again["Location"] == response["Location"]
    assert Appointment.objects.count() == 1


def test_the_others_see_taken_and_the_phone(waiting_room, practice):
    created = offers.create(practice, {"start": soon()})
    links = codes(created)
    other = Client(enforce_csrf_checks=True)
    page = other.get(f"/o/{links['Zweite']}")  # open, but Erste is quicker
    assert page.status_code == 200 and "Termin übernehmen" in page.content.decode()
    take(Client(), links["Erste"])
    page, response = take(other, links["Zweite"], page)
    assert response.status_code == 302 and response["Location"] == f"/o/{links['Zweite']}"
    shown = other.get(response["Location"]).content.decode()
    assert "schon vergeben" in shown and "+43 1 5551234" in shown
    assert "Termin übernehmen" not in shown
    assert Appointment.objects.count() == 1
    assert Appointment.objects.get().patient == waiting_room["erste"]
    # The loser's entry stays open and gets the next offer.
    assert WaitingListEntry.objects.get(patient=waiting_room["zweite"]).closed_at is None
    nxt = offers.create(practice, {"start": soon(days=5)}, count=1)
    assert [i.patient.last_name for i in nxt.invites] == ["Zweite"]


def test_taking_withdraws_the_others_messages_still_waiting(waiting_room, practice):
    created = offers.create(practice, {"start": soon()})
    sms = Message.objects.get(channel="sms")
    assert sms.state == "scheduled"
    offers.take(next(i for i in created.invites if i.channel == "email"))
    sms.refresh_from_db()
    assert sms.state == "cancelled"


def test_the_link_expires_at_the_slot_start(waiting_room, practice):
    start = soon()
    created = offers.create(practice, {"start": start})
    code = codes(created)["Erste"]
    invite = created.invites[0]
    assert offers.take(invite, now=start).outcome == "expired"
    SlotOffer.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = Client()
    page = client.get(f"/o/{code}")
    assert page.status_code == 410
    assert "abgelaufen" in page.content.decode() and "+43 1 5551234" in page.content.decode()
    _page, response = take(client, code)
    assert response["Location"] == f"/o/{code}"
    assert not Appointment.objects.exists()


def test_withdrawn_offer_links_stop_working(api, waiting_room):
    data = offer_api(api).json()
    withdrawn = api.post(f"/api/v1/slot-offers/{data['id']}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert set(Message.objects.values_list("state", flat=True)) == {"cancelled"}
    again = api.post(f"/api/v1/slot-offers/{data['id']}/withdraw")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    code = code_in(Message.objects.filter(channel="email").get())
    page = Client().get(f"/o/{code}")
    assert page.status_code == 410 and "nicht mehr gültig" in page.content.decode()
    _page, response = take(Client(), code)
    assert response["Location"] == f"/o/{code}"
    assert not Appointment.objects.exists()


def test_an_erased_patient_cannot_take_it(waiting_room, practice):
    created = offers.create(practice, {"start": soon()})
    invite = created.invites[0]
    type(invite.patient).objects.filter(pk=invite.patient_id).update(erased_at=timezone.now())
    assert offers.take(OfferInvite.objects.get(pk=invite.pk)).outcome == "failed"
    assert not Appointment.objects.exists()
    assert SlotOffer.objects.get().state == "open", "the take was rolled back"


def test_unknown_codes_are_404_and_share_the_slips_rate_limit(waiting_room, practice):
    created = offers.create(practice, {"start": soon()})
    code = codes(created)["Erste"]
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert client.get("/o/abc").status_code == 404
    for i in range(14):
        assert client.get(f"/o/Zz{i:05d}").status_code == 404
    for i in range(15):
        assert client.get(f"/t/Zz{i:05d}").status_code == 404
    assert client.get("/o/Zzzzzzz").status_code == 429
    assert client.get(f"/o/{code}").status_code == 429, "even a right code waits"
    assert client.post(f"/o/{code}/take").status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.10").get(f"/o/{code}").status_code == 200


def test_a_slip_code_does_not_open_an_offer(api, waiting_room, practice):
    appointment, _written = create_appointment(
        practice,
        {
            "patient_id": waiting_room["erste"].pk,
            "start": soon(),
            "end": soon() + timedelta(hours=1),
        },
    )
    from praxisbote.appointments import slip

    assert Client().get(f"/o/{slip.code_of(appointment)}").status_code == 404


# ---------------------------------------------------------------- isolation and GDPR


def test_other_practices_cannot_see_or_use_the_offer(api, other_api, waiting_room, other_practice):
    data = offer_api(api).json()
    assert other_api.get(f"/api/v1/slot-offers/{data['id']}").status_code == 404
    assert other_api.post(f"/api/v1/slot-offers/{data['id']}/withdraw").status_code == 404
    assert other_api.get("/api/v1/slot-offers").json()["count"] == 0
    entry = WaitingListEntry.objects.get(patient=waiting_room["erste"])
    make_patient(other_practice, "Fremd", email="f@example.org", consented=("email",))
    stolen = other_api.post(
        "/api/v1/slot-offers", {"start": soon().isoformat(), "entry_ids": [entry.pk]}
    )
    assert stolen.status_code == 422 and stolen.json()["errors"][0]["field"] == "entry_ids"
    assert SlotOffer.objects.get().state == "open"
    assert api.get("/api/v1/slot-offers").json()["count"] == 1


def test_closed_entries_leave_the_list(api, waiting_room, practice):
    created = offers.create(practice, {"start": soon()})
    offers.take(created.invites[0])
    names = [e["patient"] for e in api.get("/api/v1/waiting-list").json()["items"]]
    assert names == ["Zweite", "Dritte"]
    everyone = api.get("/api/v1/waiting-list", include_closed="true").json()["items"]
    assert [e["patient"] for e in everyone] == ["Eva Erste", "Zweite", "Dritte"]
    assert everyone[0]["closed_at"]


def test_gdpr_export_and_erasure(waiting_room, practice):
    created = offers.create(practice, {"start": soon()})
    winner = created.invites[0]
    offers.take(winner)
    exported = export_patient(winner.patient)
    assert exported["slot_offers"][0]["taken"] is True
    erase_patient(winner.patient)
    offer = SlotOffer.objects.get()
    assert offer.taken_by is None and offer.taken_invite is None
    assert not OfferInvite.objects.filter(patient=winner.patient).exists()
    assert OfferInvite.objects.count() == 1


def test_offers_of_many_days_are_independent(waiting_room, practice):
    a = offers.create(practice, {"start": soon(days=2)}, count=1)
    b = offers.create(practice, {"start": soon(days=3)}, count=1)
    offers.take(b.invites[0])
    assert offers.state_of(SlotOffer.objects.get(pk=a.offer.pk)) == "open"
    assert offers.state_of(SlotOffer.objects.get(pk=b.offer.pk)) == "taken"
    assert datetime.now(UTC) < a.offer.expires_at


def test_offers_past_the_protocol_retention_are_deleted_by_their_job(waiting_room, practice):
    """Who was offered which slot goes with the protocol; the booked appointment stays."""
    old = offers.create(practice, {"start": soon(days=2)}, count=1)
    booked = offers.take(old.invites[0]).appointment
    recent = offers.create(practice, {"start": soon(days=4)}, count=1)
    retention = timedelta(days=practice.protocol_retention_days)
    later = old.offer.expires_at + retention + timedelta(minutes=1)
    assert later < recent.offer.expires_at + retention

    from praxisbote.messaging import jobs

    job = next(j for j in jobs.jobs() if j.name == "offer_retention")
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert job.run() == 1

    assert list(SlotOffer.objects.values_list("pk", flat=True)) == [recent.offer.pk]
    assert not OfferInvite.objects.filter(offer_id=old.offer.pk).exists()
    assert OfferInvite.objects.filter(offer_id=recent.offer.pk).count() == 1
    assert Appointment.objects.filter(pk=booked.pk).exists()
