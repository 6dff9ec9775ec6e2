"""Waiting-list offers with a link: create one, read its state, list, withdraw."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from praxisbote.api.auth import practice_of
from praxisbote.api.errors import Problem
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.outreach import offers
from praxisbote.outreach.models import OfferState, SlotOffer
from praxisbote.practices.tenancy import get_scoped_or_404, scoped

router = Router(tags=["mass cancellation and waiting list"])


class SlotOfferIn(BaseModel):
    appointment_id: UUID | None = Field(
        None,
        description="A cancelled appointment whose slot is offered: start, end, "
        "practitioner and place default to its values.",
    )
    start: datetime | None = Field(None, description="The slot's start, with offset.")
    end: datetime | None = Field(None, description="Default: 30 minutes after the start.")
    practitioner: str = ""
    location: str = ""
    count: int = Field(3, ge=1, le=offers.MAX_COUNT, description="Offer to the first N entries.")
    entry_ids: list[int] = Field([], description="Or exactly these entries.")


class InviteOut(Schema):
    entry_id: int | None
    patient_id: UUID
    patient: str
    channel: str
    message_id: UUID | None

    @staticmethod
    def resolve_patient(obj) -> str:
        return obj.patient.full_name


class NotReachedOut(Schema):
    entry_id: int
    patient_id: UUID
    patient: str


class SlotOfferOut(Schema):
    id: UUID
    state: str = Field(..., description="open, taken, expired (slot started) or withdrawn")
    start: datetime
    end: datetime
    practitioner: str
    location: str
    source_appointment_id: UUID | None
    expires_at: datetime
    taken_at: datetime | None
    taken_by_patient_id: UUID | None
    taken_by: str | None
    appointment_id: UUID | None = Field(None, description="The appointment booked on taking.")
    withdrawn_at: datetime | None
    invites: list[InviteOut]
    created_by: str
    created_at: datetime


class SlotOfferCreatedOut(SlotOfferOut):
    not_reached: list[NotReachedOut] = Field(
        ..., description="Entries nobody can reach by message (no channel with consent): call."
    )
    send_at: datetime = Field(..., description="When the messages go out (after quiet hours).")


def offer_body(offer: SlotOffer) -> dict[str, Any]:
    taken_by = offer.taken_by
    return {
        "id": offer.pk,
        "state": offers.state_of(offer),
        "start": offer.start,
        "end": offer.end,
        "practitioner": offer.practitioner,
        "location": offer.location,
        "source_appointment_id": offer.source_appointment_id,
        "expires_at": offer.expires_at,
        "taken_at": offer.taken_at,
        "taken_by_patient_id": offer.taken_by_id,
        "taken_by": taken_by.full_name if taken_by is not None else None,
        "appointment_id": offer.appointment_id,
        "withdrawn_at": offer.withdrawn_at,
        "invites": list(offer.invites.select_related("patient")),
        "created_by": offer.created_by,
        "created_at": offer.created_at,
    }


def _entry(entry) -> dict[str, Any]:
    return {
        "entry_id": entry.pk,
        "patient_id": entry.patient_id,
        "patient": entry.patient.full_name,
    }


@router.post(
    "/slot-offers",
    response={201: SlotOfferCreatedOut},
    summary="Offer a free slot to the first patients of the waiting list, each with a link",
)
def create(request: HttpRequest, payload: SlotOfferIn):
    practice = practice_of(request)
    created = offers.create(
        practice,
        payload.model_dump(include={"appointment_id", "start", "end", "practitioner", "location"}),
        count=payload.count,
        entry_ids=payload.entry_ids,
        created_by=f"API key {request.auth.name}",  # type: ignore[attr-defined]
    )
    if created.offer is None:
        names = ", ".join(e.patient.full_name for e in created.not_reached)
        raise Problem(
            422,
            _("Invalid input"),
            _("Nobody of them can be reached by message; please call: %(names)s.")
            % {"names": names},
            slug="validation",
            errors=[{"field": "entry_ids", "message": _("Nobody can be reached by message.")}],
            not_reached=[
                {**_entry(e), "patient_id": str(e.patient_id)} for e in created.not_reached
            ],
        )
    body = offer_body(created.offer)
    body["not_reached"] = [_entry(e) for e in created.not_reached]
    body["send_at"] = created.send_at
    return 201, body


@router.get("/slot-offers", response=Page[SlotOfferOut], summary="Offers, newest first")
def list_offers(request: HttpRequest, page: Query[PageParams]):
    qs = scoped(SlotOffer, practice_of(request)).select_related("taken_by")
    return paginate(qs, page, offer_body)


@router.get(
    "/slot-offers/{offer_id}",
    response=SlotOfferOut,
    summary="An offer's state: open, taken (by whom, which appointment), expired, withdrawn",
)
def get_offer(request: HttpRequest, offer_id: UUID):
    return offer_body(get_scoped_or_404(SlotOffer, practice_of(request), pk=offer_id))


@router.post(
    "/slot-offers/{offer_id}/withdraw",
    response=SlotOfferOut,
    summary="Close an open offer (e.g. the slot was given by phone); its links stop working",
)
def withdraw(request: HttpRequest, offer_id: UUID):
    offer = get_scoped_or_404(SlotOffer, practice_of(request), pk=offer_id)
    if not offers.withdraw(offer):
        raise Problem(
            409,
            _("The offer is not open"),
            _("Only an open offer can be withdrawn; this one is %(state)s.")
            % {"state": OfferState(offers.state_of(offer)).label},
            slug="offer-not-open",
        )
    return offer_body(offer)
