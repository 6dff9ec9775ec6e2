"""Mass cancellation (APT-6) with its report, and the waiting list it can fill."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from praxisbote.api.auth import practice_of
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.outreach import mass_cancel, waiting
from praxisbote.outreach.models import MassCancellation, WaitingListEntry
from praxisbote.practices.tenancy import get_scoped_or_404, scoped

router = Router(tags=["mass cancellation and waiting list"])


class MassCancelIn(BaseModel):
    days: list[date] = Field(..., description="Practice dates whose appointments are cancelled.")
    appointment_ids: list[UUID] = Field(
        [], description="Only these appointments of those days; empty: all booked ones."
    )
    overrides: dict[str, str] = Field(
        {},
        description="Expert mode: patient id -> email, sms, threema or none (we call them).",
    )
    notify: bool = Field(True, description="Tell the patients (cancellation template).")
    waiting_list: bool = Field(False, description="Put the patients on the waiting list.")
    wishes: str = Field("", description="Noted on their waiting-list entries.")


class ReportRowOut(Schema):
    appointment_id: UUID
    patient_id: UUID
    patient: str
    start: datetime
    channel: str
    overridden: bool
    message_id: UUID | None = Field(
        None,
        description="The notice that told the patient about this appointment. A patient "
        "with several appointments gets one notice listing them all: their rows name the "
        "same message.",
    )
    reason: str
    held_until: datetime | None = Field(
        None,
        description="The notice waits for the end of the quiet hours (the appointment is "
        "later than the coming day); null: it goes out at once, also at night.",
    )


class PreviewOut(Schema):
    appointments: int
    counts: dict[str, int]
    reasons: dict[str, str]
    rows: list[ReportRowOut]


class MassCancellationOut(Schema):
    id: UUID
    days: list[date]
    notify: bool
    waiting_list: bool
    cancelled: int
    notified: int = Field(..., description="Appointments whose patient was told by message.")
    messages: int = Field(
        ..., description="Notices written: one per patient told, whatever their appointments."
    )
    report: list[ReportRowOut]
    created_by: str
    created_at: datetime

    @staticmethod
    def resolve_messages(obj: MassCancellation) -> int:
        return len({row["message_id"] for row in obj.report if row.get("message_id")})


def _reasons() -> dict[str, str]:
    return {k: str(v) for k, v in mass_cancel.REASONS.items()}


@router.post(
    "/mass-cancellations/preview",
    response=PreviewOut,
    summary="Which appointments would be cancelled and how each patient would be told",
)
def preview(request: HttpRequest, payload: MassCancelIn):
    practice = practice_of(request)
    planned = mass_cancel.plan(
        practice, payload.days, payload.appointment_ids, payload.overrides, payload.notify
    )
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(practice.timezone)
    return {
        "appointments": len(planned.rows),
        "counts": planned.counts(),
        "reasons": _reasons(),
        "rows": [row.as_report(tz) for row in planned.rows],
    }


@router.post(
    "/mass-cancellations",
    response={201: MassCancellationOut},
    summary="Cancel, withdraw reminders, notify, fill the waiting list: one transaction",
)
def create(request: HttpRequest, payload: MassCancelIn):
    notice = mass_cancel.cancel(
        practice_of(request),
        payload.days,
        payload.appointment_ids,
        payload.overrides,
        notify=payload.notify,
        waiting_list=payload.waiting_list,
        wishes=payload.wishes.strip(),
        created_by=f"API key {request.auth.name}",  # type: ignore[attr-defined]
    )
    return 201, notice


@router.get("/mass-cancellations", response=Page[MassCancellationOut], summary="Newest first")
def list_cancellations(request: HttpRequest, page: Query[PageParams]):
    return paginate(scoped(MassCancellation, practice_of(request)), page)


@router.get(
    "/mass-cancellations/{cancellation_id}",
    response=MassCancellationOut,
    summary="A mass cancellation with its report",
)
def get_cancellation(request: HttpRequest, cancellation_id: UUID):
    return get_scoped_or_404(MassCancellation, practice_of(request), pk=cancellation_id)


# ---------------------------------------------------------------- waiting list


class EntryIn(BaseModel):
    patient_id: UUID
    wishes: str = ""


class EntryOut(Schema):
    id: int
    patient_id: UUID
    patient: str
    wishes: str
    source_appointment_id: UUID | None
    offered_at: datetime | None
    closed_at: datetime | None = Field(None, description="Set when the patient took an offer.")
    created_at: datetime

    @staticmethod
    def resolve_patient(obj: WaitingListEntry) -> str:
        return obj.patient.full_name


class OfferIn(BaseModel):
    start: datetime = Field(..., description="The free slot's start, with offset.")
    end: datetime | None = None
    location: str = ""
    count: int = Field(3, ge=1, le=50, description="Offer to the first N entries.")
    entry_ids: list[int] = Field([], description="Or exactly these entries.")


class OfferOut(Schema):
    offer_id: UUID | None = Field(
        None, description="The offer (GET /slot-offers/{id}); null when nobody was reached."
    )
    offered: list[EntryOut]
    message_ids: list[UUID]
    not_reached: list[EntryOut]


class EntryFilter(Schema):
    include_closed: bool = Field(False, description="Also entries closed by a taken offer.")


@router.get("/waiting-list", response=Page[EntryOut], summary="The waiting list, oldest first")
def list_entries(request: HttpRequest, page: Query[PageParams], filters: Query[EntryFilter]):
    qs = scoped(WaitingListEntry, practice_of(request)).select_related("patient")
    if not filters.include_closed:
        qs = qs.filter(closed_at__isnull=True)
    return paginate(qs.filter(patient__erased_at__isnull=True), page)


@router.post("/waiting-list", response={201: EntryOut}, summary="Put a patient on the list")
def add_entry(request: HttpRequest, payload: EntryIn):
    return 201, waiting.add(practice_of(request), payload.patient_id, payload.wishes)


@router.post(
    "/waiting-list/offer",
    response=OfferOut,
    summary="Offer a free slot to the first patients on the list (older form of POST /slot-offers)",
)
def offer(request: HttpRequest, payload: OfferIn):
    result: dict[str, Any] = waiting.offer(
        practice_of(request),
        start=payload.start,
        end=payload.end,
        location=payload.location,
        count=payload.count,
        entry_ids=payload.entry_ids,
        created_by=f"API key {request.auth.name}",  # type: ignore[attr-defined]
    )
    made = result.pop("offer")
    result["offer_id"] = made.pk if made is not None else None
    return result


@router.delete(
    "/waiting-list/{entry_id}", response={204: None}, summary="Take an entry off the list"
)
def delete_entry(request: HttpRequest, entry_id: int):
    get_scoped_or_404(WaitingListEntry, practice_of(request), pk=entry_id).delete()
    return 204, None
