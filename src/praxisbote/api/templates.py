"""Templates (TPL-1..5): CRUD, shipped defaults, blocks and previews with SMS figures.

A template with a mistake is refused when saved (422 problem+json; each error names the
``field``, the ``line`` and the reason), so a reminder never fails at send time. Previews
render saved or unsaved sources for a patient (or sample data) and return the SMS
encoding, parts and cost, with a warning when long patient names need more parts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from praxisbote.api.auth import practice_of
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.api.sms import AnalysisOut
from praxisbote.practices.tenancy import get_scoped_or_404
from praxisbote.texts import services
from praxisbote.texts.models import Template

router = Router(tags=["templates"])
MAX = services.MAX_SOURCE


class TemplateIn(Schema):
    kind: str | None = Field(
        None,
        description="confirmation, reminder, recall, birthday, cancellation, free, mass, "
        "code or invitation",
    )
    channel: str | None = Field(None, description="email, sms or threema")
    language: str | None = Field(None, description="de or en")
    subject: str | None = Field(None, max_length=MAX, description="E-mail only")
    text: str | None = Field(None, max_length=MAX, description="Jinja source of the text")
    html: str | None = Field(
        None, max_length=MAX, description="E-mail only; empty: built from the text"
    )


class TemplateOut(Schema):
    id: int
    kind: str
    channel: str
    language: str
    subject: str
    text: str
    html: str
    created_at: datetime
    updated_at: datetime


class DefaultOut(Schema):
    kind: str
    channel: str
    language: str
    subject: str
    text: str
    html: str


class TemplateFilter(Schema):
    kind: str | None = None
    channel: str | None = None
    language: str | None = None


class BlockIn(Schema):
    name: str = Field(..., description="salutation or greeting")
    channel: str
    language: str
    text: str = Field("", max_length=MAX, description="Jinja source; empty: no block")


class BlockOut(Schema):
    name: str
    channel: str
    language: str
    text: str
    is_default: bool


class PreviewFor(Schema):
    patient_id: UUID | None = Field(None, description="Render for this patient")
    appointment_id: UUID | None = Field(
        None, description="Render for this appointment (its patient and slip link)"
    )


class PreviewSource(PreviewFor):
    kind: str
    channel: str
    language: str = "de"
    subject: str = Field("", max_length=MAX)
    text: str = Field("", max_length=MAX)
    html: str = Field("", max_length=MAX)


class LongNameOut(Schema):
    name: str = Field(..., description="The longest patient name (or a long sample)")
    from_patients: bool = Field(..., description="False: no patients yet, a sample was used")
    text: str
    segments: int
    encoding: str
    cost: Decimal


class PreviewOut(Schema):
    subject: str
    text: str
    html: str
    channel: str
    language: str
    sample_data: bool = Field(..., description="Rendered with sample patient and appointment")
    cost: Decimal = Field(..., description="List price of one message (SMS: parts x price)")
    currency: str
    sms: AnalysisOut | None = Field(None, description="SMS only: as POST /sms/analyze")
    long_name: LongNameOut | None = Field(None, description="SMS only: the longest name")
    warnings: list[str]


def _template(request: HttpRequest, template_id: int) -> Template:
    return get_scoped_or_404(Template, practice_of(request), pk=template_id)


@router.get("/templates", response=Page[TemplateOut], summary="The practice's own templates")
def list_templates(request: HttpRequest, filters: Query[TemplateFilter], page: Query[PageParams]):
    qs = services.templates(practice_of(request), **filters.model_dump(exclude_none=True))
    return paginate(qs, page)


@router.get(
    "/templates/defaults",
    response=list[DefaultOut],
    summary="The shipped default templates (used where the practice has none of its own)",
)
def list_defaults(request: HttpRequest, filters: Query[TemplateFilter]):
    return services.shipped_defaults(**filters.model_dump(exclude_none=True))


@router.post(
    "/templates",
    response={201: TemplateOut},
    summary="Create a template (validated: unknown placeholders and syntax errors are 422)",
)
def create_template(request: HttpRequest, payload: TemplateIn):
    return 201, services.save_template(practice_of(request), payload.model_dump())


@router.post(
    "/templates/preview",
    response=PreviewOut,
    by_alias=True,
    summary="Preview unsaved sources (the editor calls this while typing)",
)
def preview_source(request: HttpRequest, payload: PreviewSource):
    source = services.PreviewInput(
        kind=payload.kind,
        channel=payload.channel,
        language=payload.language,
        subject=payload.subject,
        text=payload.text,
        html=payload.html,
    )
    return services.preview(
        practice_of(request),
        source,
        patient_id=payload.patient_id,
        appointment_id=payload.appointment_id,
    )


@router.get("/templates/{template_id}", response=TemplateOut)
def get_template(request: HttpRequest, template_id: int):
    return _template(request, template_id)


@router.patch("/templates/{template_id}", response=TemplateOut, summary="Change a template")
def patch_template(request: HttpRequest, template_id: int, payload: TemplateIn):
    template = _template(request, template_id)
    return services.save_template(
        practice_of(request), payload.model_dump(exclude_unset=True), template
    )


@router.delete(
    "/templates/{template_id}",
    response={204: None},
    summary="Delete a template: the shipped default applies again",
)
def delete_template(request: HttpRequest, template_id: int):
    services.delete_template(_template(request, template_id))
    return 204, None


@router.post(
    "/templates/{template_id}/preview",
    response=PreviewOut,
    by_alias=True,
    summary="Render a saved template for a patient/appointment or sample data",
)
def preview_template(request: HttpRequest, template_id: int, payload: PreviewFor | None = None):
    template = _template(request, template_id)
    source = services.PreviewInput(
        kind=template.kind,
        channel=template.channel,
        language=template.language,
        subject=template.subject,
        text=template.text,
        html=template.html,
    )
    payload = payload or PreviewFor()
    return services.preview(
        practice_of(request),
        source,
        patient_id=payload.patient_id,
        appointment_id=payload.appointment_id,
    )


@router.get(
    "/text-blocks",
    response=list[BlockOut],
    tags=["templates"],
    summary="Salutation and greeting blocks in use ({{ salutation }}, {{ greeting }})",
)
def list_blocks(request: HttpRequest):
    return services.effective_blocks(practice_of(request))


@router.put(
    "/text-blocks", response=BlockOut, tags=["templates"], summary="Set a salutation/greeting"
)
def put_block(request: HttpRequest, payload: BlockIn):
    block = services.save_block(practice_of(request), payload.model_dump())
    return {
        **{f: getattr(block, f) for f in ("name", "channel", "language", "text")},
        "is_default": False,
    }


class BlockKey(Schema):
    name: str
    channel: str
    language: str


@router.delete(
    "/text-blocks",
    response={204: None},
    tags=["templates"],
    summary="Drop the practice's own block: the shipped default applies again",
)
def reset_block(request: HttpRequest, key: Query[BlockKey]):
    services.reset_block(practice_of(request), key.name, key.channel, key.language)
    return 204, None
