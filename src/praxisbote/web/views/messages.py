"""The send protocol (MSG-4), one message with its timeline, cancelling, and writing one.

Thin like every view: messages are written, cancelled and priced by
``messaging.services``; these views only read, filter and show.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from praxisbote.appointments.models import Appointment
from praxisbote.billing import services as billing
from praxisbote.billing.models import CreditAccount, FreeQuota
from praxisbote.messaging import services, states
from praxisbote.messaging.models import Message
from praxisbote.messaging.reasons import CANCELLED_BY_STAFF
from praxisbote.patients.models import Patient
from praxisbote.patients.services import find_patients, search_patients
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.texts import encoding, rendering
from praxisbote.texts import services as texts
from praxisbote.texts.models import TEMPLATE_KINDS
from praxisbote.web.auth import practice_required
from praxisbote.web.forms import ComposeForm, ProtocolFilterForm

PAGE_SIZE = 50


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the active (the practice's) time zone, as an aware time."""
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_protocol(practice: Practice, form: ProtocolFilterForm) -> QuerySet[Message]:
    """The practice's messages narrowed by the filters that are valid; newest first."""
    qs = scoped(Message, practice).select_related("patient").order_by("-created_at", "-pk")
    form.is_valid()  # invalid filters are named on the page; the valid ones still apply
    cd = form.cleaned_data
    if cd.get("patient"):
        qs = qs.filter(patient_id=cd["patient"])
    if query := (cd.get("q") or "").strip():
        patients = search_patients(practice, query).values("pk")
        qs = qs.filter(Q(patient__in=patients) | Q(recipient__icontains=query))
    for name in ("channel", "state", "kind"):
        if cd.get(name):
            qs = qs.filter(**{name: cd[name]})
    if cd.get("date_from"):
        qs = qs.filter(created_at__gte=local_midnight(cd["date_from"]))
    if cd.get("date_to"):
        qs = qs.filter(created_at__lt=local_midnight(cd["date_to"] + timedelta(days=1)))
    return qs


@practice_required
@require_GET
def protocol(request: HttpRequest, practice: Practice) -> HttpResponse:
    form = ProtocolFilterForm(request.GET)
    page = Paginator(filter_protocol(practice, form), PAGE_SIZE).get_page(request.GET.get("page"))
    patient = None
    if form.cleaned_data.get("patient"):
        patient = scoped(Patient, practice).filter(pk=form.cleaned_data["patient"]).first()
    filtered = any(form.cleaned_data.values())
    context = {
        "form": form,
        "page": page,
        "patient": patient,
        "filtered": filtered,
        "currency": _currency(practice),
    }
    return render(request, "web/messages/protocol.html", context)


def _message(practice: Practice, message_id: Any) -> Message:
    return get_scoped_or_404(Message, practice, pk=message_id)


@practice_required
@require_GET
def message_detail(request: HttpRequest, practice: Practice, message_id: Any) -> HttpResponse:
    message = _message(practice, message_id)
    context = {
        "message": message,
        "events": list(message.events.all()),
        "attachments": list(message.attachments.all()),
        "cancellable": message.state in states.PENDING,
        "test_mode": message.provider == "sandbox"
        or (not message.provider and services.in_test_mode(practice, message.channel)),
        "currency": _currency(practice),
    }
    return render(request, "web/messages/detail.html", context)


@practice_required
def message_cancel(request: HttpRequest, practice: Practice, message_id: Any) -> HttpResponse:
    """POST only; staff and owners may withdraw what has not gone out yet."""
    message = _message(practice, message_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # The protocol keeps English (reasons.py); the timeline shows it translated.
    reason = CANCELLED_BY_STAFF.format(user=request.user.email)  # type: ignore[union-attr]
    if services.cancel(message, reason):
        messages.success(request, _("The message was cancelled; it will not be sent."))
    else:
        messages.error(
            request,
            _(
                "Too late to cancel: the message is %(state)s. Only scheduled or waiting "
                "messages can be cancelled."
            )
            % {"state": message.get_state_display()},
        )
    return redirect("web:message_detail", message_id=message.pk)


def _currency(practice: Practice) -> str:
    account = CreditAccount.objects.filter(practice=practice).first()
    return account.currency if account else CreditAccount().currency


def enabled_channels(practice: Practice) -> list[tuple[str, str]]:
    return [(c, label) for c, label in Channel.choices if practice.channel_enabled(c)]


def _estimate(practice: Practice, prepared: services.Prepared) -> dict[str, Any]:
    """What the preview shows before sending (BIL-5): parts x price, and free units left."""
    message = prepared.message
    account = CreditAccount.objects.filter(practice=practice).first() or CreditAccount(
        practice=practice
    )
    free = account.free_per_month(message.channel)
    used = (
        scoped(FreeQuota, practice)
        .filter(channel=message.channel, month=billing.month_key(practice))
        .values_list("used", flat=True)
        .first()
        or 0
    )
    analysis = encoding.analyze(message.body) if message.channel == Channel.SMS else None
    return {
        "channel": message.channel,
        "units": message.segments,
        "price": account.price(message.channel),
        "cost": message.cost,
        "currency": account.currency,
        "free_left": max(0, free - used) if free else None,
        "analysis": analysis,
        "balance": account.available,
    }


@practice_required
def compose(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Write one message (MSG-1); "Preview" validates and prices it without writing."""
    channels = enabled_channels(practice)
    initial: dict[str, Any] = {}
    about: dict[str, Any] = {}
    if request.method == "GET" and request.GET.get("appointment"):
        # A message about one appointment (seed 001's speech bubble): its patient and slip.
        about = texts.appointment_context(practice, request.GET["appointment"])
        initial["appointment_id"] = str(about["appointment"].pk)
    patient_id = request.GET.get("patient") or (about and about["patient"].pk)
    if request.method == "GET" and patient_id:
        chosen = get_scoped_or_404(Patient, practice, pk=patient_id, erased_at__isnull=True)
        initial["patient_id"] = str(chosen.pk)
        preferred = [c for c in chosen.effective_channels() if chosen.address_for(c)]
        usable = [c for c, _label in channels if c in preferred]
        if usable:
            initial["channel"] = usable[0]
    if request.method == "GET" and request.GET.get("template"):
        initial.update(_from_template(practice, request.GET, initial, channels, about))
    form = ComposeForm(
        request.POST if request.method == "POST" else None, channels=channels, initial=initial
    )
    estimate = None
    if request.method == "POST" and form.is_valid() and _own_appointment(practice, form):
        spec = services.MessageSpec(**form.spec_data())
        if "preview" in request.POST:
            try:
                estimate = _estimate(practice, services.prepare(practice, spec))
            except ValidationError as exc:
                form.add_service_errors(exc)
        else:
            try:
                result = services.create_messages(practice, [spec])
            except ValidationError as exc:
                form.add_service_errors(exc)
            except billing.InsufficientCredit as exc:
                form.add_error(
                    None,
                    _(
                        "Not sent: the credit is not enough (%(needed)s %(cur)s needed, "
                        "%(available)s %(cur)s available). Top up the credit, or choose "
                        "e-mail, which costs nothing."
                    )
                    % {"needed": exc.needed, "available": exc.available, "cur": exc.currency},
                )
            else:
                messages.success(request, _("The message is in the outbox and goes out shortly."))
                return redirect("web:message_detail", message_id=result.messages[0].pk)
    context = _compose_context(practice, form, estimate)
    if not context["patient"] and (find := request.GET.get("find", "").strip()):
        context["find"] = find
        context["found"], context["found_more"] = find_patients(practice, find)
    return render(request, "web/messages/compose.html", context)


def _own_appointment(practice: Practice, form: ComposeForm) -> bool:
    """A posted appointment must be one of the practice's (the form only checks the shape)."""
    appointment_id = form.cleaned_data.get("appointment_id")
    if appointment_id and not scoped(Appointment, practice).filter(pk=appointment_id).exists():
        form.add_error(None, _("The appointment does not exist (any more)."))
        return False
    return True


def _from_template(
    practice: Practice,
    query: Any,
    initial: dict[str, Any],
    channels: list[tuple[str, str]],
    about: dict[str, Any],
) -> dict[str, Any]:
    """Subject and text rendered from a template for the chosen patient (and appointment),
    for staff to edit before sending (TPL-4)."""
    kind = query.get("template", "")
    allowed = [c for c, _label in channels]
    channel = (
        query.get("template_channel") or initial.get("channel") or (allowed[0] if allowed else "")
    )
    if kind not in dict(TEMPLATE_KINDS) or channel not in allowed:
        return {}
    patient = None
    if initial.get("patient_id"):
        patient = scoped(Patient, practice).filter(pk=initial["patient_id"]).first()
    language = patient.effective_language if patient else practice.language
    out = rendering.render(practice, kind, channel, language, {**about, "patient": patient})
    return {"kind": kind, "channel": channel, "text": out.text, "subject": out.subject}


def _sms_live(practice: Practice) -> dict[str, Any]:
    """Price and smart-encoding switch for the live SMS counter (web/sms-counter.js).

    The browser counts while typing, without a round trip per key; "Check and show cost"
    still asks the server, whose count is the one that is charged.
    """
    account = CreditAccount.objects.filter(practice=practice).first() or CreditAccount(
        practice=practice
    )
    return {
        "price": str(account.price("sms")),
        "currency": account.currency,
        "smart": practice.sms_smart_encoding,
    }


def _compose_context(practice: Practice, form: ComposeForm, estimate: Any) -> dict[str, Any]:
    channels = [c for c, _label in enabled_channels(practice)]
    chosen = form["channel"].value() or (channels[0] if channels else "")
    patient = None
    patient_id = str(form["patient_id"].value() or "").strip()
    if patient_id:
        try:
            patient = (
                scoped(Patient, practice).filter(pk=patient_id, erased_at__isnull=True).first()
            )
        except (ValidationError, ValueError):
            patient = None
    test_modes = {c: services.in_test_mode(practice, c) for c in channels}
    return {
        "sms_live": _sms_live(practice) if "sms" in channels else None,
        "form": form,
        "channels": channels,
        "patient": patient,
        "estimate": estimate,
        "test_modes": test_modes,
        "test_mode": test_modes.get(chosen, False),
        "practice": practice,
        "template_kinds": TEMPLATE_KINDS,
        "appointment": _appointment_of(practice, form),
    }


def _appointment_of(practice: Practice, form: ComposeForm) -> Appointment | None:
    value = str(form["appointment_id"].value() or "").strip()
    if not value:
        return None
    try:
        return scoped(Appointment, practice).filter(pk=value).first()
    except (ValidationError, ValueError):
        return None
