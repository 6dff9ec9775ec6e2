"""The week view of appointments (issue 6's staff UI): seven days at a glance, Monday first.

Read-only and thin like the day list: ``appointments.services.in_range`` reads the week in
one query, ``messages_by_appointment`` the speech bubbles in one more; each day links to its
day list and to its mass cancellation.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from praxisbote.appointments import services
from praxisbote.appointments.rules import wall_to_utc
from praxisbote.practices.models import Practice
from praxisbote.web.auth import practice_required
from praxisbote.web.dates import parse_day


@practice_required
@require_GET
def week(request: HttpRequest, practice: Practice) -> HttpResponse:
    zone = ZoneInfo(practice.timezone)
    today = timezone.now().astimezone(zone).date()
    day = parse_day(request.GET.get("day")) or today
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    start = wall_to_utc(monday, time.min, zone)
    end = wall_to_utc(monday + timedelta(days=7), time.min, zone)
    appointments = list(services.in_range(practice, start=start, end=end))
    bubbles = services.messages_by_appointment(appointments)
    by_day: dict[date, list] = {d: [] for d in days}
    for appointment in appointments:
        local = appointment.start.astimezone(zone).date()
        if local in by_day:
            by_day[local].append((appointment, services.bubble(bubbles[appointment.pk])))
    context = {
        "monday": monday,
        "sunday": days[-1],
        "today": today,
        "columns": [(d, by_day[d]) for d in days],
        "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7),
    }
    return render(request, "web/appointments/week.html", context)
