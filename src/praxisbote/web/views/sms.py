"""The SMS settings page (issue 5, seeds 001 and 003): switch, gateway, credentials, sender
ID, Key-Check, balance and a test SMS to the practice's own number.

Validation lives in one place, ``messaging/sms_settings.clean`` (the API uses it too); this
page only parses the browser's form and puts the service's messages next to the fields.
Credentials are write-only: the page says whether one is stored, never what it is.
Key-Check and balance ask the gateway from the request (no message is sent by them); the
test SMS goes through the outbox like every SMS.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from praxisbote.messaging import sms_settings
from praxisbote.messaging.reasons import readable
from praxisbote.practices.models import Practice
from praxisbote.providers.base import ProviderError
from praxisbote.providers.sms.base import sender_rule
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.forms import SmsSettingsForm, SmsTestForm, credential_field, option_field


@practice_required
def sms_settings_page(request: HttpRequest, practice: Practice) -> HttpResponse:
    require_owner(request)
    current = sms_settings.read(practice)
    gateways = sms_settings.gateways()
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    form = SmsSettingsForm(
        request.POST if action == "save" else None, gateways=gateways, current=current
    )
    test_form = SmsTestForm(request.POST if action == "test" else None)
    if action == "save" and form.is_valid():
        try:
            sms_settings.save(practice, input_from(form))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("SMS settings saved."))
            return redirect("web:sms_settings")
    elif action == "key_check":
        return _key_check(request, practice)
    elif action == "balance":
        return _balance(request, practice)
    elif action == "test" and test_form.is_valid():
        response = _send_test(request, practice, test_form)
        if response is not None:
            return response
    context = {
        "form": form,
        "test_form": test_form,
        "current": current,
        "gateways": [_gateway_block(form, g, current) for g in gateways],
        "sender_rule": sender_rule(),
        "practice": practice,
    }
    return render(request, "web/sms/settings.html", context)


def input_from(form: SmsSettingsForm) -> sms_settings.SmsSettingsInput:
    """The form's values for the chosen gateway as the settings service takes them."""
    data = form.cleaned_data
    gateway = data.get("gateway") or sms_settings.SANDBOX
    credentials: dict[str, str] = {}
    options: dict[str, Any] = {}
    for g in form.gateways:
        if g["name"] != gateway:
            continue
        for name in g["credentials"] + g["optional_credentials"]:
            if value := data.get(credential_field(gateway, name)):
                credentials[name] = value
        for name in g["options"]:
            if value := (data.get(option_field(gateway, name)) or "").strip():
                options[name] = _json_or_text(value)
    rate = data.get("rate_limit")
    return sms_settings.SmsSettingsInput(
        gateway=gateway,
        credentials=credentials,
        sender_id=data.get("sender_id") or "",
        base_url=data.get("base_url") or "",
        rate_limit=float(rate) if rate is not None else None,
        delivery_reports=data.get("delivery_reports") or "",
        options=options,
        sms_enabled=bool(data.get("sms_enabled")),
    )


def _json_or_text(value: str) -> Any:
    """Options such as the generic adapter's body template are JSON; others plain text."""
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value  # the adapter's validation names the field
    return value


def _gateway_block(form: SmsSettingsForm, gateway: dict[str, Any], current: dict) -> dict:
    name = gateway["name"]
    chosen = current["gateway"] == name
    return {
        **gateway,
        "chosen": chosen,
        "credential_fields": [
            {
                "field": form[credential_field(name, c)],
                "stored": chosen and current["credentials_set"].get(c, False),
            }
            for c in gateway["credentials"] + gateway["optional_credentials"]
        ],
        "option_fields": [form[option_field(name, o)] for o in gateway["options"]],
    }


def _key_check(request: HttpRequest, practice: Practice) -> HttpResponse:
    try:
        result = sms_settings.key_check(practice)
    except ProviderError as exc:
        messages.error(request, readable(exc.reason))
        return redirect("web:sms_settings")
    detail = readable(result.detail)  # the gateway's reason, English as in the protocol
    if result.ok:
        text = _("Key-Check passed: %(detail)s") % {"detail": detail}
        if result.balance is not None:
            text += " " + _("Balance at the gateway: %(balance)s.") % {"balance": result.balance}
        messages.success(request, text)
    else:
        messages.error(request, _("Key-Check failed: %(detail)s") % {"detail": detail})
    return redirect("web:sms_settings")


def _balance(request: HttpRequest, practice: Practice) -> HttpResponse:
    try:
        amount, label = sms_settings.balance(practice)
    except sms_settings.NotSupported as exc:
        messages.info(request, str(exc))
    except ProviderError as exc:
        messages.error(request, readable(exc.reason))
    else:
        messages.success(
            request,
            _("Balance at %(gateway)s: %(balance)s.") % {"gateway": label, "balance": amount},
        )
    return redirect("web:sms_settings")


def _send_test(request: HttpRequest, practice: Practice, form: SmsTestForm) -> HttpResponse | None:
    try:
        message = sms_settings.send_test(practice, form.cleaned_data.get("to") or "")
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    messages.success(
        request,
        _("The test SMS to %(to)s is in the outbox; follow it here.") % {"to": message.recipient},
    )
    return redirect("web:message_detail", message_id=message.pk)
