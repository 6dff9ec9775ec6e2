"""Status webhooks to the integrator (MSG-8). Queued with each event; sent by the worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from praxisbote.messaging.models import DeliveryEvent


def queue_for_events(events: Sequence[DeliveryEvent]) -> None:
    """Queue one webhook delivery per event for practices with an active endpoint."""
    return None


async def send_due(in_db: Callable[..., Any], worker_id: str) -> None:
    return None
