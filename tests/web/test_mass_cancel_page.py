"""Mass cancellation of a day in the staff UI (APT-6): channels, expert mode, report."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.outreach.conftest import make_patient

from praxisbote.appointments.models import Appointment
from praxisbote.appointments.services import create_appointment
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach.models import WaitingListEntry

from .helpers import field_error, text

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


# ---------------------------------------------------------------- several days


def _week(practice):
    """A sick week: Adler on Monday and Tuesday (one patient, two appointments), Berger by
    e-mail on Tuesday with Dr. Maier, nobody on Wednesday."""
    practice.sms_enabled = True
    practice.save()
    adler = make_patient(
        practice,
        "Adler",
        mobile="+4367612345601",
        email="a@example.org",
        consented=("sms", "email"),
        channels=["sms"],
    )
    berger = make_patient(practice, "Berger", email="b@example.org", consented=("email",))
    booked = {}
    for name, day, hour, patient, who in (
        ("mon", 11, 9, adler, "Dr. Huber"),
        ("tue", 12, 9, adler, "Dr. Huber"),
        ("tue_berger", 12, 10, berger, "Dr. Maier"),
    ):
        start = datetime(2030, 3, day, hour, tzinfo=VIENNA)
        booked[name], _w = create_appointment(
            practice,
            {
                "patient_id": patient.pk,
                "start": start,
                "end": start.replace(minute=30),
                "practitioner": who,
            },
        )
    return booked


WEEK = {"date_from": "2030-03-11", "date_to": "2030-03-13"}


def test_several_days_are_listed_by_day_with_one_expert_select_per_patient(owner_client, practice):
    booked = _week(practice)
    response = owner_client.get("/appointments/mass-cancel/", WEEK)
    html = response.content.decode()
    shown = text(html)
    assert "Massenabsage von Montag, 11. März 2030 bis Mittwoch, 13. März 2030" in shown
    assert html.index('id="day-2030-03-11"') < html.index('id="day-2030-03-12"')
    assert 'id="day-2030-03-13"' not in html and "keine am Mi 13.3." in shown
    assert "3 gebuchte Termine" in shown
    adler = booked["mon"].patient_id
    assert html.count(f'name="channel_{adler}"') == 1, "one expert-mode choice per patient"
    assert "wie am Mo 11.3." in shown
    assert html.count('name="appointment"') == 3 and html.count(" checked") >= 3
    assert "Dr. Maier" in shown  # the practitioner filter is offered


def test_two_days_cancelled_with_an_override_one_notice_per_patient(owner_client, practice):
    booked = _week(practice)
    adler = booked["mon"].patient_id
    response = owner_client.post(
        "/appointments/mass-cancel/",
        {
            **WEEK,
            "appointment": [str(a.pk) for a in booked.values()],
            f"channel_{adler}": "email",
            "notify": "1",
            "waiting_list": "1",
            "wishes": "vormittags",
            "cancel": "1",
        },
    )
    assert response.status_code == 302, text(response.content)
    assert set(Appointment.objects.values_list("status", flat=True)) == {"cancelled"}
    notices = Message.objects.filter(kind=Kind.CANCELLATION)
    assert sorted(notices.values_list("recipient", "channel")) == [
        ("a@example.org", "email"),
        ("b@example.org", "email"),
    ]
    to_adler = notices.get(recipient="a@example.org")
    assert to_adler.appointment_id == booked["mon"].pk
    assert to_adler.subject == "Absage Ihrer Termine"
    assert "- Montag, 11.03. um 09:00 Uhr\n- Dienstag, 12.03. um 09:00 Uhr" in to_adler.body
    entries = WaitingListEntry.objects.order_by("patient__last_name")
    assert [(e.patient.last_name, e.wishes) for e in entries] == [
        ("Adler", "vormittags"),
        ("Berger", "vormittags"),
    ]
    report = owner_client.get(response["Location"], follow=True)
    shown = text(report.content)
    assert "3 Termine wurden abgesagt. 2 Patienten werden informiert." in shown  # the flash
    assert "Wer wie informiert wurde am Montag, 11. März 2030" in shown
    assert "Wer wie informiert wurde am Dienstag, 12. März 2030" in shown
    assert shown.count("Expertenmodus") == 2
    assert "bitte anrufen" not in shown
    # each appointment's row links to the one notice that told about it
    assert report.content.decode().count(f"/protocol/{to_adler.pk}/") == 2
    # the second appointment's page lists the notice too (it is about both)
    tuesday = owner_client.get(f"/appointments/{booked['tue'].pk}/").content.decode()
    assert f"/protocol/{to_adler.pk}/" in tuesday
    assert "Keine Nachrichten zu diesem Termin" not in text(tuesday)


def test_a_range_that_is_too_long_or_backwards_is_refused_next_to_the_last_day(
    owner_client, practice
):
    booked = _week(practice)
    backwards = owner_client.get(
        "/appointments/mass-cancel/", {"date_from": "2030-03-12", "date_to": "2030-03-11"}
    )
    assert "vor dem ersten Tag" in field_error(backwards.content, "date_to")
    long = owner_client.get(
        "/appointments/mass-cancel/", {"date_from": "2030-03-11", "date_to": "2030-04-11"}
    )
    assert "Höchstens 31 Tage auf einmal" in field_error(long.content, "date_to")
    assert "10.04.2030" in field_error(long.content, "date_to")
    assert 'name="appointment"' not in long.content.decode()
    impossible = owner_client.get("/appointments/mass-cancel/?day=2030-02-30")
    assert impossible.status_code == 200 and field_error(impossible.content, "date_from")
    posted = owner_client.post(
        "/appointments/mass-cancel/",
        {"date_from": "2030-03-11", "date_to": "2030-04-30", "appointment": [booked["mon"].pk]},
    )
    assert posted.status_code == 200 and field_error(posted.content, "date_to")
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}


def test_all_and_none_per_day_work_without_javascript_and_keep_the_choices(owner_client, practice):
    booked = _week(practice)
    adler = booked["mon"].patient_id
    form = {
        **WEEK,
        "appointment": [str(a.pk) for a in booked.values()],
        f"channel_{adler}": "none",
        "notify": "1",
        "wishes": "abends",
    }
    page = owner_client.post(
        "/appointments/mass-cancel/", {**form, "select": "none:2030-03-12"}
    ).content.decode()
    assert Message.objects.filter(kind=Kind.CANCELLATION).count() == 0
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}
    assert _ticked(page) == {str(booked["mon"].pk)}
    assert '<option value="none" selected>' in page and 'value="abends"' in page
    ticked = _ticked(
        owner_client.post(
            "/appointments/mass-cancel/",
            {**form, "appointment": [], "select": "all:2030-03-12"},
        ).content.decode()
    )
    assert ticked == {str(booked["tue"].pk), str(booked["tue_berger"].pk)}
    # Enter in the note field presses the hidden first button: the page only comes again.
    again = owner_client.post("/appointments/mass-cancel/", {**form, "refresh": "1"})
    assert again.status_code == 200
    assert set(Appointment.objects.values_list("status", flat=True)) == {"booked"}


def _ticked(page: str) -> set[str]:
    import re

    return set(re.findall(r'name="appointment" value="([0-9a-f-]{36})"[^>]* checked', page))


def test_a_channel_chosen_for_a_kept_appointment_is_no_reason_to_refuse(owner_client, practice):
    """Expert mode, then unticked: the override used to fail ("no appointment in the
    selection") although the patient is simply not cancelled."""
    booked = _week(practice)
    response = owner_client.post(
        "/appointments/mass-cancel/",
        {
            **WEEK,
            "appointment": [str(booked["tue_berger"].pk)],
            f"channel_{booked['mon'].patient_id}": "sms",
            "notify": "1",
        },
    )
    assert response.status_code == 302, text(response.content)
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {
        booked["mon"].pk: "booked",
        booked["tue"].pk: "booked",
        booked["tue_berger"].pk: "cancelled",
    }


def test_only_one_practitioners_appointments(owner_client, practice):
    booked = _week(practice)
    query = {**WEEK, "practitioner": "Dr. Huber"}
    shown = text(owner_client.get("/appointments/mass-cancel/", query).content)
    assert "Adler" in shown and "Berger" not in shown and "2 gebuchte Termine" in shown
    everything = [str(a.pk) for a in booked.values()]
    response = owner_client.post(
        "/appointments/mass-cancel/", {**query, "appointment": everything, "notify": "1"}
    )
    assert response.status_code == 302
    assert Appointment.objects.get(pk=booked["tue_berger"].pk).status == "booked"
    assert Appointment.objects.filter(status="cancelled").count() == 2


def test_the_report_names_whom_to_call_first(owner_client, practice):
    first, second = _day(practice)
    response = owner_client.post(
        "/appointments/mass-cancel/",
        {"day": "2030-03-11", "appointment": [str(first.pk), str(second.pk)], "notify": "1"},
    )
    report = owner_client.get(response["Location"])
    html = report.content.decode()
    call = html[html.index('class="to-call"') : html.index("</section>")]
    assert "Cerny" in call and "Adler" not in call
    assert "Nicht per Nachricht informiert: bitte 1 Patienten anrufen" in text(call)


def test_the_week_view_offers_to_cancel_the_whole_week(owner_client, practice):
    _week(practice)
    html = owner_client.get("/appointments/week/?day=2030-03-13").content.decode()
    assert "/appointments/mass-cancel/?date_from=2030-03-11&amp;date_to=2030-03-17" in html
