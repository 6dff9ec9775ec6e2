"""The practice's e-mail account (MAIL-1, -4, -6, -7, -11): read, validate, save, test.

Shared by the API (``api/email.py``) and the staff settings page (``web/views/email.py``),
so both give the same messages for the same mistakes. The password is
written encrypted (``set_account_secrets``) and never read back out of this module except
into the provider that logs in with it. In ``password_mode`` "memory" it is not written at
all: this process holds it (``messaging/memory.py``), which needs the embedded worker.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.messaging import memory, pdf
from praxisbote.messaging.delivery import account_secrets, sending_secrets, set_account_secrets
from praxisbote.messaging.models import ChannelAccount, Message, State
from praxisbote.messaging.reasons import declare
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.providers.base import CheckResult, Outgoing
from praxisbote.providers.smtp import SmtpProvider

CHANNEL = "email"
MODE_STORED, MODE_MEMORY = "stored", "memory"
PASSWORD_MODES = (MODE_STORED, MODE_MEMORY)
HOST_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$")
#: Fields kept in ``ChannelAccount.config`` (the password is a secret, not config).
CONFIG_FIELDS = (
    "host",
    "port",
    "from_address",
    "from_name",
    "username",
    "bcc",
    "password_mode",
    "imap_host",
    "imap_port",
    "sent_folder",
    "sessions",
    "max_messages_per_connection",
    "preset",
)


@dataclass
class EmailSettingsInput:
    host: str
    port: int
    from_address: str
    password: str = ""
    from_name: str = ""
    username: str = ""
    bcc: str = ""
    password_mode: str = MODE_STORED
    cleared_for_sensitive: bool = False
    imap_host: str = ""
    imap_port: int | None = None
    sent_folder: str = ""
    sessions: int | None = None
    max_messages_per_connection: int | None = None
    preset: str = ""


def account(practice: Practice) -> ChannelAccount | None:
    return scoped(ChannelAccount, practice).filter(channel=CHANNEL).first()


def has_smtp_settings(acc: ChannelAccount | None) -> bool:
    """SMTP in use, or kept while the channel is back in test mode (for switching back)."""
    if acc is None:
        return False
    return acc.provider == "smtp" or (acc.config or {}).get("previous_provider") == "smtp"


def read(practice: Practice) -> dict[str, Any]:
    """The settings as shown to the practice: everything but the password.

    In test mode after SMTP was used, the kept SMTP settings are shown: they are what
    switching back (``services.switch_to_previous``) sends with.
    """
    acc = account(practice)
    kept = has_smtp_settings(acc)
    config = dict(acc.config) if kept else {}
    password_set = bool(kept and sending_secrets(acc).get("password"))
    mode = config.get("password_mode", MODE_STORED)
    return {
        "provider": acc.provider if acc else "sandbox",
        "test_mode": not acc or acc.provider == "sandbox",
        "host": config.get("host", ""),
        "port": config.get("port"),
        "from_address": config.get("from_address", ""),
        "from_name": config.get("from_name", ""),
        "username": config.get("username", ""),
        "bcc": config.get("bcc", ""),
        "password_mode": mode,
        "password_set": password_set,
        # Memory mode after a restart: mails wait until the password is entered again.
        "password_required": bool(config) and mode == MODE_MEMORY and not password_set,
        "cleared_for_sensitive": bool(acc and acc.cleared_for_sensitive),
        "imap_host": config.get("imap_host", ""),
        "imap_port": config.get("imap_port"),
        "sent_folder": config.get("sent_folder", ""),
        "sessions": config.get("sessions"),
        "max_messages_per_connection": config.get("max_messages_per_connection"),
        "preset": config.get("preset", ""),
        # MAIL-8: can attachments be sent as PDF copy (LibreOffice installed)? If not, why.
        "pdf_conversion_available": pdf.available(),
        "pdf_conversion_note": pdf.unavailable_reason(),
    }


def _validate(data: EmailSettingsInput, has_password: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    host = data.host.strip().lower()
    if not HOST_RE.match(host):
        errors["host"] = _("Enter the SMTP server name, e.g. smtp.posteo.de.")
    clean["host"] = host
    if not 1 <= data.port <= 65535:
        errors["port"] = _("Enter a port between 1 and 65535 (usually 465 or 587).")
    clean["port"] = data.port
    for field in ("from_address", "bcc"):
        value = getattr(data, field).strip()
        clean[field] = value
        if value or field == "from_address":
            try:
                validate_email(value)
            except ValidationError:
                errors[field] = _("Enter a valid e-mail address.")
    name = data.from_name.strip()
    if len(name) > 100 or any(c in name for c in "\r\n"):
        errors["from_name"] = _("At most 100 characters on one line.")
    clean["from_name"] = name
    username = data.username.strip() or clean["from_address"]
    if len(username) > 254 or any(c in username for c in "\r\n"):
        errors["username"] = _("At most 254 characters on one line.")
    clean["username"] = username
    if data.password_mode not in PASSWORD_MODES:
        errors["password_mode"] = _("Choose 'stored' or 'memory'.")
    elif data.password_mode == MODE_MEMORY and not memory.embedded_worker_running():
        errors["password_mode"] = _(
            "Keeping the password in memory only needs the worker inside this server "
            "process (praxisbote serve without --no-worker); with separate workers use "
            "'stored' (encrypted at rest)."
        )
    clean["password_mode"] = data.password_mode
    if any(c in data.password for c in "\r\n"):
        errors["password"] = _("The password must be on one line.")
    elif not data.password and not has_password:
        errors["password"] = _("Enter the password (or the provider's app password).")
    imap_host = data.imap_host.strip().lower()
    if imap_host and not HOST_RE.match(imap_host):
        errors["imap_host"] = _("Enter the IMAP server name, e.g. imap.posteo.de.")
    clean["imap_host"] = imap_host
    if data.imap_port is not None and not 1 <= data.imap_port <= 65535:
        errors["imap_port"] = _("Enter a port between 1 and 65535 (usually 993).")
    clean["imap_port"] = data.imap_port
    folder = data.sent_folder.strip()
    if len(folder) > 200 or any(c in folder for c in "\r\n"):
        errors["sent_folder"] = _("At most 200 characters on one line.")
    clean["sent_folder"] = folder
    if data.sessions is not None and not 1 <= data.sessions <= 10:
        errors["sessions"] = _("Between 1 and 10 parallel sessions.")
    clean["sessions"] = data.sessions
    limit = data.max_messages_per_connection
    if limit is not None and not 1 <= limit <= 10000:
        errors["max_messages_per_connection"] = _("Between 1 and 10,000 mails per connection.")
    clean["max_messages_per_connection"] = limit
    clean["preset"] = data.preset.strip()
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    return {k: v for k, v in clean.items() if v not in (None, "") or k in ("bcc", "from_name")}


def save(practice: Practice, data: EmailSettingsInput) -> ChannelAccount:
    """Validate and store; the channel then sends through SMTP (test mode ends)."""
    with transaction.atomic():
        acc = account(practice)
        if acc is None:
            acc = ChannelAccount(practice=practice, channel=CHANNEL)
        kept = has_smtp_settings(acc)
        secrets = account_secrets(acc) if kept else {}
        # The password in use, wherever it is now: switching modes keeps it.
        current = sending_secrets(acc).get("password", "") if kept else ""
        config = _validate(data, has_password=bool(current))
        password = data.password or current
        if config["password_mode"] == MODE_MEMORY:
            secrets.pop("password", None)  # never in the database in this mode
            memory.put_password(practice.pk, CHANNEL, password)
        else:
            secrets["password"] = password
            memory.forget_password(practice.pk, CHANNEL)
        acc.provider = "smtp"
        acc.config = config
        acc.cleared_for_sensitive = data.cleared_for_sensitive
        acc.updated_at = timezone.now()
        set_account_secrets(acc, secrets)
        acc.save()
        _wake_waiting(practice)
        return acc


def _wake_waiting(practice: Practice) -> None:
    """Mails waiting for a retry (e.g. for the password after a restart) go now."""
    now = timezone.now()
    woken = (
        scoped(Message, practice)
        .filter(channel=CHANNEL, state=State.QUEUED, next_attempt_at__gt=now)
        .update(next_attempt_at=now, updated_at=now)
    )
    if woken:
        from praxisbote.messaging import wakeup
        from praxisbote.messaging.worker import notify_new_work

        wakeup.announce()
        transaction.on_commit(notify_new_work)


def provider(practice: Practice) -> SmtpProvider | None:
    acc = account(practice)
    if acc is None or acc.provider != "smtp":
        return None
    return SmtpProvider(acc.config, sending_secrets(acc))


#: The test mail's answers, English like the provider reasons they stand next to: the API
#: returns them as they are, the settings page shows them translated (``reasons.readable``).
NOT_SET_UP = declare(gettext_noop("E-mail is not set up yet; enter the server settings first."))
TEST_SENT = declare(gettext_noop("Test e-mail sent to %(address)s; check that it arrived."))


@dataclass
class TestResult:
    ok: bool
    #: English (a declared reason or the provider's); ``reasons.readable`` for the reader.
    detail: str


def send_test_mail(practice: Practice) -> TestResult:
    """MAIL-7: a mail to the practice's own address, now; success or the provider's reason."""
    smtp = provider(practice)
    if smtp is None:
        return TestResult(False, NOT_SET_UP.format())
    message = Outgoing(
        message_id="test",
        channel=CHANNEL,
        recipient=smtp.from_address,
        subject=_("praxisbote: test e-mail"),
        body=_(
            "This is a test e-mail from praxisbote. If you can read it, sending through "
            "{host} works."
        ).format(host=smtp.host),
        sender_name=practice.display_sender,
        practice_id=str(practice.pk),
    )

    async def run() -> TestResult:
        try:
            [outcome] = await smtp.send_batch([message])
        finally:
            await smtp.close()
        if outcome.error is not None:
            return TestResult(False, outcome.error.reason)
        return TestResult(True, TEST_SENT.format(address=smtp.from_address))

    return asyncio.run(run())


def check(practice: Practice) -> CheckResult:
    """Log in and out (the key check); ``detail`` is English like ``send_test_mail``'s."""
    smtp = provider(practice)
    if smtp is None:
        return CheckResult(False, NOT_SET_UP.format())
    return asyncio.run(smtp.check_credentials())
