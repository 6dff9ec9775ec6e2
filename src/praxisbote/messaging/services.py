"""Creating, cancelling and routing messages; shared by API, UI and the domain modules.

Nothing here sends: a message is written (with its first event and its credit reservation)
in the caller's transaction, and a worker picks it up (DESIGN.md, "The outbox").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote import crypto
from praxisbote.billing import services as billing
from praxisbote.db import clone, fast_insert
from praxisbote.messaging import pdf, states, wakeup
from praxisbote.messaging import reasons as R
from praxisbote.messaging.models import (
    Attachment,
    ChannelAccount,
    IdempotencyRecord,
    Kind,
    Message,
    State,
)
from praxisbote.patients.models import Patient
from praxisbote.patients.services import THREEMA_ID
from praxisbote.phone import normalise_mobile
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.texts import encoding

CHANNELS = frozenset(Channel.values)  # Channel.values builds a new list on every call
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_BATCH = 10_000
# Sent without a person deciding each one: only to channels the patient consented to (PAT-4).
AUTOMATIC_KINDS = frozenset({Kind.REMINDER, Kind.RECALL, Kind.BIRTHDAY, Kind.MASS})
TEST_MODE_NOTICE = "test mode: nothing leaves this server"


class IdempotencyConflict(Exception):
    """The key was used before with a different request body."""


@dataclass
class MessageSpec:
    """One message as an integrator or a staff member asks for it (validated later)."""

    channel: str
    text: str
    patient_id: Any = None
    to: str = ""
    subject: str = ""
    html: str = ""
    send_at: datetime | None = None
    attachments: Sequence[Mapping[str, Any]] = ()  # filename, content_type, content_base64, as_pdf
    sensitive: bool = False
    kind: str = Kind.FREE
    appointment_id: Any = None
    campaign_id: Any = None

    @classmethod
    def rendered(cls, channel: str, out: Any, **fields: Any) -> MessageSpec:
        """A spec from a rendered template (``texts.rendering.Rendered``): subject and HTML
        travel only by e-mail; SMS and Threema refuse them."""
        email = channel == Channel.EMAIL
        return cls(
            channel=channel,
            text=out.text,
            subject=out.subject if email else "",
            html=out.html if email else "",
            **fields,
        )


@dataclass
class Prepared:
    message: Message
    files: list[tuple[str, str, bytes]] = field(default_factory=list)


@dataclass
class CreateResult:
    messages: list[Message]
    replayed: bool = False


def account_for(practice: Practice, channel: str) -> ChannelAccount:
    """The practice's account for ``channel``; an unsaved sandbox account when none is set."""
    account = scoped(ChannelAccount, practice).filter(channel=channel).first()
    return account or ChannelAccount(practice=practice, channel=channel, provider="sandbox")


def in_test_mode(practice: Practice, channel: str) -> bool:
    return account_for(practice, channel).provider == "sandbox"


def normalise_address(channel: str, address: str, country: str) -> str:
    address = (address or "").strip()
    if channel == Channel.EMAIL:
        validate_email(address)
        return address
    if channel == Channel.SMS:
        return normalise_mobile(address, country)
    if not THREEMA_ID.match(address.upper()):
        raise ValidationError(_("A Threema ID has 8 characters: letters A-Z and digits."))
    return address.upper()


def units_for(channel: str, text: str) -> int:
    return encoding.segments(text) if channel == Channel.SMS else 1


def _decode_attachments(
    specs: Sequence[Mapping[str, Any]], prefix: str, errors: dict[str, str]
) -> list[tuple[str, str, bytes]]:
    files = []
    total = 0
    for i, item in enumerate(specs):
        name = Path(str(item.get("filename") or "")).name
        if not name:
            errors[f"{prefix}attachments.{i}.filename"] = _("Give the file a name.")
            continue
        try:
            data = base64.b64decode(item.get("content_base64") or "", validate=True)
        except (binascii.Error, ValueError):
            errors[f"{prefix}attachments.{i}.content_base64"] = _("Not valid base64.")
            continue
        content_type = item.get("content_type") or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        if item.get("as_pdf"):  # MAIL-8: a Word document as PDF copy, converted now
            try:
                converted = pdf.convert(name, data)
            except pdf.ConversionError as exc:
                errors[f"{prefix}attachments.{i}.as_pdf"] = str(exc)
                continue
            name, content_type, data = pdf.pdf_name(name), "application/pdf", converted
        total += len(data)
        files.append((name, content_type, data))
    if total > MAX_ATTACHMENT_BYTES:
        errors[f"{prefix}attachments"] = _("Attachments may not exceed 20 MB together.")
    return files


@dataclass
class _Lookups:
    """What validating many messages of one practice needs, read once per request."""

    practice: Practice
    patients: Mapping[str, Patient] = field(default_factory=dict)
    accounts: dict[str, ChannelAccount] = field(default_factory=dict)
    credit: Any = None
    #: One timestamp for the whole request: a batch is created at one instant.
    now: datetime = field(default_factory=timezone.now)
    _template: Message | None = None

    @property
    def template(self) -> Message:
        """Every message of the request starts as a copy of this one (see ``db.clone``)."""
        if self._template is None:
            self._template = Message(practice=self.practice, body="", state=State.QUEUED)
        return self._template

    def account(self, channel: str) -> ChannelAccount:
        if channel not in self.accounts:
            self.accounts[channel] = account_for(self.practice, channel)
        return self.accounts[channel]

    def price(self, channel: str, units: int) -> Decimal:
        if self.credit is None:
            self.credit = billing.account_for(self.practice)
        return billing.price_of(self.credit, channel, units)


def prepare(
    practice: Practice,
    spec: MessageSpec,
    *,
    prefix: str = "",
    lookups: _Lookups | None = None,
) -> Prepared:
    """Validate one spec into an unsaved Message; ``ValidationError`` names each field."""
    lookups = lookups or _Lookups(practice)
    patients = lookups.patients
    errors: dict[str, str] = {}
    channel = spec.channel
    if channel not in CHANNELS:
        errors[f"{prefix}channel"] = _("Channel must be email, sms or threema.")
        raise ValidationError(errors)
    if not practice.channel_enabled(channel):
        errors[f"{prefix}channel"] = _(
            "The channel %(channel)s is not switched on for this practice (practice settings)."
        ) % {"channel": channel}
    patient = None
    if spec.patient_id:
        patient = patients.get(str(spec.patient_id))
        if patient is None and _is_uuid(spec.patient_id):
            patient = (
                scoped(Patient, practice).filter(pk=spec.patient_id, erased_at__isnull=True).first()
            )
        if patient is None:
            errors[f"{prefix}patient_id"] = _("No such patient in this practice.")
    if patient and spec.kind in AUTOMATIC_KINDS and not patient.has_consent(channel):
        errors[f"{prefix}patient_id"] = _(
            "The patient has not consented to automatic messages by %(channel)s."
        ) % {"channel": channel}
    raw_address = spec.to or (patient.address_for(channel) if patient else "")
    recipient = ""
    if not raw_address and f"{prefix}patient_id" not in errors:
        field_name = f"{prefix}to" if not patient else f"{prefix}patient_id"
        errors[field_name] = (
            _("The patient has no address for %(channel)s.") % {"channel": channel}
            if patient
            else _("Give a patient_id or a 'to' address.")
        )
    elif raw_address:
        try:
            recipient = normalise_address(channel, raw_address, practice.country)
        except ValidationError as exc:
            errors[f"{prefix}to"] = exc.messages[0]
    text = (spec.text or "").strip()
    if channel == Channel.SMS and practice.sms_smart_encoding:
        text = encoding.smart_text(text)  # SMS-6: GSM look-alikes where that saves
    if not text:
        errors[f"{prefix}text"] = _("The message text is empty.")
    if channel != Channel.EMAIL and (spec.subject or spec.html):
        errors[f"{prefix}subject"] = _("Subject and HTML are for e-mail only.")
    files = _decode_attachments(spec.attachments, prefix, errors) if spec.attachments else []
    if files and channel == Channel.SMS:
        errors[f"{prefix}attachments"] = _("An SMS cannot carry attachments.")
    if spec.sensitive and not _cleared_for_sensitive(lookups.account(channel)):
        errors[f"{prefix}sensitive"] = _(
            "This channel is not cleared for sensitive data. Send it through a channel with "
            "encryption and a data-processing agreement, or as a secure document."
        )
    send_at = spec.send_at
    if send_at is not None and timezone.is_naive(send_at):
        errors[f"{prefix}send_at"] = _("Give the time with its offset, e.g. +01:00.")
    elif send_at is not None:
        send_at = send_at.astimezone(UTC)  # stored and answered in UTC, like every time
    if errors:
        raise ValidationError(errors)
    now = lookups.now
    due = send_at if send_at and send_at > now else now
    units = units_for(channel, text)
    message = clone(
        lookups.template,
        id=uuid.uuid4(),
        patient_id=patient.pk if patient else None,
        channel=channel,
        recipient=recipient,
        subject=(spec.subject or "")[:250],
        body=text,
        html=spec.html or "",
        kind=spec.kind,
        sensitive=spec.sensitive,
        state=State.SCHEDULED if due > now else State.QUEUED,
        due_at=due,
        next_attempt_at=due,
        segments=units,
        cost=lookups.price(channel, units),
        appointment_id=spec.appointment_id,
        campaign_id=spec.campaign_id,
        created_at=now,
        updated_at=now,
    )
    if patient is not None:
        message._state.fields_cache["patient"] = patient
    return Prepared(message, files)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _cleared_for_sensitive(account: ChannelAccount) -> bool:
    # The sandbox keeps everything on this server, so nothing sensitive can leak through it.
    return account.provider == "sandbox" or account.cleared_for_sensitive


def request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_messages(
    practice: Practice,
    specs: Sequence[MessageSpec],
    *,
    idempotency_key: str = "",
    payload_hash: str = "",
    batch: bool = False,
) -> CreateResult:
    """Validate all, reserve credit, write all: one transaction, all or nothing.

    Raises ``ValidationError`` (field names prefixed ``messages.<i>.`` in a batch),
    ``billing.InsufficientCredit`` or ``IdempotencyConflict``; nothing is written then.
    """
    if idempotency_key:
        replay = _replay(practice, idempotency_key, payload_hash)
        if replay is not None:
            return replay
    prepared = _prepare_all(practice, specs, batch)
    try:
        with transaction.atomic():
            messages = _write(practice, prepared, idempotency_key)
            if any(m.state == State.QUEUED for m in messages):
                wakeup.announce()  # delivered to listening workers at commit
            if idempotency_key:
                IdempotencyRecord.objects.create(
                    practice=practice,
                    key=idempotency_key,
                    request_hash=payload_hash,
                    message_ids=[str(m.id) for m in messages],
                )
    except IntegrityError:
        # A concurrent request with the same key won the race: answer as it did.
        replay = _replay(practice, idempotency_key, payload_hash) if idempotency_key else None
        if replay is None:
            raise
        return replay
    from praxisbote.messaging.worker import notify_new_work

    if any(m.state == State.QUEUED for m in messages):
        transaction.on_commit(notify_new_work)
    return CreateResult(messages)


def _prepare_all(practice: Practice, specs: Sequence[MessageSpec], batch: bool) -> list[Prepared]:
    ids = [str(s.patient_id) for s in specs if s.patient_id]
    patients: dict[str, Patient] = {}
    if ids:
        valid = []
        for pid in ids:
            try:
                valid.append(uuid.UUID(pid))
            except ValueError:
                continue
        patients = {
            str(p.pk): p
            for p in scoped(Patient, practice).filter(pk__in=valid, erased_at__isnull=True)
        }
    lookups = _Lookups(practice, patients)
    errors: dict[str, list[str]] = {}
    prepared: list[Prepared] = []
    for i, spec in enumerate(specs):
        try:
            prepared.append(
                prepare(practice, spec, prefix=f"messages.{i}." if batch else "", lookups=lookups)
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors[key] = messages
            if len(errors) > 200:
                break
    if errors:
        raise ValidationError(errors)
    return prepared


def _write(practice: Practice, prepared: list[Prepared], idempotency_key: str) -> list[Message]:
    messages = [p.message for p in prepared]
    queued = [m for m in messages if m.state == State.QUEUED]
    charges = billing.reserve(practice, [(m.channel, m.segments) for m in queued])
    for message, charge in zip(queued, charges, strict=True):
        message.cost = charge.amount
        message.free_units = charge.free_units
        message.reserved = charge.amount > 0 or charge.free_units > 0
    for message in messages:
        message.idempotency_key = idempotency_key
    fast_insert(messages)
    states.record(
        [states.event_for(m, "", m.state, _first_detail(m), at=m.created_at) for m in messages]
    )
    _store_files(prepared)
    return messages


def _first_detail(message: Message) -> str:
    if message.state == State.SCHEDULED:
        return R.SCHEDULED_FOR.format(at=message.due_at.isoformat())
    return R.QUEUED.format()


def attachment_dir() -> Path:
    return Path(settings.DATA_DIR) / "attachments"


def _store_files(prepared: list[Prepared]) -> None:
    rows = []
    for item in prepared:
        for name, content_type, data in item.files:
            rel = f"{item.message.practice_id}/{uuid.uuid4().hex}"
            path = attachment_dir() / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(crypto.encrypt_bytes(data, purpose=rel))
            rows.append(
                Attachment(
                    message=item.message,
                    filename=name,
                    content_type=content_type,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    path=rel,
                )
            )
    if rows:
        Attachment.objects.bulk_create(rows)


def read_attachment(attachment: Attachment) -> bytes:
    blob = (attachment_dir() / attachment.path).read_bytes()
    return crypto.decrypt_bytes(blob, purpose=attachment.path)


def delete_attachment_files(attachments: Iterable[Attachment]) -> None:
    for attachment in attachments:
        (attachment_dir() / attachment.path).unlink(missing_ok=True)


def _replay(practice: Practice, key: str, payload_hash: str) -> CreateResult | None:
    record = scoped(IdempotencyRecord, practice).filter(key=key).first()
    if record is None:
        return None
    if record.request_hash != payload_hash:
        raise IdempotencyConflict(key)
    by_id = {str(m.id): m for m in scoped(Message, practice).filter(pk__in=record.message_ids)}
    return CreateResult([by_id[i] for i in record.message_ids if i in by_id], replayed=True)


def cancel(message: Message, reason: str = "") -> bool:
    """Withdraw a message that has not been handed to a provider yet; True if it was.

    ``reason`` goes into the protocol: English, from a declared reason (``reasons.py``).
    """
    with transaction.atomic():
        locked = Message.objects.select_for_update().filter(pk=message.pk, state__in=states.PENDING)
        rows = list(locked)
        if not rows:
            return False
        billing.release(rows)
        states.apply(
            rows,
            State.CANCELLED,
            reason or R.CANCELLED.format(),
            fields=["reserved", "lease_until"],
        )
    message.refresh_from_db()
    return True


def cancel_many(practice: Practice, **filters: Any) -> int:
    """Cancel all pending messages of the practice matching ``filters`` (e.g. appointment)."""
    with transaction.atomic():
        rows = list(
            scoped(Message, practice)
            .select_for_update()
            .filter(state__in=states.PENDING, **filters)
        )
        billing.release(rows)
        cancelled = R.CANCELLED.format()
        return len(states.apply(rows, State.CANCELLED, cancelled, fields=["reserved"]))


def total_cost(messages: Iterable[Message]) -> Decimal:
    return sum((m.cost for m in messages), Decimal("0"))


def switch_to_sandbox(practice: Practice, channel: str) -> ChannelAccount:
    """Back to test mode; the real provider's settings are kept for switching back."""
    account = account_for(practice, channel)
    if account.provider != "sandbox":
        account.config = {**account.config, "previous_provider": account.provider}
        account.provider = "sandbox"
        account.updated_at = timezone.now()
        account.save()
    return account


def switch_to_previous(practice: Practice, channel: str) -> ChannelAccount:
    """Out of test mode to the provider used before, with its kept settings (issue 3).

    ``ValidationError`` when there is none: a channel that never had a real provider must
    be set up first (for e-mail: the e-mail settings page or PUT /api/v1/channels/email).
    """
    account = account_for(practice, channel)
    previous = (account.config or {}).get("previous_provider", "")
    if account.provider != "sandbox" or not previous:
        raise ValidationError(
            {"channel": [_("There is no provider used before to switch back to; set one up.")]}
        )
    account.config = {k: v for k, v in account.config.items() if k != "previous_provider"}
    account.provider = previous
    account.updated_at = timezone.now()
    account.save()
    return account
