"""password_mode "memory" (seed 000): the password lives in this process only."""

from __future__ import annotations

import pytest
from tests.messaging.conftest import drain
from tests.providers.conftest import PASSWORD
from tests.providers.test_email_api import URL, settings_for

from praxisbote.messaging import memory, worker
from praxisbote.messaging.delivery import account_secrets
from praxisbote.messaging.models import ChannelAccount, Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


@pytest.fixture
def embedded():
    """As in `praxisbote serve`: an embedded worker runs in this process."""
    memory.mark_embedded_worker()
    yield
    memory.mark_embedded_worker(False)
    memory.forget_all()


def stored_secrets(practice) -> dict:
    return account_secrets(ChannelAccount.objects.get(practice=practice, channel="email"))


def post_mail(api, to="anna@example.org"):
    response = api.post(
        "/api/v1/messages", {"channel": "email", "to": to, "subject": "Termin", "text": "Hallo"}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_memory_mode_is_refused_without_an_embedded_worker(api, smtp_tls):
    memory.mark_embedded_worker(False)
    response = api.put(URL, settings_for(smtp_tls, password_mode="memory"))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "password_mode"
    assert "--no-worker" in error["message"] and "stored" in error["message"]
    assert not ChannelAccount.objects.filter(channel="email").exists()


def test_start_embedded_allows_memory_mode(monkeypatch):
    monkeypatch.setattr(worker.Worker, "run", lambda self: None)
    memory.mark_embedded_worker(False)
    try:
        _worker, thread = worker.start_embedded()
        thread.join()
        assert memory.embedded_worker_running()
    finally:
        memory.mark_embedded_worker(False)


def test_the_password_is_never_written_and_mails_are_sent(
    api, practice, smtp_tls, trusted, embedded
):
    response = api.put(URL, settings_for(smtp_tls, password_mode="memory"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["password_mode"] == "memory"
    assert (body["password_set"], body["password_required"]) == (True, False)
    account = ChannelAccount.objects.get(practice=practice, channel="email")
    assert "password" not in stored_secrets(practice)
    assert PASSWORD not in account.secrets + str(account.config)
    message_id = post_mail(api)
    drain()
    assert Message.objects.get(pk=message_id).state == "sent"
    assert api.post(URL + "/test").json()["ok"] is True
    assert len(smtp_tls.received) == 2


def test_after_a_restart_mails_wait_until_the_password_is_entered_again(
    api, practice, smtp_tls, trusted, embedded
):
    api.put(URL, settings_for(smtp_tls, password_mode="memory"))
    memory.forget_all()  # what a restart does
    body = api.get(URL).json()
    assert (body["password_set"], body["password_required"]) == (False, True)
    message_id = post_mail(api)
    drain()
    message = Message.objects.get(pk=message_id)
    assert message.state == "queued" and smtp_tls.received == []
    assert message.last_error.startswith("Password needed after restart")
    assert "e-mail settings" in message.last_error
    assert message.attempts == 0  # waiting is not a failed attempt
    timeline = api.get(f"/api/v1/messages/{message_id}").json()["events"]
    assert timeline[-1]["to_state"] == "queued"
    assert timeline[-1]["detail"].startswith("Password needed after restart")
    # Saving without the password is refused: there is none to keep.
    refused = api.put(URL, settings_for(smtp_tls, password_mode="memory", password=""))
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"password"}
    # Entering it again sends the waiting mail at once (no waiting for the retry time).
    saved = api.put(URL, settings_for(smtp_tls, password_mode="memory")).json()
    assert (saved["password_set"], saved["password_required"]) == (True, False)
    drain()
    message.refresh_from_db()
    assert message.state == "sent" and message.last_error == ""
    assert len(smtp_tls.received) == 1


def test_switching_modes_moves_the_password_without_asking_again(
    api, practice, smtp_tls, trusted, embedded
):
    api.put(URL, settings_for(smtp_tls))
    assert stored_secrets(practice)["password"] == PASSWORD
    # stored -> memory with an empty password field: out of the database, into memory.
    body = api.put(URL, settings_for(smtp_tls, password_mode="memory", password="")).json()
    assert body["password_set"] is True
    assert "password" not in stored_secrets(practice)
    assert memory.get_password(practice.pk, "email") == PASSWORD
    # memory -> stored: encrypted at rest again, and forgotten by the process.
    body = api.put(URL, settings_for(smtp_tls, password_mode="stored", password="")).json()
    assert body["password_set"] is True and body["password_required"] is False
    assert stored_secrets(practice)["password"] == PASSWORD
    assert memory.get_password(practice.pk, "email") == ""
    memory.forget_all()
    assert api.get(URL).json()["password_required"] is False  # stored survives a restart


def test_memory_passwords_are_per_practice(api, other_api, practice, smtp_tls, embedded):
    api.put(URL, settings_for(smtp_tls, password_mode="memory"))
    theirs = other_api.get(URL).json()
    assert theirs["password_set"] is False and theirs["password_required"] is False
    refused = other_api.put(URL, settings_for(smtp_tls, password_mode="memory", password=""))
    assert refused.status_code == 422
