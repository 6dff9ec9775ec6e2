"""Periodic jobs of the worker; a database lock lets one process run each at a time."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from praxisbote.messaging import outcomes, retention, status
from praxisbote.messaging.models import JobLock, Message, State
from praxisbote.providers.registry import provider_class

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], object]


def poll_statuses() -> int:
    """Ask polling providers about messages they accepted and have not reported on."""
    from praxisbote.messaging.delivery import AccountKey, provider_for

    rows = list(
        Message.objects.filter(state__in=(State.SENT, State.BUFFERED))
        .exclude(provider_message_id="")
        .order_by("sent_at")
        .values_list("practice_id", "channel", "provider", "provider_message_id")[:5000]
    )
    groups: dict[tuple, list[str]] = {}
    for practice_id, channel, provider, pid in rows:
        if provider and provider_class(provider).polls_status:
            groups.setdefault((practice_id, channel, provider), []).append(pid)
    moved = 0
    for (practice_id, channel, provider_name), pids in groups.items():
        provider = provider_for(AccountKey(practice_id, channel), "poller", 8)
        if provider.name != provider_name:
            continue  # the practice switched provider; the old one's reports come by webhook
        if not provider.polls_status:
            continue  # this account gets its reports by webhook (an instance-level choice)
        updates = asyncio.run(_poll(provider, pids))
        moved += status.apply_updates(provider_name, updates, practice_id)
    return moved


async def _poll(provider, pids):
    try:
        return await provider.poll_status(pids)
    finally:
        await provider.close()


def _outreach(module: str, function: str = "run") -> Callable[[], object]:
    """A job of the outreach app, imported when it runs (messaging does not import it)."""

    def run() -> object:
        return getattr(importlib.import_module(f"praxisbote.outreach.{module}"), function)()

    return run


def jobs() -> list[Job]:
    return [
        Job(
            "rescue_leases",
            timedelta(seconds=settings.OUTBOX_RESCUE_SECONDS),
            outcomes.rescue_expired_leases,
        ),
        Job("poll_status", timedelta(seconds=settings.OUTBOX_POLL_SECONDS), poll_statuses),
        Job("expire_unconfirmed", timedelta(minutes=5), status.expire_unconfirmed),
        Job("retention", timedelta(hours=1), retention.purge),
        Job("offer_retention", timedelta(hours=1), _outreach("offers", "purge")),
        # Birthday greetings and recalls go out at an hour of the practice's day; a run
        # every few minutes finds each practice soon after its hour (APT-7, APT-8).
        Job("birthdays", timedelta(minutes=5), _outreach("birthdays")),
        Job("recalls", timedelta(minutes=5), _outreach("recalls")),
    ]


def acquire(name: str, holder: str, every: timedelta, ttl: timedelta) -> bool:
    """Take the job's lock if it is due and nobody holds it; atomic across processes."""
    now = timezone.now()
    try:
        with transaction.atomic():
            JobLock.objects.get_or_create(name=name)
    except IntegrityError:
        pass
    return bool(
        JobLock.objects.filter(name=name)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - every))
        .update(holder=holder, locked_until=now + ttl)
    )


def run_due(holder: str) -> None:
    for job in jobs():
        if not acquire(job.name, holder, job.every, ttl=timedelta(minutes=10)):
            continue
        try:
            result = job.run()
            if result:
                log.info("job %s: %s", job.name, result)
        except Exception:
            log.exception("job %s failed", job.name)
        finally:
            JobLock.objects.filter(name=job.name, holder=holder).update(
                locked_until=None, last_run_at=timezone.now()
            )
