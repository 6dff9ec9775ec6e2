"""The patient picker in a real browser (Debian's Chromium), with more than 2,000
patients (the select it replaced stopped there): type three letters, the matches come
with their birth dates, pick one of two namesakes with the keyboard, book; the template
editor's preview follows a patient picked with the mouse."""

from __future__ import annotations

import re

import pytest
from tests.many_patients import add_patients

from praxisbote.appointments.models import Appointment
from praxisbote.patients.services import create_patient

from .test_browser import browser_page  # noqa: F401 - the fixture is used
from .test_browser_outreach import db, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def namesakes(practice):
    add_patients(practice, 2100)
    older = create_patient(
        practice, {"first_name": "Maria", "last_name": "Zwölfer", "birth_date": "1961-04-02"}
    )
    younger = create_patient(
        practice, {"first_name": "Maria", "last_name": "Zwölfer", "birth_date": "1988-11-23"}
    )
    return older, younger


def test_type_three_letters_pick_the_younger_namesake_and_book(
    live_server,
    owner,
    namesakes,
    browser_page,  # noqa: F811 - after the database fixtures (see test_browser.py)
):
    _older, younger = namesakes
    page = browser_page
    log_in(page, live_server.url, owner.email)
    page.goto(f"{live_server.url}/appointments/new/")
    page.wait_for_selector("[data-patient-picker][data-ready='1']")
    assert page.locator("select[name=patient]").count() == 0
    search = page.get_by_role("combobox", name="Patient")
    search.press_sequentially("zwö", delay=60)
    options = page.get_by_role("option")
    options.first.wait_for()
    assert options.count() == 2
    assert [o.inner_text() for o in options.all()] == [
        "Zwölfer, Maria · geb. 02.04.1961",
        "Zwölfer, Maria · geb. 23.11.1988",
    ]
    assert search.get_attribute("aria-expanded") == "true"
    status = page.locator("[data-picker-status]")
    assert "2 Patienten gefunden" in status.inner_text()
    search.press("ArrowDown")
    search.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    search.press("Enter")  # takes the match, does not send the form
    assert search.get_attribute("aria-expanded") == "false"
    chosen = page.locator("[data-picker-chosen]")
    assert chosen.is_visible() and "geb. 23.11.1988" in chosen.inner_text()
    assert page.url.endswith("/appointments/new/")

    page.locator("input[name=date]").fill("2030-03-11")
    page.locator("input[name=time]").fill("10:15")
    page.get_by_label("Ort").fill("Raum 4")
    page.get_by_label("Ort").press("Enter")  # Enter in another field books, as usual
    page.wait_for_url(re.compile(r".*/appointments/[0-9a-f-]{36}/$"))
    assert "Der Termin ist gebucht." in page.locator(".flash").first.inner_text()
    booked = db(lambda: Appointment.objects.select_related("patient").get())
    assert booked.patient_id == younger.pk and booked.location == "Raum 4"


def test_typing_again_drops_the_choice_and_the_editor_preview_follows_the_pick(
    live_server,
    owner,
    namesakes,
    browser_page,  # noqa: F811
):
    older, _younger = namesakes
    page = browser_page
    log_in(page, live_server.url, owner.email)
    page.goto(f"{live_server.url}/templates/reminder/sms/de/")
    page.wait_for_selector("#template-form[data-ready='1']")
    page.locator("textarea[name=text]").fill("Hallo {{ patient.full_name }}")
    page.wait_for_function(
        "document.getElementById('preview-text').textContent === 'Hallo Silvana Müller'"
    )
    search = page.get_by_role("combobox", name="Vorschau für")
    search.press_sequentially("02.04.1961", delay=20)
    page.get_by_role("option", name=re.compile("Zwölfer, Maria")).click()
    page.wait_for_function(
        "document.getElementById('preview-text').textContent === 'Hallo Maria Zwölfer'"
    )
    hidden = page.locator("input[name=preview_patient]")
    assert hidden.input_value() == str(older.pk)
    search.press("End")
    search.press_sequentially("x")  # changing the text drops the choice
    assert hidden.input_value() == ""
    assert page.locator("[data-picker-chosen]").is_hidden()
    page.wait_for_function(
        "document.getElementById('preview-text').textContent === 'Hallo Silvana Müller'"
    )
