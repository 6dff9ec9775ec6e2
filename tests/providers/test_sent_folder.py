"""MAIL-10: a copy of each sent mail in the Sent folder, against a real Dovecot on loopback."""

from __future__ import annotations

import imaplib

import pytest
from tests.messaging.conftest import drain
from tests.providers import dovecot as dovecot_server
from tests.providers.conftest import PASSWORD, USER, free_port, read_folder
from tests.providers.test_email_api import URL, settings_for
from tests.providers.test_smtp import mail, provider, send

from praxisbote.messaging.models import DeliveryEvent, Message
from praxisbote.providers.imap_sent import encode_utf7, quote_mailbox

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def imap_config(server, port=None, **extra) -> dict:
    return {"imap_host": server.host, "imap_port": port or server.imaps_port, **extra}


def test_mails_are_copied_byte_for_byte_into_the_sent_folder_over_imaps(
    smtp_tls, imap, ca, trusted
):
    p = provider(smtp_tls, bcc="archiv@huber.example", **imap_config(imap, sent_folder="Sent"))
    outcomes = send(p, *(mail(i, html="<p>Grüß Gott</p>") for i in range(3)))
    assert all(o.error is None for o in outcomes), outcomes
    copies = read_folder(imap, ca)
    assert len(copies) == 3
    # The very bytes the SMTP server accepted, in the same order.
    assert sorted(copies) == sorted(r.raw for r in smtp_tls.received)
    ids = {o.provider_message_id for o in outcomes}
    assert {c.split(b"Message-ID: <")[1].split(b">")[0].decode() for c in copies} == ids
    for outcome in outcomes:
        assert "copy stored in the Sent folder 'Sent'" in outcome.detail
        assert outcome.payload == {"sent_copy": True}


def test_starttls_port_is_used_with_starttls_and_the_folder_defaults_to_sent(
    smtp_starttls, imap, ca, trusted
):
    # Not 993/143, so the port is probed: implicit TLS fails, STARTTLS works.
    p = provider(smtp_starttls, **imap_config(imap, port=imap.imap_port))
    [outcome] = send(p, mail())
    assert outcome.error is None
    assert [r.raw for r in smtp_starttls.received] == read_folder(imap, ca)
    p = provider(smtp_starttls, **imap_config(imap, imap.imap_port, imap_security="starttls"))
    [outcome] = send(p, mail(1))
    assert "copy stored" in outcome.detail
    assert len(read_folder(imap, ca)) == 2


def test_a_missing_folder_is_created_and_non_ascii_names_are_encoded(smtp_tls, imap, ca, trusted):
    folder = "Gesendete Objekte/Ärztebriefe"
    p = provider(smtp_tls, **imap_config(imap, sent_folder=folder))
    [outcome] = send(p, mail())
    assert outcome.error is None and f"copy stored in the Sent folder '{folder}'" in outcome.detail
    assert read_folder(imap, ca, quote_mailbox(folder)) == [smtp_tls.received[0].raw]


def test_modified_utf7_folder_names():
    assert encode_utf7("Gesendete Objekte") == "Gesendete Objekte"
    assert encode_utf7("Entwürfe") == "Entw&APw-rfe"
    assert encode_utf7("A&B") == "A&-B"
    assert encode_utf7("日本語") == "&ZeVnLIqe-"
    assert quote_mailbox('a"b') == '"a\\"b"'


def test_an_untrusted_imap_certificate_is_a_note_and_the_mail_stays_sent(smtp_plain, imap, ca):
    # Plain SMTP to the loopback sink is allowed; the IMAP certificate is not trusted.
    p = provider(smtp_plain, allow_plain_loopback=True, **imap_config(imap))
    [outcome] = send(p, mail())
    assert outcome.error is None and len(smtp_plain.received) == 1
    assert "copy to the Sent folder 'Sent' failed (the mail was sent)" in outcome.detail
    assert "certificate of the IMAP server" in outcome.detail
    assert outcome.payload == {"sent_copy": False}
    assert read_folder(imap, ca) == []


def test_imap_refused_port_is_a_note(smtp_tls, trusted):
    p = provider(smtp_tls, imap_host="127.0.0.1", imap_port=free_port())
    outcomes = send(p, mail(0), mail(1))
    assert all(o.error is None for o in outcomes) and len(smtp_tls.received) == 2
    assert all("refused the connection" in o.detail for o in outcomes)


def test_tls_forced_on_a_plain_port_names_the_encryption_failure(smtp_tls, imap, trusted):
    p = provider(smtp_tls, **imap_config(imap, imap.imap_port, imap_security="tls"))
    [outcome] = send(p, mail())
    assert outcome.error is None
    assert "encrypted connection to the IMAP server" in outcome.detail


@pytest.fixture
def dovecot_factory(ca):
    started = []

    def make(users=None, **kwargs):
        started.append(dovecot_server.start(ca, users or {USER: PASSWORD}, **kwargs))
        return started[-1]

    yield make
    for server in started:
        server.stop()


def test_a_wrong_imap_password_says_so_without_the_password(
    smtp_tls, dovecot, dovecot_factory, trusted
):
    other = dovecot_factory({USER: "ein-anderes-Passwort"})
    p = provider(smtp_tls, **imap_config(other))
    [outcome] = send(p, mail())
    assert outcome.error is None and len(smtp_tls.received) == 1
    assert "did not accept the user name and password" in outcome.detail
    assert PASSWORD not in outcome.detail


def test_imap_without_starttls_is_refused_except_to_loopback_when_allowed(
    smtp_tls, smtp_plain, dovecot, dovecot_factory, trusted
):
    plain = dovecot_factory(tls=False)
    p = provider(smtp_tls, **imap_config(plain, plain.imap_port, imap_security="starttls"))
    [outcome] = send(p, mail())
    assert outcome.error is None
    assert "does not offer STARTTLS" in outcome.detail
    assert read_folder_plain(plain) == []
    # A local IMAP server without TLS, explicitly allowed (like plain SMTP to loopback).
    p = provider(
        smtp_plain,
        allow_plain_loopback=True,
        **imap_config(plain, plain.imap_port, imap_security="starttls"),
    )
    [outcome] = send(p, mail(1))
    assert "copy stored" in outcome.detail
    assert read_folder_plain(plain) == [smtp_plain.received[0].raw]


def read_folder_plain(server) -> list[bytes]:
    box = imaplib.IMAP4(server.host, server.imap_port, timeout=10)
    box.login(USER, PASSWORD)
    box.select('"Sent"', readonly=True)
    _, [ids] = box.search(None, "ALL")
    mails = [box.fetch(n, "(BODY.PEEK[])")[1][0][1] for n in ids.split()]
    box.logout()
    return mails


@pytest.mark.django_db(transaction=True)
def test_through_the_outbox_the_copy_is_in_the_protocol(api, smtp_tls, imap, ca, trusted):
    response = api.put(URL, settings_for(smtp_tls, **imap_config(imap, sent_folder="Sent")))
    assert response.status_code == 200, response.content
    assert response.json()["imap_port"] == imap.imaps_port
    created = api.post(
        "/api/v1/messages",
        {"channel": "email", "to": "anna@example.org", "subject": "Termin", "text": "Hallo"},
    )
    drain()
    message = Message.objects.get(pk=created.json()["id"])
    assert message.state == "sent"
    [copy] = read_folder(imap, ca)
    assert copy == smtp_tls.received[0].raw
    assert message.provider_message_id.encode() in copy
    event = DeliveryEvent.objects.get(message=message, to_state="sent")
    assert "copy stored in the Sent folder 'Sent'" in event.detail
    assert event.payload == {"sent_copy": True}


@pytest.mark.django_db(transaction=True)
def test_a_failed_copy_never_sends_the_mail_again(api, smtp_tls, trusted):
    api.put(URL, settings_for(smtp_tls, imap_host="127.0.0.1", imap_port=free_port()))
    created = api.post("/api/v1/messages", {"channel": "email", "to": "a@example.org", "text": "x"})
    drain()
    drain()
    message = Message.objects.get(pk=created.json()["id"])
    assert message.state == "sent" and message.last_error == "" and message.attempts == 1
    assert len(smtp_tls.received) == 1
    event = DeliveryEvent.objects.get(message=message, to_state="sent")
    assert "copy to the Sent folder 'Sent' failed (the mail was sent)" in event.detail
    timeline = api.get(f"/api/v1/messages/{message.pk}").json()["events"]
    assert any("Sent folder" in e["detail"] for e in timeline)
    assert PASSWORD not in str(timeline)
