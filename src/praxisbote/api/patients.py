"""Patients (PAT-1..4): CRUD, search, GDPR export and erasure; categories."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from praxisbote.api.auth import practice_of
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.patients import services
from praxisbote.patients.models import Patient, PatientCategory
from praxisbote.practices.tenancy import get_scoped_or_404, scoped

router = Router(tags=["patients"])


class ConsentIn(Schema):
    granted: bool
    source: str = ""
    at: datetime | None = Field(None, description="When consent was given; defaults to now.")


class ConsentOut(Schema):
    granted: bool
    source: str
    at: datetime


class PatientIn(Schema):
    external_id: str | None = Field(None, description="The patient's id in your software.")
    salutation: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    language: str | None = Field(None, description="de or en; empty: the practice's language.")
    email: str | None = None
    mobile: str | None = Field(
        None, description="Normalised to E.164 with the practice's country; must be a mobile."
    )
    threema_id: str | None = None
    notes: str | None = None
    category_id: int | None = None
    channels: list[str] | None = Field(
        None, description="Override of the category's channels, in order; null: as category."
    )
    notifications: list[str] | None = None
    consent: dict[str, ConsentIn] | None = None


class PatientOut(Schema):
    id: UUID
    external_id: str
    salutation: str
    first_name: str
    last_name: str
    birth_date: date | None
    language: str
    email: str
    mobile: str
    threema_id: str
    notes: str
    category_id: int | None
    channels: list[str] | None
    notifications: list[str] | None
    effective_channels: list[str]
    effective_notifications: list[str]
    consent: dict[str, ConsentOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_effective_channels(obj: Patient) -> list[str]:
        return obj.effective_channels()

    @staticmethod
    def resolve_effective_notifications(obj: Patient) -> list[str]:
        return obj.effective_notifications()


class CategoryIn(Schema):
    name: str | None = None
    channels: list[str] | None = None
    notifications: list[str] | None = None
    is_default: bool | None = None


class CategoryOut(Schema):
    id: int
    name: str
    channels: list[str]
    notifications: list[str]
    is_default: bool


def _data(payload: PatientIn) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if "category_id" in data:
        data["category"] = data.pop("category_id")
    return data


def _renamed(exc: ValidationError) -> ValidationError:
    """The API calls the field ``category_id``; the domain calls it ``category``."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError(
        {("category_id" if k == "category" else k): v for k, v in exc.message_dict.items()}
    )


@router.get("/patients", response=Page[PatientOut], summary="List and search patients")
def list_patients(
    request: HttpRequest,
    page: Query[PageParams],
    q: str = Query("", description="Words matched against name, e-mail, mobile, external id."),
):
    return paginate(services.search_patients(practice_of(request), q), page)


@router.post("/patients", response={201: PatientOut}, summary="Create a patient")
def create_patient(request: HttpRequest, payload: PatientIn):
    try:
        return 201, services.create_patient(practice_of(request), _data(payload))
    except ValidationError as exc:
        raise _renamed(exc) from exc


@router.get("/patients/{patient_id}", response=PatientOut)
def get_patient(request: HttpRequest, patient_id: UUID):
    return _patient(request, patient_id)


@router.patch("/patients/{patient_id}", response=PatientOut, summary="Change some fields")
def patch_patient(request: HttpRequest, patient_id: UUID, payload: PatientIn):
    try:
        return services.update_patient(_patient(request, patient_id), _data(payload))
    except ValidationError as exc:
        raise _renamed(exc) from exc


@router.delete(
    "/patients/{patient_id}",
    response={204: None},
    summary="Erase a patient (GDPR Art. 17)",
    description="Removes all personal data; the anonymous row stays so billing totals add up.",
)
def delete_patient(request: HttpRequest, patient_id: UUID):
    services.erase_patient(_patient(request, patient_id))
    return 204, None


@router.get("/patients/{patient_id}/export", summary="Everything held about a patient (Art. 15)")
def export_patient(request: HttpRequest, patient_id: UUID) -> dict[str, Any]:
    return services.export_patient(_patient(request, patient_id))


def _patient(request: HttpRequest, patient_id: UUID) -> Patient:
    return get_scoped_or_404(Patient, practice_of(request), pk=patient_id, erased_at__isnull=True)


@router.get("/categories", response=list[CategoryOut], summary="Patient categories (Akten-Typ)")
def list_categories(request: HttpRequest):
    return scoped(PatientCategory, practice_of(request))


@router.post("/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryIn):
    return 201, services.save_category(practice_of(request), None, payload.model_dump())


@router.patch("/categories/{category_id}", response=CategoryOut)
def patch_category(request: HttpRequest, category_id: int, payload: CategoryIn):
    category = get_scoped_or_404(PatientCategory, practice_of(request), pk=category_id)
    return services.save_category(
        practice_of(request), category, payload.model_dump(exclude_unset=True)
    )
