"""Automatic messages never leave in the practice's quiet hours: mass notices wait for
their end (and say so), recalls and birthday greetings are held or moved, cancellations
break them only for appointments of the coming day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from tests.outreach.conftest import make_patient, no_quiet_hours, quiet_now

from praxisbote.appointments import rules
from praxisbote.appointments.services import cancel_appointment, create_appointment
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach import birthdays, mass, recalls
from praxisbote.outreach.models import MassNotice
from praxisbote.outreach.settings import moved_hours, save_settings, settings_of

pytestmark = pytest.mark.usefixtures("keep_language")

VIENNA = ZoneInfo("Europe/Vienna")
TEXT = "Die Praxis ist vom 23.12. bis 6.1. geschlossen."


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.fixture
def crowd(practice):
    make_patient(practice, "Adler", email="a@example.org", consented=("email",))
    make_patient(practice, "Berger", email="b@example.org", consented=("email",))
    return practice


def notice(**extra):
    return {"channels": ["email"], "text": TEXT, "subject": "Urlaub", **extra}


# ---------------------------------------------------------------- mass notices


def test_a_notice_sent_in_quiet_hours_waits_for_their_end(api, crowd):
    end = quiet_now(crowd)
    preview = api.post("/api/v1/mass-notices/preview", notice()).json()
    assert preview["held_for_quiet_hours"] is True
    assert datetime.fromisoformat(preview["send_at"]) == end
    sent = api.post("/api/v1/mass-notices", notice(fingerprint=preview["fingerprint"]))
    assert sent.status_code == 201, sent.content
    data = sent.json()
    assert data["held_for_quiet_hours"] is True
    assert datetime.fromisoformat(data["send_at"]) == end
    rows = Message.objects.filter(campaign_id=data["id"])
    assert rows.count() == 2, "held, not dropped"
    assert {(m.state, m.due_at) for m in rows} == {("scheduled", end)}


def test_a_notice_outside_quiet_hours_goes_at_once(api, crowd):
    no_quiet_hours(crowd)
    preview = api.post("/api/v1/mass-notices/preview", notice()).json()
    assert preview["held_for_quiet_hours"] is False and preview["send_at"] is None
    data = api.post("/api/v1/mass-notices", notice(fingerprint=preview["fingerprint"])).json()
    assert {m.state for m in Message.objects.filter(campaign_id=data["id"])} == {"queued"}


def test_a_chosen_time_inside_quiet_hours_moves_to_their_end(api, crowd):
    # Default quiet hours 20:00-08:00 (Vienna).
    night = api.post("/api/v1/mass-notices/preview", notice(send_at="2030-01-08T22:30:00+01:00"))
    assert night.json()["held_for_quiet_hours"] is True
    assert datetime.fromisoformat(night.json()["send_at"]) == datetime(2030, 1, 9, 8, tzinfo=VIENNA)
    day = api.post("/api/v1/mass-notices/preview", notice(send_at="2030-01-08T10:30:00+01:00"))
    assert day.json()["held_for_quiet_hours"] is False
    assert datetime.fromisoformat(day.json()["send_at"]) == datetime(
        2030, 1, 8, 10, 30, tzinfo=VIENNA
    )


def test_a_preview_confirmed_after_the_quiet_hours_began_is_shown_again(crowd):
    args = (mass.Audience(), mass.Content(text=TEXT), ["email"])
    before = mass.preview(crowd, *args, now=datetime(2030, 1, 8, 19, 55, tzinfo=VIENNA))
    assert before.send_at is None
    with pytest.raises(mass.FingerprintMismatch):
        mass.send(
            crowd,
            *args,
            expected_fingerprint=before.fingerprint,
            now=datetime(2030, 1, 8, 20, 5, tzinfo=VIENNA),
        )
    assert not MassNotice.objects.exists() and not Message.objects.exists()


def test_the_staff_form_says_when_it_goes_out(staff_client, crowd):
    end = quiet_now(crowd)
    form = {"channels": ["email"], "order": "patient", "text": TEXT, "preview": "1"}
    page = staff_client.post("/mass-notices/new/", form)
    local = end.astimezone(VIENNA)
    if local.date() == datetime.now(VIENNA).date():
        expected = f"Die Nachricht geht um {local:%H:%M} hinaus."
    else:  # the quiet period ends after midnight
        expected = f"Die Nachricht geht am {local:%d.%m.%Y} um {local:%H:%M} hinaus."
    assert expected in page.content.decode()
    fingerprint = page.context["planned"].fingerprint
    sent = staff_client.post(
        "/mass-notices/new/", {**form, "send": "1", "fingerprint": fingerprint}, follow=True
    )
    assert "Ruhezeit der Praxis" in sent.content.decode()
    assert MassNotice.objects.get().held_for_quiet_hours is True


# ---------------------------------------------------------------- cancellations


def _book(practice, patient, start):
    appointment, _written = create_appointment(
        practice, {"patient_id": patient.pk, "start": start, "end": start + timedelta(minutes=30)}
    )
    return appointment


def test_cancellations_break_quiet_hours_only_for_the_coming_day(api, practice):
    end = quiet_now(practice)
    patient = make_patient(practice, "Cerny", email="c@example.org", consented=("email",))
    other = make_patient(practice, "Czerny", email="cz@example.org", consented=("email",))
    now = timezone.now()
    soon = _book(practice, patient, now + timedelta(hours=3))
    later = _book(practice, other, now + timedelta(days=3))
    days = sorted({a.start.astimezone(VIENNA).date().isoformat() for a in (soon, later)})
    preview = api.post("/api/v1/mass-cancellations/preview", {"days": days}).json()
    held = {row["appointment_id"]: row["held_until"] for row in preview["rows"]}
    assert held[str(soon.pk)] is None, "the coming day: told at once, also at night"
    assert datetime.fromisoformat(held[str(later.pk)]) == end
    done = api.post("/api/v1/mass-cancellations", {"days": days}).json()
    notices = {m.appointment_id: m for m in Message.objects.filter(kind=Kind.CANCELLATION)}
    assert notices[soon.pk].due_at <= timezone.now() + timedelta(seconds=5)
    assert notices[later.pk].due_at == end
    assert {r["appointment_id"]: r["held_until"] for r in done["report"]} == held


def test_one_notice_about_several_appointments_goes_out_as_the_most_urgent_needs(api, practice):
    """A patient's appointments are told in one notice: tomorrow morning's makes it go
    out at once, and the report says so for both rows."""
    quiet_now(practice)
    patient = make_patient(practice, "Cerny", email="c@example.org", consented=("email",))
    now = timezone.now()
    soon = _book(practice, patient, now + timedelta(hours=3))
    later = _book(practice, patient, now + timedelta(days=3))
    days = sorted({a.start.astimezone(VIENNA).date().isoformat() for a in (soon, later)})
    preview = api.post("/api/v1/mass-cancellations/preview", {"days": days}).json()
    assert [row["held_until"] for row in preview["rows"]] == [None, None]
    done = api.post("/api/v1/mass-cancellations", {"days": days}).json()
    (notice,) = Message.objects.filter(kind=Kind.CANCELLATION)
    assert notice.due_at <= timezone.now() + timedelta(seconds=5)
    assert {r["message_id"] for r in done["report"]} == {str(notice.pk)}
    assert [r["held_until"] for r in done["report"]] == [None, None]


def test_a_single_cancellation_follows_the_same_rule(practice):
    end = quiet_now(practice)
    patient = make_patient(practice, "Dorn", email="d@example.org", consented=("email",))
    later = _book(practice, patient, timezone.now() + timedelta(days=3))
    cancel_appointment(later, notify_patient=True)
    assert Message.objects.get(kind=Kind.CANCELLATION).due_at == end


def test_the_mass_cancellation_page_states_the_rule(staff_client, practice):
    quiet_now(practice)
    patient = make_patient(practice, "Egger", email="e@example.org", consented=("email",))
    appointment = _book(practice, patient, timezone.now() + timedelta(days=3))
    day = appointment.start.astimezone(VIENNA).date().isoformat()
    page = staff_client.get(f"/appointments/mass-cancel/?day={day}").content.decode()
    assert "Absagen sind dringend" in page and "auch nachts" in page
    assert "geht " in page and " hinaus" in page  # this row waits for the quiet hours' end


# ---------------------------------------------------------------- birthdays and recalls


def born(practice, name: str, birth: date):
    return make_patient(
        practice,
        name,
        email=f"{name.lower()}@example.org",
        consented=("email",),
        notifications=["birthday", "recall"],
        birth_date=birth,
    )


def set_quiet(practice, start: time, end: time) -> None:
    practice.quiet_hours_start, practice.quiet_hours_end = start, end
    practice.save()


def test_a_birthday_hour_overtaken_by_new_quiet_hours_moves_to_their_end(practice):
    save_settings(practice, {"birthday_enabled": True, "birthday_hour": 9})
    set_quiet(practice, time(20, 0), time(10, 0))  # 09:00 is quiet now
    born(practice, "Frueh", date(1980, 3, 15))
    assert birthdays.run(utc("2027-03-15T08:30")) == 0  # 09:30 Vienna, quiet
    assert birthdays.run(utc("2027-03-15T09:00")) == 1  # 10:00, the quiet hours end
    assert moved_hours(practice, settings_of(practice)) == {
        "birthday_hour": "10:00",
        "recall_hour": "10:00",
    }


def test_an_evening_hour_overtaken_by_new_quiet_hours_goes_that_morning(practice):
    save_settings(practice, {"birthday_enabled": True, "birthday_hour": 19})
    set_quiet(practice, time(18, 0), time(8, 0))  # 19:00 is quiet until tomorrow
    born(practice, "Abend", date(1980, 3, 15))
    assert birthdays.run(utc("2027-03-15T06:59")) == 0  # 07:59 Vienna, quiet
    assert birthdays.run(utc("2027-03-15T07:00")) == 1  # 08:00 on the birthday itself
    message = Message.objects.get(kind=Kind.BIRTHDAY)
    assert not rules.quiet_hours_of(practice).contains(message.due_at)


def test_a_greeting_written_just_before_the_quiet_hours_does_not_leave_in_them(practice):
    save_settings(practice, {"birthday_enabled": True, "birthday_hour": 9})
    born(practice, "Knapp", date(1980, 3, 15))
    # 19:59:59.5 in Vienna: the job runs, the message would be due a moment later (20:00).
    moment = datetime(2027, 3, 15, 18, 59, 59, 500000, tzinfo=UTC)
    assert birthdays.run(moment) == 1
    message = Message.objects.get(kind=Kind.BIRTHDAY)
    assert message.due_at == datetime(2027, 3, 16, 8, 0, tzinfo=VIENNA)


def test_recalls_follow_the_same_rules(practice):
    save_settings(practice, {"recall_hour": 9})
    patient = born(practice, "Recall", date(1970, 1, 1))
    recalls.save_recall(patient, {"due_date": "2027-03-15", "interval_months": 6})
    set_quiet(practice, time(20, 0), time(10, 0))
    assert recalls.run(utc("2027-03-15T08:30")) == 0
    assert recalls.run(utc("2027-03-15T09:00")) == 1
    late = born(practice, "Spaet", date(1970, 1, 2))
    recalls.save_recall(late, {"due_date": "2027-03-15", "interval_months": 6})
    assert recalls.run(datetime(2027, 3, 15, 18, 59, 59, 500000, tzinfo=UTC)) == 1
    message = Message.objects.get(kind=Kind.RECALL, patient=late)
    assert message.due_at == datetime(2027, 3, 16, 10, 0, tzinfo=VIENNA)


def test_the_settings_page_names_a_moved_hour(staff_client, practice):
    save_settings(practice, {"birthday_enabled": True, "birthday_hour": 9, "recall_hour": 11})
    set_quiet(practice, time(20, 0), time(10, 0))
    page = staff_client.get("/birthdays-recalls/").content.decode()
    assert "Glückwünsche gehen stattdessen um 10:00 hinaus" in page
    assert "recall-moved" not in page
