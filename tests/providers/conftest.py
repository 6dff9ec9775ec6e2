"""A real SMTP server on loopback: aiosmtpd with a trustme CA, AUTH required.

``smtp_tls`` speaks implicit TLS (AUTH PLAIN and LOGIN offered), ``smtp_starttls`` requires
STARTTLS before anything else (only AUTH LOGIN offered, so both mechanisms are exercised),
``smtp_plain`` offers no encryption at all. Each records what arrived in ``.received``.
"""

from __future__ import annotations

import imaplib
import os
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from tests.providers import dovecot as dovecot_server

USER = "praxis@huber.example"
PASSWORD = "s3cret-App-Passwort"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    mechanism: str

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    #: Close the connection after this many accepted mails in one session (0: never).
    close_after: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or envelope.content,
                    getattr(session, "auth_mechanism", ""),
                )
            )
        session.accepted = getattr(session, "accepted", 0) + 1
        if self.close_after and session.accepted >= self.close_after:
            # Answer 250, then hang up: what a server does to an idle or used-up session.
            server.loop.call_soon(server.transport.close)
        return "250 OK queued"


def authenticator(handler: Handler):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USER
            and auth_data.password.decode() == PASSWORD
        )
        if ok:
            session.auth_mechanism = mechanism
            handler.logins.append(mechanism)
        return AuthResult(success=ok, handled=False)

    return check


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    controller: Controller
    handler: Handler
    port: int
    host: str = "127.0.0.1"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def config(self, **extra) -> dict:
        return {"host": self.host, "port": self.port, "from_address": USER, **extra}


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def trusted(monkeypatch, ca_file):
    """Our CA in SSL_CERT_FILE: the system-store path a practice with a private CA uses."""
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    return ca_file


def _server_context(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def _start(handler: Handler, **kwargs) -> Server:
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator(handler),
        auth_required=True,
        **kwargs,
    )
    controller.start()
    return Server(controller, handler, port)


@pytest.fixture
def smtp_tls(ca):
    server = _start(Handler(), ssl_context=_server_context(ca), auth_require_tls=False)
    yield server
    server.controller.stop()


@pytest.fixture
def smtp_starttls(ca):
    server = _start(
        Handler(),
        tls_context=_server_context(ca),
        require_starttls=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
    )
    yield server
    server.controller.stop()


@pytest.fixture
def smtp_plain():
    server = _start(Handler(), auth_require_tls=False)
    yield server
    server.controller.stop()


@pytest.fixture(scope="session")
def dovecot(ca):
    """Dovecot on loopback (``tests/providers/dovecot.py``) knowing USER with PASSWORD.

    Skipped with the reason when Dovecot is not installed; under CI=true that is a failure,
    since ``make test`` installs it (Debian package dovecot-imapd).
    """
    if dovecot_server.dovecot_binary() is None:
        message = (
            "Dovecot is not installed (Debian package dovecot-imapd, which `make test` "
            "installs): the Sent-folder tests against a real IMAP server did not run"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " and CI=true")
        pytest.skip(message)
    server = dovecot_server.start(ca, {USER: PASSWORD})
    yield server
    server.stop()


@pytest.fixture
def imap(dovecot, ca):
    """The Dovecot server with USER's mailbox emptied: every test starts with no copies."""
    with open_imap(dovecot, ca) as box:
        # Lines look like: (\HasNoChildren) "/" "Gesendete Objekte"; the name comes last.
        names = [line.decode().split(') "/" ', 1)[1] for line in box.list()[1]]
        for name in sorted(names, key=len, reverse=True):  # children before parents
            if name.strip('"') not in ("INBOX", "Sent"):
                box.delete(name)
        _, [count] = box.select('"Sent"')
        if int(count):
            box.store("1:*", "+FLAGS", r"(\Deleted)")
            box.expunge()
    return dovecot


def open_imap(server, ca) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    box = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=context, timeout=10)
    box.login(USER, PASSWORD)
    return box


def read_folder(server, ca, mailbox: str = '"Sent"') -> list[bytes]:
    """Every mail in ``mailbox`` (an IMAP-quoted name) as the exact stored bytes."""
    with open_imap(server, ca) as box:
        typ, _ = box.select(mailbox, readonly=True)
        if typ != "OK":
            return []
        _, [ids] = box.search(None, "ALL")
        mails = []
        for num in ids.split():
            _, data = box.fetch(num, "(BODY.PEEK[])")
            mails.append(data[0][1])
        return mails
