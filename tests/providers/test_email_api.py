"""E-mail settings through the API, the test mail, and mails through the outbox to SMTP."""

from __future__ import annotations

import base64
import json

import pytest
from tests.messaging.conftest import drain
from tests.providers.conftest import PASSWORD, USER

from praxisbote.messaging.models import ChannelAccount, Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

URL = "/api/v1/channels/email"


def settings_for(server, **extra) -> dict:
    return {
        "host": server.host,
        "port": server.port,
        "from_address": USER,
        "from_name": "Praxis Dr. Hüber",
        "password": PASSWORD,
        "bcc": "archiv@huber.example",
        **extra,
    }


def test_fresh_practice_is_in_test_mode(api):
    body = api.get(URL).json()
    assert body["provider"] == "sandbox" and body["test_mode"] is True
    assert body["password_set"] is False and "password" not in body


def test_put_stores_settings_encrypted_and_never_returns_the_password(api, practice, smtp_tls):
    response = api.put(URL, settings_for(smtp_tls, username=""))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["provider"] == "smtp" and body["test_mode"] is False
    assert body["password_set"] is True
    assert body["username"] == USER  # defaults to the sender address
    assert body["bcc"] == "archiv@huber.example"
    account = ChannelAccount.objects.get(practice=practice, channel="email")
    assert PASSWORD not in account.secrets and PASSWORD not in json.dumps(account.config)
    for response in (api.get(URL), api.put(URL, settings_for(smtp_tls, password=""))):
        assert PASSWORD not in response.content.decode()
    # An empty password keeps the stored one.
    assert api.get(URL).json()["password_set"] is True


def test_put_reports_each_invalid_field(api):
    response = api.put(
        URL,
        {
            "host": "not a host!",
            "port": 70000,
            "from_address": "no-address",
            "bcc": "also wrong",
            "password_mode": "memory",
        },
    )
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"host", "port", "from_address", "bcc", "password_mode", "password"}
    memory = next(e for e in response.json()["errors"] if e["field"] == "password_mode")
    assert "--no-worker" in memory["message"]  # no embedded worker in this process


def test_another_practice_cannot_read_or_change_the_settings(api, other_api, smtp_tls):
    api.put(URL, settings_for(smtp_tls))
    theirs = other_api.get(URL).json()
    assert theirs["provider"] == "sandbox" and theirs["host"] == ""
    other_api.put(URL, settings_for(smtp_tls, host="evil.example", password="x"))
    mine = api.get(URL).json()
    assert mine["host"] == "127.0.0.1"
    assert ChannelAccount.objects.filter(channel="email").count() == 2


def test_presets_list_every_provider_of_seed_000(api):
    presets = api.get(URL + "/presets").json()
    keys = {p["key"] for p in presets}
    assert {
        "proton",
        "posteo",
        "mailfence",
        "mailbox-org",
        "gmx",
        "webde",
        "hotmail",
        "yahoo",
        "world4you",
        "drei",
        "a1",
        "telekom",
        "office365",
        "icloud",
        "gmail",
    } <= keys
    gmail = next(p for p in presets if p["key"] == "gmail")
    assert (gmail["host"], gmail["port"], gmail["app_password"]) == ("smtp.gmail.com", 587, True)
    gmx = next(p for p in presets if p["key"] == "gmx")
    assert gmx["ports"] == [587, 465] and gmx["enable_smtp"] is True


def test_test_mail_arrives_at_the_practice_address(api, smtp_tls, trusted):
    api.put(URL, settings_for(smtp_tls))
    body = api.post(URL + "/test").json()
    assert body["ok"] is True, body
    [got] = smtp_tls.received
    assert got.rcpt_tos == [USER, "archiv@huber.example"]
    assert got.message["From"].addresses[0].display_name == "Praxis Dr. Hüber"


def test_test_mail_with_a_wrong_password_says_what_to_check(api, smtp_tls, trusted):
    api.put(URL, settings_for(smtp_tls, password="falsch"))
    response = api.post(URL + "/test")
    body = response.json()
    assert body["ok"] is False
    assert "app password" in body["detail"]
    assert "falsch" not in response.content.decode()
    # English like the protocol whatever the header; the settings page translates it.
    german = api.client.post(URL + "/test", headers={"Accept-Language": "de"}).json()
    assert german["detail"].startswith("The e-mail provider did not accept")


def test_test_mail_to_an_untrusted_server_names_the_certificate(api, smtp_tls):
    api.put(URL, settings_for(smtp_tls))
    body = api.post(URL + "/test").json()
    assert body["ok"] is False and "certificate" in body["detail"]


def test_test_mail_without_settings(api):
    body = api.post(URL + "/test").json()
    assert body["ok"] is False and "not set up" in body["detail"]


def test_mails_go_through_the_outbox_to_the_smtp_server(api, smtp_tls, trusted):
    api.put(URL, settings_for(smtp_tls))
    pdf = b"%PDF-1.4 Honorarnote"
    ids = []
    for i in range(5):
        response = api.post(
            "/api/v1/messages",
            {
                "channel": "email",
                "to": f"patient{i}@example.org",
                "subject": "Ihre Honorarnote",
                "text": "Anbei Ihre Honorarnote.",
                "html": "<p>Anbei Ihre Honorarnote.</p>",
                "attachments": [
                    {
                        "filename": "Honorarnote.pdf",
                        "content_type": "application/pdf",
                        "content_base64": base64.b64encode(pdf).decode(),
                    }
                ],
            },
        )
        assert response.status_code == 201, response.content
        assert response.json()["test_mode"] is False
        ids.append(response.json()["id"])
    drain()
    messages = Message.objects.filter(pk__in=ids)
    assert {m.state for m in messages} == {"sent"}
    assert all(m.provider == "smtp" and m.provider_message_id for m in messages)
    assert len(smtp_tls.received) == 5
    for got in smtp_tls.received:
        assert got.rcpt_tos[1:] == ["archiv@huber.example"]
        assert "Bcc" not in got.message
        [att] = list(got.message.iter_attachments())
        assert att.get_content() == pdf
    assert len(smtp_tls.handler.logins) <= 2  # sessions reused, at most two in parallel


def test_wrong_password_fails_the_messages_with_the_hint(api, smtp_tls, trusted):
    api.put(URL, settings_for(smtp_tls, password="falsch"))
    response = api.post(
        "/api/v1/messages", {"channel": "email", "to": "anna@example.org", "text": "Hallo"}
    )
    drain()
    message = Message.objects.get(pk=response.json()["id"])
    assert message.state == "failed"
    assert "app password" in message.last_error and "falsch" not in message.last_error
    detail = api.get(f"/api/v1/messages/{message.pk}").content.decode()
    assert "falsch" not in detail


def test_sensitive_mail_needs_a_cleared_account(api, smtp_tls):
    api.put(URL, settings_for(smtp_tls))
    sensitive = {"channel": "email", "to": "a@example.org", "text": "Befund", "sensitive": True}
    refused = api.post("/api/v1/messages", sensitive)
    assert refused.status_code == 422
    assert "sensitive" in {e["field"] for e in refused.json()["errors"]}
    api.put(URL, settings_for(smtp_tls, cleared_for_sensitive=True))
    assert api.post("/api/v1/messages", sensitive).status_code == 201


def test_test_mode_and_back_keep_the_settings_and_the_password(api, practice, smtp_tls, trusted):
    api.put(URL, settings_for(smtp_tls))
    assert api.post("/api/v1/channels/email/sandbox").json()["test_mode"] is True
    kept = api.get(URL).json()
    assert kept["test_mode"] is True and kept["host"] == "127.0.0.1" and kept["password_set"]
    back = api.post("/api/v1/channels/email/restore")
    assert back.status_code == 200, back.content
    assert back.json()["test_mode"] is False and back.json()["provider"] == "smtp"
    assert "previous_provider" not in ChannelAccount.objects.get(practice=practice).config
    assert api.post(URL + "/test").json()["ok"] is True, "sent with the kept password"


def test_back_from_test_mode_needs_a_provider_used_before(api):
    response = api.post("/api/v1/channels/email/restore")
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "channel"
