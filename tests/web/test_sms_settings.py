"""The staff SMS settings page: switch, gateway, write-only credentials, sender ID with its
rule next to the field, Key-Check and balance against the fake Twilio API, test SMS."""

from __future__ import annotations

import pytest
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, TwilioFake

from praxisbote.messaging import sms_settings
from praxisbote.messaging.models import Kind, Message
from praxisbote.providers.sms import twilio as twilio_adapter

from .helpers import de, text

URL = "/sms/"


@pytest.fixture(scope="module")
def twilio_server():
    fake = TwilioFake().start()
    yield fake
    fake.stop()


@pytest.fixture
def twilio(twilio_server):
    return twilio_server.reset()


def form(twilio, **changes) -> dict[str, str]:
    data = {
        "action": "save",
        "sms_enabled": "on",
        "gateway": "twilio",
        "cred__twilio__auth_token": AUTH_TOKEN,
        "opt__twilio__account_sid": ACCOUNT_SID,
        "sender_id": "PraxisHuber",
        "base_url": twilio.url,
        "delivery_reports": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_page_shows_the_switch_and_test_mode_in_german(owner_client, practice):
    page = owner_client.get(URL).content.decode()
    assert "SMS erlauben (extra abgerechnet)" in page
    assert "Testmodus" in page
    assert 'name="cred__twilio__auth_token"' in page and 'name="cred__seven__api_key"' in page


def test_only_the_owner_may_open_it(assistant_client):
    assert assistant_client.get(URL).status_code == 403


def test_a_wrong_sender_id_shows_the_rule_next_to_the_field_and_stores_nothing(
    owner_client, practice, twilio
):
    response = owner_client.post(URL, form(twilio, sender_id="Praxis Dr. Huber"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_sender_id_error"' in page
    error = page.split('id="id_sender_id_error"', 1)[1][:600]
    assert "11 Buchstaben und Ziffern" in error and "16 Ziffern" in error
    assert AUTH_TOKEN not in page  # not even the value just typed comes back
    practice.refresh_from_db()
    assert sms_settings.read(practice)["gateway"] == "sandbox" and not practice.sms_enabled


def test_save_then_credentials_are_write_only(owner_client, practice, twilio):
    response = owner_client.post(URL, form(twilio))
    assert response.status_code == 302
    practice.refresh_from_db()
    current = sms_settings.read(practice)
    assert current["gateway"] == "twilio" and practice.sms_enabled
    assert current["credentials_set"]["auth_token"] is True
    page = owner_client.get(URL).content.decode()
    assert AUTH_TOKEN not in page
    assert "gespeichert" in page and ACCOUNT_SID in page  # the SID is not secret
    # An empty credential keeps the stored one.
    assert owner_client.post(URL, form(twilio, cred__twilio__auth_token="")).status_code == 302
    assert sms_settings.read(practice)["credentials_set"]["auth_token"] is True


def test_missing_credential_is_named_at_its_field(owner_client, practice, twilio):
    response = owner_client.post(URL, form(twilio, cred__twilio__auth_token=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_cred__twilio__auth_token_error"' in page


def test_key_check_and_balance_against_the_gateway(owner_client, practice, twilio):
    owner_client.post(URL, form(twilio))
    page = owner_client.post(URL, {"action": "key_check"}, follow=True).content.decode()
    assert "Key-Check bestanden" in page and "12.34" in page
    assert de(twilio_adapter.KEY_ACCEPTED.template) in text(page), "Twilio's answer in German"
    assert any(r.path.endswith(f"/Accounts/{ACCOUNT_SID}.json") for r in twilio.requests)
    page = owner_client.post(URL, {"action": "balance"}, follow=True).content.decode()
    assert "Guthaben bei Twilio: 12.34" in page
    # A suspended account: the check fails with Twilio's reason, no secret in it.
    twilio.account_active = False
    page = owner_client.post(URL, {"action": "key_check"}, follow=True).content.decode()
    assert "Key-Check fehlgeschlagen" in page and AUTH_TOKEN not in page
    assert de(twilio_adapter.ACCOUNT_STATUS.template) % {"status": "suspended"} in text(page)


def test_test_sms_goes_to_the_practice_number_through_the_outbox(owner_client, practice):
    practice.sms_enabled, practice.phone = True, "+43 676 1234567"
    practice.save(update_fields=["sms_enabled", "phone"])
    response = owner_client.post(URL, {"action": "test", "to": ""})
    assert response.status_code == 302
    message = Message.objects.get(practice=practice, kind=Kind.TEST)
    assert response["Location"] == f"/protocol/{message.pk}/"
    assert message.channel == "sms" and message.recipient == "+436761234567"


def test_test_sms_refuses_a_landline_next_to_the_field(owner_client, practice):
    practice.sms_enabled = True
    practice.save(update_fields=["sms_enabled"])
    response = owner_client.post(URL, {"action": "test", "to": "+43 1 5551234"})
    assert response.status_code == 200
    assert 'id="id_to_error"' in response.content.decode()
    assert not Message.objects.filter(practice=practice).exists()


def test_every_gateway_field_has_a_translated_label():
    """A gateway's own settings must not show their raw names (account_sid) on the page."""
    from django.utils import translation

    from praxisbote.web.forms import CREDENTIAL_LABELS, OPTION_LABELS

    names: set[str] = set()
    labelled = {**CREDENTIAL_LABELS, **OPTION_LABELS}
    for gateway in sms_settings.gateways():
        names.update(gateway["credentials"], gateway["optional_credentials"], gateway["options"])
    assert names, "no gateway fields found"
    assert names - labelled.keys() == set()
    with translation.override("de"):
        assert str(OPTION_LABELS["account_sid"]) != "account_sid"
        assert str(OPTION_LABELS["body_template"]) == "Vorlage für den Inhalt"
