"""Recalls (APT-7): due date and interval, sent at the practice's hour, follow-up, API."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import translation
from tests.outreach.conftest import make_patient

from praxisbote.appointments.models import Appointment
from praxisbote.appointments.services import create_appointment
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach import recalls
from praxisbote.outreach.models import Recall, WaitingListEntry
from praxisbote.outreach.settings import save_settings


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def recall_messages(patient=None) -> list[Message]:
    qs = Message.objects.filter(kind=Kind.RECALL)
    return list(qs.filter(patient=patient) if patient else qs)


@pytest.fixture
def anna(practice):
    patient = make_patient(
        practice, "Müller", first_name="Anna", email="anna@example.org", consented=("email",)
    )
    recalls.save_recall(patient, {"due_date": "2027-03-15", "interval_months": 6})
    return patient


def test_calendar_months_do_not_drift():
    assert recalls.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert recalls.add_months(date(2027, 1, 31), 13) == date(2028, 2, 29)
    assert recalls.add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert recalls.next_due(date(2027, 1, 31), 1, date(2027, 3, 1)) == date(2027, 3, 31)
    assert recalls.next_due(date(2027, 3, 15), 0, date(2027, 3, 15)) is None


def test_recall_goes_out_at_the_hour_on_its_day_and_advances(anna):
    assert recalls.run(utc("2027-03-14T10:00")) == 0  # the day before
    assert recalls.run(utc("2027-03-15T07:59")) == 0  # 08:59 in Vienna
    assert recalls.run(utc("2027-03-15T08:00")) == 1
    recall = Recall.objects.get(patient=anna)
    assert recall.due_date == date(2027, 9, 15)
    assert recall.last_due_date == date(2027, 3, 15)
    assert recall.last_result == "recall:email"
    [message] = recall_messages(anna)
    assert message.subject == "Zeit für Ihre Kontrolle"
    assert "Zeit für Ihren Kontrolltermin" in message.body and "+43 1 5551234" in message.body
    assert recalls.run(utc("2027-03-15T12:00")) == 0  # each due date yields one message
    assert len(recall_messages()) == 1


def test_follow_up_after_n_days_without_a_booking(anna):
    recalls.run(utc("2027-03-15T09:00"))
    assert recalls.run(utc("2027-03-29T08:59")) == 0  # 13 days 23:59 later
    assert recalls.run(utc("2027-03-29T09:00")) == 1
    assert len(recall_messages(anna)) == 2
    assert Recall.objects.get(patient=anna).last_result == "followup:email"
    assert recalls.run(utc("2027-04-30T09:00")) == 0  # one follow-up only


def test_no_follow_up_when_an_appointment_was_booked_since(anna, practice):
    recalls.run(utc("2027-03-15T09:00"))
    appointment, _written = create_appointment(
        practice,
        {
            "patient_id": anna.pk,
            "start": utc("2027-04-02T08:00"),
            "end": utc("2027-04-02T08:30"),
        },
        send_confirmation=False,
        create_reminders=False,
    )
    Appointment.objects.filter(pk=appointment.pk).update(created_at=utc("2027-03-16T10:00"))
    assert recalls.run(utc("2027-03-29T09:00")) == 0
    assert len(recall_messages(anna)) == 1
    assert Recall.objects.get(patient=anna).last_result == "booked"


def test_follow_up_can_be_switched_off(anna, practice):
    save_settings(practice, {"recall_followup_days": 0})
    recalls.run(utc("2027-03-15T09:00"))
    assert recalls.run(utc("2027-04-30T09:00")) == 0


def test_overdue_recall_is_sent_once_and_the_next_lies_ahead(practice):
    patient = make_patient(practice, "Spät", email="s@example.org", consented=("email",))
    recalls.save_recall(patient, {"due_date": "2026-01-31", "interval_months": 1})
    assert recalls.run(utc("2027-03-15T09:00")) == 1
    assert Recall.objects.get(patient=patient).due_date == date(2027, 3, 31)
    assert recalls.run(utc("2027-03-16T09:00")) == 0


def test_one_off_recall_is_done_after_sending(practice):
    patient = make_patient(practice, "Einmal", email="e@example.org", consented=("email",))
    recalls.save_recall(patient, {"due_date": "2027-03-15", "interval_months": 0})
    recalls.run(utc("2027-03-15T09:00"))
    assert Recall.objects.get(patient=patient).due_date is None
    assert recalls.run(utc("2027-03-29T09:00")) == 1  # its follow-up: nothing was booked
    assert recalls.run(utc("2028-03-15T09:00")) == 0


def test_unreachable_patient_gets_nothing_and_the_recall_says_so(practice):
    patient = make_patient(practice, "Ohne", email="o@example.org")
    recalls.save_recall(patient, {"due_date": "2027-03-15", "interval_months": 6})
    assert recalls.run(utc("2027-03-15T09:00")) == 0
    recall = Recall.objects.get(patient=patient)
    assert (recall.due_date, recall.last_result) == (date(2027, 9, 15), "unreachable")
    assert recalls.run(utc("2027-04-30T09:00")) == 0  # no follow-up for a recall never sent
    with translation.override("en"):  # not whatever an earlier test's request left active
        assert "consent" in recalls.describe("unreachable")
        assert recalls.describe("recall:sms").endswith("(SMS)")


def test_recall_api_set_read_list_delete(api, practice):
    patient = make_patient(practice, "Huber", email="h@example.org", consented=("email",))
    url = f"/api/v1/patients/{patient.pk}/recall"
    assert api.get(url).json()["due_date"] is None
    put = api.put(url, {"due_date": "2027-03-15", "interval_months": 12, "note": "Prophylaxe"})
    assert put.status_code == 200, put.content
    assert put.json()["due_date"] == "2027-03-15" and put.json()["interval_months"] == 12
    assert api.get(url).json()["note"] == "Prophylaxe"
    listed = api.get("/api/v1/recalls", due_until="2027-12-31").json()
    assert listed["count"] == 1 and listed["items"][0]["patient_id"] == str(patient.pk)
    assert api.get("/api/v1/recalls", due_until="2027-01-01").json()["count"] == 0
    assert api.delete(url).status_code == 204
    assert api.get(url).json()["due_date"] is None


def test_recall_api_bad_input_is_problem_json_and_nothing_changes(api, practice):
    patient = make_patient(practice, "Huber", email="h@example.org")
    url = f"/api/v1/patients/{patient.pk}/recall"
    bad = api.put(url, {"due_date": "1999-01-01", "interval_months": 500, "note": "x" * 201})
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert {e["field"] for e in bad.json()["errors"]} == {"due_date", "interval_months", "note"}
    malformed = api.put(url, {"due_date": "15.03.2027"})
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "due_date"
    assert not Recall.objects.exists()


def test_outreach_settings_api(api, practice):
    assert api.get("/api/v1/outreach-settings").json() == {
        "birthday_enabled": False,
        "birthday_hour": 9,
        "recall_hour": 9,
        "recall_followup_days": 14,
        "timezone": "Europe/Vienna",
    }
    ok = api.put("/api/v1/outreach-settings", {"birthday_enabled": True, "birthday_hour": 10})
    assert ok.json()["birthday_enabled"] is True and ok.json()["birthday_hour"] == 10
    bad = api.put("/api/v1/outreach-settings", {"recall_hour": 22, "recall_followup_days": 999})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"recall_hour", "recall_followup_days"}
    assert api.get("/api/v1/outreach-settings").json()["recall_hour"] == 9


def test_erasure_removes_the_recall_and_the_waiting_list_entry(api, practice, anna):
    api.post("/api/v1/waiting-list", {"patient_id": str(anna.pk), "wishes": "vormittags"})
    export = api.get(f"/api/v1/patients/{anna.pk}/export").json()
    assert export["recall"]["interval_months"] == 6
    assert [e["wishes"] for e in export["waiting_list"]] == ["vormittags"]
    assert api.delete(f"/api/v1/patients/{anna.pk}").status_code == 204
    assert not Recall.objects.exists() and not WaitingListEntry.objects.exists()
    assert recalls.run(utc("2027-03-15T09:00") + timedelta(hours=1)) == 0
