"""Login with attempt limits; every staff view gets its practice from here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from praxisbote.practices.models import Practice


def practice_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required and the user belongs to a practice; passes it as ``practice``."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        practice: Practice | None = request.user.practice  # type: ignore[union-attr]
        if practice is None:
            return redirect("web:logout")
        return view(request, practice, *args, **kwargs)

    return wrapper


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")
