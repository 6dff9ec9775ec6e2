"""The staff UI in a real browser: Debian's Chromium driven by Playwright.

Skipped (with the reason shown) where /usr/bin/chromium is missing, except on CI
(CI=true), where a missing browser must fail instead of passing silently.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import STAFF_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium (make browser-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true, so this counts as a failure")
        pytest.skip(reason)
    # Playwright's sync API keeps an asyncio loop current in this thread, and Django
    # refuses ORM calls while one is: request this fixture after the database fixtures
    # and leave database reads to the pages (the live server answers in its own thread).
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        # A German browser, as at the reception desk; English comes from the switch.
        context = browser.new_context(locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_receptionist_fixes_a_mobile_number_and_switches_to_english(
    live_server, owner, practice, browser_page
):
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == practice.name

    page.get_by_role("link", name="Neuer Patient").first.click()
    page.get_by_label("Vorname").fill("Anna")
    page.get_by_label("Nachname").fill("Huber")
    mobile = page.get_by_label("Handynummer")
    mobile.fill("0123")
    page.get_by_role("button", name="Patient speichern").click()

    # The error sits next to the field and is announced with it.
    error = page.locator("#id_mobile_error")
    assert "keine gültige Telefonnummer" in error.inner_text()
    assert "id_mobile_error" in mobile.get_attribute("aria-describedby")
    assert mobile.get_attribute("aria-invalid") == "true"
    assert mobile.input_value() == "0123"
    assert page.get_by_label("Vorname").input_value() == "Anna", "typed input is kept"

    mobile.fill("067612345678")
    page.get_by_role("button", name="Patient speichern").click()
    page.wait_for_url(re.compile(r".*/patients/[0-9a-f-]{36}/$"))
    detail_url = page.url
    assert page.locator(".mobile").inner_text() == "+4367612345678"
    assert "Handynummer" in page.locator("dl.facts").inner_text()

    page.get_by_role("button", name="EN English", exact=True).click()
    page.wait_for_url(detail_url)
    assert page.locator("html").get_attribute("lang") == "en"
    facts = page.locator("dl.facts").inner_text()
    assert "Mobile number" in facts and "Handynummer" not in facts
    page.get_by_role("link", name="Edit").click()
    assert page.get_by_label("Mobile number").input_value() == "+4367612345678"
