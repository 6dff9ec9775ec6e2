"""Status webhooks (MSG-8): the practice's endpoint, its secret, a test ping, the deliveries.

The secret is shown twice in its life: when the endpoint is created (PUT answers 201) and
when it is rotated. No other answer contains it or any part of it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from praxisbote.api.auth import practice_of
from praxisbote.api.errors import Problem
from praxisbote.api.pagination import Page, PageParams, paginate
from praxisbote.messaging import webhooks
from praxisbote.messaging.models import WebhookDelivery, WebhookEndpoint
from praxisbote.practices.models import Practice

router = Router(tags=["webhooks"])


class WebhookIn(Schema):
    url: str = Field(
        ...,
        max_length=webhooks.URL_MAX_LENGTH,
        description="https:// (http:// only to 127.0.0.1, localhost or ::1, for testing).",
    )
    active: bool = Field(True, description="false pauses sending; events are still queued")


class WebhookOut(Schema):
    url: str
    active: bool
    created_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str = Field(
        ..., description="Signs every delivery. Shown only now: store it in your receiver."
    )


class PingOut(Schema):
    ok: bool = Field(..., description="The receiver answered 2xx.")
    status_code: int | None = Field(..., description="Its HTTP status; null without an answer.")
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    type: str
    message_id: UUID
    from_state: str | None
    to_state: str
    at: datetime = Field(..., description="When the state changed")
    state: webhooks.HookState
    attempts: int
    next_attempt_at: datetime | None = Field(..., description="Pending deliveries only")
    delivered_at: datetime | None
    last_error: str


class DeliveryFilter(Schema):
    state: webhooks.HookState | None = None


def _no_webhook() -> Problem:
    return Problem(
        404,
        _("No webhook"),
        _("This practice has no webhook; create one with PUT /api/v1/webhook."),
        slug="not-found",
    )


def _endpoint(practice: Practice) -> WebhookEndpoint:
    endpoint = webhooks.endpoint_of(practice)
    if endpoint is None:
        raise _no_webhook()
    return endpoint


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    return {
        "url": endpoint.url,
        "active": endpoint.active,
        "created_at": endpoint.created_at,
        "secret": secret,
    }


def _delivery(row: WebhookDelivery) -> dict:
    state = webhooks.state_of(row)
    return {
        "id": row.pk,
        "type": webhooks.EVENT_TYPE,
        "message_id": row.event.message_id,
        "from_state": row.event.from_state or None,
        "to_state": row.event.to_state,
        "at": row.event.at,
        "state": state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at if state == webhooks.HookState.PENDING else None,
        "delivered_at": row.delivered_at,
        "last_error": row.last_error,
    }


@router.get("/webhook", response=WebhookOut, summary="The practice's status webhook")
def get_webhook(request: HttpRequest):
    return _endpoint(practice_of(request))


@router.put(
    "/webhook",
    response={200: WebhookOut, 201: WebhookSecretOut},
    summary="Set the webhook URL; the first call creates it and returns its secret once",
)
def put_webhook(request: HttpRequest, payload: WebhookIn):
    endpoint, secret = webhooks.configure(
        practice_of(request), url=payload.url, active=payload.active
    )
    if secret is None:
        return 200, endpoint
    return 201, _with_secret(endpoint, secret)


@router.delete(
    "/webhook",
    response={204: None},
    summary="Remove the webhook; deliveries still waiting are dropped",
)
def delete_webhook(request: HttpRequest):
    if not webhooks.remove(practice_of(request)):
        raise _no_webhook()
    return 204, None


@router.post(
    "/webhook/rotate-secret",
    response=WebhookSecretOut,
    summary="Replace the signing secret; the new one is returned once",
)
def rotate_secret(request: HttpRequest):
    practice = practice_of(request)
    try:
        endpoint, secret = webhooks.rotate_secret(practice)
    except WebhookEndpoint.DoesNotExist:
        raise _no_webhook() from None
    return _with_secret(endpoint, secret)


@router.post(
    "/webhook/test",
    response=PingOut,
    summary="POST a signed webhook.test ping now and report the receiver's answer",
)
async def test_webhook(request: HttpRequest):
    # Async: waiting up to the timeout for the receiver must not block other requests.
    practice = await sync_to_async(practice_of)(request)
    try:
        result = await webhooks.send_test(practice)
    except WebhookEndpoint.DoesNotExist:
        raise _no_webhook() from None
    return result


@router.get(
    "/webhook/deliveries",
    response=Page[DeliveryOut],
    summary="Webhook deliveries, newest first: delivered, pending or failed",
)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilter], page: Query[PageParams]):
    qs = webhooks.deliveries(practice_of(request), filters.state)
    return paginate(qs, page, _delivery)
