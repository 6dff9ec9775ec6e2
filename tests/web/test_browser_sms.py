"""The live SMS counter on the compose page in Debian's Chromium, then the SMS's way to
"delivered" in the protocol (sandbox gateway: the practice has no SMS gateway set up)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from praxisbote.billing.services import add_credit
from praxisbote.texts.encoding import analyze

from .conftest import STAFF_PASSWORD
from .test_browser import browser_page, run_worker  # noqa: F401 - fixture and helper

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHORT = "Guten Tag, Ihr Termin ist morgen um 9 Uhr."
LONG = SHORT + " Bitte bringen Sie die e-card mit. Wir freuen uns auf Sie! " * 3
EMOJI = " Bis bald 😀"


def expected_cost(text: str) -> str:
    return f"{analyze(text).segments * Decimal('0.10'):.2f}".replace(".", ",")


@pytest.fixture
def sms_practice(practice):
    practice.sms_enabled = True
    practice.save(update_fields=["sms_enabled"])
    add_credit(practice, Decimal("20"), "browser test")
    return practice


def test_sms_counter_follows_typing_and_the_sms_reaches_delivered(
    live_server,
    owner,
    sms_practice,
    browser_page,  # noqa: F811 - the imported fixture
):
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("E-Mail-Adresse").fill(owner.email)
    page.get_by_label("Passwort").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/messages/new/")

    live = page.locator("#sms-live")
    page.locator("#id_channel").select_option("sms")
    assert live.is_visible()
    out = {
        name: live.locator(f'[data-sms="{name}"]')
        for name in ("encoding", "segments", "characters", "remaining", "cost", "nongsm")
    }
    text = page.get_by_label("Text", exact=True)

    text.fill(SHORT)
    assert out["encoding"].inner_text() == "GSM-7"
    assert out["segments"].inner_text() == "1"
    assert out["characters"].inner_text() == str(len(SHORT))
    assert out["remaining"].inner_text() == str(160 - len(SHORT))
    assert out["cost"].inner_text() == expected_cost(SHORT) == "0,10"

    text.fill(LONG)  # more than 160 septets: two parts, twice the cost
    assert out["segments"].inner_text() == str(analyze(LONG).segments) == "2"
    assert out["cost"].inner_text() == expected_cost(LONG) == "0,20"

    text.press("End")
    text.type(EMOJI)  # typed key by key: one emoji makes the whole SMS UCS-2
    final = LONG + EMOJI
    assert out["encoding"].inner_text() == "UCS-2"
    assert out["segments"].inner_text() == str(analyze(final).segments) == "4"
    assert out["cost"].inner_text() == expected_cost(final) == "0,40"
    assert "😀" in out["nongsm"].inner_text()

    page.locator("#id_channel").select_option("email")
    assert live.is_hidden()
    page.locator("#id_channel").select_option("sms")
    assert live.is_visible()

    page.get_by_label("Adresse", exact=True).fill("+43 676 12345678")
    page.get_by_role("button", name="Prüfen und Kosten zeigen").click()
    # The server's estimate agrees with what the browser showed.
    assert "4 \u00d7 0,10 EUR = 0,40 EUR" in page.locator(".estimate").inner_text()
    page.get_by_role("button", name="Senden", exact=True).click()
    page.wait_for_url(re.compile(r".*/protocol/[0-9a-f-]{36}/$"))
    detail_url = page.url
    assert page.locator("h1 .state").inner_text() == "wartend"

    run_worker(run_jobs=False)  # the gateway (sandbox) accepts it: sent
    page.goto(f"{live_server.url}/protocol/")
    row = page.locator("table.protocol tbody tr").first
    assert "+4367612345678" in row.inner_text()
    assert row.locator(".state").inner_text() == "gesendet"

    run_worker()  # with its jobs: the delivery report arrives
    page.reload()
    row = page.locator("table.protocol tbody tr").first
    assert row.locator(".state").inner_text() == "zugestellt"
    page.goto(detail_url)
    timeline = page.locator("ol.timeline").inner_text()
    for state in ("wartend", "gesendet", "zugestellt"):
        assert state in timeline
