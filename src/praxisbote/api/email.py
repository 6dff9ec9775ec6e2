"""The practice's e-mail channel (MAIL-1..7): settings, presets, test mail.

The password goes in (``PUT``) and never comes out: responses say only ``password_set``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from praxisbote.api.auth import practice_of
from praxisbote.messaging import email_settings
from praxisbote.providers.email_presets import PRESETS

router = Router(tags=["e-mail"])


class EmailSettingsOut(Schema):
    provider: str = Field(..., description="'smtp', or 'sandbox' while in test mode")
    test_mode: bool
    host: str
    port: int | None
    from_address: str
    from_name: str
    username: str
    bcc: str
    password_mode: str
    password_set: bool
    password_required: bool = Field(
        ...,
        description="Password mode 'memory' after a restart: mails wait queued until the "
        "password is entered again with PUT",
    )
    cleared_for_sensitive: bool
    imap_host: str
    imap_port: int | None
    sent_folder: str
    sessions: int | None
    max_messages_per_connection: int | None
    preset: str
    pdf_conversion_available: bool = Field(
        ..., description="Attachments can be sent as PDF copy (as_pdf): LibreOffice is installed"
    )
    pdf_conversion_note: str = Field(..., description="Why not, when it is not available")


class EmailSettingsIn(Schema):
    host: str = Field(..., description="SMTP server, e.g. smtp.posteo.de")
    port: int = Field(..., description="465: TLS, 587: STARTTLS, others are probed")
    from_address: str
    from_name: str = Field("", description="Display name; default: the practice's sender name")
    username: str = Field("", description="Default: from_address")
    password: str = Field(
        "", description="Mailbox or app password; empty keeps the stored one. Never returned."
    )
    bcc: str = Field("", description="Archive address, an envelope recipient only (MAIL-6)")
    password_mode: str = Field(
        "stored",
        description="'stored' (encrypted at rest) or 'memory' (held by the running server "
        "only, asked for again after a restart; needs the embedded worker)",
    )
    cleared_for_sensitive: bool = Field(
        False, description="Provider with mailbox encryption / data-processing agreement"
    )
    imap_host: str = ""
    imap_port: int | None = None
    sent_folder: str = ""
    sessions: int | None = Field(None, description="Parallel SMTP sessions (default 2)")
    max_messages_per_connection: int | None = Field(None, description="Default 100")
    preset: str = Field("", description="Key of the preset the settings came from")


class TestOut(Schema):
    ok: bool
    detail: str


class PresetOut(Schema):
    key: str
    name: str
    website: str
    host: str
    port: int
    ports: list[int]
    note: str
    app_password: bool
    enable_smtp: bool
    imap_host: str
    imap_port: int | None
    imap_source: str
    sessions: int
    max_messages_per_connection: int
    source: str


@router.get("/channels/email", response=EmailSettingsOut, summary="E-mail settings")
def get_settings(request: HttpRequest):
    return email_settings.read(practice_of(request))


@router.put("/channels/email", response=EmailSettingsOut, summary="Set up e-mail sending")
def put_settings(request: HttpRequest, payload: EmailSettingsIn):
    """Switches the e-mail channel from test mode to the practice's SMTP account."""
    practice = practice_of(request)
    email_settings.save(practice, email_settings.EmailSettingsInput(**payload.model_dump()))
    return email_settings.read(practice)


@router.post(
    "/channels/email/test",
    response=TestOut,
    summary="Send a test e-mail to the practice's own address, now (MAIL-7)",
)
def send_test(request: HttpRequest):
    result = email_settings.send_test_mail(practice_of(request))
    return {"ok": result.ok, "detail": result.detail}


@router.get("/channels/email/presets", response=list[PresetOut], summary="E-mail provider presets")
def presets(request: HttpRequest):
    return [p.as_dict() for p in PRESETS]
