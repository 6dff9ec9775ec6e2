"""The express appointment slip: mobile first, no login, no third-party assets.

The page shows when and where, the practice's phone and an .ics file; it names no patient,
so a guessed code reveals little. Failed lookups are counted per client (the same table
as failed logins) and answered 429 beyond the limit, which makes guessing infeasible on
top of the 62^7 code space.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_POST

from praxisbote.appointments import services, slip
from praxisbote.appointments.models import Appointment, Status
from praxisbote.practices.models import LoginFailure

FAILURE_LIMIT = 30
FAILURE_WINDOW = timedelta(minutes=10)


def _client(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _throttled(request: HttpRequest) -> bool:
    since = timezone.now() - FAILURE_WINDOW
    key = f"slip:{_client(request)}"
    return LoginFailure.objects.filter(key=key, at__gte=since).count() >= FAILURE_LIMIT


def _lookup(request: HttpRequest, code: str) -> Appointment:
    """The live appointment of ``code``; 404 (and one failure counted) otherwise."""
    if _throttled(request):
        raise Throttled
    appointment = slip.find(code)
    if appointment is None:
        LoginFailure.objects.create(key=f"slip:{_client(request)}")
        raise Http404("slip")
    return appointment


class Throttled(Exception):
    pass


def _too_many() -> HttpResponse:
    response = HttpResponse(
        "Too many attempts. Please try again later.", status=429, content_type="text/plain"
    )
    response["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
    return response


def _language(appointment: Appointment) -> str:
    language = appointment.patient.effective_language
    return language if language in dict(settings.LANGUAGES) else "de"


def _context(appointment: Appointment, language: str) -> dict:
    zone = ZoneInfo(appointment.practice.timezone)
    start = appointment.start.astimezone(zone)
    end = appointment.end.astimezone(zone)
    return {
        "appointment": appointment,
        "practice": appointment.practice,
        "date": format_date(start.date(), format="full", locale=language),
        "start_time": format_time(start, format="short", locale=language),
        "end_time": format_time(end, format="short", locale=language),
        "cancelled": appointment.status == Status.CANCELLED,
        "can_say_no": appointment.status == Status.BOOKED and appointment.end > timezone.now(),
        "phone_link": "".join(c for c in appointment.practice.phone if c in "+0123456789"),
        "language": language,
    }


def _guarded(view):
    def wrapper(request: HttpRequest, code: str) -> HttpResponse:
        try:
            appointment = _lookup(request, code)
        except Throttled:
            return _too_many()
        return view(request, appointment, code)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_GET
@_guarded
def slip_page(request: HttpRequest, appointment: Appointment, code: str) -> HttpResponse:
    language = _language(appointment)
    with translation.override(language):
        context = _context(appointment, language)
        context["code"] = code
        context["told"] = request.GET.get("told") == "1"
        response = render(request, "portal/slip.html", context)
    response["Cache-Control"] = "no-store"
    # same-origin: the code never leaks to another site, and our own form POST keeps
    # its Origin header (no-referrer would send "Origin: null", which CSRF refuses).
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
@_guarded
def slip_ics(request: HttpRequest, appointment: Appointment, code: str) -> HttpResponse:
    response = HttpResponse(slip.ics(appointment), content_type="text/calendar; charset=utf-8")
    local = appointment.start.astimezone(ZoneInfo(appointment.practice.timezone))
    response["Content-Disposition"] = f'attachment; filename="termin-{local:%Y-%m-%d}.ics"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@_guarded
def cannot_come(request: HttpRequest, appointment: Appointment, code: str) -> HttpResponse:
    """APT-11: tell the practice; the appointment itself stays as it is."""
    if appointment.status == Status.BOOKED:
        services.mark_cannot_come(appointment)
    return redirect(f"/t/{code}?told=1")
