"""Staff pages for mass notices (APT-9), birthday/recall settings (APT-8) and recalls (APT-7).

Thin: ``outreach.mass`` selects, prices and writes; the page shows the preview and sends
only what the confirmed preview showed (its fingerprint travels in a hidden field).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from praxisbote.billing import services as billing
from praxisbote.messaging.models import Message
from praxisbote.outreach import mass, mass_cancel, waiting
from praxisbote.outreach.models import MassCancellation, MassNotice, WaitingListEntry
from praxisbote.outreach.recalls import (
    delete_recall,
    describe,
    list_recalls,
    recall_of,
    save_recall,
)
from praxisbote.outreach.settings import save_settings, settings_of
from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.outreach_forms import (
    MassNoticeForm,
    OfferForm,
    OutreachSettingsForm,
    RecallForm,
    WaitingEntryForm,
)

PAGE_SIZE = 50


@practice_required
@require_GET
def mass_notice_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    page = Paginator(scoped(MassNotice, practice), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/outreach/mass_list.html", {"page": page})


@practice_required
def mass_notice_create(request: HttpRequest, practice: Practice) -> HttpResponse:
    initial: dict[str, Any] = {}
    if request.method != "POST":
        subject, text = mass.default_text(practice)
        initial = {"subject": subject, "text": text, "order": "patient"}
        initial["channels"] = [
            c for c, _l in MassNoticeForm(practice=practice).fields["channels"].choices
        ][:1]
    form = MassNoticeForm(
        request.POST if request.method == "POST" else None, practice=practice, initial=initial
    )
    planned = None
    if request.method == "POST" and form.is_valid():
        args = form.arguments()
        if "send" in request.POST and form.cleaned_data.get("fingerprint"):
            notice = _send(request, practice, form, args)
            if notice is not None:
                return redirect("web:mass_notice_detail", notice_id=notice.pk)
        try:
            planned = mass.preview(practice, **args)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            form.data = form.data.copy()
            form.data["fingerprint"] = planned.fingerprint
    return render(
        request,
        "web/outreach/mass_form.html",
        {
            "form": form,
            "planned": planned,
            "skipped": _skipped(planned.selection.skipped if planned else {}),
        },
    )


def _skipped(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(reason in words, count); a Counter cannot go to a template (``.items`` is a key)."""
    return [(str(mass.SKIP_REASONS.get(r, r)), n) for r, n in sorted(counts.items())]


def _send(
    request: HttpRequest, practice: Practice, form: MassNoticeForm, args: dict[str, Any]
) -> MassNotice | None:
    try:
        notice, _replayed = mass.send(
            practice,
            **args,
            expected_fingerprint=form.cleaned_data["fingerprint"],
            created_by=request.user.email,  # type: ignore[union-attr]
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
    except mass.FingerprintMismatch:
        form.add_error(
            None,
            _(
                "Not sent: the recipients or the text changed since the preview. Check the "
                "new figures below and confirm again."
            ),
        )
    except billing.InsufficientCredit as exc:
        form.add_error(
            None,
            _(
                "Not sent: the credit is not enough (%(needed)s %(cur)s needed, "
                "%(available)s %(cur)s available). Top up the credit, or send by e-mail, "
                "which costs nothing."
            )
            % {"needed": exc.needed, "available": exc.available, "cur": exc.currency},
        )
    else:
        messages.success(
            request,
            _("The mass notice is in the outbox: %(n)d messages.") % {"n": notice.recipients},
        )
        return notice
    return None


@practice_required
@require_GET
def mass_notice_detail(request: HttpRequest, practice: Practice, notice_id: Any) -> HttpResponse:
    notice = get_scoped_or_404(MassNotice, practice, pk=notice_id)
    rows = (
        scoped(Message, practice)
        .filter(campaign_id=notice.pk)
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name", "pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    states = mass.states_of(notice)
    context = {
        "notice": notice,
        "page": page,
        "states": states,
        "pending": states.get("scheduled", 0) + states.get("queued", 0),
        "skipped": _skipped(notice.skipped),
    }
    return render(request, "web/outreach/mass_detail.html", context)


@practice_required
def mass_notice_withdraw(request: HttpRequest, practice: Practice, notice_id: Any) -> HttpResponse:
    notice = get_scoped_or_404(MassNotice, practice, pk=notice_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    count = mass.withdraw(notice)
    messages.success(
        request, _("%(n)d messages that had not gone out yet were withdrawn.") % {"n": count}
    )
    return redirect("web:mass_notice_detail", notice_id=notice.pk)


# ---------------------------------------------------------------- birthdays and recalls


@practice_required
def outreach_settings(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Birthday greetings on/off with their hour, the recall hour and follow-up (owner)."""
    current = settings_of(practice)
    fields = ("birthday_enabled", "birthday_hour", "recall_hour", "recall_followup_days")
    form = OutreachSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(current, name) for name in fields},
    )
    if request.method == "POST":
        require_owner(request)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                save_settings(practice, data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Settings saved."))
                return redirect("web:outreach_settings")
    upcoming = list_recalls(practice, timezone.localdate() + timedelta(days=30))[:50]
    context = {
        "form": form,
        "upcoming": [(r, describe(r.last_result) if r.last_result else "") for r in upcoming],
        "can_edit": getattr(request.user, "is_owner", False),
    }
    return render(request, "web/outreach/settings.html", context)


@practice_required
def patient_recall(request: HttpRequest, practice: Practice, patient_id: Any) -> HttpResponse:
    patient = get_scoped_or_404(Patient, practice, pk=patient_id, erased_at__isnull=True)
    recall = recall_of(patient)
    initial = {"interval_months": 6}
    if recall is not None:
        initial = {
            "due_date": recall.due_date,
            "interval_months": recall.interval_months,
            "note": recall.note,
        }
    form = RecallForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and "delete" in request.POST:
        delete_recall(patient)
        messages.success(request, _("The recall was removed."))
        return redirect("web:patient_detail", patient_id=patient.pk)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("interval_months") is None:
            data["interval_months"] = 0
        try:
            save_recall(patient, data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The recall was saved."))
            return redirect("web:patient_detail", patient_id=patient.pk)
    context = {
        "form": form,
        "patient": patient,
        "recall": recall,
        "last_result": describe(recall.last_result) if recall and recall.last_result else "",
    }
    return render(request, "web/outreach/recall.html", context)


# ---------------------------------------------------------------- mass cancellation


@practice_required
def mass_cancel_day(request: HttpRequest, practice: Practice) -> HttpResponse:
    """APT-6 for one day: every booked appointment with the channel its patient would be
    told by; untick to keep, choose another channel or none per patient (expert mode)."""
    day = parse_date(request.POST.get("day") or request.GET.get("day") or "")
    day = day or timezone.localdate()
    errors: dict[str, list[str]] = {}
    chosen: set[str] | None = None
    overrides: dict[str, str] = {}
    if request.method == "POST":
        chosen = set(request.POST.getlist("appointment"))
        overrides = {
            key.removeprefix("channel_"): value
            for key, value in request.POST.items()
            if key.startswith("channel_") and value and value != "auto"
        }
        try:
            if not chosen:
                raise ValidationError({"appointment_ids": _("Tick at least one appointment.")})
            done = mass_cancel.cancel(
                practice,
                [day],
                sorted(chosen),
                overrides,
                notify=bool(request.POST.get("notify")),
                waiting_list=bool(request.POST.get("waiting_list")),
                wishes=(request.POST.get("wishes") or "").strip(),
                created_by=request.user.email,  # type: ignore[union-attr]
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request,
                _("%(n)d appointments were cancelled; %(m)d patients are being told.")
                % {"n": done.cancelled, "m": done.notified},
            )
            return redirect("web:mass_cancellation_detail", cancellation_id=done.pk)
    planned = mass_cancel.plan(practice, [day])
    rows = [
        {
            "row": row,
            "checked": chosen is None or str(row.appointment.pk) in chosen,
            "override": overrides.get(str(row.appointment.patient_id), "auto"),
            "error": " ".join(errors.get(f"overrides.{row.appointment.patient_id}", [])),
            "reason": mass_cancel.REASONS.get(row.reason, ""),
        }
        for row in planned.rows
    ]
    general = [m for k, ms in errors.items() if not k.startswith("overrides.") for m in ms]
    context = {
        "day": day,
        "rows": rows,
        "general_errors": general,
        "has_errors": bool(errors),
        "channels": [(c, label) for c, label in Channel.choices if practice.channel_enabled(c)],
        "notify": request.method != "POST" or bool(request.POST.get("notify")),
        "waiting_list": bool(request.POST.get("waiting_list")),
        "wishes": request.POST.get("wishes") or "",
    }
    return render(request, "web/outreach/mass_cancel.html", context)


@practice_required
@require_GET
def mass_cancellation_detail(
    request: HttpRequest, practice: Practice, cancellation_id: Any
) -> HttpResponse:
    done = get_scoped_or_404(MassCancellation, practice, pk=cancellation_id)
    rows = [
        {**entry, "reason_text": str(mass_cancel.REASONS.get(entry["reason"], entry["reason"]))}
        for entry in done.report
    ]
    return render(request, "web/outreach/mass_cancellation.html", {"done": done, "rows": rows})


# ---------------------------------------------------------------- waiting list


def _patient_choices(practice: Practice) -> list[tuple[str, str]]:
    rows = scoped(Patient, practice).filter(erased_at__isnull=True)[:2000]
    return [(str(p.pk), p.full_name or str(p.pk)) for p in rows]


@practice_required
def waiting_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    """The list, oldest first; add a patient; offer a free slot to the first ones."""
    add_form = WaitingEntryForm(
        request.POST if "add" in request.POST else None,
        patients=_patient_choices(practice),
        initial={"patient_id": request.GET.get("patient", "")},
    )
    offer_form = OfferForm(request.POST if "offer" in request.POST else None)
    if "add" in request.POST and add_form.is_valid():
        try:
            waiting.add(
                practice, add_form.cleaned_data["patient_id"], add_form.cleaned_data["wishes"]
            )
        except ValidationError as exc:
            add_form.add_service_errors(exc)
        else:
            messages.success(request, _("The patient is on the waiting list."))
            return redirect("web:waiting_list")
    if "offer" in request.POST and offer_form.is_valid():
        if _offer(request, practice, offer_form):
            return redirect("web:waiting_list")
    entries = (
        scoped(WaitingListEntry, practice)
        .filter(patient__erased_at__isnull=True)
        .select_related("patient")
    )
    context = {"entries": entries, "add_form": add_form, "offer_form": offer_form}
    return render(request, "web/outreach/waiting_list.html", context)


def _offer(request: HttpRequest, practice: Practice, form: OfferForm) -> bool:
    cd = form.cleaned_data
    if cd.get("start") is None:
        form.add_error("start", _("This field is required."))
        return False
    try:
        result = waiting.offer(
            practice,
            start=cd["start"],
            location=cd.get("location") or "",
            count=cd.get("count") or 3,
        )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    names = ", ".join(e.patient.full_name for e in result["offered"]) or "-"
    messages.success(request, _("Offered to: %(names)s.") % {"names": names})
    if result["not_reached"]:
        missed = ", ".join(e.patient.full_name for e in result["not_reached"])
        messages.warning(
            request,
            _("Not reachable (no channel with consent), please call: %(names)s.")
            % {"names": missed},
        )
    return True


@practice_required
def waiting_entry_remove(request: HttpRequest, practice: Practice, entry_id: int) -> HttpResponse:
    entry = get_scoped_or_404(WaitingListEntry, practice, pk=entry_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    entry.delete()
    messages.success(request, _("The entry was removed from the waiting list."))
    return redirect("web:waiting_list")
