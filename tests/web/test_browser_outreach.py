"""Outreach pages in a real browser (Debian's Chromium): a mass notice from filter to the
protocol (APT-9), a mass cancellation over two days with expert mode and the waiting list
(APT-6), and birthday greetings and a recall (APT-7, APT-8).

The outcomes are read from the database, not only from the pages: which messages the
outbox holds (kind, channel, recipient, state) and which waiting-list rows exist.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from tests.outreach.conftest import make_patient, no_quiet_hours

from praxisbote.appointments.services import create_appointment
from praxisbote.billing.services import add_credit
from praxisbote.patients.services import save_category

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page, run_worker  # noqa: F401 - fixture and helper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")


def db(read: Callable[[], T]) -> T:
    """``read`` on its own thread: Playwright keeps an asyncio loop current in the test's
    thread, where Django refuses the ORM."""
    from django.db import connections

    out: list[Any] = []

    def work() -> None:
        try:
            out.append(read())
        except BaseException as exc:  # raised again in the test's thread
            out.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert out, "the database read did not finish"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{url}/")


@pytest.fixture
def sms_practice(practice):
    practice.sms_enabled = True
    practice.save(update_fields=["sms_enabled"])
    add_credit(practice, Decimal("20"), "browser test")
    # Notices are held until the quiet hours end (tests/outreach/test_quiet_hours.py);
    # these tests send "now" and run the worker, whatever the hour they run at.
    no_quiet_hours(practice)
    return practice


# ---------------------------------------------------------------- mass notice (APT-9)


@pytest.fixture
def crowd(sms_practice):
    """Prophylaxe: Adler (SMS), Berger (e-mail), Dorn (no consent); Cerny in another
    category, so the category filter leaves Cerny out."""
    practice = sms_practice
    prophylaxe = save_category(practice, None, {"name": "Prophylaxe", "channels": ["sms"]})
    other = save_category(practice, None, {"name": "Kinder", "channels": ["email"]})
    ids = {}
    for last, fields, category in (
        ("Adler", {"mobile": "+4367612345601", "consented": ("sms",)}, prophylaxe),
        ("Berger", {"email": "berger@example.org", "consented": ("email",)}, prophylaxe),
        ("Dorn", {"email": "dorn@example.org"}, prophylaxe),
        ("Cerny", {"email": "cerny@example.org", "consented": ("email",)}, other),
    ):
        ids[last] = make_patient(
            practice, last, first_name="Eva", category=category.pk, **fields
        ).pk
    return ids


def test_mass_notice_filtered_priced_sent_and_found_in_the_protocol(
    live_server,
    owner,
    crowd,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    from praxisbote.messaging.models import Message
    from praxisbote.outreach.models import MassNotice

    page = browser_page
    log_in(page, live_server.url, owner.email)
    page.get_by_role("link", name="Massenbenachrichtigungen", exact=True).first.click()
    page.get_by_role("link", name="Neue Massenbenachrichtigung").click()
    page.get_by_label("Prophylaxe").check()
    page.get_by_role("group", name="Senden über").get_by_label("SMS").check()
    page.get_by_role("group", name="Senden über").get_by_label("E-Mail").check()
    page.get_by_label("Betreff").fill("Praxisurlaub")
    text = "Die Praxis ist vom 23.12. bis 6.1. geschlossen. Vertretung: 01 5559876."
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Empfänger und Kosten prüfen").click()
    page.wait_for_load_state()

    preview = page.locator("#mass-preview")
    assert "2 Patienten erhalten diese Nachricht." in preview.inner_text()
    sms_row = preview.locator("tbody tr").filter(has_text="SMS")
    cells = sms_row.locator("td").all_inner_texts()
    assert cells[0] == "1" and cells[1].startswith("1 ") and "GSM-7" in cells[1]
    # One part at the list price, covered by this month's five free SMS.
    assert cells[2:] == ["0,10 EUR", "5", "0,00 EUR"]
    shown = preview.inner_text()
    assert "Voraussichtliche Kosten: 0,00 EUR" in shown
    assert "Verfügbares Guthaben: 20,00 EUR" in shown
    assert "Keine Einwilligung für die gewählten Kanäle: 1" in shown
    assert "Zum Beispiel: Eva Dorn" in shown
    assert text in preview.locator("pre.preview-text").inner_text()
    assert db(Message.objects.count) == 0, "the check writes nothing"

    page.get_by_role("button", name="An 2 Patienten senden").click()
    page.wait_for_url(re.compile(r".*/mass-notices/[0-9a-f-]{36}/$"))
    assert "2 Nachrichten" in page.locator(".flash").first.inner_text()
    notice = db(lambda: MassNotice.objects.get())

    run_worker(run_jobs=False)
    sent = db(
        lambda: sorted(
            Message.objects.filter(campaign_id=notice.pk).values_list(
                "patient__last_name", "kind", "channel", "recipient", "state"
            )
        )
    )
    assert sent == [
        ("Adler", "mass", "sms", "+4367612345601", "sent"),
        ("Berger", "mass", "email", "berger@example.org", "sent"),
    ]
    assert db(Message.objects.count) == 2, "Cerny (other category) and Dorn got nothing"

    page.get_by_role("link", name="Protokoll", exact=True).first.click()
    page.get_by_label("Art").select_option(label="Massenbenachrichtigung")
    page.get_by_role("button", name="Filtern").click()
    page.wait_for_load_state()
    rows = page.locator("table.protocol tbody tr")
    assert rows.count() == 2
    for recipient, channel in (("+4367612345601", "SMS"), ("berger@example.org", "E-Mail")):
        row = rows.filter(has_text=recipient)
        assert row.count() == 1
        assert row.locator("td").nth(3).inner_text() == channel
        assert row.locator(".state").inner_text() == "gesendet"
    # The notice's page shows the same messages, now sent, and nothing left to withdraw.
    page.goto(f"{live_server.url}/mass-notices/{notice.pk}/")
    assert "gesendet 2" in page.locator("dl.facts").inner_text()
    assert page.get_by_role("button", name=re.compile("zurückziehen")).count() == 0


# ---------------------------------------------------------------- mass cancellation (APT-6)


def _next_monday(zone: ZoneInfo) -> date:
    today = datetime.now(zone).date()
    return today + timedelta(days=14 - today.weekday())


@pytest.fixture
def sick_week(sms_practice):
    """Monday: Adler (SMS) 9:00, Berger (e-mail; mobile without SMS consent) 10:00.
    Tuesday: Adler 9:00, Cerny (no consent: to be called) 11:00, Dorn 12:00 (kept).
    Wednesday: Egger (outside the two days)."""
    practice = sms_practice
    zone = ZoneInfo(practice.timezone)
    monday = _next_monday(zone)
    people = {
        "Adler": {"mobile": "+4367612345601", "consented": ("sms",), "channels": ["sms"]},
        "Berger": {
            "email": "berger@example.org",
            "mobile": "+4367612345602",
            "consented": ("email",),
        },
        "Cerny": {"mobile": "+4367612345603"},
        "Dorn": {"email": "dorn@example.org", "consented": ("email",)},
        "Egger": {"email": "egger@example.org", "consented": ("email",)},
    }
    patients = {
        last: make_patient(practice, last, first_name="Eva", **fields)
        for last, fields in people.items()
    }
    booked = {}
    for key, last, offset, hour in (
        ("adler_mon", "Adler", 0, 9),
        ("berger_mon", "Berger", 0, 10),
        ("adler_tue", "Adler", 1, 9),
        ("cerny_tue", "Cerny", 1, 11),
        ("dorn_tue", "Dorn", 1, 12),
        ("egger_wed", "Egger", 2, 9),
    ):
        start = datetime.combine(monday + timedelta(days=offset), datetime.min.time(), zone)
        start = start.replace(hour=hour)
        booked[key], _w = create_appointment(
            practice,
            {
                "patient_id": patients[last].pk,
                "start": start,
                "end": start + timedelta(minutes=30),
                "practitioner": "Dr. Huber",
            },
            send_confirmation=False,
        )
    return {"monday": monday, "patients": patients, "booked": booked}


def test_mass_cancellation_of_two_days_with_expert_mode_and_the_waiting_list(
    live_server,
    owner,
    sick_week,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    from praxisbote.appointments.models import Appointment
    from praxisbote.messaging.models import Message
    from praxisbote.outreach.models import WaitingListEntry

    monday, booked = sick_week["monday"], sick_week["booked"]
    tuesday = monday + timedelta(days=1)
    berger = sick_week["patients"]["Berger"]
    page = browser_page
    log_in(page, live_server.url, owner.email)
    page.goto(f"{live_server.url}/appointments/?day={monday.isoformat()}")
    page.get_by_role("link", name="Diesen Tag absagen (Massenabsage)").click()
    page.wait_for_load_state()
    assert page.locator("section.mass-day").count() == 1

    # A month and a day is too long: the message sits next to the last day.
    page.get_by_label("Letzter Tag").fill((monday + timedelta(days=31)).isoformat())
    page.get_by_role("button", name="Termine anzeigen").click()
    page.wait_for_load_state()
    error = page.locator("#id_date_to_error")
    assert "Höchstens 31 Tage auf einmal" in error.inner_text()
    assert page.get_by_label("Letzter Tag").get_attribute("aria-invalid") == "true"
    assert page.locator("section.mass-day").count() == 0

    page.get_by_label("Letzter Tag").fill(tuesday.isoformat())
    page.get_by_role("button", name="Termine anzeigen").click()
    page.wait_for_load_state()
    days = page.locator("section.mass-day")
    assert days.count() == 2
    assert "Montag" in days.nth(0).locator("h2").inner_text()
    assert "Dienstag" in days.nth(1).locator("h2").inner_text()
    assert "Egger" not in page.locator("form.mass-cancel").inner_text()
    boxes = page.locator("input[name=appointment]")
    assert boxes.count() == 5 and all(boxes.nth(i).is_checked() for i in range(5))

    # Tuesday: none (JavaScript, no reload), then Adler and Cerny again; Dorn is kept.
    tue = days.nth(1)
    page.evaluate("window.samePage = true")
    tue.get_by_role("button", name=re.compile("^Keine ankreuzen")).click()
    assert not any(b.is_checked() for b in tue.locator("input[name=appointment]").all())
    assert page.evaluate("window.samePage === true"), "ticked here, without a reload"
    assert all(b.is_checked() for b in days.nth(0).locator("input[name=appointment]").all())
    tue.get_by_label(re.compile("Absagen 09:00 Eva Adler")).check()
    tue.get_by_label(re.compile("Absagen 11:00 Eva Cerny")).check()
    # Expert mode: Berger by SMS instead of e-mail.
    page.get_by_label("Kanal für Eva Berger").select_option("sms")
    page.get_by_label("Patienten auf die Warteliste setzen").check()
    wishes = page.get_by_label("Notiz auf ihren Wartelisten-Einträgen")
    wishes.fill("bitte vormittags")
    # Enter in the note field only shows the page again, with every choice kept.
    with page.expect_navigation():
        wishes.press("Enter")
    assert db(lambda: Appointment.objects.filter(status="cancelled").count()) == 0
    assert page.get_by_label("Kanal für Eva Berger").input_value() == "sms"
    assert page.get_by_label(re.compile("Absagen 12:00 Eva Dorn")).is_checked() is False
    assert page.get_by_label("Patienten auf die Warteliste setzen").is_checked()

    page.get_by_role("button", name="Angekreuzte Termine absagen").click()
    page.wait_for_url(re.compile(r".*/mass-cancellations/[0-9a-f-]{36}/$"))
    summary = page.locator("p.big-line").inner_text()
    assert "4 Termine abgesagt, 2 Patienten werden informiert." in summary
    to_call = page.locator("section.to-call")
    assert "Eva Cerny" in to_call.inner_text() and "Adler" not in to_call.inner_text()
    reports = page.locator("table.mass-report")
    assert reports.count() == 2
    monday_rows = reports.nth(0).locator("tbody tr")
    berger_row = monday_rows.filter(has_text="Berger")
    assert "SMS" in berger_row.inner_text() and "Expertenmodus" in berger_row.inner_text()

    statuses = db(lambda: dict(Appointment.objects.values_list("pk", "status")))
    assert {k: statuses[a.pk] for k, a in booked.items()} == {
        "adler_mon": "cancelled",
        "berger_mon": "cancelled",
        "adler_tue": "cancelled",
        "cerny_tue": "cancelled",
        "dorn_tue": "booked",
        "egger_wed": "booked",
    }
    time.sleep(1.2)  # the notices are written a second ahead
    run_worker(run_jobs=False)
    notices = db(
        lambda: sorted(
            Message.objects.filter(kind="cancellation").values_list(
                "patient__last_name", "channel", "recipient", "state"
            )
        )
    )
    assert notices == [  # one SMS to Adler for both days, not one per appointment
        ("Adler", "sms", "+4367612345601", "sent"),
        ("Berger", "sms", "+4367612345602", "sent"),
    ]
    adler_sms = db(lambda: Message.objects.get(kind="cancellation", patient__last_name="Adler"))
    assert adler_sms.body.startswith("Ihre Termine am "), adler_sms.body
    assert adler_sms.body.count(" Uhr") == 2, adler_sms.body
    kept = db(
        lambda: set(
            Message.objects.filter(
                kind="reminder", appointment_id=booked["dorn_tue"].pk
            ).values_list("state", flat=True)
        )
    )
    assert kept and "cancelled" not in kept, "the kept appointment keeps its reminder"
    withdrawn = db(
        lambda: set(
            Message.objects.filter(
                kind="reminder", appointment_id=booked["berger_mon"].pk
            ).values_list("state", flat=True)
        )
    )
    assert withdrawn == {"cancelled"}

    entries = db(
        lambda: sorted(WaitingListEntry.objects.values_list("patient__last_name", "wishes"))
    )
    assert entries == [
        ("Adler", "bitte vormittags"),
        ("Berger", "bitte vormittags"),
        ("Cerny", "bitte vormittags"),
    ]
    page.get_by_role("link", name="Warteliste", exact=True).first.click()
    page.wait_for_load_state()
    rows = page.locator("table tbody tr")
    assert rows.count() == 3
    names = rows.locator("td:nth-child(2)").all_inner_texts()
    assert sorted(names) == ["Eva Adler", "Eva Berger", "Eva Cerny"]
    assert all("bitte vormittags" in r for r in rows.all_inner_texts())
    assert str(berger.pk) in rows.filter(has_text="Berger").locator("a").get_attribute("href")


# ---------------------------------------------------------------- birthdays and recalls


@pytest.fixture
def recall_patient(practice):
    return make_patient(
        practice, "Huber", first_name="Franz", email="franz@example.org", consented=("email",)
    )


def test_birthday_greetings_switched_on_and_a_recall_set_and_listed(
    live_server,
    owner,
    practice,
    recall_patient,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    from praxisbote.outreach.models import OutreachSettings, Recall

    zone = ZoneInfo(practice.timezone)
    due = datetime.now(zone).date() + timedelta(days=10)
    page = browser_page
    log_in(page, live_server.url, owner.email)
    page.get_by_role("link", name="Geburtstage und Recalls", exact=True).first.click()
    switch = page.get_by_label("Geburtstagsglückwünsche senden")
    assert not switch.is_checked()
    switch.check()
    hour = page.get_by_label("Geburtstagsglückwünsche um (Stunde)")
    hour.fill("22")  # inside the practice's quiet hours: refused next to the field
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_load_state()
    assert "22:00" in page.locator("#id_birthday_hour_error").inner_text()
    assert page.get_by_label("Geburtstagsglückwünsche senden").is_checked(), "input kept"
    assert not db(lambda: OutreachSettings.objects.filter(birthday_enabled=True).exists())
    page.get_by_label("Geburtstagsglückwünsche um (Stunde)").fill("10")
    page.get_by_role("button", name="Speichern").click()
    page.wait_for_load_state()
    assert "Einstellungen gespeichert." in page.locator(".flash").first.inner_text()
    assert page.get_by_label("Geburtstagsglückwünsche senden").is_checked()
    assert page.get_by_label("Geburtstagsglückwünsche um (Stunde)").input_value() == "10"
    saved = db(lambda: OutreachSettings.objects.get(practice=practice))
    assert (saved.birthday_enabled, saved.birthday_hour) == (True, 10)
    assert "In den nächsten 30 Tagen ist kein Recall fällig." in page.locator("main").inner_text()

    page.goto(f"{live_server.url}/patients/{recall_patient.pk}/")
    page.get_by_role("link", name="Recall setzen").click()
    page.get_by_label("Recall fällig am").fill(due.isoformat())
    page.get_by_label("Wiederholen alle (Monate)").fill("6")
    page.get_by_label("Notiz").fill("PZR")
    page.get_by_role("button", name="Recall speichern").click()
    page.wait_for_url(f"{live_server.url}/patients/{recall_patient.pk}/")
    assert "Der Recall wurde gespeichert." in page.locator(".flash").first.inner_text()
    recall = db(lambda: Recall.objects.get(patient_id=recall_patient.pk))
    assert (recall.due_date, recall.interval_months, recall.note) == (due, 6, "PZR")

    page.get_by_role("link", name="Geburtstage und Recalls", exact=True).first.click()
    page.wait_for_load_state()
    listed = page.locator("table tbody tr")
    assert listed.count() == 1
    cells = listed.first.locator("td").all_inner_texts()
    assert cells[0] == due.strftime("%d.%m.%Y")
    assert cells[1] == "Franz Huber" and cells[2] == "PZR"
