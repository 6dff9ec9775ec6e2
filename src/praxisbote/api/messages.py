"""Messages (MSG-1..8): send one or a batch, list and filter, timeline, cancel, credits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from praxisbote.api.auth import practice_of
from praxisbote.api.errors import Problem
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.billing import services as billing
from praxisbote.messaging import services
from praxisbote.messaging.models import Kind, Message, State
from praxisbote.messaging.reasons import CANCELLED_BY_API
from praxisbote.practices.models import Channel
from praxisbote.practices.tenancy import get_scoped_or_404, scoped

router = Router(tags=["messages"])


class AttachmentIn(BaseModel):
    filename: str
    content_type: str = ""
    content_base64: str
    as_pdf: bool = Field(
        False,
        description="E-mail: send a .doc/.docx/.odt/.rtf as PDF copy (needs LibreOffice on "
        "the server; see pdf_conversion_available in GET /channels/email)",
    )


class MessageIn(BaseModel):
    # Plain pydantic for inputs: ninja's Schema adds a per-object validator for reading
    # Django objects, which a 10,000-message batch pays for nothing.
    channel: Channel
    text: str = Field(..., description="Plain text; for SMS it decides segments and cost.")
    patient_id: UUID | None = None
    to: str | None = Field(None, description="A raw address instead of a patient (MSG-1).")
    subject: str | None = Field(None, description="E-mail only.")
    html: str | None = Field(None, description="E-mail only: HTML alternative.")
    send_at: datetime | None = Field(None, description="Later sending; ISO 8601 with offset.")
    attachments: list[AttachmentIn] = []
    sensitive: bool = False
    kind: Kind = Kind.FREE
    appointment_id: UUID | None = None


class BatchIn(BaseModel):
    messages: list[MessageIn] = Field(..., max_length=services.MAX_BATCH)


class EventOut(Schema):
    at: datetime
    from_state: str
    to_state: str
    detail: str
    payload: Any = None


class AttachmentOut(Schema):
    filename: str
    content_type: str
    size: int
    sha256: str


class MessageOut(Schema):
    id: UUID
    patient_id: UUID | None
    channel: str
    recipient: str
    subject: str
    text: str = Field(..., alias="body")
    kind: str
    sensitive: bool
    state: State
    due_at: datetime
    next_attempt_at: datetime
    attempts: int
    last_error: str
    provider: str
    provider_message_id: str
    segments: int
    cost: Decimal
    idempotency_key: str
    appointment_id: UUID | None
    campaign_id: UUID | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    test_mode: bool

    @staticmethod
    def resolve_test_mode(obj: Message) -> bool:
        return obj.provider == "sandbox" or (
            not obj.provider and services.in_test_mode(obj.practice, obj.channel)
        )


class MessageDetailOut(MessageOut):
    html: str
    events: list[EventOut]
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_events(obj: Message):
        return list(obj.events.all())

    @staticmethod
    def resolve_attachments(obj: Message):
        return list(obj.attachments.all())


class BatchOut(Schema):
    count: int
    cost: Decimal
    ids: list[UUID]


class MessageFilter(Schema):
    state: State | None = None
    channel: Channel | None = None
    kind: Kind | None = None
    patient_id: UUID | None = None
    appointment_id: UUID | None = None
    created_from: datetime | None = Field(None, description="Created at or after")
    created_to: datetime | None = Field(None, description="Created before")


def _spec(item: MessageIn) -> services.MessageSpec:
    return services.MessageSpec(
        channel=item.channel,
        text=item.text,
        patient_id=item.patient_id,
        to=item.to or "",
        subject=item.subject or "",
        html=item.html or "",
        send_at=item.send_at,
        attachments=[a.model_dump() for a in item.attachments],
        sensitive=item.sensitive,
        kind=item.kind,
        appointment_id=item.appointment_id,
    )


def _create(request: HttpRequest, specs: list[services.MessageSpec], payload: Any, batch: bool):
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        raise Problem(
            422,
            _("Invalid input"),
            _("Idempotency-Key is longer than 200 characters."),
            slug="validation",
            errors=[{"field": "Idempotency-Key", "message": _("At most 200 characters.")}],
        )
    try:
        return services.create_messages(
            practice_of(request),
            specs,
            idempotency_key=key,
            payload_hash=services.request_hash(payload) if key else "",
            batch=batch,
        )
    except billing.InsufficientCredit as exc:
        raise Problem(
            402,
            _("Not enough credit"),
            str(exc),
            slug="insufficient-credit",
            needed=str(exc.needed),
            available=str(exc.available),
        ) from exc
    except services.IdempotencyConflict as exc:
        raise Problem(
            409,
            _("Idempotency key reused"),
            _("This Idempotency-Key was used with a different request body."),
            slug="idempotency-conflict",
        ) from exc


@router.post(
    "/messages",
    response={200: MessageDetailOut, 201: MessageDetailOut},
    summary="Send one message (written to the outbox; never sent from the request)",
)
def create_message(request: HttpRequest, payload: MessageIn):
    result = _create(request, [_spec(payload)], payload.model_dump(mode="json"), batch=False)
    return (200 if result.replayed else 201), result.messages[0]


@router.post(
    "/messages/batch",
    response={200: BatchOut, 201: BatchOut},
    summary="Up to 10,000 messages in one transaction, all or nothing",
)
def create_batch(request: HttpRequest, payload: BatchIn):
    specs = [_spec(m) for m in payload.messages]
    result = _create(request, specs, payload.model_dump(mode="json"), batch=True)
    body = {
        "count": len(result.messages),
        "cost": services.total_cost(result.messages),
        "ids": [m.id for m in result.messages],
    }
    return (200 if result.replayed else 201), body


@router.get("/messages", response=Page[MessageOut], summary="The send protocol, filtered")
def list_messages(request: HttpRequest, filters: Query[MessageFilter], page: Query[PageParams]):
    qs = scoped(Message, practice_of(request)).select_related("practice")
    lookups = filters.model_dump(exclude_none=True)
    if "created_from" in lookups:
        qs = qs.filter(created_at__gte=lookups.pop("created_from"))
    if "created_to" in lookups:
        qs = qs.filter(created_at__lt=lookups.pop("created_to"))
    return paginate(qs.filter(**lookups), page)


@router.get("/messages/{message_id}", response=MessageDetailOut, summary="A message and timeline")
def get_message(request: HttpRequest, message_id: UUID):
    return get_scoped_or_404(Message, practice_of(request), pk=message_id)


@router.post(
    "/messages/{message_id}/cancel",
    response=MessageDetailOut,
    summary="Withdraw a message that is not yet handed to a provider",
)
def cancel_message(request: HttpRequest, message_id: UUID):
    message = get_scoped_or_404(Message, practice_of(request), pk=message_id)
    if not services.cancel(message, CANCELLED_BY_API.format()):
        raise Problem(
            409,
            _("Too late to cancel"),
            _("The message is %(state)s; only scheduled or queued messages can be cancelled.")
            % {"state": message.get_state_display()},
            slug="not-cancellable",
        )
    return message


class CreditOut(Schema):
    balance: Decimal
    reserved: Decimal
    available: Decimal
    currency: str
    prices: dict[str, Decimal]
    free_per_month: dict[str, int]


@router.get("/credits", response=CreditOut, tags=["billing"], summary="Balance and price list")
def credits(request: HttpRequest):
    account = billing.account_for(practice_of(request))
    return {
        "balance": account.balance,
        "reserved": account.reserved,
        "available": account.available,
        "currency": account.currency,
        "prices": {ch: account.price(ch) for ch in Channel.values},
        "free_per_month": {ch: account.free_per_month(ch) for ch in ("sms", "threema")},
    }


class ChannelOut(Schema):
    channel: str
    enabled: bool
    provider: str
    test_mode: bool
    notice: str
    cleared_for_sensitive: bool


@router.get(
    "/channels",
    response=list[ChannelOut],
    tags=["channels"],
    summary="Each channel: switched on? which provider? test mode?",
)
def channels(request: HttpRequest):
    practice = practice_of(request)
    out = []
    for channel in Channel.values:
        account = services.account_for(practice, channel)
        test = account.provider == "sandbox"
        out.append(
            {
                "channel": channel,
                "enabled": practice.channel_enabled(channel),
                "provider": account.provider,
                "test_mode": test,
                "notice": _(services.TEST_MODE_NOTICE) if test else "",
                "cleared_for_sensitive": test or account.cleared_for_sensitive,
            }
        )
    return out


@router.post(
    "/channels/{channel}/sandbox",
    response=ChannelOut,
    tags=["channels"],
    summary="Switch a channel back to test mode (the sandbox provider)",
)
def to_sandbox(request: HttpRequest, channel: Channel):
    practice = practice_of(request)
    services.switch_to_sandbox(practice, channel)
    return next(c for c in channels(request) if c["channel"] == channel)


@router.post(
    "/channels/{channel}/restore",
    response=ChannelOut,
    tags=["channels"],
    summary="Leave test mode: back to the provider used before, with its kept settings",
)
def from_sandbox(request: HttpRequest, channel: Channel):
    """422 (field ``channel``) when the channel never had a real provider."""
    practice = practice_of(request)
    services.switch_to_previous(practice, channel)
    return next(c for c in channels(request) if c["channel"] == channel)
