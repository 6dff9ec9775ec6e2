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


def run_worker(**kwargs) -> None:
    """A real outbox worker until nothing is due, on its own thread: Playwright keeps an
    asyncio loop current in the test's thread, where neither the ORM nor asyncio.run work."""
    import threading

    from praxisbote.messaging.worker import Worker

    errors: list[BaseException] = []

    def work() -> None:
        try:
            Worker(exit_when_idle=True, idle_seconds=0.05, **kwargs).run()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the worker did not finish"
    assert not errors, errors


def test_an_email_goes_through_the_outbox_into_the_test_outbox(
    live_server, owner, practice, browser_page
):
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="Neue Nachricht", exact=True).first.click()
    banner = page.locator("#test-mode-banner")
    assert banner.is_visible()
    assert "Testmodus: nichts verlässt diesen Server" in banner.inner_text()
    page.get_by_label("Adresse", exact=True).fill("anna@example.org")
    page.get_by_label("Betreff").fill("Ihr Termin")
    page.get_by_label("Text", exact=True).fill("Guten Tag,\nbis morgen um 9 Uhr.")
    page.get_by_role("button", name="Prüfen und Kosten zeigen").click()
    assert "Diese Nachricht kostet nichts." in page.locator(".estimate").inner_text()
    assert page.get_by_label("Betreff").input_value() == "Ihr Termin", "typed input is kept"
    page.get_by_role("button", name="Senden", exact=True).click()
    page.wait_for_url(re.compile(r".*/protocol/[0-9a-f-]{36}/$"))
    detail_url = page.url
    assert page.locator("h1 .state").inner_text() == "wartend"

    page.get_by_role("link", name="Protokoll", exact=True).first.click()
    row = page.locator("table.protocol tbody tr").first
    assert "anna@example.org" in row.inner_text()
    assert row.locator(".state").inner_text() == "wartend"

    run_worker(run_jobs=False)  # hands it to the sandbox: sent
    page.reload()
    row = page.locator("table.protocol tbody tr").first
    assert row.locator(".state").inner_text() == "gesendet"

    page.get_by_role("link", name="Test-Postausgang").first.click()
    assert "nichts verlässt diesen Server" in page.locator(".banner").first.inner_text()
    mail = page.locator("article.mail").first
    assert "Ihr Termin" in mail.inner_text()
    assert "bis morgen um 9 Uhr." in mail.locator(".mail-body").inner_text()
    assert practice.name in mail.locator(".mail-head").inner_text()

    run_worker()  # with its jobs: the sandbox's delivery report arrives
    page.goto(detail_url)
    assert page.locator("h1 .state").inner_text() == "zugestellt"
    timeline = page.locator("ol.timeline").inner_text()
    for state in ("wartend", "wird gesendet", "gesendet", "zugestellt"):
        assert state in timeline
