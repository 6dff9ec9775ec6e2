"""The template editor in Debian's Chromium (TPL-4): type, see the SMS counter and the
preview follow, see the long-name warning, save a broken template and read the error next
to the field."""

from __future__ import annotations

import pytest

from praxisbote.patients.services import create_patient

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def long_named(practice):
    return create_patient(
        practice,
        {
            "salutation": "Frau",
            "first_name": "Maximiliane",
            "last_name": "Schwarzenberger-Hohenstein",
        },
    )


def login(page, url: str, owner) -> None:
    page.goto(f"{url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{url}/")


def test_editor_counts_previews_warns_and_shows_errors(
    live_server,
    owner,
    practice,
    long_named,
    browser_page,  # noqa: F811
):
    page = browser_page
    login(page, live_server.url, owner)
    page.get_by_role("link", name="Vorlagen").first.click()
    page.get_by_role("link", name="Erinnerung, SMS, DE").click()
    page.wait_for_selector("form#template-form[data-ready='1']")
    text = page.get_by_label("Text", exact=True)
    count = page.locator("#sms-count")
    preview = page.locator("#preview-text")

    # A short text: rendered for the sample patient, one part, 0,10 EUR.
    text.fill("Hallo {{ patient.name }}")
    page.wait_for_function(
        "document.getElementById('preview-text').textContent === 'Hallo Frau Müller'"
    )
    assert count.inner_text() == "17 Zeichen in GSM-7: 1 SMS-Teil, 0,10 EUR."

    # An emoji makes it UCS-2; a long text needs more parts: the counter follows.
    text.fill("Hallo {{ patient.name }} 🙂")
    page.wait_for_function("document.getElementById('sms-count').textContent.includes('UCS-2')")
    text.fill("Termin {{ appointment.when }}. " + "Bitte bringen Sie die e-card mit. " * 5)
    page.wait_for_function("document.getElementById('sms-count').textContent.includes('2 SMS')")
    assert "Termin " in preview.inner_text() and " um 16:30 Uhr." in preview.inner_text()

    # 150 characters with the sample name fit one SMS; the longest real name needs two.
    filler = "x" * (150 - len("Erinnerung Silvana Müller: "))
    text.fill("Erinnerung {{ patient.full_name }}: " + filler)
    warning = page.locator("#preview-warnings li")
    warning.wait_for()
    assert "Maximiliane Schwarzenberger-Hohenstein" in warning.inner_text()
    assert "2 Teile statt 1" in warning.inner_text()
    assert count.inner_text().startswith("150 Zeichen in GSM-7: 1 SMS-Teil")

    # A mistake is shown next to the field while typing, with its line ...
    text.fill("Hallo\n{{ patient.vorname }}")
    live = page.locator("#live_text_error")
    live.wait_for(state="visible")
    assert "Zeile 2" in live.inner_text() and "vorname" in live.inner_text()
    assert text.get_attribute("aria-invalid") == "true"

    # ... and saving it is refused with the error next to the field.
    page.get_by_role("button", name="Vorlage speichern").click()
    error = page.locator("#id_text_error")
    error.wait_for()
    assert "Zeile 2" in error.inner_text()
    assert "id_text_error" in text.get_attribute("aria-describedby")
    assert text.input_value() == "Hallo\n{{ patient.vorname }}"

    # Fixed and saved: the page says so and shows the rendering.
    text.fill("Hallo {{ patient.first_name }}, bis {{ appointment.time }}")
    page.get_by_role("button", name="Vorlage speichern").click()
    page.wait_for_selector("text=Die Vorlage ist gespeichert.")
    assert page.locator("#preview-text").inner_text() == "Hallo Silvana, bis 16:30 Uhr"
