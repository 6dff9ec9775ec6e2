"""SMS analysis before sending (SMS-3, SMS-6): encoding, segments, cost, smart encoding.

The same rules as the outbox (``texts.encoding``) and the browser counter
(``web/static/web/sms-counter.js``). Cost is list price: segments x the practice's SMS
price, before free monthly units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import BaseModel

from praxisbote.api.auth import practice_of
from praxisbote.texts import services

router = Router(tags=["sms"])
MAX_TEXT = 10_000


class AnalyzeIn(BaseModel):
    text: str = Field(..., max_length=MAX_TEXT, description="The SMS text, up to 10,000 characters")
    smart: bool | None = Field(
        None,
        description="Analyze with (true) or without (false) smart encoding; "
        "default: the practice's setting sms_smart_encoding",
    )


class ChangeOut(Schema):
    from_: str = Field(..., alias="from", description="Character(s) replaced")
    to: str = Field(..., description="GSM look-alike (may be empty: invisible characters)")
    count: int


class SmartOut(Schema):
    enabled: bool = Field(..., description="Smart encoding is used for this text when sending")
    applies: bool = Field(..., description="Replacing makes the text GSM-7 without more segments")
    text: str = Field(..., description="The text smart encoding would send")
    changes: list[ChangeOut]
    kept: list[str] = Field(..., description="Non-GSM characters without a look-alike")
    encoding_before: str
    encoding_after: str
    segments_before: int
    segments_after: int
    cost_before: Decimal
    cost_after: Decimal
    saving: Decimal


class AnalysisOut(Schema):
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int = Field(..., description="SMS parts sent and billed (0 for an empty text)")
    characters: int = Field(..., description="Unicode code points")
    units: int = Field(..., description="Septets (GSM-7) or UTF-16 code units (UCS-2)")
    remaining_in_segment: int = Field(..., description="Units left in the last part")
    non_gsm_characters: list[str] = Field(..., description="Characters that force UCS-2")
    cost: Decimal = Field(..., description="segments x price_per_segment (before free units)")
    price_per_segment: Decimal
    currency: str
    smart: SmartOut


@router.post(
    "/sms/analyze",
    response=AnalysisOut,
    by_alias=True,
    summary="Encoding, segments and cost of an SMS text, with what smart encoding saves",
)
def analyze(request: HttpRequest, payload: AnalyzeIn):
    return services.sms_figures(practice_of(request), payload.text, payload.smart)
