"""The e-mail settings page in Debian's Chromium: a preset, a test mail to a real SMTP server
on loopback (aiosmtpd, TLS with a trustme CA in SSL_CERT_FILE), then a wrong password.

The live server answers in its own thread of this process, so the CA given through
``SSL_CERT_FILE`` (the ``trusted`` fixture) is the one the test mail checks against.
"""

from __future__ import annotations

import pytest
from tests.providers.conftest import PASSWORD, USER

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page  # noqa: F401  (the Chromium page fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


def log_in(page, live_server, owner) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")


def test_preset_test_mail_and_a_wrong_password(
    live_server,
    owner,
    practice,
    smtp_tls,
    trusted,
    browser_page,  # noqa: F811
):
    page = browser_page
    log_in(page, live_server, owner)
    page.get_by_role("link", name="E-Mail-Einstellungen").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "E-Mail-Einstellungen"
    assert "Testmodus: nichts verlässt diesen Server" in page.locator("#email-state").inner_text()
    # With JavaScript, choosing is enough: the server-side button goes away (once the
    # deferred script ran: wait for it, a bare count() raced it on a busy machine).
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Anbieter übernehmen")).to_have_count(0)

    hints = page.locator("#preset-hints")
    assert hints.is_hidden()
    page.get_by_label("E-Mail-Anbieter").select_option(label="Gmail (Google)")
    assert page.get_by_label("SMTP-Server").input_value() == "smtp.gmail.com"
    assert page.get_by_label("Port", exact=True).input_value() == "587"
    assert page.get_by_label("IMAP-Server").input_value() == "imap.gmail.com"
    assert hints.is_visible()
    assert "Ein App-Passwort ist nötig" in hints.inner_text()
    page.get_by_label("E-Mail-Anbieter").select_option(label="GMX")
    assert page.get_by_label("SMTP-Server").input_value() == "mail.gmx.net"
    assert "POP3/IMAP Abruf" in hints.inner_text(), "the seed's remark for GMX"
    assert "App-Passwort" not in hints.inner_text(), "hints follow the chosen provider"

    # The practice's "provider" here is the loopback server; no Sent copy (no IMAP server).
    page.get_by_label("SMTP-Server").fill(smtp_tls.host)
    page.get_by_label("Port", exact=True).fill(str(smtp_tls.port))
    page.get_by_label("IMAP-Server").fill("")
    page.get_by_label("IMAP-Port").fill("")
    page.get_by_label("Absenderadresse").fill(USER)
    page.get_by_label("Absendername").fill("Praxis Dr. Hüber")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Speichern und Test-E-Mail senden").click()

    flashes = page.locator("p.flash")
    assert f"Test-E-Mail an {USER} gesendet" in flashes.all_inner_texts()[-1]
    assert "E-Mails gehen über 127.0.0.1 als" in page.locator("#email-state").inner_text()
    assert page.get_by_label("Passwort", exact=True).input_value() == "", "never shown again"
    assert PASSWORD not in page.content()
    [got] = smtp_tls.received
    assert got.rcpt_tos == [USER]
    assert got.message["To"] == USER
    assert got.message["From"].addresses[0].display_name == "Praxis Dr. Hüber"
    assert "Test" in got.message["Subject"]

    page.get_by_label("Passwort", exact=True).fill("falsch")
    page.get_by_role("button", name="Speichern und Test-E-Mail senden").click()
    failure = page.locator("p.flash.error")
    assert failure.count() == 1
    reason = failure.inner_text()
    assert reason.startswith("Die Test-E-Mail wurde nicht gesendet")
    assert "Benutzername und Passwort nicht angenommen" in reason
    assert "App-Passwort" in reason and "SMTP" in reason, "names what to check"
    assert "falsch" not in page.content()
    assert len(smtp_tls.received) == 1, "nothing arrived with the wrong password"


def test_without_javascript_the_apply_button_fills_in_the_preset(
    live_server,
    owner,
    practice,
    browser_page,  # noqa: F811
):
    page = browser_page
    # The fixture's context runs JavaScript; a second one in the same browser does not.
    context = page.context.browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.set_default_timeout(15_000)
        log_in(plain, live_server, owner)
        plain.goto(f"{live_server.url}/channels/email/")
        plain.get_by_label("Absenderadresse").fill(USER)
        plain.get_by_label("E-Mail-Anbieter").select_option(label="Posteo")
        plain.get_by_role("button", name="Anbieter übernehmen").click()
        assert plain.get_by_label("SMTP-Server").input_value() == "posteo.de"
        assert plain.get_by_label("Port", exact=True).input_value() == "587"
        assert plain.get_by_label("IMAP-Server").input_value() == "posteo.de"
        assert plain.get_by_label("Absenderadresse").input_value() == USER, "typed input kept"
        assert "Angebotene Ports: 587, 465." in plain.locator("#preset-hints").inner_text()
        assert "Krypto-Mailbox" in plain.locator("#preset-hints").inner_text()
    finally:
        context.close()
