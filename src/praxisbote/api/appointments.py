"""Appointments (APT-1..5, 10, 11) and reminder rules (APT-2): thin over appointments/."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from praxisbote.api.auth import practice_of
from praxisbote.api.pagination import Page, PageParams
from praxisbote.appointments import ics_import, services, slip
from praxisbote.appointments.models import Appointment, Status
from praxisbote.patients.models import PatientCategory
from praxisbote.practices.tenancy import get_scoped_or_404

router = Router(tags=["appointments"])

TIME_HELP = "ISO 8601 with offset, e.g. 2026-03-30T10:00:00+02:00; answered in UTC."


class AppointmentIn(Schema):
    patient_id: UUID
    start: datetime = Field(..., description=TIME_HELP)
    end: datetime = Field(..., description=TIME_HELP)
    practitioner: str = ""
    location: str = Field("", description="The place, e.g. the room or the address.")
    notes: str = Field("", description="For the practice only; never sent to the patient.")
    send_confirmation: bool = Field(True, description="As the reminder rule says, if true.")
    create_reminders: bool = Field(True, description="Reminders as the rule says, if true.")


class AppointmentPatch(Schema):
    start: datetime | None = Field(None, description=TIME_HELP)
    end: datetime | None = Field(None, description="Default: the old duration after start.")
    practitioner: str | None = None
    location: str | None = None
    notes: str | None = None
    status: str | None = Field(None, description="booked, completed or no_show.")
    renew_reminders: bool | None = Field(
        None,
        description="Required when start or end changes: true writes reminders for the new "
        "time; the old ones are cancelled either way (seed 002's question).",
    )
    notify_patient: bool = Field(False, description="On a move: confirm the new time.")


class CopyIn(Schema):
    start: datetime = Field(..., description=TIME_HELP)
    end: datetime | None = Field(None, description="Default: the same duration.")
    practitioner: str | None = None
    location: str | None = None
    notes: str | None = None
    create_reminders: bool = Field(False, description="Reminders are not copied (seed 002).")
    notify_patient: bool = Field(False, description="Send a confirmation of the copy.")


class CancelIn(Schema):
    notify_patient: bool = Field(False, description="Send the cancellation template.")


class MessageBrief(Schema):
    id: UUID
    kind: str
    channel: str
    state: str
    due_at: datetime


class AppointmentOut(Schema):
    id: UUID
    patient_id: UUID
    start: datetime
    end: datetime
    practitioner: str
    location: str
    notes: str
    status: str
    version: int
    slip_url: str = Field(..., description="Express appointment slip (APT-10), no login.")
    slip_expires_at: datetime | None
    cannot_come_at: datetime | None = Field(
        ..., description="When the patient pressed 'I cannot come' on the slip (APT-11)."
    )
    notification: str = Field(..., description="none, pending, notified or failed.")
    messages: list[MessageBrief]
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None


class WrittenOut(AppointmentOut):
    withdrawn: int = Field(..., description="Pending confirmations/reminders cancelled.")
    in_flight: int = Field(
        ...,
        description="Claimed by a worker at that moment: dropped at hand-over unless it had "
        "already left before this change.",
    )
    notices: list[str]


class AppointmentFilter(Schema):
    patient_id: UUID | None = None
    status: Status | None = None
    start_from: datetime | None = Field(None, alias="from", description="Ends after this.")
    start_to: datetime | None = Field(None, alias="to", description="Starts before this.")


class RuleIn(Schema):
    confirm_on_booking: bool | None = None
    lead_hours: list[int] | None = Field(None, description="Hours before, e.g. [48, 24].")
    channels: list[str] | None = Field(
        None, description="Channel order; empty: the patient's own order. Consent required."
    )


class RuleOut(Schema):
    category_id: int | None
    confirm_on_booking: bool
    lead_hours: list[int]
    channels: list[str]
    is_default: bool


class QuietOut(Schema):
    start: time
    end: time
    timezone: str


class RulesOut(Schema):
    practice: RuleOut
    categories: list[RuleOut]
    quiet_hours: QuietOut = Field(..., description="Change with PATCH /practice.")


class ImportOut(Schema):
    created: list[UUID]
    skipped: list[dict[str, str]]


def out(appointment: Appointment, messages: list, written: Any = None) -> dict[str, Any]:
    data = {
        "id": appointment.pk,
        "patient_id": appointment.patient_id,
        "start": appointment.start,
        "end": appointment.end,
        "practitioner": appointment.practitioner,
        "location": appointment.location,
        "notes": appointment.notes,
        "status": appointment.status,
        "version": appointment.version,
        "slip_url": slip.url_of(appointment),
        "slip_expires_at": appointment.slip_expires_at,
        "cannot_come_at": appointment.cannot_come_at,
        "notification": services.bubble(messages),
        "messages": messages,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
        "cancelled_at": appointment.cancelled_at,
    }
    if written is not None:
        data.update(
            withdrawn=written.withdrawn, in_flight=written.in_flight, notices=written.notices
        )
    return data


def _out_one(appointment: Appointment, written: Any = None) -> dict[str, Any]:
    messages = services.messages_by_appointment([appointment])[appointment.pk]
    return out(appointment, messages, written)


def _appointment(request: HttpRequest, appointment_id: UUID) -> Appointment:
    return get_scoped_or_404(Appointment, practice_of(request), pk=appointment_id)


@router.get("/appointments", response=Page[AppointmentOut], summary="List appointments")
def list_appointments(
    request: HttpRequest, page: Query[PageParams], filters: Query[AppointmentFilter]
):
    for name in ("start_from", "start_to"):
        value = getattr(filters, name)
        if value is not None and value.tzinfo is None:
            raise ValidationError(
                {name.replace("start_", ""): _("Give the time with its offset, e.g. +01:00.")}
            )
    qs = services.in_range(
        practice_of(request),
        start=filters.start_from,
        end=filters.start_to,
        patient_id=filters.patient_id,
        status=filters.status,
    )
    rows = list(qs[page.offset : page.offset + page.limit])
    groups = services.messages_by_appointment(rows)
    return {"items": [out(a, groups[a.pk]) for a in rows], "count": qs.count()}


@router.post(
    "/appointments",
    response={201: WrittenOut},
    summary="Book an appointment (confirmation and reminders written with it)",
)
def create_appointment(request: HttpRequest, payload: AppointmentIn):
    data = payload.model_dump(exclude={"send_confirmation", "create_reminders"})
    appointment, written = services.create_appointment(
        practice_of(request),
        data,
        send_confirmation=payload.send_confirmation,
        create_reminders=payload.create_reminders,
    )
    return 201, _out_one(appointment, written)


@router.post(
    "/appointments/import",
    response={201: ImportOut},
    summary="Import appointments from an iCalendar (.ics) file",
    description="Each VEVENT becomes an appointment. The patient is `patient_id` if given, "
    "else the event's ATTENDEE e-mail matched against patients. Events without a patient, "
    "without times, or already imported (same UID) are skipped with the reason.",
)
def import_appointments(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008 - ninja's way to declare a file
    patient_id: UUID | None = Form(None),  # noqa: B008
    create_reminders: bool = Form(True),
    send_confirmation: bool = Form(False),
):
    result = ics_import.import_ics(
        practice_of(request),
        file.read(),
        patient_id=patient_id,
        create_reminders=create_reminders,
        send_confirmation=send_confirmation,
    )
    return 201, {"created": [a.pk for a in result.created], "skipped": result.skipped}


@router.get("/appointments/{appointment_id}", response=AppointmentOut)
def get_appointment(request: HttpRequest, appointment_id: UUID):
    return _out_one(_appointment(request, appointment_id))


@router.patch(
    "/appointments/{appointment_id}",
    response=WrittenOut,
    summary="Change or move (a move needs renew_reminders true/false)",
)
def patch_appointment(request: HttpRequest, appointment_id: UUID, payload: AppointmentPatch):
    appointment = _appointment(request, appointment_id)
    data = payload.model_dump(exclude_unset=True, exclude={"renew_reminders", "notify_patient"})
    appointment, written = services.update_appointment(
        appointment,
        data,
        renew_reminders=payload.renew_reminders,
        notify_patient=payload.notify_patient,
    )
    return _out_one(appointment, written)


@router.delete(
    "/appointments/{appointment_id}",
    response={204: None},
    summary="Delete (pending messages withdrawn; use cancel to keep the record)",
)
def delete_appointment(request: HttpRequest, appointment_id: UUID):
    services.delete_appointment(_appointment(request, appointment_id))
    return 204, None


@router.post(
    "/appointments/{appointment_id}/copy",
    response={201: WrittenOut},
    summary="Copy to a new time (reminders are not copied unless create_reminders)",
)
def copy_appointment(request: HttpRequest, appointment_id: UUID, payload: CopyIn):
    appointment = _appointment(request, appointment_id)
    data = payload.model_dump(exclude={"create_reminders", "notify_patient"})
    copy, written = services.copy_appointment(
        appointment,
        data,
        create_reminders=payload.create_reminders,
        notify_patient=payload.notify_patient,
    )
    return 201, _out_one(copy, written)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response=WrittenOut,
    summary="Cancel: pending reminders withdrawn, patient told if notify_patient",
)
def cancel_appointment(request: HttpRequest, appointment_id: UUID, payload: CancelIn):
    appointment, written = services.cancel_appointment(
        _appointment(request, appointment_id), notify_patient=payload.notify_patient
    )
    return _out_one(appointment, written)


def _rule_out(rule: services.Rule) -> dict[str, Any]:
    return {
        "category_id": rule.category_id,
        "confirm_on_booking": rule.confirm_on_booking,
        "lead_hours": rule.lead_hours,
        "channels": rule.channels,
        "is_default": rule.is_default,
    }


def _rules(request: HttpRequest) -> dict[str, Any]:
    practice = practice_of(request)
    return {
        "practice": _rule_out(services.practice_rule(practice)),
        "categories": [_rule_out(r) for r in services.category_rules(practice)],
        "quiet_hours": {
            "start": practice.quiet_hours_start,
            "end": practice.quiet_hours_end,
            "timezone": practice.timezone,
        },
    }


@router.get("/reminder-rules", response=RulesOut, summary="Confirmation and reminder rules")
def get_rules(request: HttpRequest):
    return _rules(request)


@router.put("/reminder-rules", response=RulesOut, summary="Change the practice's rule")
def put_rules(request: HttpRequest, payload: RuleIn):
    services.save_rule(practice_of(request), None, payload.model_dump(exclude_none=True))
    return _rules(request)


@router.put(
    "/reminder-rules/categories/{category_id}",
    response=RulesOut,
    summary="Own rule for a patient category",
)
def put_category_rule(request: HttpRequest, category_id: int, payload: RuleIn):
    category = get_scoped_or_404(PatientCategory, practice_of(request), pk=category_id)
    services.save_rule(practice_of(request), category, payload.model_dump(exclude_none=True))
    return _rules(request)


@router.delete(
    "/reminder-rules/categories/{category_id}",
    response=RulesOut,
    summary="The category follows the practice's rule again",
)
def delete_category_rule(request: HttpRequest, category_id: int):
    category = get_scoped_or_404(PatientCategory, practice_of(request), pk=category_id)
    services.delete_category_rule(practice_of(request), category)
    return _rules(request)
