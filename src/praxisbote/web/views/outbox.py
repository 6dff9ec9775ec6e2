"""Test mode made visible: the sandbox's outbox, the channels and the status webhook.

A new practice's channels are served by the sandbox provider until real credentials are
configured: nothing leaves the server, and the outbox page shows what would have gone out.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from praxisbote.messaging import services, webhooks
from praxisbote.messaging.models import Message, SandboxDelivery
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.web.auth import practice_required, require_owner
from praxisbote.web.forms import WebhookForm

PAGE_SIZE = 20
DELIVERIES_SHOWN = 25


@practice_required
@require_GET
def outbox(request: HttpRequest, practice: Practice) -> HttpResponse:
    """What the sandbox provider "sent", newest first, as phone and e-mail previews."""
    qs = scoped(SandboxDelivery, practice).order_by("-at", "-pk")
    channel = request.GET.get("channel", "")
    if channel in Channel.values:
        qs = qs.filter(channel=channel)
    else:
        channel = ""
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # Retention may have deleted a message whose hand-over is still listed.
    ids = [d.message_id for d in page.object_list]
    known = set(scoped(Message, practice).filter(pk__in=ids).values_list("pk", flat=True))
    rows = [{"delivery": d, "in_protocol": d.message_id in known} for d in page.object_list]
    test_channels = [label for c, label in Channel.choices if services.in_test_mode(practice, c)]
    context = {
        "page": page,
        "rows": rows,
        "channel": channel,
        "channel_choices": Channel.choices,
        "practice": practice,
        "test_channels": test_channels,
    }
    return render(request, "web/outbox/outbox.html", context)


def channel_rows(practice: Practice) -> list[dict[str, Any]]:
    rows = []
    for channel, label in Channel.choices:
        account = services.account_for(practice, channel)
        test = account.provider == "sandbox"
        rows.append(
            {
                "channel": channel,
                "label": label,
                "enabled": practice.channel_enabled(channel),
                "provider": account.provider,
                "previous": (account.config or {}).get("previous_provider", "") if test else "",
                "test_mode": test,
                "cleared_for_sensitive": test or account.cleared_for_sensitive,
            }
        )
    return rows


@practice_required
def channels(request: HttpRequest, practice: Practice) -> HttpResponse:
    """Which provider serves each channel; owners switch a channel into test mode and back."""
    if request.method == "POST":
        require_owner(request)
        channel = request.POST.get("channel", "")
        if channel not in Channel.values:
            return HttpResponseBadRequest(_("Unknown channel."))
        label = dict(Channel.choices)[channel]
        if request.POST.get("action") == "restore":
            _restore(request, practice, channel, label)
        else:
            services.switch_to_sandbox(practice, channel)
            messages.success(
                request,
                _("%(channel)s is in test mode again: nothing leaves this server.")
                % {"channel": label},
            )
        return redirect("web:channels")
    context = {"rows": channel_rows(practice), "practice": practice}
    return render(request, "web/outbox/channels.html", context)


def _restore(request: HttpRequest, practice: Practice, channel: str, label: str) -> None:
    try:
        account = services.switch_to_previous(practice, channel)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(channel)s goes out through %(provider)s again.")
            % {"channel": label, "provider": account.provider},
        )


@practice_required
def webhook(request: HttpRequest, practice: Practice) -> HttpResponse:
    """The status webhook to the practice software (MSG-8); the owner's business only."""
    require_owner(request)
    endpoint = webhooks.endpoint_of(practice)
    initial = {"url": endpoint.url, "active": endpoint.active} if endpoint else {"active": True}
    action = request.POST.get("action", "save")
    bound = request.method == "POST" and action == "save"
    form = WebhookForm(request.POST if bound else None, initial=initial)
    if request.method == "POST":
        if action == "rotate" and endpoint is not None:
            endpoint, secret = webhooks.rotate_secret(practice)
            return _show_secret(request, endpoint, secret, created=False)
        if action == "remove" and endpoint is not None:
            webhooks.remove(practice)
            messages.success(request, _("The webhook was removed; no status changes are sent."))
            return redirect("web:webhook")
        if action == "save" and form.is_valid():
            try:
                endpoint, secret = webhooks.configure(
                    practice, url=form.cleaned_data["url"], active=form.cleaned_data["active"]
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if secret is not None:
                    return _show_secret(request, endpoint, secret, created=True)
                messages.success(request, _("Webhook saved."))
                return redirect("web:webhook")
    deliveries = [
        {"row": row, "state": webhooks.state_of(row)}
        for row in webhooks.deliveries(practice)[:DELIVERIES_SHOWN]
    ]
    context = {"form": form, "endpoint": endpoint, "deliveries": deliveries}
    return render(request, "web/outbox/webhook.html", context)


def _show_secret(request: HttpRequest, endpoint: Any, secret: str, created: bool) -> HttpResponse:
    context = {"endpoint": endpoint, "secret": secret, "created": created}
    response = render(request, "web/outbox/webhook_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response
