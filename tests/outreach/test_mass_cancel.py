"""Mass cancellation (APT-6) with expert-mode overrides and report; the waiting list."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from tests.outreach.conftest import make_patient

from praxisbote.appointments.models import Appointment
from praxisbote.appointments.services import create_appointment
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach.models import MassCancellation, WaitingListEntry
from praxisbote.texts import encoding

VIENNA = ZoneInfo("Europe/Vienna")


def at(day: int, hour: int) -> datetime:
    return datetime(2030, 3, day, hour, 0, tzinfo=VIENNA)


def book(practice, patient, day: int, hour: int) -> Appointment:
    appointment, _written = create_appointment(
        practice,
        {"patient_id": patient.pk, "start": at(day, hour), "end": at(day, hour).replace(minute=30)},
    )
    return appointment


@pytest.fixture
def day(sms_practice):
    p = sms_practice
    sms = make_patient(
        p, "Adler", mobile="+4367612345601", consented=("sms",), channels=["sms", "email"]
    )
    mail = make_patient(p, "Berger", email="b@example.org", consented=("email",))
    phone_only = make_patient(p, "Cerny", mobile="+4367612345603")  # no consent
    return {
        "sms": book(p, sms, 11, 9),
        "mail": book(p, mail, 11, 10),
        "none": book(p, phone_only, 11, 11),
        "other_day": book(p, mail, 12, 9),
    }


def body(**extra):
    return {"days": ["2030-03-11"], **extra}


def test_preview_chooses_each_patients_channel_and_writes_nothing(api, day):
    response = api.post("/api/v1/mass-cancellations/preview", body())
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["appointments"] == 3
    assert data["counts"] == {"sms": 1, "email": 1, "no_channel": 1}
    assert [r["patient"] for r in data["rows"]] == ["Adler", "Berger", "Cerny"]
    assert not Message.objects.filter(kind=Kind.CANCELLATION).exists()
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}


def test_cancel_a_day_withdraws_reminders_notifies_and_reports(api, day):
    reminders = Message.objects.filter(appointment_id=day["sms"].pk, kind=Kind.REMINDER)
    assert reminders.filter(state="scheduled").exists()
    response = api.post("/api/v1/mass-cancellations", body(waiting_list=True, wishes="bald"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["cancelled"], data["notified"]) == (3, 2)
    by_name = {r["patient"]: r for r in data["report"]}
    assert by_name["Adler"]["channel"] == "sms" and by_name["Adler"]["message_id"]
    assert by_name["Cerny"]["reason"] == "no_channel" and by_name["Cerny"]["message_id"] is None
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses[day["sms"].pk] == "cancelled" and statuses[day["other_day"].pk] == "booked"
    assert not reminders.filter(state__in=["scheduled", "queued"]).exists()
    notices = Message.objects.filter(kind=Kind.CANCELLATION)
    assert {m.appointment_id for m in notices} == {day["sms"].pk, day["mail"].pk}
    sms = notices.get(channel="sms")
    assert "11.03. um 09:00 Uhr" in sms.body
    assert set(WaitingListEntry.objects.values_list("patient__last_name", flat=True)) == {
        "Adler",
        "Berger",
        "Cerny",
    }
    assert WaitingListEntry.objects.get(patient__last_name="Adler").wishes == "bald"
    again = api.get(f"/api/v1/mass-cancellations/{data['id']}").json()
    assert again["cancelled"] == 3
    # nothing left to cancel on that day
    assert api.post("/api/v1/mass-cancellations", body()).status_code == 422


def test_expert_mode_overrides_per_patient(api, day):
    adler, cerny = day["sms"].patient_id, day["none"].patient_id
    overrides = {str(adler): "none", str(cerny): "sms"}
    data = api.post("/api/v1/mass-cancellations", body(overrides=overrides)).json()
    by_name = {r["patient"]: r for r in data["report"]}
    assert by_name["Adler"]["reason"] == "not_notified" and by_name["Adler"]["overridden"]
    assert by_name["Cerny"]["channel"] == "sms"  # staff decided: told by SMS
    assert Message.objects.filter(kind=Kind.CANCELLATION, patient_id=cerny).count() == 1


def test_selected_appointments_only(api, day):
    data = api.post(
        "/api/v1/mass-cancellations", body(appointment_ids=[str(day["mail"].pk)], notify=False)
    ).json()
    assert data["cancelled"] == 1 and data["notified"] == 0
    assert data["report"][0]["reason"] == "notify_off"
    assert Appointment.objects.filter(status="cancelled").count() == 1


def test_bad_input_is_problem_json_and_nothing_changes(api, day, other_practice):
    stranger = make_patient(other_practice, "Fremd", email="f@example.org")
    cases = [
        (body(days=[]), "days"),
        (
            body(overrides={str(day["mail"].patient_id): "fax"}),
            f"overrides.{day['mail'].patient_id}",
        ),
        (
            body(overrides={str(day["mail"].patient_id): "threema"}),
            f"overrides.{day['mail'].patient_id}",
        ),
        (body(overrides={str(stranger.pk): "email"}), f"overrides.{stranger.pk}"),
        (body(appointment_ids=[str(day["other_day"].pk)]), "appointment_ids"),
        (body(wishes="x" * 501), "wishes"),
    ]
    for payload, field in cases:
        response = api.post("/api/v1/mass-cancellations", payload)
        assert response.status_code == 422, (payload, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}
    assert not MassCancellation.objects.exists()


def test_waiting_list_offer_goes_to_the_first_ones(api, practice):
    a = make_patient(practice, "Erste", email="1@example.org", consented=("email",))
    b = make_patient(practice, "Zweite", email="2@example.org", consented=("email",))
    c = make_patient(practice, "Dritte", email="3@example.org")  # no consent
    for patient in (a, b, c):
        assert api.post("/api/v1/waiting-list", {"patient_id": str(patient.pk)}).status_code == 201
    listed = api.get("/api/v1/waiting-list").json()
    assert [e["patient"] for e in listed["items"]] == ["Erste", "Zweite", "Dritte"]
    response = api.post(
        "/api/v1/waiting-list/offer", {"start": "2030-03-11T09:00:00+01:00", "count": 1}
    )
    assert response.status_code == 200, response.content
    assert [e["patient"] for e in response.json()["offered"]] == ["Erste"]
    message = Message.objects.get(pk=response.json()["message_ids"][0])
    assert "11.03. um 09:00 Uhr" in message.body and "+43 1 5551234" in message.body
    second = api.post(
        "/api/v1/waiting-list/offer", {"start": "2030-03-11T09:00:00+01:00", "count": 5}
    ).json()
    assert [e["patient"] for e in second["offered"]] == ["Zweite"]
    assert [e["patient"] for e in second["not_reached"]] == ["Dritte"]
    entry = listed["items"][0]["id"]
    assert api.delete(f"/api/v1/waiting-list/{entry}").status_code == 204
    bad = api.post("/api/v1/waiting-list", {"patient_id": "00000000-0000-0000-0000-000000000000"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "patient_id"


# ---------------------------------------------------------------- one notice per patient


@pytest.fixture
def busy(sms_practice):
    """Adler (SMS) has three appointments on two days, Berger (e-mail, English) two, and
    Cerny (no consent) one."""
    p = sms_practice
    adler = make_patient(
        p, "Adler", mobile="+4367612345601", consented=("sms",), channels=["sms", "email"]
    )
    berger = make_patient(p, "Berger", email="b@example.org", consented=("email",), language="en")
    cerny = make_patient(p, "Cerny", mobile="+4367612345603")
    return {
        "adler": [book(p, adler, 11, 9), book(p, adler, 11, 15), book(p, adler, 12, 10)],
        "berger": [book(p, berger, 11, 10), book(p, berger, 12, 11)],
        "cerny": [book(p, cerny, 12, 12)],
    }


def two_days(**extra):
    return {"days": ["2030-03-11", "2030-03-12"], **extra}


def test_one_notice_per_patient_lists_all_their_appointments(api, busy):
    response = api.post("/api/v1/mass-cancellations", two_days())
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["cancelled"], data["notified"], data["messages"]) == (6, 5, 2)
    notices = Message.objects.filter(kind=Kind.CANCELLATION)
    assert notices.count() == 2
    sms = notices.get(channel="sms")
    assert sms.body.startswith(
        "Ihre Termine am 11.03. um 09:00 Uhr, 11.03. um 15:00 Uhr und 12.03. um 10:00 Uhr "
        "entfallen leider."
    )
    # three appointments in one SMS (160 characters with this practice's short name)
    assert encoding.analyze(sms.body).segments == 1, sms.body
    assert sms.appointment_id == busy["adler"][0].pk
    mail = notices.get(channel="email")
    assert mail.subject == "Your appointments are cancelled"
    assert "- Monday, 11 Mar at 10:00 AM\n- Tuesday, 12 Mar at 11:00 AM" in mail.body
    # the report still has one row per appointment, each naming the notice that told
    rows = {r["appointment_id"]: r for r in data["report"]}
    assert len(rows) == 6
    for appointment in busy["adler"]:
        assert rows[str(appointment.pk)]["message_id"] == str(sms.pk)
        assert rows[str(appointment.pk)]["channel"] == "sms"
    for appointment in busy["berger"]:
        assert rows[str(appointment.pk)]["message_id"] == str(mail.pk)
    assert rows[str(busy["cerny"][0].pk)]["reason"] == "no_channel"
    assert api.get(f"/api/v1/mass-cancellations/{data['id']}").json()["messages"] == 2


def test_every_appointment_of_a_combined_notice_shows_it(api, busy):
    api.post("/api/v1/mass-cancellations", two_days())
    sms = Message.objects.get(kind=Kind.CANCELLATION, channel="sms")
    for appointment in busy["adler"]:
        shown = api.get(f"/api/v1/appointments/{appointment.pk}").json()
        assert str(sms.pk) in [m["id"] for m in shown["messages"]], shown
        assert shown["notification"] == "pending"
    listed = api.get("/api/v1/appointments?status=cancelled&limit=50").json()
    third = next(a for a in listed["items"] if a["id"] == str(busy["adler"][2].pk))
    assert [m["id"] for m in third["messages"] if m["kind"] == "cancellation"] == [str(sms.pk)]


def test_two_appointments_cost_one_sms(api, busy):
    ids = [str(a.pk) for a in busy["adler"][1:]]
    data = api.post("/api/v1/mass-cancellations", two_days(appointment_ids=ids)).json()
    assert data["messages"] == 1
    sms = Message.objects.get(kind=Kind.CANCELLATION)
    assert "11.03. um 15:00 Uhr und 12.03. um 10:00 Uhr" in sms.body
    assert encoding.analyze(sms.body).segments == 1, sms.body


def test_overrides_and_waiting_list_stay_per_patient(api, busy):
    adler, berger = busy["adler"][0].patient_id, busy["berger"][0].patient_id
    payload = two_days(
        overrides={str(adler): "none", str(berger): "email"}, waiting_list=True, wishes="früh"
    )
    data = api.post("/api/v1/mass-cancellations", payload).json()
    by_patient: dict[str, set] = {}
    for row in data["report"]:
        by_patient.setdefault(row["patient"], set()).add(
            (row["reason"], row["overridden"], row["message_id"] is not None)
        )
    assert by_patient["Adler"] == {("not_notified", True, False)}
    assert by_patient["Berger"] == {("", True, True)}
    assert Message.objects.filter(kind=Kind.CANCELLATION).count() == 1
    assert WaitingListEntry.objects.count() == 3  # one per patient, not per appointment


def test_an_own_template_without_appointments_keeps_one_notice_each(api, busy):
    """A practice's older template names only ``appointment``: a combined notice would
    mention the first appointment alone, so every appointment keeps its own notice."""
    own = {
        "kind": "cancellation",
        "channel": "sms",
        "language": "de",
        "text": "Termin {{ appointment.when }} entfällt. {{ practice.phone }}",
    }
    assert api.post("/api/v1/templates", own).status_code in (200, 201)
    data = api.post("/api/v1/mass-cancellations", two_days()).json()
    assert data["messages"] == 4  # three SMS to Adler, one e-mail (default) to Berger
    bodies = sorted(
        Message.objects.filter(kind=Kind.CANCELLATION, channel="sms").values_list("body", flat=True)
    )
    assert bodies == [
        "Termin 11.03. um 09:00 Uhr entfällt. +43 1 5551234",
        "Termin 11.03. um 15:00 Uhr entfällt. +43 1 5551234",
        "Termin 12.03. um 10:00 Uhr entfällt. +43 1 5551234",
    ]
    assert len({r["message_id"] for r in data["report"] if r["patient"] == "Adler"}) == 3


def test_a_single_cancellation_reads_as_before(api, busy):
    appointment = busy["adler"][0]
    response = api.post(f"/api/v1/appointments/{appointment.pk}/cancel", {"notify_patient": True})
    assert response.status_code == 200, response.content
    sms = Message.objects.get(kind=Kind.CANCELLATION)
    assert sms.body.startswith("Ihr Termin am 11.03. um 09:00 Uhr muss leider entfallen.")
