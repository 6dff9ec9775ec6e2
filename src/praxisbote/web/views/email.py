"""The e-mail settings page (MAIL-1..11): the practice's own mail provider, in the staff UI.

Validation, saving and the test mail are ``messaging.email_settings``' (the same code behind
``PUT /api/v1/channels/email`` and ``POST /api/v1/channels/email/test``), so the page and
the API give the same message for the same mistake. The password goes in and never comes
back out: the field is always rendered empty, and left empty it keeps the stored one.

Choosing a preset works without JavaScript ("Apply" re-renders the form with the preset's
server and ports, nothing saved); with it, ``static/web/email-settings.js`` fills the
fields at once from the same data, embedded in the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from praxisbote.messaging import email_settings, memory, services
from praxisbote.messaging.reasons import readable
from praxisbote.practices.models import Practice
from praxisbote.providers.email_presets import PRESETS, EmailPreset, preset
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.forms import EmailSettingsForm

CHANNEL = email_settings.CHANNEL
#: Buttons of the settings form itself (the others act on what is saved).
FORM_ACTIONS = ("save", "save_test", "preset")


@practice_required
def email_settings_page(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Owners set up and test; staff see the settings read-only and cannot post (403)."""
    read_only = not request.user.is_owner  # type: ignore[union-attr]
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    if request.method == "POST":
        require_owner(request)
        if action not in FORM_ACTIONS:
            return _act(request, practice, action)
    current = email_settings.read(practice)
    if action == "preset":
        form = _form(initial=_with_preset(request.POST), read_only=read_only)
    else:
        bound = request.POST if action in ("save", "save_test") else None
        form = _form(bound, initial=_initial(current), read_only=read_only)
    if action in ("save", "save_test") and form.is_valid() and _save(practice, form):
        messages.success(request, _("E-mail settings saved: e-mail now goes out through them."))
        if action == "save_test":
            _send_test(request, practice)
        return redirect("web:email_settings")
    chosen = preset(str(form["preset"].value() or ""))
    context = {
        "form": form,
        "current": current,
        "read_only": read_only,
        "preset_hints": preset_hints(chosen) if chosen else [],
        "presets_data": presets_data(),
    }
    return render(request, "web/email/settings.html", context)


def _save(practice: Practice, form: EmailSettingsForm) -> bool:
    """Saved (test mode ends), or the service's messages are put next to their fields."""
    try:
        email_settings.save(practice, email_settings.EmailSettingsInput(**form.settings_data()))
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


def _form(*args: Any, **kwargs: Any) -> EmailSettingsForm:
    note = "" if memory.embedded_worker_running() else memory_unavailable_reason()
    choices = [(p.key, p.name) for p in PRESETS]
    return EmailSettingsForm(*args, presets=choices, memory_note=note, **kwargs)


def memory_unavailable_reason() -> str:
    return _(
        "Not possible on this server: only in memory needs the sending worker inside the "
        "web server's process (praxisbote serve without --no-worker); here the worker runs "
        "separately and could not know the password."
    )


def _initial(current: dict[str, Any]) -> dict[str, Any]:
    """The saved settings as the form shows them; the password never."""
    fields = EmailSettingsForm.base_fields.keys() - {"password"}
    return {f: current.get(f) for f in fields if current.get(f) is not None}


def _with_preset(data: QueryDict) -> dict[str, Any]:
    """What was typed, with the chosen preset's server, ports and limits (no JavaScript)."""
    initial: dict[str, Any] = {k: v for k, v in data.items() if k not in ("password", "action")}
    initial["cleared_for_sensitive"] = bool(data.get("cleared_for_sensitive"))
    chosen = preset(data.get("preset", ""))
    if chosen is not None:
        initial.update(preset_values(chosen))
    return initial


def preset_values(p: EmailPreset) -> dict[str, Any]:
    """What choosing ``p`` fills in; the page's script uses the same values."""
    return {
        "host": p.host,
        "port": p.port,
        "imap_host": p.imap_host,
        "imap_port": p.imap_port or "",
        "sessions": p.sessions,
        "max_messages_per_connection": p.max_messages_per_connection,
    }


def preset_hints(p: EmailPreset) -> list[str]:
    """What the practice must know about ``p``: the seed's remark plus what to do first."""
    hints = []
    if p.app_password:
        hints.append(
            _(
                "An app password is needed: create one in the account settings at %(name)s "
                "and enter it as the password (not the mailbox password)."
            )
            % {"name": p.name}
        )
    if p.enable_smtp:
        hints.append(
            _("Sending through SMTP must first be switched on in the mailbox settings at %(name)s.")
            % {"name": p.name}
        )
    if len(p.ports) > 1:
        hints.append(_("Ports offered: %(ports)s.") % {"ports": ", ".join(str(n) for n in p.ports)})
    if p.note:
        hints.append(_("Remark (German, from the provider list): %(note)s") % {"note": p.note})
    return hints


def presets_data() -> dict[str, Any]:
    """Every preset's values and hints for the page's script (``json_script``)."""
    return {p.key: {"values": preset_values(p), "hints": preset_hints(p)} for p in PRESETS}


def _act(request: HttpRequest, practice: Practice, action: str) -> HttpResponse:
    """The buttons that act on the saved settings: test mail, test mode and back."""
    if action == "test":
        _send_test(request, practice)
    elif action == "sandbox":
        services.switch_to_sandbox(practice, CHANNEL)
        messages.success(
            request,
            _("E-mail is in test mode again: nothing leaves this server. The settings are kept."),
        )
    elif action == "restore":
        try:
            services.switch_to_previous(practice, CHANNEL)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Test mode ended: e-mail goes out through your provider."))
    else:
        messages.error(request, _("Unknown action."))
    return redirect("web:email_settings")


def _send_test(request: HttpRequest, practice: Practice) -> None:
    """MAIL-7, now and in this request: the same call as POST /api/v1/channels/email/test."""
    result = email_settings.send_test_mail(practice)
    detail = readable(result.detail)  # English like the protocol; the reader's language here
    if result.ok:
        messages.success(request, detail)
    else:
        messages.error(request, _("The test e-mail was not sent: %(reason)s") % {"reason": detail})
