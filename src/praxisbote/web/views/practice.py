"""Dashboard, practice settings and API keys: practice-wide things."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote.billing import services as billing
from praxisbote.billing.models import CreditAccount, FreeQuota
from praxisbote.messaging.models import Message, State
from praxisbote.messaging.services import in_test_mode
from praxisbote.patients.services import categories_with_counts, search_patients
from praxisbote.practices import services
from praxisbote.practices.models import ApiKey, Channel, Practice
from praxisbote.practices.tenancy import get_scoped_or_404, scoped
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.forms import ApiKeyForm, PracticeSettingsForm


@practice_required
def home(request: HttpRequest, practice: Practice) -> HttpResponse:
    context = {
        "practice": practice,
        "patient_count": search_patients(practice).count(),
        "categories": categories_with_counts(practice),
        "active_keys": scoped(ApiKey, practice).filter(revoked_at__isnull=True).count(),
        "channels": [
            {
                "label": label,
                "enabled": practice.channel_enabled(channel),
                "test_mode": in_test_mode(practice, channel),
            }
            for channel, label in Channel.choices
        ],
        "today": _today_by_state(practice),
        "credit": _credit(practice),
        "cannot_come": _cannot_come(practice),
    }
    return render(request, "web/home.html", context)


def _cannot_come(practice: Practice) -> list:
    """Upcoming appointments whose patient said "I cannot come" on the slip (APT-11)."""
    from praxisbote.appointments.models import Appointment, Status

    return list(
        scoped(Appointment, practice)
        .filter(cannot_come_at__isnull=False, status=Status.BOOKED, end__gt=timezone.now())
        .select_related("patient")
        .order_by("start")[:20]
    )


def _today_by_state(practice: Practice) -> dict:
    """Messages written today (practice time) per state, in the state machine's order."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = dict(
        scoped(Message, practice)
        .filter(created_at__gte=midnight)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    rows = [
        {"state": s, "label": label, "count": counts[s]}
        for s, label in State.choices
        if s in counts
    ]
    return {"rows": rows, "total": sum(counts.values()), "date": midnight.date()}


def _credit(practice: Practice) -> dict:
    """Balance and price list (BIL-1/2) without creating an account on a page view."""
    account = CreditAccount.objects.filter(practice=practice).first() or CreditAccount(
        practice=practice
    )
    used = dict(
        scoped(FreeQuota, practice)
        .filter(month=billing.month_key(practice))
        .values_list("channel", "used")
    )
    prices = [
        {
            "label": label,
            "price": account.price(channel),
            "free": account.free_per_month(channel),
            "free_left": max(0, account.free_per_month(channel) - used.get(channel, 0)),
        }
        for channel, label in Channel.choices
    ]
    return {"account": account, "prices": prices}


@practice_required
def practice_settings(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Owners change settings; staff see them read-only and cannot post (403)."""
    read_only = not request.user.is_owner  # type: ignore[union-attr]
    if request.method == "POST":
        require_owner(request)
    form = PracticeSettingsForm(request.POST or None, practice=practice, read_only=read_only)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_practice(practice, form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("web:practice_settings")
    return render(request, "web/practice_settings.html", {"form": form, "read_only": read_only})


@practice_required
def api_keys(request: HttpRequest, practice: Practice) -> HttpResponse:
    """The practice's keys; a new key's secret is shown once on the POST's answer."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST":
        require_owner(request)
        if form.is_valid():
            issued = services.create_api_key(practice, form.cleaned_data["name"])
            return render(request, "web/keys/created.html", {"issued": issued})
    keys = scoped(ApiKey, practice).order_by("revoked_at", "-created_at")
    return render(request, "web/keys/list.html", {"form": form, "keys": keys})


@practice_required
def api_key_revoke(request: HttpRequest, practice: Practice, key_id: int) -> HttpResponse:
    """Confirmation page (GET), then revocation (POST): integrations stop at once."""
    key = get_scoped_or_404(ApiKey, practice, pk=key_id)
    if request.method == "POST":
        require_owner(request)
        services.revoke_api_key(key)
        messages.success(request, _("The key %(name)s was revoked.") % {"name": key.name})
        return redirect("web:api_keys")
    return render(request, "web/keys/revoke.html", {"key": key})
