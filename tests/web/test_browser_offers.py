"""A waiting-list offer in a real browser (Debian's Chromium): staff offer a free slot on
the waiting-list page, the first patient opens the link from the message on a 390 px
phone, taps "Termin übernehmen" and lands on the express slip; the second patient's link
then says "already taken" with the practice's phone; staff see who took it."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from tests.outreach.conftest import make_patient, no_quiet_hours

from praxisbote.appointments.models import Appointment
from praxisbote.messaging.models import Message
from praxisbote.outreach import waiting

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page  # noqa: F401 - the fixture is used

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")
PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"https?://[^/\s]+(/o/[A-Za-z0-9]{7})")


@pytest.fixture
def waiting_two(practice):
    no_quiet_hours(practice)
    people = []
    for first, last in (("Berta", "Gruber"), ("Carl", "Weiss")):
        patient = make_patient(
            practice,
            last,
            first_name=first,
            email=f"{first.lower()}@example.at",
            consented=("email",),
        )
        waiting.add(practice, patient.pk, "vormittags")
        people.append(patient)
    return people


def orm(read: Callable[[], T]) -> T:
    """Run a database read on its own thread: Playwright keeps an asyncio loop current in
    the test's thread, where Django refuses ORM calls (see test_browser.py)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            result.append(read())
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert not errors, errors
    return result[0]


def link_of(patient) -> str:
    """The path of the offer link in the message the patient got."""
    body = orm(lambda: Message.objects.get(patient=patient).body)
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def on_phone(page, live_server, path: str):
    phone = page.context.browser.new_context(
        locale="de-AT", viewport=PHONE, is_mobile=True, has_touch=True
    )
    mobile = phone.new_page()
    mobile.goto(f"{live_server.url}{path}")
    return phone, mobile


def test_staff_offer_a_slot_and_the_first_patient_takes_it_on_a_phone(
    live_server,
    owner,
    practice,
    waiting_two,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    berta, carl = waiting_two
    zone = ZoneInfo(practice.timezone)
    day = (datetime.now(zone) + timedelta(days=3)).date()
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/waiting-list/")
    page.locator("input[name=start]").fill(f"{day.isoformat()}T11:15")
    page.get_by_label("Ort").fill("Raum 4")
    page.get_by_role("button", name="Angebot senden").click()
    page.wait_for_url(f"{live_server.url}/waiting-list/")
    assert "Angeboten an: Berta Gruber, Carl Weiss." in page.locator(".flash").first.inner_text()
    assert "offen bis" in page.locator("table.offers").inner_text()

    phone, mobile = on_phone(page, live_server, link_of(berta))
    try:
        when = mobile.get_by_test_id("when").inner_text()
        assert "11:15" in when and str(day.day) in when
        assert mobile.get_by_test_id("place").inner_text() == "Raum 4"
        assert "Gruber" not in mobile.content(), "the page names no patient"
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        button = mobile.get_by_role("button", name="Termin übernehmen")
        box = button.bounding_box()
        assert box is not None and box["width"] >= 300, "a thumb-sized button"
        button.tap()
        mobile.wait_for_url(re.compile(r".*/t/[A-Za-z0-9]{7}$"))
        assert "11:15" in mobile.get_by_test_id("when").inner_text()
        assert mobile.get_by_role("link", name="In meinen Kalender eintragen (.ics)").is_visible()
    finally:
        phone.close()

    appointment = orm(lambda: Appointment.objects.select_related("patient").get())
    assert appointment.patient == berta and appointment.location == "Raum 4"
    local = appointment.start.astimezone(zone)
    assert (local.date(), local.hour, local.minute) == (day, 11, 15)

    phone, mobile = on_phone(page, live_server, link_of(carl))
    try:
        state = mobile.get_by_test_id("state").inner_text()
        assert "schon vergeben" in state and practice.phone in state
        assert mobile.get_by_role("button", name="Termin übernehmen").count() == 0
        assert mobile.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()

    page.goto(f"{live_server.url}/waiting-list/")
    assert "übernommen von Berta Gruber" in page.locator("table.offers").inner_text()
    assert "Gruber" not in page.locator("table.waiting").inner_text()
    assert orm(Appointment.objects.count) == 1
