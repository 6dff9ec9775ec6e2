"""The SMTP provider against a real aiosmtpd server on loopback (TLS, STARTTLS, AUTH)."""

from __future__ import annotations

import asyncio

import pytest
from tests.providers.conftest import PASSWORD, USER

from praxisbote.providers.base import (
    Outgoing,
    OutgoingAttachment,
    PermanentError,
    TransientError,
)
from praxisbote.providers.registry import provider_class
from praxisbote.providers.smtp import SmtpProvider

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8


def provider(server, password=PASSWORD, **config) -> SmtpProvider:
    return SmtpProvider(server.config(**config), {"password": password})


def mail(i: int = 0, **kw) -> Outgoing:
    kw.setdefault("recipient", f"patient{i}@example.org")
    kw.setdefault("subject", "Terminbestätigung für Müller")
    kw.setdefault("body", "Grüß Gott, Ihr Termin ist am 19.08. um 16:30 Uhr.")
    kw.setdefault("sender_name", "Praxis Dr. Huber")
    return Outgoing(message_id=f"m{i}", channel="email", **kw)


def send(p: SmtpProvider, *messages: Outgoing):
    async def go():
        try:
            return await p.send_batch(list(messages))
        finally:
            await p.close()

    return asyncio.run(go())


def test_a_plain_text_mail_is_assembled_properly(smtp_tls, trusted):
    """Plain-text mails skip the email package's header objects (speed): same result."""
    p = provider(smtp_tls, from_name="Dr. Jürgen Öhlinger")
    body = "Grüß Gott,\nIhr Termin ist am 19.08.\n" + "x" * 120 + "\n.\nEnde"
    long_subject = ("Erinnerung an Ihren Termin bei Dr. Öhlinger " * 4).strip()
    outcomes = send(
        p,
        mail(0, body=body),
        mail(1, subject=long_subject),
        mail(2, subject="Zeile 1\r\nBcc: evil@example.org"),
    )
    assert all(o.error is None for o in outcomes)
    got = {r.rcpt_tos[0]: r for r in smtp_tls.received}
    for i, outcome in enumerate(outcomes):
        raw = got[f"patient{i}@example.org"].raw
        message = got[f"patient{i}@example.org"].message
        assert all(len(line) <= 78 for line in raw.split(b"\r\n")), raw
        assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
        assert message["From"].addresses[0].display_name == "Dr. Jürgen Öhlinger"
        assert message["From"].addresses[0].addr_spec == USER
        assert message["To"] == f"patient{i}@example.org"
        assert message["MIME-Version"] == "1.0" and message["Date"].datetime is not None
        assert message["Message-ID"] == f"<{outcome.provider_message_id}>"
        assert message["Message-ID"].endswith("@huber.example>")
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert message["Content-Transfer-Encoding"] == "quoted-printable"
    content = got["patient0@example.org"].message.get_content()
    assert content.replace("\r\n", "\n") == body + "\n"  # dots, long lines, umlauts intact
    assert got["patient1@example.org"].message["Subject"] == long_subject
    injected = got["patient2@example.org"].message
    assert injected["Subject"] == "Zeile 1 Bcc: evil@example.org" and "Bcc" not in injected


def test_registered_as_smtp():
    assert provider_class("smtp") is SmtpProvider


def test_implicit_tls_mail_arrives_with_proper_headers_bcc_and_attachment(smtp_tls, trusted):
    p = provider(smtp_tls, from_name="Dr. Jürgen Öhlinger", bcc="archiv@huber.example")
    message = mail(
        html="<p>Grüß Gott</p>",
        attachments=(OutgoingAttachment("Honorarnote März.pdf", "application/pdf", PDF),),
    )
    [outcome] = send(p, message)
    assert outcome.error is None, outcome.error
    [got] = smtp_tls.received
    assert got.mail_from == USER
    assert got.rcpt_tos == ["patient0@example.org", "archiv@huber.example"]
    assert got.mechanism == "PLAIN"
    mail_ = got.message
    assert "Bcc" not in mail_ and b"archiv@" not in got.raw
    assert mail_["From"].addresses[0].display_name == "Dr. Jürgen Öhlinger"
    assert mail_["From"].addresses[0].addr_spec == USER
    assert b"=?utf-8?" in got.raw.split(b"\r\n\r\n")[0]  # RFC 2047 in the raw headers
    assert mail_["Subject"] == "Terminbestätigung für Müller"
    assert mail_["Date"].datetime is not None
    assert mail_["Message-ID"].endswith("@huber.example>")
    assert outcome.provider_message_id == mail_["Message-ID"].strip("<>")
    assert mail_.get_content_type() == "multipart/mixed"
    body = mail_.get_body(("plain",))
    assert body.get_content().startswith("Grüß Gott, Ihr Termin")
    assert mail_.get_body(("html",)).get_content().strip() == "<p>Grüß Gott</p>"
    assert mail_.get_payload()[0].get_content_type() == "multipart/alternative"
    [att] = list(mail_.iter_attachments())
    assert att.get_content_type() == "application/pdf"
    assert att.get_filename() == "Honorarnote März.pdf"
    assert att.get_content() == PDF


def test_display_name_defaults_to_the_practice(smtp_tls, trusted):
    [outcome] = send(provider(smtp_tls), mail())
    assert outcome.error is None
    assert smtp_tls.received[0].message["From"].addresses[0].display_name == "Praxis Dr. Huber"


def test_starttls_with_auth_login_and_one_session_for_many_mails(smtp_starttls, trusted):
    p = provider(smtp_starttls, security="starttls", sessions=1)
    outcomes = send(p, *[mail(i) for i in range(20)])
    assert [o.error for o in outcomes] == [None] * 20
    assert len(smtp_starttls.received) == 20
    assert smtp_starttls.handler.logins == ["LOGIN"]  # one login for twenty mails


def test_other_port_is_probed_tls_first_then_starttls(smtp_starttls, smtp_tls, trusted):
    # Neither port is 465 or 587: the provider finds out what each one speaks.
    for server, mechanism in ((smtp_starttls, "LOGIN"), (smtp_tls, "PLAIN")):
        [outcome] = send(provider(server), mail())
        assert outcome.error is None, outcome.error
        assert server.received[-1].mechanism == mechanism


def test_sessions_are_reused_up_to_the_per_connection_limit(smtp_tls, trusted):
    p = provider(smtp_tls, sessions=2, max_messages_per_connection=5)
    outcomes = send(p, *[mail(i) for i in range(20)])
    assert all(o.error is None for o in outcomes)
    assert len(smtp_tls.received) == 20
    assert len(smtp_tls.handler.logins) == 4  # 20 mails / 5 per session


def test_server_closing_mid_session_is_reconnected_and_sent(smtp_tls, trusted):
    smtp_tls.handler.close_after = 3
    outcomes = send(provider(smtp_tls, sessions=1), *[mail(i) for i in range(7)])
    assert [o.error for o in outcomes] == [None] * 7
    assert sorted(r.rcpt_tos[0] for r in smtp_tls.received) == sorted(
        f"patient{i}@example.org" for i in range(7)
    )
    assert len(smtp_tls.handler.logins) == 3


def test_wrong_password_fails_permanently_with_a_hint_and_no_secret(smtp_tls, trusted):
    p = provider(smtp_tls, password="falsches-Passwort")
    outcomes = send(p, mail(1), mail(2))
    for outcome in outcomes:
        assert isinstance(outcome.error, PermanentError)
        assert "app password" in outcome.error.reason
        assert "falsches-Passwort" not in outcome.error.reason
    assert smtp_tls.received == []
    assert "falsches" not in repr(p) and "falsches" not in repr(p.__dict__.get("secrets"))


def test_missing_starttls_on_a_starttls_port_is_refused(smtp_plain, trusted):
    [outcome] = send(provider(smtp_plain, security="starttls"), mail())
    assert isinstance(outcome.error, PermanentError)
    assert "STARTTLS" in outcome.error.reason
    assert smtp_plain.received == [] and smtp_plain.handler.logins == []


def test_plain_only_to_loopback_when_allowed(smtp_plain):
    [outcome] = send(provider(smtp_plain, allow_plain_loopback=True), mail())
    assert outcome.error is None, outcome.error
    assert len(smtp_plain.received) == 1


def test_untrusted_certificate_is_named_as_such(smtp_tls):
    [outcome] = send(provider(smtp_tls), mail())  # our CA is not in the store
    assert isinstance(outcome.error, PermanentError)
    assert "certificate" in outcome.error.reason
    assert smtp_tls.handler.logins == []


def test_ca_file_trusts_a_private_ca_for_one_account(smtp_tls, ca_file):
    [outcome] = send(provider(smtp_tls, ca_file=ca_file), mail())
    assert outcome.error is None, outcome.error


def test_refused_port_is_transient_with_a_reason():
    from tests.providers.conftest import free_port

    p = SmtpProvider(
        {"host": "127.0.0.1", "port": free_port(), "from_address": USER}, {"password": "x"}
    )
    [outcome] = send(p, mail())
    assert isinstance(outcome.error, TransientError)
    assert "refused the connection" in outcome.error.reason


def test_unknown_host_is_named():
    p = SmtpProvider(
        {"host": "smtp.does-not-exist.invalid", "port": 465, "from_address": USER},
        {"password": "x"},
    )
    [outcome] = send(p, mail())
    assert isinstance(outcome.error, TransientError)
    assert "unknown" in outcome.error.reason


def test_check_credentials(smtp_tls, trusted):
    ok = asyncio.run(provider(smtp_tls).check_credentials())
    assert ok.ok and "Logged in" in ok.detail and "TLS" in ok.detail
    bad = asyncio.run(provider(smtp_tls, password="nope").check_credentials())
    assert not bad.ok and "app password" in bad.detail and "nope" not in bad.detail


def test_missing_password_is_a_readable_failure(smtp_tls, trusted):
    [outcome] = send(provider(smtp_tls, password=""), mail())
    assert isinstance(outcome.error, PermanentError)
    assert "No password" in outcome.error.reason


@pytest.mark.parametrize("code,kind", [(450, TransientError), (550, PermanentError)])
def test_refused_recipient_maps_4xx_and_5xx(smtp_tls, trusted, code, kind):
    async def refuse(server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return f"{code} mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_tls.handler.handle_RCPT = refuse
    outcomes = send(provider(smtp_tls, sessions=1), mail(1, recipient="refused@x.org"), mail(2))
    assert isinstance(outcomes[0].error, kind)
    assert str(code) in outcomes[0].error.reason
    assert outcomes[1].error is None  # the session goes on after a refused recipient
    assert [r.rcpt_tos for r in smtp_tls.received] == [["patient2@example.org"]]


def test_untrusted_certificate_after_starttls_is_named_as_such(smtp_starttls):
    [outcome] = send(provider(smtp_starttls, security="starttls"), mail())
    assert isinstance(outcome.error, PermanentError)
    assert "certificate" in outcome.error.reason
    assert smtp_starttls.handler.logins == []
