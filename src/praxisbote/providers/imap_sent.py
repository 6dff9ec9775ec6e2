"""The copy of each sent mail in the mailbox's "Sent" folder (MAIL-10).

After the SMTP server accepted a mail, the very bytes it got are APPENDed to the Sent folder
over IMAP with the same user name and password, so the practice sees in its own mail program
what praxisbote sent. This is a courtesy copy: when it fails, the mail stays sent (it is
never sent again) and the reason is noted on the message's protocol.

stdlib ``imaplib`` in a thread: one connection per batch of mails, APPEND after APPEND over
it. Encryption follows the SMTP rules: port 993 implicit TLS, 143 STARTTLS (required), any
other port probed (TLS first, then STARTTLS); plain IMAP only to loopback with
``allow_plain_loopback``. Certificates are checked against the system store
(``SSL_CERT_FILE`` honoured) plus the account's ``ca_file``.
"""

from __future__ import annotations

import base64
import imaplib
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare

DEFAULT_PORT = 993
DEFAULT_FOLDER = "Sent"


# Reasons (English in the protocol, translated for staff: ``messaging/reasons.py``); they
# end up in the ``sent`` event's detail after "copy to the Sent folder ... failed".
NO_WAY_TO_CONNECT = declare(gettext_noop("No way to connect to the IMAP server was found."))
NO_TLS = declare(gettext_noop("No TLS on %(host)s port %(port)d: %(problem)s"))
CERTIFICATE = declare(
    gettext_noop("The certificate of the IMAP server %(host)s is not trusted (%(problem)s).")
)
NO_STARTTLS = declare(
    gettext_noop(
        "The IMAP server %(host)s port %(port)d does not offer STARTTLS encryption; the "
        "password is not sent unencrypted. Use the provider's IMAP port 993."
    )
)
LOGIN_REFUSED = declare(
    gettext_noop(
        "The IMAP server did not accept the user name and password of the e-mail account "
        "(%(answer)s). Check the IMAP server name; some providers need IMAP to be switched "
        "on in the mailbox settings."
    )
)
FOLDER_REFUSED = declare(
    gettext_noop("The IMAP server refused to store the copy in the folder '%(folder)s': %(answer)s")
)
UNKNOWN_HOST = declare(gettext_noop("The IMAP server name %(host)s is unknown (no DNS entry)."))
REFUSED = declare(
    gettext_noop(
        "The IMAP server %(host)s port %(port)d refused the connection; check the IMAP port."
    )
)
NO_ANSWER = declare(gettext_noop("No answer from the IMAP server %(host)s port %(port)d."))
TLS_FAILED = declare(
    gettext_noop(
        "The encrypted connection to the IMAP server %(host)s port %(port)d failed (%(problem)s)."
    )
)
CLOSED = declare(
    gettext_noop("The IMAP server %(host)s port %(port)d closed the connection unexpectedly.")
)
CANNOT_TALK = declare(
    gettext_noop("Could not talk to the IMAP server %(host)s port %(port)d: %(problem)s")
)


class SentCopyError(Exception):
    """The copy could not be stored; ``reason`` is readable and free of the password."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotTls(Exception):
    pass


@dataclass
class SentFolder:
    host: str
    port: int
    folder: str
    username: str
    password: str
    tls_context: Callable[[], ssl.SSLContext]
    timeout: float = 30.0
    allow_plain_loopback: bool = False
    security: str = "auto"

    def __repr__(self) -> str:
        return f"<SentFolder {self.username}@{self.host}:{self.port}/{self.folder}>"

    def _plan(self) -> list[str]:
        if self.security in ("tls", "starttls"):
            return [self.security]
        if self.port == 993:
            return ["tls"]
        if self.port == 143:
            return ["starttls"]
        return ["tls", "starttls"]

    def append_all(self, mails: Sequence[bytes]) -> list[str]:
        """APPEND each mail; one result per mail: "" when stored, else the readable reason.

        Blocking (imaplib): call it in a thread. Never raises for IMAP or network trouble.
        """
        if not mails:
            return []
        try:
            imap = self._open()
        except SentCopyError as exc:
            return [exc.reason] * len(mails)
        results: list[str] = []
        try:
            for data in mails:
                try:
                    self._append(imap, data)
                    results.append("")
                except SentCopyError as exc:
                    results.append(exc.reason)
                except (imaplib.IMAP4.abort, OSError) as exc:
                    # The connection broke: the rest cannot be stored either.
                    reason = self._reason(exc)
                    results.extend([reason] * (len(mails) - len(results)))
                    break
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
        return results

    # -- connection --------------------------------------------------------------------

    def _open(self) -> imaplib.IMAP4:
        last: SentCopyError | None = None
        for mode in self._plan():
            try:
                imap = self._connect(mode)
            except _NotTls as exc:
                last = SentCopyError(str(exc))
                continue
            self._login(imap)
            return imap
        raise last or SentCopyError(NO_WAY_TO_CONNECT.format())

    def _connect(self, mode: str) -> imaplib.IMAP4:
        where = {"host": self.host, "port": self.port}
        try:
            if mode == "tls":
                return imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self.tls_context(), timeout=self.timeout
                )
            imap = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise SentCopyError(
                CERTIFICATE.format(host=self.host, problem=exc.verify_message)
            ) from None
        except ssl.SSLError as exc:
            if len(self._plan()) > 1:
                raise _NotTls(NO_TLS.format(**where, problem=exc.reason or exc)) from None
            raise SentCopyError(self._reason(exc)) from None
        except (imaplib.IMAP4.error, OSError) as exc:
            raise SentCopyError(self._reason(exc)) from None
        try:
            if "STARTTLS" in imap.capabilities:
                imap.starttls(ssl_context=self.tls_context())
            elif not self.allow_plain_loopback:
                raise SentCopyError(NO_STARTTLS.format(**where))
        except ssl.SSLCertVerificationError as exc:
            imap.shutdown()
            raise SentCopyError(
                CERTIFICATE.format(host=self.host, problem=exc.verify_message)
            ) from None
        except SentCopyError:
            imap.shutdown()
            raise
        except (imaplib.IMAP4.error, OSError) as exc:
            imap.shutdown()
            raise SentCopyError(self._reason(exc)) from None
        return imap

    def _login(self, imap: imaplib.IMAP4) -> None:
        try:
            if "AUTH=PLAIN" in imap.capabilities:
                token = f"\0{self.username}\0{self.password}".encode()
                imap.authenticate("PLAIN", lambda _challenge: token)
            else:
                imap.login(self.username, self.password)
        except imaplib.IMAP4.error as exc:
            imap.shutdown()
            raise SentCopyError(LOGIN_REFUSED.format(answer=self._scrub(_text(exc)))) from None
        except OSError as exc:
            imap.shutdown()
            raise SentCopyError(self._reason(exc)) from None

    # -- the copy ----------------------------------------------------------------------

    def _append(self, imap: imaplib.IMAP4, data: bytes) -> None:
        mailbox = quote_mailbox(self.folder)
        when = imaplib.Time2Internaldate(time.time())
        typ, answer = imap.append(mailbox, r"(\Seen)", when, data)
        if typ != "OK" and b"[TRYCREATE]" in b" ".join(_bytes(a) for a in answer):
            imap.create(mailbox)
            typ, answer = imap.append(mailbox, r"(\Seen)", when, data)
        if typ != "OK":
            raise SentCopyError(
                FOLDER_REFUSED.format(folder=self.folder, answer=self._scrub(_text(answer)))
            )

    def _reason(self, exc: BaseException) -> str:
        where = {"host": self.host, "port": self.port}
        if isinstance(exc, socket.gaierror):
            return UNKNOWN_HOST.format(host=self.host)
        if isinstance(exc, ConnectionRefusedError):
            return REFUSED.format(**where)
        if isinstance(exc, TimeoutError):
            return NO_ANSWER.format(**where)
        if isinstance(exc, ssl.SSLError):
            return TLS_FAILED.format(**where, problem=exc.reason)
        if isinstance(exc, imaplib.IMAP4.abort | ConnectionError | EOFError):
            return CLOSED.format(**where)
        return CANNOT_TALK.format(**where, problem=self._scrub(_text(exc)))

    def _scrub(self, text: str) -> str:
        if not self.password or not text:
            return text
        forms = {
            self.password,
            base64.b64encode(self.password.encode()).decode(),
            base64.b64encode(f"\0{self.username}\0{self.password}".encode()).decode(),
        }
        for form in forms:
            text = text.replace(form, "***")
        return text


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, tuple):
        return b" ".join(_bytes(v) for v in value)
    return str(value).encode()


def _text(value: object) -> str:
    if isinstance(value, BaseException):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, list):
        value = b" ".join(_bytes(v) for v in value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def quote_mailbox(name: str) -> str:
    """A folder name as an IMAP quoted string in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = encode_utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_utf7(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
