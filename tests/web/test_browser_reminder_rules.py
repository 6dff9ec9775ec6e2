"""The reminder rules page in Debian's Chromium: the owner adds a 48-hour reminder with the
page's own buttons, changes the quiet hours, saves and finds both after a reload; an
appointment booked through the API afterwards shows its two scheduled reminders."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from praxisbote.appointments.rules import lead_due
from praxisbote.patients.services import create_patient
from praxisbote.practices.services import create_api_key

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


@pytest.fixture
def key(practice) -> str:
    return create_api_key(practice, "Praxissoftware").secret


def test_owner_adds_a_48_hour_reminder_and_changes_the_quiet_hours(
    live_server,
    owner,
    practice,
    berta,
    key,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Erinnerungsregeln").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Erinnerungsregeln"

    values = page.locator("input[name=lead_hours_value]")
    assert values.count() == 1, "the script removed the empty row and offers a button instead"
    assert values.first.input_value() == "1"
    assert page.get_by_label("Einheit der Erinnerung 1").input_value() == "days"
    add = page.get_by_role("button", name="Erinnerung hinzufügen")
    add.click()
    page.get_by_label("Erinnerung 2", exact=True).fill("48")
    assert page.get_by_label("Einheit der Erinnerung 2").input_value() == "hours"
    add.click()
    page.get_by_label("Erinnerung 3", exact=True).fill("3")
    page.locator(".lead-row").nth(2).get_by_role("button", name="Entfernen").click()
    assert values.count() == 2
    page.get_by_label("Ruhezeit von").fill("21:00")
    page.get_by_label("Ruhezeit bis").fill("07:00")
    page.get_by_role("button", name="Regeln speichern").click()
    assert "Erinnerungsregeln gespeichert." in page.locator(".flash").first.inner_text()

    page.reload()
    assert [values.nth(i).input_value() for i in range(values.count())] == ["2", "1"]
    assert page.get_by_label("Einheit der Erinnerung 1").input_value() == "days", "48 h = 2 days"
    assert page.get_by_label("Ruhezeit von").input_value() == "21:00"
    assert page.get_by_label("Ruhezeit bis").input_value() == "07:00"
    explained = page.get_by_test_id("quiet-explained").inner_text()
    assert "21:00 bis 07:00" in explained and "um 20:59" in explained

    zone = ZoneInfo(practice.timezone)
    day = (datetime.now(zone) + timedelta(days=5)).date()
    start = datetime.combine(day, time(11, 0), tzinfo=zone)
    booked = page.request.post(
        f"{live_server.url}/api/v1/appointments",
        data={
            "patient_id": str(berta.pk),
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    assert booked.status == 201, booked.text()
    appointment = booked.json()
    due = sorted(
        datetime.fromisoformat(m["due_at"])
        for m in appointment["messages"]
        if m["kind"] == "reminder"
    )
    assert due == [lead_due(start, 48, zone), lead_due(start, 24, zone)]

    page.goto(f"{live_server.url}/appointments/{appointment['id']}/")
    sections = page.locator("section.appointment-message").all_inner_texts()
    reminders = [s for s in sections if "Erinnerung" in s and "geplant" in s]
    assert len(reminders) == 2, sections
