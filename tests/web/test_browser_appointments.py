"""Appointments in a real browser (Debian's Chromium): book, see the confirmation in the
protocol, move and answer seed 002's reminder question, then open the express slip on a
phone-sized screen and download the .ics."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from praxisbote.patients.services import create_patient

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page, run_worker  # noqa: F401 - the fixture is used

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def berta(practice):
    return create_patient(
        practice,
        {
            "first_name": "Berta",
            "last_name": "Gruber",
            "email": "berta@example.at",
            "consent": {"email": {"granted": True, "source": "Anmeldebogen"}},
        },
    )


def test_book_move_and_open_the_slip_on_a_phone(
    live_server,
    owner,
    practice,
    berta,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    zone = ZoneInfo(practice.timezone)
    day = (datetime.now(zone) + timedelta(days=4)).date()
    later = day + timedelta(days=2)
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="Termine", exact=True).first.click()
    page.get_by_role("link", name="Neuer Termin").click()
    page.get_by_role("combobox", name="Patient").fill("Gru")
    page.get_by_role("option", name=re.compile("Gruber, Berta")).click()
    page.locator("input[name=date]").fill(day.isoformat())
    page.locator("input[name=time]").fill("10:15")
    page.get_by_label("Ort").fill("Raum 4")
    page.get_by_role("button", name="Termin buchen").click()
    page.wait_for_url(re.compile(r".*/appointments/[0-9a-f-]{36}/$"))
    detail_url = page.url
    assert "Der Termin ist gebucht." in page.locator(".flash").first.inner_text()
    assert "noch nicht benachrichtigt" in page.locator("h1 .bubble").inner_text()

    time.sleep(1.2)  # the confirmation is written for the moment of booking (+1 s)
    run_worker(run_jobs=False)
    page.get_by_role("link", name="Protokoll", exact=True).first.click()
    rows = page.locator("table.protocol tbody tr")
    confirmation = rows.filter(has_text="Bestätigung")
    assert confirmation.count() == 1
    assert "berta@example.at" in confirmation.inner_text()
    assert confirmation.locator(".state").inner_text() == "gesendet"

    page.goto(detail_url)
    assert "benachrichtigt" in page.locator("h1 .bubble").inner_text()
    page.get_by_role("link", name="Verschieben").first.click()
    page.locator("input[name=date]").fill(later.isoformat())
    page.locator("input[name=time]").fill("16:45")
    page.get_by_role("button", name="Verschieben").click()
    # Unanswered, the question stays on the page with its message.
    assert page.locator("#id_renew_reminders_error").is_visible()
    page.get_by_label("Ja, neue Erinnerung für die neue Zeit erstellen").check()
    page.get_by_role("button", name="Verschieben").click()
    page.wait_for_url(detail_url)
    assert "Der Termin ist verschoben." in page.locator(".flash").first.inner_text()
    timeline = page.locator("section.appointment-message").all_inner_texts()
    assert any("storniert" in t and "Erinnerung" in t for t in timeline), timeline
    assert any("geplant" in t and "Erinnerung" in t for t in timeline), timeline
    slip_url = page.locator("a.slip-link").get_attribute("href")
    assert re.fullmatch(r"https?://[^/]+/t/[A-Za-z0-9]{7}", slip_url)
    code = slip_url.rsplit("/", 1)[1]

    phone = page.context.browser.new_context(
        locale="de-AT", viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True
    )
    try:
        mobile = phone.new_page()
        mobile.goto(f"{live_server.url}/t/{code}")
        when = mobile.get_by_test_id("when").inner_text()
        assert "16:45" in when and str(later.day) in when
        assert mobile.get_by_test_id("place").inner_text() == "Raum 4"
        assert "Gruber" not in mobile.content()
        # Mobile first: nothing wider than the screen.
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        with mobile.expect_download() as info:
            mobile.get_by_role("link", name="In meinen Kalender eintragen (.ics)").click()
        content = open(info.value.path(), "rb").read()
        event = next(iter(Calendar.from_ical(content).walk("VEVENT")))
        start = event.decoded("dtstart").astimezone(zone)
        assert (start.date(), start.hour, start.minute) == (later, 16, 45)
        assert str(event["location"]) == "Raum 4"
        mobile.get_by_role("button", name="Ich kann nicht kommen").click()
        assert "Praxis wurde informiert" in mobile.locator(".told").inner_text()
    finally:
        phone.close()

    page.goto(f"{live_server.url}/appointments/?day={later.isoformat()}")
    assert "kann nicht kommen" in page.locator("table.appointments").inner_text()
