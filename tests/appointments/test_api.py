"""The appointment API: booking writes its messages, moves and copies follow seed 002,
cancelling withdraws reminders (APT-1..5), bad input is problem+json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from praxisbote.appointments.models import Appointment
from praxisbote.messaging.models import Message
from praxisbote.patients.services import create_patient

from .conftest import VIENNA


def future(days: int = 10, hour: int = 10, minute: int = 0) -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(VIENNA).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VIENNA)


def book(api, patient, start=None, minutes=30, **extra):
    start = start or future()
    body = {
        "patient_id": str(patient.pk),
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "practitioner": "Dr. Huber",
        "location": "Raum 2",
        **extra,
    }
    response = api.post("/api/v1/appointments", body)
    assert response.status_code == 201, response.content
    return response.json()


def messages_of(appointment_id, **filters):
    return list(Message.objects.filter(appointment_id=appointment_id, **filters).order_by("due_at"))


def test_booking_writes_confirmation_and_scheduled_reminder(api, sms_practice, patient):
    start = future(hour=10)
    data = book(api, patient, start)
    assert data["status"] == "booked"
    assert data["slip_url"].startswith("http") and "/t/" in data["slip_url"]
    assert len(data["slip_url"].rsplit("/", 1)[1]) == 7
    kinds = {m["kind"]: m for m in data["messages"]}
    assert set(kinds) == {"confirmation", "reminder"}
    assert data["notification"] == "pending"
    reminder = Message.objects.get(pk=kinds["reminder"]["id"])
    assert reminder.state == "scheduled"
    assert reminder.channel == "sms"  # the patient's first channel, consented
    assert reminder.due_at == (start - timedelta(days=1)).astimezone(UTC)
    assert "10:00" in reminder.body
    confirmation = Message.objects.get(pk=kinds["confirmation"]["id"])
    assert confirmation.kind == "confirmation" and confirmation.appointment_id is not None
    # Both written with the appointment: the appointment row and messages exist together.
    assert Appointment.objects.filter(pk=data["id"]).exists()


def test_email_only_practice_uses_the_next_consented_channel(api, patient):
    data = book(api, patient)  # SMS is not switched on in this practice
    assert {m["channel"] for m in data["messages"]} == {"email"}


def test_patient_without_consent_gets_no_automatic_messages(api, practice):
    silent = create_patient(practice, {"last_name": "Stumm", "email": "s@example.at"})
    data = book(api, silent)
    assert data["messages"] == []
    assert data["notification"] == "none"
    assert any("consent" in n for n in data["notices"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2026-01-01T09:00:00+01:00", "start": "2026-01-01T10:00:00+01:00"}, "end"),
        ({"start": "2026-01-01T10:00:00", "end": "2026-01-01T10:30:00"}, "start"),
        ({"patient_id": "00000000-0000-0000-0000-000000000000"}, "patient_id"),
        ({"patient_id": "kein-patient"}, "patient_id"),
        ({"start": "morgen"}, "start"),
        ({"end": "2026-01-03T10:30:00+01:00", "start": "2026-01-01T10:00:00+01:00"}, "end"),
    ],
)
def test_bad_input_is_problem_json_naming_the_field(api, patient, change, field):
    body = {
        "patient_id": str(patient.pk),
        "start": "2026-01-01T10:00:00+01:00",
        "end": "2026-01-01T10:30:00+01:00",
        **change,
    }
    response = api.post("/api/v1/appointments", body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Appointment.objects.exists()
    assert not Message.objects.exists()


def test_other_practices_patient_is_unknown(api, other_practice):
    stranger = create_patient(other_practice, {"last_name": "Fremd", "email": "f@example.de"})
    body = {
        "patient_id": str(stranger.pk),
        "start": future().isoformat(),
        "end": (future() + timedelta(minutes=30)).isoformat(),
    }
    response = api.post("/api/v1/appointments", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "patient_id"


def test_list_filters_by_patient_time_and_status(api, patient, practice):
    other = create_patient(practice, {"last_name": "Berger", "email": "b@example.at"})
    a = book(api, patient, future(days=3))
    b = book(api, patient, future(days=5))
    c = book(api, other, future(days=5, hour=11))
    api.post(f"/api/v1/appointments/{b['id']}/cancel", {})
    ids = lambda r: [i["id"] for i in r.json()["items"]]  # noqa: E731
    assert ids(api.get("/api/v1/appointments", patient_id=patient.pk)) == [a["id"], b["id"]]
    window = {"from": future(days=4, hour=0).isoformat(), "to": future(days=6).isoformat()}
    assert ids(api.get("/api/v1/appointments", **window)) == [b["id"], c["id"]]
    assert ids(api.get("/api/v1/appointments", status="cancelled")) == [b["id"]]
    naive = api.get("/api/v1/appointments", **{"from": "2026-01-01T00:00:00"})
    assert naive.status_code == 422


def test_move_requires_the_reminder_answer(api, patient):
    data = book(api, patient)
    new = future(days=12)
    response = api.patch(f"/api/v1/appointments/{data['id']}", {"start": new.isoformat()})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "renew_reminders"
    assert Appointment.objects.get(pk=data["id"]).version == 1
    assert len(messages_of(data["id"], state="scheduled", kind="reminder")) == 1


def test_move_with_new_reminders_cancels_old_ones_at_once(api, patient):
    data = book(api, patient, future(days=10, hour=10))
    old = messages_of(data["id"], kind="reminder")[0]
    new_start = future(days=12, hour=15, minute=30)
    response = api.patch(
        f"/api/v1/appointments/{data['id']}",
        {"start": new_start.isoformat(), "renew_reminders": True},
    )
    assert response.status_code == 200, response.content
    moved = response.json()
    assert moved["version"] == 2
    assert moved["withdrawn"] == 2  # the confirmation still waiting and the reminder
    assert datetime.fromisoformat(moved["end"]) - datetime.fromisoformat(moved["start"]) == (
        timedelta(minutes=30)
    )
    old.refresh_from_db()
    assert old.state == "cancelled"
    assert "moved" in old.events.last().detail
    pending = messages_of(data["id"], state="scheduled", kind="reminder")
    assert len(pending) == 1
    assert pending[0].due_at == (new_start - timedelta(days=1)).astimezone(UTC)
    assert "15:30" in pending[0].body and "10:00" not in pending[0].body
    assert moved["slip_url"] == data["slip_url"], "the same link shows the new time"


def test_move_without_new_reminders_leaves_none(api, patient):
    data = book(api, patient)
    response = api.patch(
        f"/api/v1/appointments/{data['id']}",
        {"start": future(days=11).isoformat(), "renew_reminders": False},
    )
    assert response.status_code == 200
    assert messages_of(data["id"], state="scheduled") == []
    assert response.json()["notification"] == "none"


def test_move_then_move_back_has_one_reminder_for_the_original_time(api, patient):
    first = future(days=10, hour=9)
    data = book(api, patient, first)
    url = f"/api/v1/appointments/{data['id']}"
    api.patch(url, {"start": future(days=14).isoformat(), "renew_reminders": True})
    back = api.patch(url, {"start": first.isoformat(), "renew_reminders": True}).json()
    assert back["version"] == 3
    pending = messages_of(data["id"], state="scheduled", kind="reminder")
    assert len(pending) == 1
    assert pending[0].due_at == (first - timedelta(days=1)).astimezone(UTC)
    assert len(messages_of(data["id"], state="cancelled", kind="reminder")) == 2


def test_changing_only_the_place_keeps_the_reminders(api, patient):
    data = book(api, patient)
    response = api.patch(f"/api/v1/appointments/{data['id']}", {"location": "Raum 5"})
    assert response.status_code == 200
    assert response.json()["withdrawn"] == 0
    assert len(messages_of(data["id"], state="scheduled", kind="reminder")) == 1


def test_copy_has_no_reminders_unless_asked(api, patient):
    data = book(api, patient)
    url = f"/api/v1/appointments/{data['id']}/copy"
    copy = api.post(url, {"start": future(days=20).isoformat()})
    assert copy.status_code == 201, copy.content
    copied = copy.json()
    assert copied["id"] != data["id"]
    assert copied["messages"] == []
    assert copied["slip_url"] != data["slip_url"]
    assert copied["practitioner"] == "Dr. Huber" and copied["location"] == "Raum 2"
    with_reminders = api.post(url, {"start": future(days=21).isoformat(), "create_reminders": True})
    assert [m["kind"] for m in with_reminders.json()["messages"]] == ["reminder"]
    # The original keeps its own reminder.
    assert len(messages_of(data["id"], state="scheduled", kind="reminder")) == 1


def test_cancel_withdraws_reminders_and_tells_the_patient(api, patient):
    data = book(api, patient)
    response = api.post(f"/api/v1/appointments/{data['id']}/cancel", {"notify_patient": True})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["withdrawn"] == 2
    states = {m["kind"]: m["state"] for m in body["messages"]}
    assert states["reminder"] == "cancelled"
    assert states["cancellation"] == "scheduled"
    again = api.post(f"/api/v1/appointments/{data['id']}/cancel", {})
    assert again.status_code == 422
    moved = api.patch(
        f"/api/v1/appointments/{data['id']}",
        {"start": future(days=15).isoformat(), "renew_reminders": True},
    )
    assert moved.status_code == 422


def test_cancel_without_notice_writes_nothing_new(api, patient):
    data = book(api, patient)
    api.post(f"/api/v1/appointments/{data['id']}/cancel", {"notify_patient": False})
    assert not Message.objects.filter(kind="cancellation").exists()


def test_delete_withdraws_pending_messages(api, patient):
    data = book(api, patient)
    response = api.delete(f"/api/v1/appointments/{data['id']}")
    assert response.status_code == 204
    assert not Appointment.objects.filter(pk=data["id"]).exists()
    assert {m.state for m in messages_of(data["id"])} == {"cancelled"}


def test_new_practice_has_the_default_rules_and_they_can_change(api, practice):
    rules = api.get("/api/v1/reminder-rules").json()
    assert rules["practice"] == {
        "category_id": None,
        "confirm_on_booking": True,
        "lead_hours": [24],
        "channels": [],
        "is_default": True,
    }
    assert rules["quiet_hours"] == {
        "start": "20:00:00",
        "end": "08:00:00",
        "timezone": "Europe/Vienna",
    }
    changed = api.put(
        "/api/v1/reminder-rules", {"lead_hours": [24, 48], "confirm_on_booking": False}
    )
    assert changed.status_code == 200
    assert changed.json()["practice"]["lead_hours"] == [48, 24]
    assert changed.json()["practice"]["confirm_on_booking"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"lead_hours": [0]},
        {"lead_hours": [1, 2, 3, 4, 5, 6]},
        {"channels": ["fax"]},
        {"channels": ["sms", "sms"]},
        {"lead_hours": [24 * 61]},
    ],
)
def test_bad_rules_are_problem_json(api, body):
    response = api.put("/api/v1/reminder-rules", body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_category_rule_wins_for_its_patients(api, sms_practice, patient):
    category = patient.category
    response = api.put(
        f"/api/v1/reminder-rules/categories/{category.pk}",
        {"lead_hours": [48, 2], "channels": ["email"], "confirm_on_booking": False},
    )
    assert response.status_code == 200, response.content
    start = future(days=10, hour=11)
    data = book(api, patient, start)
    reminders = [m for m in data["messages"] if m["kind"] == "reminder"]
    assert [m["channel"] for m in reminders] == ["email", "email"]
    assert not [m for m in data["messages"] if m["kind"] == "confirmation"]
    due = sorted(datetime.fromisoformat(m["due_at"]) for m in reminders)
    assert due == [(start - timedelta(days=2)).astimezone(UTC), start - timedelta(hours=2)]
    api.delete(f"/api/v1/reminder-rules/categories/{category.pk}")
    assert api.get("/api/v1/reminder-rules").json()["categories"] == []


def test_gdpr_export_lists_and_erasure_removes_appointments(api, patient):
    data = book(api, patient)
    export = api.get(f"/api/v1/patients/{patient.pk}/export").json()
    assert [a["id"] for a in export["appointments"]] == [data["id"]]
    assert api.delete(f"/api/v1/patients/{patient.pk}").status_code == 204
    assert not Appointment.objects.filter(pk=data["id"]).exists()
    assert {m.state for m in messages_of(data["id"])} == {"cancelled"}
