"""Log in, log out and change one's password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from praxisbote.practices import services as practice_services
from praxisbote.practices.models import Practice
from praxisbote.web.auth import client_address, practice_required
from praxisbote.web.forms import LoginForm, PasswordChangeForm


def _safe_next(request: HttpRequest) -> str | None:
    """The ``next`` page if it is on this site; a link from a phishing mail must not
    send a freshly logged-in receptionist elsewhere."""
    target = request.GET.get("next", "")
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if ok else None


@sensitive_post_parameters("password")
def login(request: HttpRequest) -> HttpResponse:
    """Password login; failures are counted per address and client (practices.services)."""
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        client = client_address(request)
        if practice_services.login_locked(email, client):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            form.add_error(
                None,
                ngettext(
                    "Too many failed attempts. Please wait %(n)d minute and try again.",
                    "Too many failed attempts. Please wait %(n)d minutes and try again.",
                    minutes,
                )
                % {"n": minutes},
            )
        else:
            user = auth.authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                practice_services.record_login_failure(email, client)
                form.add_error("password", _("E-mail address or password is wrong."))
            else:
                practice_services.clear_login_failures(email)
                auth.login(request, user)
                return redirect(_safe_next(request) or "web:home")
    return render(request, "web/account/login.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("web:login")


@sensitive_post_parameters()
@practice_required
def password_change(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Change one's own password; the session stays logged in, others are logged out."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        auth.update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect("web:home")
    return render(request, "web/account/password_change.html", {"form": form})
