"""The e-mail settings page: presets, the service's messages next to the fields, the password
never shown, test mail against a real SMTP server on loopback, test mode and back, roles."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from tests.providers.conftest import PASSWORD, USER

from praxisbote.messaging import memory
from praxisbote.messaging.email_settings import TEST_SENT
from praxisbote.messaging.models import ChannelAccount
from praxisbote.practices.services import create_user
from praxisbote.providers.smtp import LOGIN_REFUSED

from .conftest import STAFF_PASSWORD
from .helpers import de, field_error, input_value, text

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

URL = "/channels/email/"
NEW_PASSWORD = "Neu-App-Passwort-77"


def valid(**extra) -> dict:
    data = {
        "action": "save",
        "preset": "posteo",
        "host": "posteo.de",
        "port": "587",
        "from_address": USER,
        "from_name": "Praxis Dr. Huber",
        "username": "",
        "password": PASSWORD,
        "password_mode": "stored",
        "bcc": "archiv@huber.example",
        "imap_host": "posteo.de",
        "imap_port": "993",
        "sent_folder": "",
        "sessions": "",
        "max_messages_per_connection": "",
    }
    data.update(extra)
    return data


def for_server(server, **extra) -> dict:
    target = {"preset": "", "host": server.host, "port": str(server.port), "imap_host": ""}
    return valid(**{**target, "imap_port": "", **extra})


def account(practice) -> ChannelAccount:
    return ChannelAccount.objects.get(practice=practice, channel="email")


def test_the_page_is_linked_from_the_navigation_and_the_channels_page(owner_client):
    for page in ("/", "/channels/"):
        assert f'href="{URL}"' in owner_client.get(page).content.decode(), page
    page = owner_client.get(URL)
    assert page.status_code == 200
    body = text(page.content)
    assert de("E-mail settings") in body
    assert de("test mode: nothing leaves this server") in body
    for name in ("Posteo", "GMX", "Gmail (Google)", "Proton Mail", "iCloud Mail (Apple)"):
        assert name in body


def test_every_field_has_a_label_and_explains_itself(owner_client):
    page = owner_client.get(URL).content.decode()
    fields = set(valid()) - {"action"} | {"cleared_for_sensitive"}
    for field in fields:
        assert f'for="id_{field}"' in page, f"{field} has no label"
        assert f'id="id_{field}_helptext"' in page, f"{field} has no help text"


def test_the_owner_saves_and_test_mode_ends(owner_client, practice):
    response = owner_client.post(URL, valid(cleared_for_sensitive="on"))
    assert response.status_code == 302
    acc = account(practice)
    assert acc.provider == "smtp" and acc.cleared_for_sensitive
    assert acc.config["host"] == "posteo.de" and acc.config["port"] == 587
    assert acc.config["username"] == USER, "the user name defaults to the address"
    assert acc.config["imap_host"] == "posteo.de" and acc.config["preset"] == "posteo"
    assert PASSWORD not in acc.secrets, "encrypted at rest"
    page = owner_client.get(URL)
    body = text(page.content)
    assert de("E-mail settings saved: e-mail now goes out through them.") in body
    assert de("A password is saved.") in body
    assert input_value(page.content, "host") == "posteo.de"


def test_the_password_is_never_in_the_page(owner_client, practice):
    owner_client.post(URL, valid())
    for response in (
        owner_client.get(URL),
        owner_client.post(URL, valid(host="not a host!")),  # re-rendered with errors
        owner_client.post(URL, valid(action="preset", preset="gmx")),
    ):
        html = response.content.decode()
        assert PASSWORD not in html
        assert input_value(response.content, "password") is None
    assert owner_client.get(URL).status_code == 200


def test_an_empty_password_keeps_the_stored_one(owner_client, practice, smtp_tls, trusted):
    owner_client.post(URL, for_server(smtp_tls))
    owner_client.post(URL, for_server(smtp_tls, password="", from_name="Dr. Huber"))
    acc = account(practice)
    assert acc.config["from_name"] == "Dr. Huber"
    owner_client.post(URL, {"action": "test"})
    assert len(smtp_tls.received) == 1, "sent with the kept password"


def test_each_service_message_is_shown_next_to_its_field_and_nothing_is_saved(
    owner_client, practice
):
    memory.mark_embedded_worker(False)
    bad = valid(
        host="not a host!",
        port="70000",
        from_address="no-address",
        bcc="also wrong",
        password="",
        password_mode="memory",
        imap_port="0",
        sessions="11",
    )
    response = owner_client.post(URL, bad)
    assert response.status_code == 200
    expected = {
        "host": "Enter the SMTP server name, e.g. smtp.posteo.de.",
        "port": "Enter a port between 1 and 65535 (usually 465 or 587).",
        "from_address": "Enter a valid e-mail address.",
        "bcc": "Enter a valid e-mail address.",
        "password": "Enter the password (or the provider's app password).",
        "imap_port": "Enter a port between 1 and 65535 (usually 993).",
        "sessions": "Between 1 and 10 parallel sessions.",
    }
    for field, message in expected.items():
        assert field_error(response.content, field) == de(message), field
    assert "--no-worker" in field_error(response.content, "password_mode")
    assert input_value(response.content, "host") == "not a host!", "typed input kept"
    assert not ChannelAccount.objects.filter(practice=practice).exists()


def test_the_same_messages_as_the_api(owner_client, api):
    """One set of rules: the page shows what PUT /api/v1/channels/email answers."""
    bad = {"host": "x y", "port": 0, "from_address": "nope", "password": "x\ny"}
    problem = api.client.put(
        "/api/v1/channels/email",
        json.dumps(bad),
        content_type="application/json",
        headers={"Accept-Language": "de"},
    ).json()
    assert len(problem["errors"]) == 4
    page = owner_client.post(URL, valid(**{k: str(v) for k, v in bad.items()}))
    for error in problem["errors"]:
        assert field_error(page.content, error["field"]) == error["message"]


def test_a_port_that_is_no_number_is_named(owner_client, practice):
    response = owner_client.post(URL, valid(port="fünf"))
    assert field_error(response.content, "port")
    assert not ChannelAccount.objects.filter(practice=practice).exists()


def test_applying_a_preset_without_javascript_fills_the_form_and_saves_nothing(
    owner_client, practice
):
    typed = valid(action="preset", preset="gmx", host="", port="", password="geheim")
    response = owner_client.post(URL, typed)
    assert response.status_code == 200
    assert input_value(response.content, "host") == "mail.gmx.net"
    assert input_value(response.content, "port") == "587"
    assert input_value(response.content, "imap_host") == "imap.gmx.net"
    assert input_value(response.content, "from_address") == USER, "typed input kept"
    body = text(response.content)
    assert "POP3/IMAP Abruf" in body, "the seed's remark"
    assert (
        de("Sending through SMTP must first be switched on in the mailbox settings at %(name)s.")
        % {"name": "GMX"}
        in body
    )
    assert "geheim" not in response.content.decode()
    assert not ChannelAccount.objects.filter(practice=practice).exists()
    gmail = text(owner_client.post(URL, valid(action="preset", preset="gmail")).content)
    assert (
        "App-Passwort" in gmail
        and "smtp.gmail.com"
        in owner_client.post(URL, valid(action="preset", preset="gmail")).content.decode()
    )


def test_the_page_carries_every_preset_for_its_script(owner_client):
    page = owner_client.get(URL).content.decode()
    data = re.search(r'<script id="email-presets" type="application/json">(.*?)</script>', page)
    presets = json.loads(data.group(1))
    assert presets["gmail"]["values"]["host"] == "smtp.gmail.com"
    assert presets["webde"]["values"]["port"] == 587
    assert any("App" in hint for hint in presets["proton"]["hints"])


def test_memory_mode_says_why_it_is_not_possible_without_the_embedded_worker(owner_client):
    memory.mark_embedded_worker(False)
    page = owner_client.get(URL).content.decode()
    help_text = page.split('id="id_password_mode_helptext"')[1].split("</p>")[0]
    assert "--no-worker" in help_text


def test_memory_mode_with_the_embedded_worker_keeps_the_password_out_of_the_database(
    owner_client, practice
):
    memory.mark_embedded_worker(True)
    try:
        response = owner_client.post(URL, valid(password_mode="memory"))
        assert response.status_code == 302
        acc = account(practice)
        assert acc.config["password_mode"] == "memory"
        assert acc.secrets == "" or PASSWORD not in acc.secrets
        assert memory.get_password(practice.pk, "email") == PASSWORD
        memory.forget_all()  # a restart
        body = text(owner_client.get(URL).content)
        assert (
            de(
                "The server was restarted and the password was kept only in memory: enter it "
                "again below. E-mails wait until then."
            )
            in body
        )
    finally:
        memory.mark_embedded_worker(False)
        memory.forget_all()


def test_test_mail_arrives_and_success_is_shown(owner_client, practice, smtp_tls, trusted):
    response = owner_client.post(URL, for_server(smtp_tls, action="save_test"))
    assert response.status_code == 302
    body = text(owner_client.get(URL).content)
    assert de(TEST_SENT.template) % {"address": USER} in body
    [got] = smtp_tls.received
    assert got.rcpt_tos == [USER, "archiv@huber.example"]
    assert got.message["From"].addresses[0].display_name == "Praxis Dr. Huber"


def test_a_wrong_password_shows_what_to_check(owner_client, practice, smtp_tls, trusted):
    owner_client.post(URL, for_server(smtp_tls, password="falsch"))
    response = owner_client.post(URL, {"action": "test"}, follow=True)
    body = text(response.content)
    assert de("The test e-mail was not sent: %(reason)s").split(":")[0] in body
    what_to_check, _answer = de(LOGIN_REFUSED.template).split("%(answer)s")
    assert what_to_check in body, "what to check, in the reader's language"
    assert "App-Passwort" in body and "Antwort des Servers: 535" in body
    assert "falsch" not in response.content.decode()
    assert smtp_tls.received == []


def test_an_untrusted_certificate_is_named(owner_client, practice, smtp_tls):
    owner_client.post(URL, for_server(smtp_tls))
    body = text(owner_client.post(URL, {"action": "test"}, follow=True).content)
    assert "Zertifikat" in body or "certificate" in body


def test_test_mode_and_back_without_entering_anything_again(
    owner_client, practice, smtp_tls, trusted
):
    owner_client.post(URL, for_server(smtp_tls))
    owner_client.post(URL, {"action": "sandbox"})
    acc = account(practice)
    assert acc.provider == "sandbox" and acc.config["previous_provider"] == "smtp"
    page = owner_client.get(URL)
    body = text(page.content)
    assert de("test mode: nothing leaves this server") in body
    assert input_value(page.content, "host") == "127.0.0.1", "the kept settings are shown"
    assert de("Send e-mail through %(host)s again") % {"host": "127.0.0.1"} in body
    response = owner_client.post(URL, {"action": "restore"})
    assert response.status_code == 302
    assert account(practice).provider == "smtp"
    owner_client.post(URL, {"action": "test"})
    assert len(smtp_tls.received) == 1, "the kept password still works"


def test_saving_in_test_mode_keeps_the_stored_password(owner_client, practice, smtp_tls, trusted):
    owner_client.post(URL, for_server(smtp_tls))
    owner_client.post(URL, {"action": "sandbox"})
    response = owner_client.post(URL, for_server(smtp_tls, password=""))
    assert response.status_code == 302
    assert account(practice).provider == "smtp"
    owner_client.post(URL, {"action": "test"})
    assert len(smtp_tls.received) == 1


def test_back_without_a_provider_used_before_says_so(owner_client, practice):
    body = text(owner_client.post(URL, {"action": "restore"}, follow=True).content)
    assert de("There is no provider used before to switch back to; set one up.") in body
    assert not ChannelAccount.objects.filter(practice=practice, provider="smtp").exists()


def test_staff_see_the_settings_read_only_and_cannot_post(assistant_client, owner_client, practice):
    owner_client.post(URL, valid())
    page = assistant_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="host"' in html and "disabled" in html.split('name="host"')[1].split(">")[0]
    assert de("Send test e-mail") not in text(page.content)
    assert 'value="save"' not in html
    before = account(practice).config
    for action in ("save", "save_test", "preset", "test", "sandbox", "restore"):
        response = assistant_client.post(URL, valid(action=action, host="evil.example"))
        assert response.status_code == 403, action
    acc = account(practice)
    assert acc.provider == "smtp" and acc.config == before


def test_another_practice_sees_and_changes_only_its_own_settings(
    owner_client, practice, other_practice
):
    owner_client.post(URL, valid(from_address="praxis@huber.example"))
    them, _ = create_user(
        practice=other_practice, email="chef@berlin.test", role="owner", password=STAFF_PASSWORD
    )
    other = Client()
    other.force_login(them)
    page = other.get(URL)
    assert input_value(page.content, "host") is None
    assert input_value(page.content, "from_address") is None
    assert "praxis@huber.example" not in page.content.decode()
    assert other.post(URL, valid(host="smtp.berlin.example", from_address="b@berlin.example"))
    for action in ("sandbox", "restore", "test"):
        other.post(URL, {"action": action})
    mine = account(practice)
    assert mine.provider == "smtp" and mine.config["host"] == "posteo.de"
    theirs = account(other_practice)
    assert theirs.config["host"] == "smtp.berlin.example"


@pytest.fixture(autouse=True)
def _no_password_in_memory():
    yield
    memory.forget_all()
