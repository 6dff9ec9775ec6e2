"""Birthday greetings (APT-8): opt-in, the hour in the practice's zone, once a year, Feb 29."""

from __future__ import annotations

import threading
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from tests.outreach.conftest import make_patient

from praxisbote.messaging.jobs import jobs
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach import birthdays
from praxisbote.outreach.models import BirthdayGreeting
from praxisbote.outreach.settings import save_settings
from praxisbote.practices.services import create_practice


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


def born(practice, name: str, birth: date, **extra):
    fields = {
        "birth_date": birth,
        "email": f"{name.lower().replace('ü', 'ue')}@example.org",
        "consented": ("email",),
        "notifications": ["birthday", "reminder"],
        "first_name": "Silvana",
        **extra,
    }
    return make_patient(practice, name, **fields)


@pytest.fixture
def vienna(practice):
    save_settings(practice, {"birthday_enabled": True, "birthday_hour": 9})
    return practice


@pytest.fixture
def lisbon(db):
    practice = create_practice(name="Clínica Lisboa", country="AT", phone="+43 1 5550000")
    practice.timezone = "Europe/Lisbon"
    practice.save()
    save_settings(practice, {"birthday_enabled": True, "birthday_hour": 9})
    return practice


def greeted() -> list[str]:
    return sorted(m.patient.last_name for m in Message.objects.filter(kind=Kind.BIRTHDAY))


def test_the_greeting_goes_out_at_the_hour_of_each_practices_zone(vienna, lisbon):
    born(vienna, "Müller", date(1980, 3, 15))
    born(lisbon, "Silva", date(1975, 3, 15))
    # 15 March 2027: Vienna is UTC+1 (CET), Lisbon UTC+0 (WET)
    assert birthdays.run(utc("2027-03-15T07:59")) == 0  # 08:59 in Vienna
    assert birthdays.run(utc("2027-03-15T08:00")) == 1  # 09:00 Vienna, 08:00 Lisbon
    assert greeted() == ["Müller"]
    assert birthdays.run(utc("2027-03-15T09:00")) == 1  # 09:00 Lisbon
    assert greeted() == ["Müller", "Silva"]
    message = Message.objects.get(patient__last_name="Müller")
    assert message.channel == "email" and message.subject == "Alles Gute zum Geburtstag"
    assert message.body.startswith("Guten Tag Silvana Müller,")
    assert "alles Gute zum Geburtstag" in message.body
    assert message.state == "scheduled"  # a moment ahead; the worker reserves credit


def test_summer_time_moves_the_utc_hour(vienna):
    born(vienna, "Sommer", date(1990, 7, 15))
    assert birthdays.run(utc("2027-07-15T06:59")) == 0  # 08:59 CEST
    assert birthdays.run(utc("2027-07-15T07:00")) == 1  # 09:00 CEST


def test_the_practices_date_decides_near_midnight(vienna, lisbon):
    for practice in (vienna, lisbon):
        practice.quiet_hours_start = practice.quiet_hours_end = time(0, 0)  # no quiet period
        practice.save()
        save_settings(practice, {"birthday_hour": 0})
    born(vienna, "Wien", date(1980, 3, 16))
    born(lisbon, "Lissabon", date(1980, 3, 16))
    assert birthdays.run(utc("2027-03-15T23:30")) == 1  # Vienna: 16 March 00:30
    assert greeted() == ["Wien"]


def test_once_a_year_however_often_the_job_runs(vienna):
    patient = born(vienna, "Einmal", date(1980, 3, 15))
    for hour in ("08:00", "10:00", "15:00"):
        birthdays.run(utc(f"2027-03-15T{hour}"))
    birthdays.run(utc("2027-03-16T10:00"))
    assert len(greeted()) == 1
    # a run that slipped past the query (a lock that expired mid-run) is stopped by the row
    assert birthdays.greet(patient, 2027, utc("2027-03-15T16:00")) is False
    assert len(greeted()) == 1
    birthdays.run(utc("2028-03-15T10:00"))
    assert len(greeted()) == 2
    assert sorted(BirthdayGreeting.objects.values_list("year", flat=True)) == [2027, 2028]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_greet_once(vienna):
    for i in range(5):
        born(vienna, f"P{i}", date(1980, 3, 15))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            birthdays.run(utc("2027-03-15T10:00"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Message.objects.filter(kind=Kind.BIRTHDAY).count() == 5
    assert BirthdayGreeting.objects.count() == 5


def test_february_29_is_greeted_on_the_28th_in_common_years(vienna):
    born(vienna, "Schalttag", date(2000, 2, 29))
    assert birthdays.celebrated_on(date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthdays.celebrated_on(date(2028, 2, 28)) == [(2, 28)]
    birthdays.run(utc("2027-02-27T10:00"))
    assert greeted() == []
    birthdays.run(utc("2027-02-28T10:00"))
    birthdays.run(utc("2027-03-01T10:00"))
    assert greeted() == ["Schalttag"]
    birthdays.run(utc("2028-02-28T10:00"))  # leap year: not yet
    assert BirthdayGreeting.objects.filter(year=2028).count() == 0
    birthdays.run(utc("2028-02-29T10:00"))
    assert BirthdayGreeting.objects.filter(year=2028).exclude(message_id=None).count() == 1


def test_opt_in_consent_and_channel(vienna, practice, other_practice):
    born(vienna, "Gern", date(1980, 3, 15))
    born(vienna, "Ungern", date(1980, 3, 15), notifications=["reminder"])
    born(vienna, "Ohne", date(1980, 3, 15), consented=())
    born(vienna, "Sms", date(1980, 3, 15), mobile="+4367612345678", consented=("sms",))
    born(other_practice, "Andere", date(1980, 3, 15))  # its practice did not opt in
    birthdays.run(utc("2027-03-15T10:00"))
    assert greeted() == ["Gern"]  # SMS is not switched on for the practice
    reasons = dict(BirthdayGreeting.objects.values_list("patient__last_name", "skipped"))
    assert reasons == {
        "Gern": "",
        "Ungern": "not wanted",
        "Ohne": "no channel with consent",
        "Sms": "no channel with consent",
    }
    save_settings(practice, {"birthday_enabled": False})
    born(vienna, "Spaeter", date(1980, 3, 16))
    birthdays.run(utc("2027-03-16T10:00"))
    assert greeted() == ["Gern"]


def test_the_hour_must_be_outside_quiet_hours(practice):
    with pytest.raises(ValidationError) as caught:
        save_settings(practice, {"birthday_hour": 21})
    assert set(caught.value.message_dict) == {"birthday_hour"}
    with pytest.raises(ValidationError) as caught:
        save_settings(practice, {"birthday_hour": 24, "recall_followup_days": -1})
    assert set(caught.value.message_dict) == {"birthday_hour", "recall_followup_days"}


def test_the_job_is_registered_with_the_worker(vienna):
    born(vienna, "Heute", date(1980, 1, 1))
    names = [job.name for job in jobs()]
    assert "birthdays" in names and "recalls" in names
    job = next(j for j in jobs() if j.name == "birthdays")
    assert isinstance(job.run(), int)
