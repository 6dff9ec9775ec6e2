"""Login with attempt limits; every staff view gets its practice from here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote.practices.models import Practice


def practice_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required and the user belongs to a practice; passes it as ``practice``.

    Times on the page are shown in the practice's zone, not the server's (UTC): a
    receptionist in Vienna reads "consent given 09:15", not 07:15.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        practice: Practice | None = request.user.practice  # type: ignore[union-attr]
        if practice is None:  # e.g. an operator's superuser: the staff UI has nothing to show
            auth.logout(request)
            messages.error(request, _("This account belongs to no practice."))
            return redirect("web:login")
        timezone.activate(ZoneInfo(practice.timezone))
        try:
            return view(request, practice, *args, **kwargs)
        finally:
            timezone.deactivate()

    return wrapper


def require_owner(request: HttpRequest) -> None:
    """Practice-wide changes (settings, API keys) are the owner's; others get 403."""
    if not getattr(request.user, "is_owner", False):
        raise PermissionDenied


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")
