"""E-mail through the practice's own provider (REQUIREMENTS MAIL-1..9, seed 000).

Config (``ChannelAccount.config``, set through ``api/email.py``)::

    {"host": "smtp.posteo.de", "port": 587, "from_address": "praxis@posteo.de",
     "from_name": "Praxis Dr. Huber", "username": "praxis@posteo.de",
     "bcc": "archiv@posteo.de", "sessions": 2, "max_messages_per_connection": 100,
     "imap_host": "posteo.de", "imap_port": 993, "sent_folder": "Sent"}

Secrets: ``{"password": "..."}``. The password goes to the server in ``AUTH`` and nowhere
else: not into reasons, logs or ``repr`` (``_scrub`` removes it from server answers too).

TLS is decided by the port (MAIL-3): 465 implicit TLS, 587 STARTTLS which the server must
offer, any other port probed (implicit TLS first, then STARTTLS). Plain text only to a
loopback host with ``allow_plain_loopback`` (a local relay or test sink). ``security``
("tls" | "starttls") overrides the port rule for odd setups. Certificates are checked
against the system store; OpenSSL reads ``SSL_CERT_FILE``/``SSL_CERT_DIR`` for private CAs,
and ``ca_file`` adds one CA bundle for this account only.

With ``imap_host`` set, every accepted mail is also APPENDed to the mailbox's Sent folder
(``providers/imap_sent.py``, MAIL-10); a failure there is a note on the message, no resend.

Speed: each of ``sessions`` lanes keeps one logged-in SMTP session and sends message after
message over it (no new TLS handshake and login per mail), reconnecting when the server
closed it or after ``max_messages_per_connection`` mails. Providers limit parallel logins,
so ``sessions`` stays small (the presets carry a value).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ipaddress
import logging
import socket
import ssl
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy, quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, ClassVar

import aiosmtplib
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    CheckResult,
    Outgoing,
    PermanentError,
    Provider,
    ProviderError,
    SendOutcome,
    ThrottledError,
    TransientError,
)
from praxisbote.providers.imap_sent import DEFAULT_FOLDER as IMAP_DEFAULT_FOLDER
from praxisbote.providers.imap_sent import DEFAULT_PORT as IMAP_DEFAULT_PORT
from praxisbote.providers.imap_sent import SentFolder

log = logging.getLogger(__name__)

DEFAULT_SESSIONS = 2
DEFAULT_MAX_PER_CONNECTION = 100
DEFAULT_TIMEOUT = 30.0

#: How often messages waiting for the password (memory mode) look again; saving the
#: password wakes them at once.
PASSWORD_WAIT_SECONDS = 300.0

# Reasons: stored in English in the protocol like every provider's, shown translated to
# staff (``messaging/reasons.py``). ``answer`` is the server's own text (code and message).
LOGIN_REFUSED = declare(
    gettext_noop(
        "The e-mail provider did not accept the user name and password. Check the password; "
        "many providers (Proton, Gmail, Yahoo, iCloud) need a separate app password for SMTP, "
        "and some (GMX, WEB.DE) need sending via SMTP to be switched on in the mailbox "
        "settings. (server answer: %(answer)s)"
    )
)
LOGIN_UNAVAILABLE = declare(
    gettext_noop(
        "The mail server could not check the login right now (%(answer)s); it will be tried again."
    )
)
NO_LOGIN = declare(
    gettext_noop(
        "The mail server %(host)s offers no login on this connection; check the server name "
        "and port in the e-mail settings."
    )
)
NO_LOGIN_METHOD = declare(
    gettext_noop("The mail server %(host)s offers no login method we support.")
)
#: Password mode "memory" after a restart: the message waits queued for the password.
PASSWORD_NEEDED = declare(
    gettext_noop(
        "Password needed after restart: the e-mail password is kept in memory only and "
        "praxisbote was restarted. Enter the password again in the e-mail settings; the "
        "message waits queued until then."
    )
)
NO_PASSWORD = declare(
    gettext_noop("No password is stored for the e-mail account; enter it in the e-mail settings.")
)
NOT_SET_UP = declare(gettext_noop("The e-mail account is not set up: server and sender address."))
NO_WAY_TO_CONNECT = declare(gettext_noop("No way to connect was found."))
NO_STARTTLS = declare(
    gettext_noop(
        "The mail server %(host)s on port %(port)d does not offer STARTTLS encryption, so "
        "the password and mails would travel unencrypted. Use the provider's port 465 or "
        "587 with encryption."
    )
)
CERTIFICATE = declare(
    gettext_noop(
        "The certificate of the mail server %(host)s is not trusted (%(problem)s). Check the "
        "server name; a server with its own certificate authority needs that CA installed "
        "on this machine."
    )
)
UNKNOWN_HOST = declare(
    gettext_noop(
        "The mail server name %(host)s is unknown (no DNS entry). Check the server name in "
        "the e-mail settings and the internet connection."
    )
)
CONNECTION_REFUSED = declare(
    gettext_noop(
        "The mail server %(host)s port %(port)d refused the connection. Check the port; a "
        "firewall, router or antivirus program may also block outgoing mail."
    )
)
TLS_FAILED = declare(
    gettext_noop(
        "The encrypted connection to %(host)s port %(port)d failed (%(problem)s). Check the "
        "port: 465 uses TLS, 587 uses STARTTLS."
    )
)
NO_ANSWER = declare(
    gettext_noop(
        "No answer from the mail server %(host)s port %(port)d. A firewall or the router "
        "may block the port, or the server is down."
    )
)
CLOSED = declare(
    gettext_noop("The mail server %(host)s port %(port)d closed the connection unexpectedly.")
)
CANNOT_TALK = declare(
    gettext_noop("Could not talk to the mail server %(host)s port %(port)d: %(problem)s")
)
TIMEOUT = declare(
    gettext_noop(
        "The mail server %(host)s did not answer in time; the message will be sent again later."
    )
)
TURNED_AWAY = declare(
    gettext_noop("The mail server %(host)s turned the connection away: %(answer)s")
)
#: Refusals in the mail transaction, permanent (5xx) or temporary (4xx).
REFUSED_RECIPIENT = declare(
    gettext_noop("The mail server refused the recipient %(recipient)s: %(answer)s")
)
REFUSED_SENDER = declare(
    gettext_noop("The mail server refused the sender address %(sender)s: %(answer)s")
)
REFUSED_MESSAGE = declare(gettext_noop("The mail server refused the message: %(answer)s"))
REFUSED_RECIPIENT_FOR_NOW = declare(
    gettext_noop(
        "The mail server refused the recipient %(recipient)s: %(answer)s (temporary; it will "
        "be tried again)"
    )
)
REFUSED_SENDER_FOR_NOW = declare(
    gettext_noop(
        "The mail server refused the sender address %(sender)s: %(answer)s (temporary; it "
        "will be tried again)"
    )
)
REFUSED_MESSAGE_FOR_NOW = declare(
    gettext_noop(
        "The mail server refused the message: %(answer)s (temporary; it will be tried again)"
    )
)
#: The ``sent`` event's detail, and the notes added to it (BCC, copy in the Sent folder).
ACCEPTED = declare(gettext_noop("accepted by %(host)s: %(answer)s"))
BCC_REFUSED = declare(
    gettext_noop("%(detail)s; BCC copy to %(address)s refused: %(answer)s"), nested=["detail"]
)
SENT_COPY_STORED = declare(
    gettext_noop("%(detail)s; copy stored in the Sent folder '%(folder)s'"), nested=["detail"]
)
SENT_COPY_FAILED = declare(
    gettext_noop(
        "%(detail)s; copy to the Sent folder '%(folder)s' failed (the mail was sent): %(problem)s"
    ),
    nested=["detail", "problem"],
)
SENT_COPY_ERROR = declare(gettext_noop("unexpected error: %(error)s"))
#: The key check of the e-mail settings.
LOGGED_IN = declare(
    gettext_noop("Logged in to %(host)s port %(port)d as %(user)s (%(encryption)s)."),
    nested=["encryption"],
)
NO_ENCRYPTION = declare(gettext_noop("no encryption (local server)"))


class _ConnectFailed(Exception):
    """No session could be opened: every message waiting for this lane gets ``error``."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.reason)
        self.error = error


@dataclass
class _Session:
    smtp: aiosmtplib.SMTP
    sent: int = 0

    @property
    def usable(self) -> bool:
        return self.smtp.is_connected


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


class SmtpProvider(Provider):
    name: ClassVar[str] = "smtp"
    channels: ClassVar[tuple[str, ...]] = ("email",)

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, secrets, **kwargs)
        c = self.config
        self.host = str(c.get("host", "")).strip()
        self.port = int(c.get("port") or 587)
        self.from_address = str(c.get("from_address", "")).strip()
        self.from_name = str(c.get("from_name", "")).strip()
        self.username = str(c.get("username") or self.from_address).strip()
        bcc = c.get("bcc") or []
        self.bcc = [b.strip() for b in ([bcc] if isinstance(bcc, str) else bcc) if b.strip()]
        self.sessions = max(1, int(c.get("sessions") or DEFAULT_SESSIONS))
        self.max_per_connection = max(
            1, int(c.get("max_messages_per_connection") or DEFAULT_MAX_PER_CONNECTION)
        )
        self.timeout = float(c.get("timeout") or DEFAULT_TIMEOUT)
        self.allow_plain_loopback = bool(c.get("allow_plain_loopback")) and is_loopback(self.host)
        self.security = str(c.get("security") or "auto")
        self.ca_file = str(c.get("ca_file") or "")
        self.password_mode = str(c.get("password_mode") or "stored")
        # Kept out of ``self.secrets``' neighbours on purpose: only ``_login`` reads it.
        self.__password = str(self.secrets.pop("password", "") or "")
        self.secrets = {}
        #: The TLS way that worked ("tls" or "starttls"), so probing happens once.
        self._mode: str | None = None
        self._idle: list[_Session] = []
        self._tls: ssl.SSLContext | None = None
        self._local_hostname: str | None = None
        #: MAIL-10: where a copy of each sent mail goes (None: no IMAP configured).
        self.sent_folder: SentFolder | None = None
        if str(c.get("imap_host") or "").strip():
            self.sent_folder = SentFolder(
                host=str(c["imap_host"]).strip(),
                port=int(c.get("imap_port") or IMAP_DEFAULT_PORT),
                folder=str(c.get("sent_folder") or "").strip() or IMAP_DEFAULT_FOLDER,
                username=self.username,
                password=self.__password,
                tls_context=self.tls_context,
                timeout=self.timeout,
                allow_plain_loopback=bool(c.get("allow_plain_loopback"))
                and is_loopback(str(c["imap_host"]).strip()),
                security=str(c.get("imap_security") or "auto"),
            )

    def __repr__(self) -> str:
        return f"<SmtpProvider {self.username}@{self.host}:{self.port}>"

    # -- the mail itself ---------------------------------------------------------------

    @property
    def sender_domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"

    def build_message(self, message: Outgoing) -> EmailMessage:
        """A proper mail (MAIL-9): display name, Date, Message-ID on our domain, MIME parts."""
        mail = EmailMessage(policy=policy.SMTP)
        name = self.from_name or message.sender_name
        local, _, domain = self.from_address.rpartition("@")
        mail["From"] = Address(display_name=name, username=local, domain=domain)
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(timezone.now())
        mail["Message-ID"] = make_msgid(domain=self.sender_domain)
        # Quoted-printable: 7-bit safe on servers without 8BITMIME, readable in the source.
        mail.set_content(message.body, cte="quoted-printable")
        if message.html:
            mail.add_alternative(message.html, subtype="html", cte="quoted-printable")
        for att in message.attachments:
            maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
            mail.add_attachment(
                att.data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=att.filename,
            )
        return mail

    def render(self, message: Outgoing) -> tuple[bytes, str]:
        """The mail as sent (CRLF lines) and its Message-ID without brackets.

        A plain-text mail, the bulk of reminders, is assembled directly: the email
        package's header objects cost milliseconds per mail, which capped a whole worker
        below what one SMTP server takes. Headers that need encoding (UTF-8 names and
        subjects) still go through the email package, cached, since they repeat across a
        batch. HTML and attachments take ``build_message``.
        """
        if message.html or message.attachments:
            mail = self.build_message(message)
            return mail.as_bytes(), str(mail["Message-ID"]).strip("<>")
        message_id = make_msgid(domain=self.sender_domain)
        name = self.from_name or message.sender_name
        head = b"".join(
            (
                _header("From", (name, self.from_address)),
                _header("To", message.recipient),
                _header("Subject", message.subject),
                b"Date: " + format_datetime(timezone.now()).encode() + b"\r\n",
                b"Message-ID: " + message_id.encode() + b"\r\n",
                _TEXT_PLAIN,
            )
        )
        return head + _quoted_printable(message.body), message_id.strip("<>")

    # -- sending -----------------------------------------------------------------------

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[SendOutcome]:
        """Send over at most ``sessions`` reused sessions; outcomes in the input order."""
        if not messages:
            return []
        queue = deque(messages)
        outcomes: dict[str, SendOutcome] = {}

        async def lane() -> None:
            session = self._idle.pop() if self._idle else None
            try:
                while queue:
                    message = queue.popleft()
                    try:
                        session, outcome, data = await self._deliver(session, message)
                    except _ConnectFailed as exc:
                        # Same reason for the rest: no point hammering a server that said no.
                        outcomes[message.message_id] = SendOutcome(
                            message.message_id, error=exc.error
                        )
                        while queue:
                            rest = queue.popleft()
                            outcomes[rest.message_id] = SendOutcome(
                                rest.message_id, error=exc.error
                            )
                        return
                    outcomes[message.message_id] = outcome
                    if data is not None:
                        sent.append((outcome, data))
            finally:
                if session is not None and session.usable:
                    self._idle.append(session)

        sent: list[tuple[SendOutcome, bytes]] = []
        await asyncio.gather(*(lane() for _ in range(min(self.sessions, len(messages)))))
        if self.sent_folder is not None and sent:
            await self._copy_to_sent(sent)
        return [outcomes[m.message_id] for m in messages]

    async def _copy_to_sent(self, sent: list[tuple[SendOutcome, bytes]]) -> None:
        """MAIL-10: the accepted bytes into the Sent folder; trouble is a note, not a resend."""
        assert self.sent_folder is not None
        try:
            results = await asyncio.to_thread(
                self.sent_folder.append_all, [data for _outcome, data in sent]
            )
        except Exception as exc:  # a bug here must not turn sent mails into retries
            log.exception("copy to the Sent folder failed")
            results = [SENT_COPY_ERROR.format(error=type(exc).__name__)] * len(sent)
        folder = self.sent_folder.folder
        for (outcome, _data), problem in zip(sent, results, strict=True):
            detail = outcome.detail
            if problem:
                outcome.detail = SENT_COPY_FAILED.format(
                    detail=detail, folder=folder, problem=problem
                )
                log.warning("message %s: %s", outcome.message_id, outcome.detail)
            else:
                outcome.detail = SENT_COPY_STORED.format(detail=detail, folder=folder)
            outcome.payload = {**(outcome.payload or {}), "sent_copy": not problem}

    async def send_one(self, message: Outgoing) -> SendOutcome:
        return (await self.send_batch([message]))[0]

    async def _deliver(
        self, session: _Session | None, message: Outgoing
    ) -> tuple[_Session | None, SendOutcome, bytes | None]:
        """Send one mail; the outcome, and the bytes the server accepted (None on failure)."""
        data, message_id = self.render(message)
        for attempt in (1, 2):
            if session is not None and (
                not session.usable or session.sent >= self.max_per_connection
            ):
                await self._quit(session)
                session = None
            if session is None:
                session = await self._open()
            try:
                detail = await self._transaction(session.smtp, message.recipient, data)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
                # The server closed an idle or used-up session: reconnect once and resend.
                session.smtp.close()
                session = None
                if attempt == 2:
                    return (
                        None,
                        self._failed(message, TransientError(self._reason_for_connection(exc))),
                        None,
                    )
                continue
            except aiosmtplib.SMTPTimeoutError:
                session.smtp.close()
                return (
                    None,
                    self._failed(message, TransientError(TIMEOUT.format(host=self.host))),
                    None,
                )
            except ProviderError as exc:
                return session, self._failed(message, exc), None
            session.sent += 1
            outcome = SendOutcome(message.message_id, provider_message_id=message_id, detail=detail)
            return session, outcome, data
        raise AssertionError("unreachable")  # pragma: no cover

    def _failed(self, message: Outgoing, error: ProviderError) -> SendOutcome:
        return SendOutcome(message.message_id, error=error)

    async def _transaction(self, smtp: aiosmtplib.SMTP, recipient: str, data: bytes) -> str:
        """MAIL, RCPT (patient, then BCC), DATA. A refused BCC does not stop the mail."""
        try:
            await smtp.mail(self.from_address)
            await smtp.rcpt(recipient)
        except aiosmtplib.SMTPResponseException as exc:
            await self._rset(smtp)
            raise self._response_error(exc, recipient) from None
        refused = []
        for address in self.bcc:
            try:
                await smtp.rcpt(address)
            except aiosmtplib.SMTPResponseException as exc:
                refused.append((address, f"{exc.code} {self._scrub(exc.message)}"))
        try:
            response = await smtp.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            await self._rset(smtp)
            raise self._response_error(exc, recipient) from None
        answer = f"{response.code} {self._scrub(response.message)}"
        detail = ACCEPTED.format(host=self.host, answer=answer)
        for address, refusal in refused:
            detail = BCC_REFUSED.format(detail=detail, address=address, answer=refusal)
        return detail

    async def _rset(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            await smtp.rset()
        except aiosmtplib.SMTPException:
            smtp.close()

    def _response_error(
        self, exc: aiosmtplib.SMTPResponseException, recipient: str
    ) -> ProviderError:
        answer = f"{exc.code} {self._scrub(exc.message)}".strip()
        temporary = 400 <= exc.code < 500
        if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
            reason = REFUSED_RECIPIENT_FOR_NOW if temporary else REFUSED_RECIPIENT
            what = reason.format(recipient=recipient, answer=answer)
        elif isinstance(exc, aiosmtplib.SMTPSenderRefused):
            reason = REFUSED_SENDER_FOR_NOW if temporary else REFUSED_SENDER
            what = reason.format(sender=self.from_address, answer=answer)
        else:
            reason = REFUSED_MESSAGE_FOR_NOW if temporary else REFUSED_MESSAGE
            what = reason.format(answer=answer)
        if temporary:
            return TransientError(what, code=str(exc.code))
        return PermanentError(what, code=str(exc.code))

    # -- sessions ----------------------------------------------------------------------

    def tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # The system store; OpenSSL itself honours SSL_CERT_FILE / SSL_CERT_DIR.
            context = ssl.create_default_context()
            if self.ca_file:
                context.load_verify_locations(cafile=self.ca_file)
            self._tls = context
        return self._tls

    def _plan(self) -> list[str]:
        if self._mode:
            return [self._mode]
        if self.security in ("tls", "starttls"):
            return [self.security]
        if self.port == 465:
            return ["tls"]
        if self.port == 587:
            return ["starttls"]
        return ["tls", "starttls"]

    async def _open(self) -> _Session:
        """A connected, encrypted (or allowed-plain) and logged-in session, or _ConnectFailed."""
        if not self.host or not self.from_address:
            raise _ConnectFailed(PermanentError(NOT_SET_UP.format()))
        if not self.__password and self.password_mode == "memory":  # noqa: S105
            # Seed 000's mode after a restart: wait (queued) until the practice enters it.
            raise _ConnectFailed(
                ThrottledError(
                    PASSWORD_NEEDED.format(),
                    code="password-needed",
                    retry_after=PASSWORD_WAIT_SECONDS,
                )
            )
        if not self.__password:
            raise _ConnectFailed(PermanentError(NO_PASSWORD.format()))
        if self._local_hostname is None:
            self._local_hostname = await asyncio.get_running_loop().run_in_executor(
                None, socket.getfqdn
            )
        plan = self._plan()
        last: ProviderError | None = None
        for mode in plan:
            try:
                smtp = await self._connect(mode)
            except _NotTls as exc:
                last = exc.error
                continue  # probing: the port does not speak implicit TLS, try STARTTLS
            except ProviderError as exc:
                raise _ConnectFailed(exc) from None
            try:
                await self._login(smtp)
            except ProviderError as exc:
                smtp.close()
                raise _ConnectFailed(exc) from None
            self._mode = mode
            return _Session(smtp)
        raise _ConnectFailed(last or TransientError(NO_WAY_TO_CONNECT.format()))

    async def _connect(self, mode: str) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=mode == "tls",
            start_tls=False,
            tls_context=self.tls_context(),
            timeout=self.timeout,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
            if mode == "starttls":
                await smtp.ehlo()
                if smtp.supports_extension("starttls"):
                    await smtp.starttls()
                elif not self.allow_plain_loopback:
                    smtp.close()
                    raise PermanentError(NO_STARTTLS.format(host=self.host, port=self.port))
        except ProviderError:
            raise
        except aiosmtplib.SMTPResponseException as exc:
            smtp.close()
            raise self._greeting_error(exc) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            cause = _root_cause(exc)
            if (
                mode == "tls"
                and isinstance(cause, ssl.SSLError)
                and not isinstance(cause, ssl.SSLCertVerificationError)
                and len(self._plan()) > 1
            ):
                raise _NotTls(TransientError(self._reason_for_connection(exc))) from None
            raise self._connection_error(exc) from None
        return smtp

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            await smtp.login(self.username, self.__password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.code < 500:
                raise TransientError(
                    LOGIN_UNAVAILABLE.format(answer=f"{exc.code} {self._scrub(exc.message)}")
                ) from None
            raise PermanentError(
                LOGIN_REFUSED.format(answer=f"{exc.code} {self._scrub(exc.message)}"),
                code="auth",
            ) from None
        except aiosmtplib.SMTPNotSupported:
            raise PermanentError(NO_LOGIN.format(host=self.host), code="auth") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._response_error(exc, "") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            if isinstance(exc, aiosmtplib.SMTPException) and "authentication method" in str(exc):
                raise PermanentError(NO_LOGIN_METHOD.format(host=self.host), code="auth") from None
            raise self._connection_error(exc) from None

    def _greeting_error(self, exc: aiosmtplib.SMTPResponseException) -> ProviderError:
        answer = f"{exc.code} {self._scrub(exc.message)}"
        reason = TURNED_AWAY.format(host=self.host, answer=answer)
        if 400 <= exc.code < 500:
            return TransientError(reason)
        return PermanentError(reason)

    def _connection_error(self, exc: BaseException) -> ProviderError:
        cause = _root_cause(exc)
        if isinstance(cause, ssl.SSLCertVerificationError):
            return PermanentError(
                CERTIFICATE.format(host=self.host, problem=cause.verify_message),
                code="tls-certificate",
            )
        return TransientError(self._reason_for_connection(exc), code="connection")

    def _reason_for_connection(self, exc: BaseException) -> str:
        cause = _root_cause(exc)
        where = {"host": self.host, "port": self.port}
        if isinstance(cause, socket.gaierror):
            return UNKNOWN_HOST.format(host=self.host)
        if isinstance(cause, ConnectionRefusedError):
            return CONNECTION_REFUSED.format(**where)
        if isinstance(cause, ssl.SSLError):
            return TLS_FAILED.format(**where, problem=cause.reason or cause)
        if isinstance(cause, TimeoutError | asyncio.TimeoutError) or isinstance(
            exc, aiosmtplib.SMTPTimeoutError
        ):
            return NO_ANSWER.format(**where)
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionError):
            return CLOSED.format(**where)
        return CANNOT_TALK.format(**where, problem=self._scrub(str(exc)))

    async def _quit(self, session: _Session) -> None:
        try:
            await asyncio.wait_for(session.smtp.quit(), timeout=5)
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            session.smtp.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(s) for s in idle))

    def _scrub(self, text: str) -> str:
        """Server answers sometimes echo what they got; the password must never surface."""
        password = self.__password
        if not password or not text:
            return text
        forms = {
            password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"\0{self.username}\0{password}".encode()).decode(),
        }
        for form in forms:
            text = text.replace(form, "***")
        return text

    # -- checks ------------------------------------------------------------------------

    async def check_credentials(self) -> CheckResult:
        """Connect, encrypt, log in and quit (the key check of the e-mail settings)."""
        try:
            session = await self._open()
        except _ConnectFailed as exc:
            return CheckResult(ok=False, detail=exc.error.reason, extra={"code": exc.error.code})
        encryption = "TLS" if self._mode == "tls" else "STARTTLS"
        if self._mode == "starttls" and session.smtp.get_transport_info("sslcontext") is None:
            encryption = NO_ENCRYPTION.format()
        await self._quit(session)
        return CheckResult(
            ok=True,
            detail=LOGGED_IN.format(
                host=self.host, port=self.port, user=self.username, encryption=encryption
            ),
            extra={"encryption": encryption},
        )

    def validate_address(self, address: str, country: str) -> str:
        address = address.strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError("Enter a valid e-mail address.") from None
        return address


_TEXT_PLAIN = (
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)


def _header(name: str, value: str | tuple[str, str]) -> bytes:
    """One header line (folded, RFC 2047 where needed); ``From`` takes (name, address)."""
    if isinstance(value, str):
        # A line break in a subject would start a new header: fold it into a space.
        value = " ".join(value.splitlines())
        if value.isascii() and value.isprintable() and len(name) + len(value) < 76:
            return f"{name}: {value}\r\n".encode()
    return _encoded_header(name, value)


@functools.lru_cache(maxsize=1024)
def _encoded_header(name: str, value: str | tuple[str, str]) -> bytes:
    """Through the email package; cached, as names and subjects repeat across a batch."""
    header: Any = value
    if isinstance(value, tuple):
        display, address = value
        local, _, domain = address.rpartition("@")
        header = Address(display_name=display, username=local, domain=domain)
    return policy.SMTP.fold_binary(name, policy.SMTP.header_factory(name, header))


def _quoted_printable(text: str) -> bytes:
    """The body in quoted-printable (7-bit safe, readable in the source), CRLF lines."""
    encoded = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), eol="\r\n")
    if not encoded.endswith("\r\n"):
        encoded += "\r\n"
    return encoded.encode("ascii")


class _NotTls(Exception):
    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.reason)
        self.error = error
