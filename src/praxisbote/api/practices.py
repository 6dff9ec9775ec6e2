"""Key check and practice settings."""

from __future__ import annotations

from datetime import datetime, time
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema

from praxisbote.api.auth import practice_of
from praxisbote.practices import services as practice_services

router = Router(tags=["practice"])


class KeyCheckOut(Schema):
    valid: bool
    practice_id: UUID
    practice_name: str
    key_name: str
    key_prefix: str
    created_at: datetime


@router.get("/key-check", response=KeyCheckOut, summary="Check an API key (seed 003's Key-Check)")
def key_check(request: HttpRequest):
    """Which practice a key belongs to. A wrong or revoked key answers 401."""
    key = request.auth  # type: ignore[attr-defined]
    return {
        "valid": True,
        "practice_id": key.practice.id,
        "practice_name": key.practice.name,
        "key_name": key.name,
        "key_prefix": key.prefix,
        "created_at": key.created_at,
    }


class PracticeOut(Schema):
    id: UUID
    name: str
    country: str
    timezone: str
    language: str
    phone: str
    sender_name: str
    quiet_hours_start: time
    quiet_hours_end: time
    protocol_retention_days: int
    email_enabled: bool
    sms_enabled: bool
    threema_enabled: bool
    sms_smart_encoding: bool
    created_at: datetime


class PracticePatch(Schema):
    name: str | None = None
    timezone: str | None = None
    language: str | None = None
    phone: str | None = None
    sender_name: str | None = None
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    protocol_retention_days: int | None = None
    email_enabled: bool | None = None
    sms_enabled: bool | None = None
    threema_enabled: bool | None = None
    sms_smart_encoding: bool | None = None


@router.get("/practice", response=PracticeOut, summary="The key's practice and its settings")
def get_practice(request: HttpRequest):
    return practice_of(request)


@router.patch("/practice", response=PracticeOut, summary="Change practice settings (TEN-4/5)")
def patch_practice(request: HttpRequest, payload: PracticePatch):
    return practice_services.update_practice(
        practice_of(request), payload.model_dump(exclude_unset=True)
    )
