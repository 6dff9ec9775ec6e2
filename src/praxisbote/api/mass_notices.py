"""Mass notices (APT-9): preview the cost, send as one campaign, list, read, withdraw."""

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
from praxisbote.messaging import services as messaging
from praxisbote.outreach import mass
from praxisbote.outreach.models import MassNotice
from praxisbote.practices.models import Channel
from praxisbote.practices.tenancy import get_scoped_or_404, scoped

router = Router(tags=["mass notices"])


class AudienceIn(BaseModel):
    category_ids: list[int] = Field([], description="Only patients of these categories.")
    consented_to: list[Channel] = Field(
        [], description="Only patients who consented to each of these channels."
    )
    has_mobile: bool | None = Field(None, description="true: with, false: without mobile.")
    has_email: bool | None = Field(None, description="true: with, false: without e-mail.")
    q: str = Field("", description="Words matched like GET /patients?q=.")
    patient_ids: list[UUID] = Field([], description="Only these patients (a hand-picked list).")


class MassNoticeIn(BaseModel):
    audience: AudienceIn = AudienceIn()
    channels: list[Channel] = Field(
        ..., description="Channels the notice may use; each patient gets it once."
    )
    order: str = Field(
        "patient",
        description="'patient': each patient's preferred order among the channels; "
        "'given': the order of `channels` (e.g. e-mail first to save SMS cost).",
    )
    text: str = Field(
        ...,
        description="The same text for everyone (no personalisation, seed 001); "
        "{{ practice.name }} and {{ practice.phone }} may be used.",
    )
    subject: str = Field("", description="E-mail subject; empty: the mass template's.")
    send_at: datetime | None = Field(None, description="Later sending; ISO 8601 with offset.")


class SendIn(MassNoticeIn):
    fingerprint: str = Field(
        "",
        description="From the preview: the send is refused (409) when recipients or text "
        "changed since.",
    )


class ChannelCostOut(Schema):
    count: int
    units_each: int
    units: int
    price: Decimal
    list_cost: Decimal
    free_units_left: int
    cost: Decimal
    test_mode: bool
    encoding: str | None = None
    characters: int | None = None


class RecipientOut(Schema):
    patient_id: UUID
    name: str
    channel: str = ""
    reason: str = ""


class PreviewOut(Schema):
    text: str
    subject: str
    recipients: int
    by_channel: dict[str, ChannelCostOut]
    cost: Decimal
    currency: str
    available_credit: Decimal
    enough_credit: bool
    skipped: dict[str, int]
    skipped_reasons: dict[str, str]
    sample: list[RecipientOut]
    skipped_sample: list[RecipientOut]
    fingerprint: str
    send_at: datetime | None = Field(
        None, description="When the notice goes out; null: at once. Never in quiet hours."
    )
    held_for_quiet_hours: bool = Field(
        False,
        description="true: asked for during the practice's quiet hours, so it waits until "
        "they end (send_at).",
    )


class MassNoticeOut(Schema):
    id: UUID
    subject: str
    text: str
    channels: list[str]
    order: str
    audience: dict[str, Any]
    recipients: int
    by_channel: dict[str, int]
    skipped: dict[str, int]
    cost: Decimal
    send_at: datetime | None
    held_for_quiet_hours: bool
    created_by: str
    created_at: datetime


class MassNoticeDetailOut(MassNoticeOut):
    states: dict[str, int]

    @staticmethod
    def resolve_states(obj: MassNotice) -> dict[str, int]:
        return mass.states_of(obj)


class WithdrawOut(Schema):
    withdrawn: int
    states: dict[str, int]


def _args(payload: MassNoticeIn) -> dict[str, Any]:
    a = payload.audience
    return {
        "audience": mass.Audience(
            category_ids=tuple(a.category_ids),
            consented_to=tuple(a.consented_to),
            has_mobile=a.has_mobile,
            has_email=a.has_email,
            q=a.q.strip(),
            patient_ids=tuple(str(p) for p in a.patient_ids),
        ),
        "content": mass.Content(text=payload.text, subject=payload.subject),
        "channels": list(payload.channels),
        "order": payload.order,
        "send_at": payload.send_at,
    }


def _person(patient, channel: str = "", reason: str = "") -> dict[str, Any]:
    return {
        "patient_id": patient.pk,
        "name": patient.full_name,
        "channel": channel,
        "reason": reason,
    }


def preview_body(planned: mass.Preview) -> dict[str, Any]:
    selection = planned.selection
    return {
        "text": planned.rendered.text,
        "subject": planned.rendered.subject,
        "recipients": len(selection.recipients),
        "by_channel": planned.cost["channels"],
        "cost": planned.cost["cost"],
        "currency": planned.cost["currency"],
        "available_credit": planned.cost["available_credit"],
        "enough_credit": planned.cost["enough_credit"],
        "skipped": dict(selection.skipped),
        "skipped_reasons": {k: str(v) for k, v in mass.SKIP_REASONS.items()},
        "sample": [_person(p, ch) for p, ch in selection.recipients[: mass.SAMPLE_SIZE]],
        "skipped_sample": [_person(p, reason=r) for p, r in selection.skipped_sample],
        "fingerprint": planned.fingerprint,
        "send_at": planned.send_at,
        "held_for_quiet_hours": planned.held_for_quiet_hours,
    }


@router.post(
    "/mass-notices/preview",
    response=PreviewOut,
    summary="Who would get the notice by which channel, what it costs; nothing is written",
)
def preview(request: HttpRequest, payload: MassNoticeIn):
    return preview_body(mass.preview(practice_of(request), **_args(payload)))


@router.post(
    "/mass-notices",
    response={200: MassNoticeOut, 201: MassNoticeOut},
    summary="Send a mass notice: all its messages through the outbox in one transaction",
)
def send(request: HttpRequest, payload: SendIn):
    key = request.headers.get("Idempotency-Key", "").strip()[:200]
    try:
        notice, replayed = mass.send(
            practice_of(request),
            **_args(payload),
            expected_fingerprint=payload.fingerprint,
            created_by=f"API key {request.auth.name}",  # type: ignore[attr-defined]
            idempotency_key=key,
            request_hash=messaging.request_hash(payload.model_dump(mode="json")) if key else "",
        )
    except mass.FingerprintMismatch as exc:
        raise Problem(
            409,
            _("The selection changed"),
            _(
                "Recipients, channels, text or sending time (quiet hours) differ from the "
                "preview; preview again and confirm the new figures."
            ),
            slug="preview-outdated",
        ) from exc
    except mass.IdempotencyConflict as exc:
        raise Problem(
            409,
            _("Idempotency key reused"),
            _("This Idempotency-Key was used with a different request body."),
            slug="idempotency-conflict",
        ) from exc
    except billing.InsufficientCredit as exc:
        raise Problem(
            402,
            _("Not enough credit"),
            str(exc),
            slug="insufficient-credit",
            needed=str(exc.needed),
            available=str(exc.available),
        ) from exc
    return (200 if replayed else 201), notice


@router.get("/mass-notices", response=Page[MassNoticeOut], summary="Mass notices, newest first")
def list_notices(request: HttpRequest, page: Query[PageParams]):
    return paginate(scoped(MassNotice, practice_of(request)), page)


@router.get(
    "/mass-notices/{notice_id}",
    response=MassNoticeDetailOut,
    summary="A mass notice with its messages counted by state",
)
def get_notice(request: HttpRequest, notice_id: UUID):
    return get_scoped_or_404(MassNotice, practice_of(request), pk=notice_id)


@router.post(
    "/mass-notices/{notice_id}/withdraw",
    response=WithdrawOut,
    summary="Cancel the notice's messages that have not gone out yet",
)
def withdraw(request: HttpRequest, notice_id: UUID):
    notice = get_scoped_or_404(MassNotice, practice_of(request), pk=notice_id)
    count = mass.withdraw(notice)
    return {"withdrawn": count, "states": mass.states_of(notice)}
