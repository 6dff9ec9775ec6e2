"""Templates in the staff UI (TPL-1..5): list, editor with live preview, blocks.

Thin like every view: ``texts.services`` validates, saves and previews. The editor works
without JavaScript (save shows errors next to the field, with the line); with it, the SMS
counter (``sms-counter.js``) and the rendered preview follow every keystroke.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from praxisbote.billing import services as billing
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Language, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.texts import defaults, services
from praxisbote.texts.models import TEMPLATE_KINDS, BlockName, Template
from praxisbote.texts.rendering import FIELDS
from praxisbote.web import patient_picker
from praxisbote.web.auth import practice_required
from praxisbote.web.forms import BlocksForm, PreviewPatientForm, TemplateForm

KIND_LABELS = dict(TEMPLATE_KINDS)
CONDITION_EXAMPLE = "{% if appointment.location %}…{% else %}…{% endif %}"


def _check_key(kind: str, channel: str, language: str) -> None:
    if kind not in KIND_LABELS or channel not in Channel.values or language not in Language.values:
        raise Http404("no such template")


@practice_required
def template_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    own = {(t.kind, t.channel, t.language): t for t in scoped(Template, practice)}
    rows = []
    for kind, label in TEMPLATE_KINDS:
        cells = []
        for channel in Channel.values:
            for language in Language.values:
                cells.append(
                    {
                        "channel": channel,
                        "language": language,
                        "own": (kind, channel, language) in own,
                    }
                )
        rows.append({"kind": kind, "label": label, "cells": cells})
    columns = [(c, lang) for c in Channel.values for lang in Language.values]
    return render(
        request, "web/texts/list.html", {"rows": rows, "columns": columns, "own_count": len(own)}
    )


@practice_required
def template_edit(
    request: HttpRequest, practice: Practice, kind: str, channel: str, language: str
) -> HttpResponse:
    _check_key(kind, channel, language)
    template = (
        scoped(Template, practice).filter(kind=kind, channel=channel, language=language).first()
    )
    if request.method == "POST" and "reset" in request.POST:
        if template:
            services.delete_template(template)
        messages.success(request, _("The shipped default applies again."))
        return redirect("web:template_edit", kind=kind, channel=channel, language=language)
    shipped = defaults.template(kind, channel, language)
    source = template or shipped
    initial = {"subject": source.subject, "text": source.text, "html": source.html}
    form = TemplateForm(request.POST or None, initial=initial, channel=channel)
    preview_for = PreviewPatientForm(request.POST or None, practice=practice)
    if patient_picker.searching(preview_for):  # without script: show again, save nothing
        patient_picker.keep_entered(form)
        patient_picker.keep_entered(preview_for)
    elif request.method == "POST" and form.is_valid():
        data = {"kind": kind, "channel": channel, "language": language, **form.cleaned_data}
        try:
            services.save_template(practice, data, template)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The template is saved."))
            return redirect("web:template_edit", kind=kind, channel=channel, language=language)
    context = {
        "form": form,
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "channel": channel,
        "language": language,
        "is_own": template is not None,
        "fields": [(name, sorted(f) if f else None) for name, f in FIELDS.items()],
        "preview_for": preview_for,
        "condition_example": CONDITION_EXAMPLE,
        "price": billing.account_for(practice).price_sms,
        "currency": billing.account_for(practice).currency,
        "smart": practice.sms_smart_encoding,
        "first_preview": _first_preview(
            practice,
            services.PreviewInput(kind, channel, language),
            form,
            patient_picker.chosen_patient(practice, request.POST.get("preview_patient")),
        ),
    }
    return render(request, "web/texts/edit.html", context)


def _first_preview(
    practice: Practice, key: services.PreviewInput, form: TemplateForm, patient: Patient | None
) -> dict[str, Any] | None:
    """The preview shown before any JavaScript runs (and without it): for the patient
    chosen with the picker's "Search", else with sample data."""
    values = {f: (form[f].value() or "").replace("\r\n", "\n") for f in form.fields}
    source = services.PreviewInput(key.kind, key.channel, key.language, **values)
    try:
        return services.preview(practice, source, patient_id=patient.pk if patient else None)
    except ValidationError:
        return None


@practice_required
@require_POST
def template_preview(request: HttpRequest, practice: Practice) -> HttpResponse:
    """JSON for the editor: the rendered text and figures, or the problems with lines."""
    post = request.POST
    source = services.PreviewInput(
        kind=post.get("kind", ""),
        channel=post.get("channel", ""),
        language=post.get("language", ""),
        subject=post.get("subject", ""),
        text=post.get("text", "").replace("\r\n", "\n"),
        html=post.get("html", "").replace("\r\n", "\n"),
    )
    try:
        result = services.preview(practice, source, patient_id=post.get("patient_id") or None)
    except services.TemplateInvalid as exc:
        errors = [{"field": p.field, "line": p.line, "message": str(p)} for p in exc.problems]
        return JsonResponse({"errors": errors}, status=422)
    body = json.loads(json.dumps(result, cls=DjangoJSONEncoder))
    return JsonResponse(body)


@practice_required
def blocks_edit(request: HttpRequest, practice: Practice) -> HttpResponse:
    """All salutation and greeting blocks on one page; each is validated on its own."""
    rows = services.effective_blocks(practice)
    form = BlocksForm(request.POST or None, blocks=rows)
    if request.method == "POST" and form.is_valid():
        failed = False
        for row in rows:
            name = BlocksForm.field_name(row)
            text = form.cleaned_data[name].replace("\r\n", "\n")
            if text == row["text"]:
                continue
            try:
                services.save_block(practice, {**row, "text": text})
            except ValidationError as exc:
                failed = True
                form.add_error(name, exc.messages)
        if not failed:
            messages.success(request, _("The salutations and greetings are saved."))
            return redirect("web:text_blocks")
    names = dict(BlockName.choices)
    groups = [
        {
            "label": names[name],
            "fields": [form[BlocksForm.field_name(r)] for r in rows if r["name"] == name],
        }
        for name in BlockName.values
    ]
    return render(request, "web/texts/blocks.html", {"form": form, "groups": groups})
