"""Staff UI views: thin, they call the domain services."""

from __future__ import annotations

from django import forms
from django.contrib import auth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from praxisbote.practices import services as practice_services
from praxisbote.practices.models import Practice
from praxisbote.web.auth import client_address, practice_required


class LoginForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)


def login(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].lower()
        client = client_address(request)
        if practice_services.login_locked(email, client):
            form.add_error(None, _("Too many failed attempts. Please wait 15 minutes."))
        else:
            user = auth.authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                practice_services.record_login_failure(email, client)
                form.add_error("password", _("E-mail address or password is wrong."))
            else:
                practice_services.clear_login_failures(email)
                auth.login(request, user)
                return redirect(request.GET.get("next") or "web:home")
    return render(request, "web/login.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("web:login")


@practice_required
def home(request: HttpRequest, practice: Practice) -> HttpResponse:
    return render(request, "web/home.html", {"practice": practice})
