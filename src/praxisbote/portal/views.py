"""Patient pages: the express appointment slip and waiting-list offers.

Mobile first, no login, no third-party assets. The slip shows when and where, the
practice's phone and an .ics file; an offer shows the free slot with a "take it" button.
Neither names the patient, so a guessed code reveals little. Failed lookups of both kinds
are counted per client in one bucket (the same table as failed logins) and answered 429
beyond the limit, which makes guessing infeasible on top of the 62^7 code space.
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
from praxisbote.outreach import offers
from praxisbote.outreach.models import OfferInvite
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
        _count_failure(request)
        raise Http404("slip")
    return appointment


def _count_failure(request: HttpRequest) -> None:
    """One bad code; slip and offer codes share the bucket, so neither doubles the guesses."""
    LoginFailure.objects.create(key=f"slip:{_client(request)}")


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


def _times(practice, start, end, language: str) -> dict:
    """Date and times in the practice's zone, in the patient's language."""
    zone = ZoneInfo(practice.timezone)
    start, end = start.astimezone(zone), end.astimezone(zone)
    return {
        "practice": practice,
        "date": format_date(start.date(), format="full", locale=language),
        "start_time": format_time(start, format="short", locale=language),
        "end_time": format_time(end, format="short", locale=language),
        "phone_link": "".join(c for c in practice.phone if c in "+0123456789"),
        "language": language,
    }


def _context(appointment: Appointment, language: str) -> dict:
    return {
        **_times(appointment.practice, appointment.start, appointment.end, language),
        "appointment": appointment,
        "cancelled": appointment.status == Status.CANCELLED,
        "can_say_no": appointment.status == Status.BOOKED and appointment.end > timezone.now(),
    }


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # same-origin: the code never leaks to another site, and our own form POST keeps
    # its Origin header (no-referrer would send "Origin: null", which CSRF refuses).
    response["Referrer-Policy"] = "same-origin"
    return response


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
    return _private(response)


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


# ---------------------------------------------------------------- waiting-list offers


def _offer_guarded(view):
    """Look the invite up by its code (404 and a failure counted if unknown, 429 when
    this client guessed too often), then call ``view`` with it."""

    def wrapper(request: HttpRequest, code: str) -> HttpResponse:
        if _throttled(request):
            return _too_many()
        invite = offers.find(code)
        if invite is None:
            _count_failure(request)
            raise Http404("offer")
        return view(request, invite, code)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


#: HTTP status of the offer page per state: a dead offer is Gone, not missing.
OFFER_STATUS = {"expired": 410, "withdrawn": 410}


@require_GET
@_offer_guarded
def offer_page(request: HttpRequest, invite: OfferInvite, code: str) -> HttpResponse:
    """The free slot with "take this appointment", or why it cannot be taken any more."""
    offer = invite.offer
    state = offers.state_of(offer)
    failed = request.GET.get("failed") == "1"
    if state == "taken" and offer.taken_invite_id == invite.pk:
        slip_code = _slip_code(offer.appointment_id)
        if slip_code:
            return redirect(f"/t/{slip_code}")
        failed = True  # booked, but staff deleted the appointment since
    language = _patient_language(invite.patient, offer.practice)
    with translation.override(language):
        context = {
            **_times(offer.practice, offer.start, offer.end, language),
            "offer": offer,
            "state": state,
            "code": code,
            "failed": failed,
        }
        response = render(
            request, "portal/offer.html", context, status=OFFER_STATUS.get(state, 200)
        )
    return _private(response)


@require_POST
@_offer_guarded
def offer_take(request: HttpRequest, invite: OfferInvite, code: str) -> HttpResponse:
    """Book the slot for this patient if nobody was quicker; then their slip."""
    taken = offers.take(invite)
    if taken.outcome in ("booked", "yours") and taken.appointment is not None:
        slip_code = slip.code_of(taken.appointment)
        if slip_code:
            return redirect(f"/t/{slip_code}")
    suffix = "?failed=1" if taken.outcome == "failed" else ""
    return redirect(f"/o/{code}{suffix}")


def _slip_code(appointment_id) -> str:
    """The slip code of the taken appointment (kept encrypted for showing it again)."""
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    return slip.code_of(appointment) if appointment is not None else ""


def _patient_language(patient, practice) -> str:
    language = patient.language or practice.language
    return language if language in dict(settings.LANGUAGES) else "de"
