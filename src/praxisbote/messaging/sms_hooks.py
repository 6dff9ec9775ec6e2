"""Delivery reports from SMS gateways: ``/hooks/sms/<gateway>/<token>`` (issue 5, SMS-4).

The gateway calls this URL without a session or CSRF token; what authenticates it is the
account's unguessable token in the path (looked up by digest, compared in constant time)
and, where the gateway signs its reports, the adapter's signature check. The reports move
only that practice's messages, through the outbox's status recording (``status.py``).
Answers are what gateways expect: the adapter's acknowledgement on success, 404 for an
unknown URL, 403 for a forged report, 400 for one that cannot be read (so the gateway
does not retry it for ever), 503 when our database is away (so it does retry).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from praxisbote.messaging import sms_settings, status
from praxisbote.messaging.delivery import build_provider
from praxisbote.providers.base import ProviderError
from praxisbote.providers.sms.base import HttpSmsProvider

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sms_report(request: HttpRequest, gateway: str, token: str) -> HttpResponse:
    account = sms_settings.account_for_hook(gateway, token)
    if account is None:
        return HttpResponse("unknown report URL", status=404, content_type="text/plain")
    # The gateway's adapter even while the channel is in test mode (its settings are kept):
    # reports for SMS handed over before the switch must not be lost.
    provider = build_provider(account, "hook", 1, name=gateway)
    if not isinstance(provider, HttpSmsProvider) or provider.name != gateway:
        return HttpResponse("unknown report URL", status=404, content_type="text/plain")
    body = request.body[:MAX_BODY]
    headers = {k: v for k, v in request.headers.items()}
    query = {**request.GET.dict(), **(request.POST.dict() if _is_form(request) else {})}
    try:
        updates = provider.parse_webhook(body, headers, query)
    except ProviderError as exc:
        log.warning("SMS report for practice %s refused: %s", account.practice_id, exc.reason)
        status_code = 403 if exc.code == "signature" else 400
        return HttpResponse(exc.reason, status=status_code, content_type="text/plain")
    except (ValueError, KeyError, TypeError):
        return HttpResponse("unreadable report", status=400, content_type="text/plain")
    try:
        status.apply_updates(provider.name, updates, practice_id=account.practice_id)
    except DatabaseError:
        log.exception("SMS report could not be stored")
        return HttpResponse("try again", status=503, content_type="text/plain")
    code, content_type, answer = provider.webhook_response()
    return HttpResponse(answer, status=code, content_type=content_type)


def _is_form(request: HttpRequest) -> bool:
    return request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    )
