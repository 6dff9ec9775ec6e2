"""Templates and blocks: saving with validation, previews with SMS figures (TPL-1..5).

API and staff UI both call these, so a template is checked the same way wherever it is
saved: a mistake is a ``TemplateInvalid`` with the field, line and reason, and nothing
is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from praxisbote.billing import services as billing
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Language, Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.texts import defaults, encoding, rendering
from praxisbote.texts.models import TEMPLATE_KINDS, Block, BlockName, Template
from praxisbote.texts.rendering import Sources, TemplateProblem

CENT_HUNDREDTHS = Decimal("0.0001")  # the precision prices are stored with
TEMPLATE_FIELDS = ("subject", "text", "html")
MAX_SOURCE = 10_000
KINDS = {k for k, _label in TEMPLATE_KINDS}
CHANNELS = set(Channel.values)
LANGUAGES = set(Language.values)


class TemplateInvalid(ValidationError):
    """Field errors of a template; ``problems`` keep the line for the API and the editor."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.problems = problems
        by_field: dict[str, list[str]] = {}
        for problem in problems:
            by_field.setdefault(problem.field, []).append(str(problem))
        super().__init__(by_field)


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT_HUNDREDTHS)


# ---------------------------------------------------------------- validation and saving


def _choice(field: str, value: Any, allowed: Iterable[str]) -> list[TemplateProblem]:
    if value in allowed:
        return []
    choices = ", ".join(sorted(allowed))
    return [TemplateProblem(field, None, _("Choose one of: %(choices)s.") % {"choices": choices})]


def check_sources(
    practice: Practice,
    channel: str,
    sources: dict[str, str],
    *,
    block: bool = False,
    kind: str = "",
) -> list[TemplateProblem]:
    """Every problem of the given sources (``text``, and ``subject``/``html`` for e-mail).

    Mass notices are general (seed 001: no personalisation), so they cannot name the patient.
    """
    problems: list[TemplateProblem] = []
    for field, source in sources.items():
        if len(source) > MAX_SOURCE:
            problems.append(
                TemplateProblem(field, None, _("At most %(n)s characters.") % {"n": MAX_SOURCE})
            )
            continue
        if field == "subject" and "\n" in source.strip():
            problems.append(TemplateProblem(field, None, _("A subject has one line.")))
            continue
        problems += rendering.validate(
            source,
            field,
            block=block,
            html=field == "html",
            practice=practice,
            general=kind == "mass",
        )
    if not block and not sources.get("text", "").strip():
        problems.append(TemplateProblem("text", None, _("Write the text of the message.")))
    return problems


def _sources_of(data: dict[str, Any], channel: str) -> dict[str, str]:
    fields = TEMPLATE_FIELDS if channel == Channel.EMAIL else ("text",)
    return {f: data.get(f) or "" for f in fields}


@transaction.atomic
def save_template(practice: Practice, data: dict[str, Any], template: Template | None = None):
    """Create or change a template; validated first, so a stored template always renders."""
    template = template or Template(practice=practice)
    for field in ("kind", "channel", "language", *TEMPLATE_FIELDS):
        if field in data and data[field] is not None:
            setattr(template, field, data[field])
    problems = (
        _choice("kind", template.kind, KINDS)
        + _choice("channel", template.channel, CHANNELS)
        + _choice("language", template.language, LANGUAGES)
    )
    if not problems:
        problems = check_sources(
            practice,
            template.channel,
            _sources_of(vars(template), template.channel),
            kind=template.kind,
        )
    if problems:
        raise TemplateInvalid(problems)
    if template.channel != Channel.EMAIL:
        template.subject = template.html = ""
    duplicate = scoped(Template, practice).filter(
        kind=template.kind, channel=template.channel, language=template.language
    )
    if duplicate.exclude(pk=template.pk).exists():
        raise TemplateInvalid([_duplicate()])
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:  # a concurrent save of the same triple
        raise TemplateInvalid([_duplicate()]) from exc
    return template


def _duplicate() -> TemplateProblem:
    return TemplateProblem(
        "kind",
        None,
        _("The practice already has a template for this kind, channel and language; change it."),
    )


def delete_template(template: Template) -> None:
    """The shipped default applies again."""
    template.delete()


def save_block(practice: Practice, data: dict[str, Any]) -> Block:
    """Set a salutation or greeting block; an empty text is allowed (no salutation)."""
    problems = (
        _choice("name", data.get("name"), set(BlockName.values))
        + _choice("channel", data.get("channel"), CHANNELS)
        + _choice("language", data.get("language"), LANGUAGES)
    )
    text = data.get("text") or ""
    if not problems:
        problems = check_sources(practice, data["channel"], {"text": text}, block=True)
    if problems:
        raise TemplateInvalid(problems)
    block, _created = Block.objects.update_or_create(
        practice=practice,
        name=data["name"],
        channel=data["channel"],
        language=data["language"],
        defaults={"text": text},
    )
    return block


def reset_block(practice: Practice, name: str, channel: str, language: str) -> None:
    scoped(Block, practice).filter(name=name, channel=channel, language=language).delete()


def effective_blocks(practice: Practice) -> list[dict[str, Any]]:
    """Every block with the text in use: the practice's own or the shipped default."""
    own = {(b.name, b.channel, b.language): b for b in scoped(Block, practice)}
    rows = []
    for name in BlockName.values:
        for channel in Channel.values:
            for language in Language.values:
                block = own.get((name, channel, language))
                rows.append(
                    {
                        "name": name,
                        "channel": channel,
                        "language": language,
                        "text": block.text if block else defaults.block(name, channel, language),
                        "is_default": block is None,
                    }
                )
    return rows


def shipped_defaults(kind: str = "", channel: str = "", language: str = "") -> list[dict]:
    rows = []
    for k, _label in TEMPLATE_KINDS:
        for c in Channel.values:
            for lang in Language.values:
                if (
                    (kind and k != kind)
                    or (channel and c != channel)
                    or (language and lang != language)
                ):
                    continue
                source = defaults.template(k, c, lang)
                rows.append(
                    {
                        "kind": k,
                        "channel": c,
                        "language": lang,
                        "subject": source.subject,
                        "text": source.text,
                        "html": source.html,
                    }
                )
    return rows


def templates(practice: Practice, **filters: str) -> QuerySet[Template]:
    qs = scoped(Template, practice)
    for field in ("kind", "channel", "language"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    return qs.order_by("kind", "channel", "language", "pk")


# ---------------------------------------------------------------- previews


def sms_figures(practice: Practice, text: str, smart: bool | None = None) -> dict[str, Any]:
    """Encoding, segments and cost of an SMS at the practice's price (as /sms/analyze)."""
    smart_on = practice.sms_smart_encoding if smart is None else smart
    result = encoding.report(text, smart_on)
    account = billing.account_for(practice)
    price = money(account.price_sms)
    info = result["smart"]
    cost_before = money(price * info["segments_before"])
    cost_after = money(price * info["segments_after"])
    info.update(cost_before=cost_before, cost_after=cost_after, saving=cost_before - cost_after)
    result.update(
        cost=money(price * result["segments"]), price_per_segment=price, currency=account.currency
    )
    return result


@dataclass(frozen=True)
class PreviewInput:
    kind: str
    channel: str
    language: str
    subject: str = ""
    text: str = ""
    html: str = ""


def _blocks_for(practice: Practice, channel: str, language: str) -> tuple[str, str]:
    stored = rendering.sources_for(practice, "free", channel, [language])[language]
    return stored.salutation, stored.greeting


NAME_FIELDS = ("salutation", "first_name", "last_name")
SCAN_LIMIT = 5_000  # non-ASCII names looked at for non-GSM letters (umlauts are GSM)


def _longest_patients(practice: Practice, limit: int = 5) -> list[Any]:
    """The practice's patients whose names could push an SMS over a part: the longest
    names, and the longest names with a letter outside GSM-7 (Zoë, Łukasz, Dvořák), which
    make the whole SMS UCS-2 with 70 instead of 160 characters."""
    living = scoped(Patient, practice).filter(erased_at__isnull=True)
    longest = list(
        living.annotate(n=Length("salutation") + Length("first_name") + Length("last_name"))
        .order_by("-n", "pk")
        .values(*NAME_FIELDS)[:limit]
    )
    non_ascii = Q()
    for name in NAME_FIELDS:
        non_ascii |= Q(**{f"{name}__regex": "[^ -~]"})
    unusual = [
        row
        for row in living.filter(non_ascii).order_by("pk").values(*NAME_FIELDS)[:SCAN_LIMIT]
        if encoding.non_gsm(" ".join(row.values()))
    ]
    unusual.sort(key=lambda row: -len("".join(row.values())))
    return longest + unusual[:limit]


def appointment_context(practice: Practice, appointment_id: Any) -> dict[str, Any]:
    """Patient, appointment and slip link of one of the practice's appointments (or 404)."""
    from praxisbote.appointments import slip
    from praxisbote.appointments.models import Appointment

    appointment = get_scoped_or_404(Appointment, practice, pk=appointment_id)
    return {
        "patient": appointment.patient,
        "appointment": appointment,
        "link": slip.url_of(appointment) or None,
    }


def preview(
    practice: Practice,
    source: PreviewInput,
    *,
    patient_id: Any = None,
    appointment_id: Any = None,
) -> dict[str, Any]:
    """The rendered texts for a patient/appointment (or sample data) with SMS figures, and a
    warning when the practice's longest patient names need more SMS parts (seed 001)."""
    problems = (
        _choice("kind", source.kind, KINDS)
        + _choice("channel", source.channel, CHANNELS)
        + _choice("language", source.language, LANGUAGES)
    )
    if problems:
        raise TemplateInvalid(problems)
    raw = {"subject": source.subject, "text": source.text, "html": source.html}
    problems = check_sources(
        practice, source.channel, _sources_of(raw, source.channel), kind=source.kind
    )
    if problems:
        raise TemplateInvalid(problems)
    salutation, greeting = _blocks_for(practice, source.channel, source.language)
    sources = Sources(source.text, source.subject, source.html, salutation, greeting)
    patient = (
        get_scoped_or_404(Patient, practice, pk=patient_id, erased_at__isnull=True)
        if patient_id
        else None
    )
    context = rendering.sample_context(practice, patient)
    if appointment_id:
        real = appointment_context(practice, appointment_id)
        context.update(real, patient=patient or real["patient"])
        context["link"] = real["link"] or rendering.SAMPLE_LINK
    out = _render(practice, sources, source, context)
    result: dict[str, Any] = {
        "subject": out.subject,
        "text": out.text,
        "html": out.html,
        "channel": source.channel,
        "language": source.language,
        "sample_data": patient is None and not appointment_id,
        "sms": None,
        "long_name": None,
        "warnings": [],
    }
    account = billing.account_for(practice)
    result["currency"] = account.currency
    if source.channel == Channel.SMS:
        figures = sms_figures(practice, out.text)
        result["sms"] = figures
        result["cost"] = figures["cost"]
        _long_names(practice, sources, source, context, result)
    else:
        result["cost"] = money(account.price(source.channel))
    return result


def _render(practice: Practice, sources: Sources, source: PreviewInput, context: dict):
    data = rendering.build_context(practice, source.language, context)
    return rendering.render_sources(sources, source.channel, data)


def _long_names(
    practice: Practice, sources: Sources, source: PreviewInput, context: dict, result: dict
) -> None:
    """Render with the longest real names (or a realistic long one): more SMS parts?"""
    candidates: list[Any] = _longest_patients(practice)
    from_patients = bool(candidates)
    if not candidates:
        candidates = [rendering.LONG_SAMPLE_PATIENT]
    worst = None
    for candidate in candidates:
        text = _render(practice, sources, source, {**context, "patient": candidate}).text
        figures = sms_figures(practice, text)
        if worst is None or figures["segments"] > worst[1]["segments"]:
            worst = (candidate, figures, text)
    candidate, figures, text = worst
    name = rendering.patient_view(candidate)["full_name"]
    result["long_name"] = {
        "name": name,
        "from_patients": from_patients,
        "text": text,
        "segments": figures["segments"],
        "encoding": figures["encoding"],
        "cost": figures["cost"],
    }
    if figures["segments"] > result["sms"]["segments"]:
        result["warnings"].append(
            _(
                "With the patient name %(name)s this SMS needs %(long)s parts instead of "
                "%(short)s and costs %(cost)s %(currency)s instead of %(base)s %(currency)s. "
                "Shorten the text or use a shorter salutation."
            )
            % {
                "name": name,
                "long": figures["segments"],
                "short": result["sms"]["segments"],
                "cost": number_format(figures["cost"], 2),
                "base": number_format(result["sms"]["cost"], 2),
                "currency": figures["currency"],
            }
        )
