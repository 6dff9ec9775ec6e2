"""The SMS settings page in Debian's Chromium: only the chosen gateway's access fields,
the sender-ID rule next to the field on error, write-only token, Key-Check against the
fake Twilio API."""

from __future__ import annotations

import pytest
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioFake

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def twilio():
    fake = TwilioFake().start()
    yield fake
    fake.stop()


def test_owner_sets_up_twilio_on_the_sms_settings_page(
    live_server,
    owner,
    practice,
    twilio,
    browser_page,  # noqa: F811 - the imported fixture
):
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="SMS-Einstellungen").click()
    assert page.get_by_role("heading", level=1).inner_text() == "SMS-Einstellungen"

    twilio_set = page.locator('fieldset[data-gateway="twilio"]')
    seven_set = page.locator('fieldset[data-gateway="seven"]')
    assert twilio_set.is_hidden() and seven_set.is_hidden()  # test mode: no access fields
    page.get_by_label("Gateway", exact=True).select_option("twilio")
    assert twilio_set.is_visible() and seven_set.is_hidden()

    page.get_by_label("SMS erlauben (extra abgerechnet)").check()
    twilio_set.get_by_label("Auth-Token").fill(AUTH_TOKEN)
    twilio_set.get_by_label("account sid").fill(ACCOUNT_SID)
    sender = page.get_by_label("Absenderkennung")
    sender.fill("Praxis Dr. Huber")
    page.locator("summary").click()
    page.get_by_label("Adresse des Gateways (optional)").fill(twilio.url)
    page.get_by_role("button", name="SMS-Einstellungen speichern").click()

    error = page.locator("#id_sender_id_error")
    assert "11 Buchstaben und Ziffern" in error.inner_text()
    assert sender.get_attribute("aria-invalid") == "true"
    assert AUTH_TOKEN not in page.content()
    assert page.get_by_label("Gateway", exact=True).input_value() == "twilio"

    sender.fill("PraxisHuber")
    twilio_set.get_by_label("Auth-Token").fill(AUTH_TOKEN)  # never rendered back: type again
    page.get_by_role("button", name="SMS-Einstellungen speichern").click()
    assert "SMS-Einstellungen gespeichert." in page.locator("body").inner_text()
    assert AUTH_TOKEN not in page.content()
    assert "gespeichert" in twilio_set.inner_text()

    page.get_by_role("button", name="Key-Check").click()
    assert "Key-Check bestanden" in page.locator("body").inner_text()
    assert any(r.path.endswith("/Balance.json") for r in twilio.requests)
