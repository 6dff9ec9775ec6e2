"""Patients and their categories ("Akten-Typ"); validation is the services' job."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from praxisbote.messaging.models import Message
from praxisbote.outreach.recalls import recall_of
from praxisbote.patients import services
from praxisbote.patients.models import Patient, PatientCategory
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.web import patient_picker
from praxisbote.web.auth import practice_required
from praxisbote.web.forms import CategoryForm, PatientForm

PAGE_SIZE = 25
RECENT_MESSAGES = 5


def _patient(practice: Practice, patient_id: Any) -> Patient:
    """A patient of this practice whose data was not erased; anything else is a 404."""
    return get_scoped_or_404(Patient, practice, pk=patient_id, erased_at__isnull=True)


@practice_required
def patient_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    page = Paginator(services.search_patients(practice, query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/patients/list.html", {"page": page, "query": query})


@practice_required
@require_GET
def patient_search(request: HttpRequest, practice: Practice) -> HttpResponse:
    """The patient picker's type-ahead (JSON, staff only): the best matches of this
    practice, never erased patients; ``more`` when there are further ones."""
    query = request.GET.get("q", "").strip()[:100]
    response = JsonResponse(patient_picker.matches(practice, query))
    response["Cache-Control"] = "no-store"  # patient data: not kept by the browser
    return response


@practice_required
def patient_create(request: HttpRequest, practice: Practice) -> HttpResponse:
    form = PatientForm(request.POST or None, practice=practice)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.create_patient(practice, form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Patient saved."))
            return redirect("web:patient_detail", patient_id=patient.pk)
    return render(request, "web/patients/form.html", {"form": form, "patient": None})


@practice_required
def patient_edit(request: HttpRequest, practice: Practice, patient_id: Any) -> HttpResponse:
    patient = _patient(practice, patient_id)
    form = PatientForm(request.POST or None, practice=practice, patient=patient)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_patient(patient, form.service_data())
        except ValidationError as exc:
            patient.refresh_from_db()  # the service may have set fields before refusing
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Patient saved."))
            return redirect("web:patient_detail", patient_id=patient.pk)
    return render(request, "web/patients/form.html", {"form": form, "patient": patient})


@practice_required
@require_GET
def patient_detail(request: HttpRequest, practice: Practice, patient_id: Any) -> HttpResponse:
    patient = _patient(practice, patient_id)
    consent = [
        {
            "channel": label,
            "granted": patient.has_consent(channel),
            "source": (patient.consent.get(channel) or {}).get("source", ""),
            "at": parse_datetime((patient.consent.get(channel) or {}).get("at") or ""),
            "enabled": practice.channel_enabled(channel),
        }
        for channel, label in Channel.choices
    ]
    labels = dict(Channel.choices)
    channels = [labels.get(c, c) for c in patient.effective_channels()]
    recent = scoped(Message, practice).filter(patient=patient).order_by("-created_at", "-pk")
    context = {
        "patient": patient,
        "consent": consent,
        "channels": channels,
        "recent_messages": list(recent[:RECENT_MESSAGES]),
        "message_count": recent.count(),
        "recall": recall_of(patient),
    }
    return render(request, "web/patients/detail.html", context)


@practice_required
@require_GET
def patient_export(request: HttpRequest, practice: Practice, patient_id: Any) -> HttpResponse:
    """Everything held about the patient as a JSON file (GDPR Art. 15), never cached."""
    patient = _patient(practice, patient_id)
    body = json.dumps(services.export_patient(patient), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@practice_required
def patient_erase(request: HttpRequest, practice: Practice, patient_id: Any) -> HttpResponse:
    """Confirmation page (GET), then erasure (POST): it cannot be undone (GDPR Art. 17)."""
    patient = _patient(practice, patient_id)
    if request.method == "POST":
        services.erase_patient(patient)
        messages.success(request, _("The patient's personal data was erased."))
        return redirect("web:patients")
    return render(request, "web/patients/erase.html", {"patient": patient})


@practice_required
@require_GET
def category_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    categories = services.categories_with_counts(practice)
    return render(request, "web/categories/list.html", {"categories": categories})


@practice_required
def category_create(request: HttpRequest, practice: Practice) -> HttpResponse:
    return _category_form(request, practice, None)


@practice_required
def category_edit(request: HttpRequest, practice: Practice, category_id: int) -> HttpResponse:
    category = get_scoped_or_404(PatientCategory, practice, pk=category_id)
    return _category_form(request, practice, category)


def _category_form(
    request: HttpRequest, practice: Practice, category: PatientCategory | None
) -> HttpResponse:
    form = CategoryForm(request.POST or None, category=category)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_category(practice, category, form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("web:categories")
    return render(request, "web/categories/form.html", {"form": form, "category": category})
