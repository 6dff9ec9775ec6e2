"""Recalls (APT-7) per patient and the practice's birthday/recall settings (APT-8)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from praxisbote.api.auth import practice_of
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.outreach import recalls
from praxisbote.outreach import settings as outreach_settings
from praxisbote.outreach.models import Recall
from praxisbote.patients.models import Patient
from praxisbote.practices.tenancy import get_scoped_or_404

router = Router(tags=["recalls and birthdays"])


class RecallIn(BaseModel):
    due_date: date | None = Field(None, description="When the next recall goes out; null: none.")
    interval_months: int = Field(6, description="Repeat every N months; 0: only once.")
    note: str = Field("", description="For staff, e.g. 'Prophylaxe'; not sent.")


class RecallOut(Schema):
    patient_id: UUID
    due_date: date | None
    interval_months: int
    note: str
    last_due_date: date | None
    last_sent_at: datetime | None
    followup_done_at: datetime | None
    last_result: str


class RecallFilter(Schema):
    due_until: date | None = Field(None, description="Only recalls due on or before this day.")


class SettingsIn(BaseModel):
    birthday_enabled: bool | None = None
    birthday_hour: int | None = Field(None, description="0-23, practice time zone")
    recall_hour: int | None = Field(None, description="0-23, practice time zone")
    recall_followup_days: int | None = Field(None, description="0: no follow-up")


class SettingsOut(Schema):
    birthday_enabled: bool
    birthday_hour: int
    recall_hour: int
    recall_followup_days: int
    timezone: str

    @staticmethod
    def resolve_timezone(obj) -> str:
        return obj.practice.timezone


def _patient(request: HttpRequest, patient_id: UUID) -> Patient:
    return get_scoped_or_404(Patient, practice_of(request), pk=patient_id, erased_at__isnull=True)


def _out(patient: Patient, recall: Recall | None) -> dict:
    if recall is None:
        recall = Recall(patient=patient, due_date=None)
    return {
        "patient_id": patient.pk,
        "due_date": recall.due_date,
        "interval_months": recall.interval_months,
        "note": recall.note,
        "last_due_date": recall.last_due_date,
        "last_sent_at": recall.last_sent_at,
        "followup_done_at": recall.followup_done_at,
        "last_result": recall.last_result,
    }


@router.get(
    "/patients/{patient_id}/recall",
    response=RecallOut,
    summary="The patient's recall (due_date null: none set)",
)
def get_recall(request: HttpRequest, patient_id: UUID):
    patient = _patient(request, patient_id)
    return _out(patient, recalls.recall_of(patient))


@router.put("/patients/{patient_id}/recall", response=RecallOut, summary="Set the recall")
def put_recall(request: HttpRequest, patient_id: UUID, payload: RecallIn):
    patient = _patient(request, patient_id)
    return _out(patient, recalls.save_recall(patient, payload.model_dump()))


@router.delete("/patients/{patient_id}/recall", response={204: None}, summary="Remove the recall")
def delete_recall(request: HttpRequest, patient_id: UUID):
    recalls.delete_recall(_patient(request, patient_id))
    return 204, None


@router.get("/recalls", response=Page[RecallOut], summary="Recalls by due date (paginated)")
def list_recalls(
    request: HttpRequest,
    page: Query[PageParams],
    filters: Query[RecallFilter],
):
    qs = recalls.list_recalls(practice_of(request), filters.due_until)
    return paginate(qs, page, lambda r: _out(r.patient, r))


@router.get("/outreach-settings", response=SettingsOut, summary="Birthday and recall settings")
def get_settings(request: HttpRequest):
    return outreach_settings.settings_of(practice_of(request))


@router.put("/outreach-settings", response=SettingsOut, summary="Change some of them")
def put_settings(request: HttpRequest, payload: SettingsIn):
    data = payload.model_dump(exclude_none=True)
    return outreach_settings.save_settings(practice_of(request), data)
