"""Appointments in the staff UI: a day's list with create, move, copy and cancel, and per
appointment its speech bubble (notified or not, seed 001) and message timeline.

Thin: ``appointments.services`` books, moves and cancels; these views parse and show.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from praxisbote.appointments import services, slip
from praxisbote.appointments.models import Appointment, Status
from praxisbote.appointments.rules import wall_to_utc
from praxisbote.messaging.models import DeliveryEvent
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import get_scoped_or_404
from praxisbote.web import patient_picker
from praxisbote.web.appointment_forms import AppointmentForm, CancelForm, CopyForm, MoveForm
from praxisbote.web.auth import practice_required
from praxisbote.web.dates import parse_day


def _today(practice: Practice) -> date:
    return timezone.now().astimezone(ZoneInfo(practice.timezone)).date()


def _day_bounds(practice: Practice, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(practice.timezone)
    return wall_to_utc(day, time.min, zone), wall_to_utc(day + timedelta(days=1), time.min, zone)


@practice_required
@require_GET
def day_list(request: HttpRequest, practice: Practice) -> HttpResponse:
    day = parse_day(request.GET.get("day")) or _today(practice)
    start, end = _day_bounds(practice, day)
    rows = list(services.in_range(practice, start=start, end=end))
    groups = services.messages_by_appointment(rows)
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": _today(practice),
        "rows": [(a, services.bubble(groups[a.pk]), groups[a.pk]) for a in rows],
    }
    return render(request, "web/appointments/day.html", context)


def _flash(request: HttpRequest, written: services.Written, done: str) -> None:
    messages.success(request, done)
    for notice in written.notices:
        messages.warning(request, notice)
    if written.in_flight:
        messages.info(
            request,
            _(
                "%(n)d message(s) were being handed over just now; a worker drops them if "
                "they had not left yet."
            )
            % {"n": written.in_flight},
        )


@practice_required
def create(request: HttpRequest, practice: Practice) -> HttpResponse:
    initial: dict[str, Any] = {
        "date": parse_day(request.GET.get("day")) or _today(practice),
        "duration": 30,
        "send_confirmation": True,
        "create_reminders": True,
        "patient": request.GET.get("patient", ""),
    }
    form = AppointmentForm(
        request.POST if request.method == "POST" else None,
        practice=practice,
        initial=initial,
    )
    if patient_picker.searching(form):
        patient_picker.keep_entered(form)
    elif request.method == "POST" and form.is_valid():
        start, end = form.times(practice.timezone)
        data = {
            "patient_id": form.cleaned_data["patient"].pk,
            "start": start,
            "end": end,
            **{k: form.cleaned_data[k] for k in ("practitioner", "location", "notes")},
        }
        try:
            appointment, written = services.create_appointment(
                practice,
                data,
                send_confirmation=form.cleaned_data["send_confirmation"],
                create_reminders=form.cleaned_data["create_reminders"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            _flash(request, written, _("The appointment is booked."))
            return redirect("web:appointment_detail", appointment_id=appointment.pk)
    return render(
        request,
        "web/appointments/form.html",
        {"form": form, "title": _("New appointment"), "submit": _("Book appointment")},
    )


def _appointment(practice: Practice, appointment_id: Any) -> Appointment:
    return get_scoped_or_404(Appointment, practice, pk=appointment_id)


@practice_required
@require_GET
def detail(request: HttpRequest, practice: Practice, appointment_id: Any) -> HttpResponse:
    appointment = _appointment(practice, appointment_id)
    sent = services.messages_by_appointment([appointment])[appointment.pk]
    events: dict[Any, list[DeliveryEvent]] = {m.pk: [] for m in sent}
    for event in DeliveryEvent.objects.filter(message_id__in=list(events)).order_by("at", "id"):
        events[event.message_id].append(event)
    context = {
        "appointment": appointment,
        "bubble": services.bubble(sent),
        "timeline": [(m, events[m.pk]) for m in sent],
        "slip_url": slip.url_of(appointment),
        "booked": appointment.status == Status.BOOKED,
        "can_offer": appointment.status == Status.CANCELLED and appointment.start > timezone.now(),
    }
    return render(request, "web/appointments/detail.html", context)


def _times_initial(appointment: Appointment, practice: Practice) -> dict[str, Any]:
    local = appointment.start.astimezone(ZoneInfo(practice.timezone))
    minutes = int((appointment.end - appointment.start).total_seconds() // 60)
    return {"date": local.date(), "time": local.time().replace(tzinfo=None), "duration": minutes}


@practice_required
def move(request: HttpRequest, practice: Practice, appointment_id: Any) -> HttpResponse:
    appointment = _appointment(practice, appointment_id)
    form = MoveForm(
        request.POST if request.method == "POST" else None,
        initial=_times_initial(appointment, practice),
    )

    def change(times: dict[str, Any], data: dict[str, Any]) -> tuple[Appointment, Any]:
        _moved, written = services.update_appointment(
            appointment,
            times,
            renew_reminders=data["renew_reminders"] == "yes",
            notify_patient=data["notify_patient"],
        )
        return appointment, written

    texts = (_("Move appointment"), _("Move"), _("The appointment is moved."))
    return _times_page(request, practice, appointment, form, change, texts)


@practice_required
def copy(request: HttpRequest, practice: Practice, appointment_id: Any) -> HttpResponse:
    appointment = _appointment(practice, appointment_id)
    initial = _times_initial(appointment, practice)
    initial["date"] = initial["date"] + timedelta(days=7)
    form = CopyForm(request.POST if request.method == "POST" else None, initial=initial)

    def change(times: dict[str, Any], data: dict[str, Any]) -> tuple[Appointment, Any]:
        return services.copy_appointment(
            appointment,
            times,
            create_reminders=data["create_reminders"],
            notify_patient=data["notify_patient"],
        )

    texts = (_("Copy appointment"), _("Copy"), _("The copy is booked."))
    return _times_page(request, practice, appointment, form, change, texts)


def _times_page(
    request: HttpRequest,
    practice: Practice,
    appointment: Appointment,
    form: Any,
    change: Callable[[dict[str, Any], dict[str, Any]], tuple[Appointment, Any]],
    texts: tuple[str, str, str],
) -> HttpResponse:
    """Move and copy share the form and its flow; only the service call differs."""
    title, submit, done = texts
    if request.method == "POST" and form.is_valid():
        start, end = form.times(practice.timezone)
        try:
            target, written = change({"start": start, "end": end}, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            _flash(request, written, done)
            return redirect("web:appointment_detail", appointment_id=target.pk)
    return render(
        request,
        "web/appointments/form.html",
        {"form": form, "appointment": appointment, "title": title, "submit": submit},
    )


@practice_required
def cancel(request: HttpRequest, practice: Practice, appointment_id: Any) -> HttpResponse:
    appointment = _appointment(practice, appointment_id)
    form = CancelForm(
        request.POST if request.method == "POST" else None, initial={"notify_patient": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            _cancelled, written = services.cancel_appointment(
                appointment, notify_patient=form.cleaned_data["notify_patient"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            _flash(request, written, _("The appointment is cancelled."))
            return redirect("web:appointment_detail", appointment_id=appointment.pk)
    return render(
        request,
        "web/appointments/form.html",
        {
            "form": form,
            "appointment": appointment,
            "title": _("Cancel appointment"),
            "submit": _("Cancel appointment"),
            "danger": True,
        },
    )
