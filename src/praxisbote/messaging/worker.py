"""The outbox worker: claim a batch, send it grouped by channel account, record outcomes.

Runs embedded in ``praxisbote serve`` (a thread) or alone as ``praxisbote worker`` (any
number, on any machine reaching the database). Database work happens on one dedicated
thread; sending is asyncio so one worker keeps many connections busy. SIGTERM finishes the
batch in flight, then gives back anything still claimed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from praxisbote.messaging import jobs, outcomes, wakeup
from praxisbote.messaging.delivery import (
    AccountKey,
    account_version,
    build_outgoing,
    provider_for,
)
from praxisbote.messaging.models import Message
from praxisbote.providers.base import Provider, SendOutcome, TransientError

log = logging.getLogger(__name__)


#: Set when this process commits new messages (or a worker stops): an idle embedded worker
#: wakes at once instead of at its next poll. Standalone workers poll the database.
NEW_WORK = threading.Event()


def notify_new_work() -> None:
    NEW_WORK.set()


def keep_connection() -> None:
    """Keep the database thread's connection open between calls, whatever CONN_MAX_AGE says.

    CONN_MAX_AGE (0 by default: closed after each request) suits request threads; the
    worker's one database thread runs several short transactions per batch, and a new
    connection for each cost a server process start (fork, authentication, catalog cache)
    every time. A connection that failed is still closed by ``close_old_connections``.
    """
    if connection.connection is not None:
        connection.close_at = None


def wakeup_listener() -> wakeup.Listener | None:
    return wakeup.Listener() if connection.vendor == "postgresql" else None


def _close_connection() -> None:
    connection.close()  # on the database thread: its own connection


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        *,
        worker_id: str | None = None,
        batch_size: int | None = None,
        concurrency: int = 8,
        lease_seconds: float | None = None,
        idle_seconds: float | None = None,
        exit_when_idle: bool = False,
        run_jobs: bool = True,
        listen: bool = False,
    ) -> None:
        self.worker_id = worker_id or new_worker_id()
        self.batch_size = batch_size or settings.OUTBOX_BATCH_SIZE
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds or settings.OUTBOX_LEASE_SECONDS
        self.idle_seconds = (
            idle_seconds if idle_seconds is not None else settings.OUTBOX_IDLE_SECONDS
        )
        self.exit_when_idle = exit_when_idle
        self.run_jobs = run_jobs
        # A standalone worker LISTENs for new messages (PostgreSQL); embedded ones are
        # woken by NEW_WORK from the requests of their own process.
        self.listen = listen
        self._listener: wakeup.Listener | None = None
        self._stop = threading.Event()
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
        self._providers: dict[AccountKey, tuple[Provider, Any]] = {}
        self._next_jobs = 0.0

    def stop(self) -> None:
        """Ask the worker to finish its batch and stop (safe from signal handlers)."""
        self._stop.set()
        NEW_WORK.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def _in_db(self, func: Callable[..., Any], *args: Any) -> Any:
        def call() -> Any:
            close_old_connections()  # drops a broken connection (database restarted)
            try:
                return func(*args)
            finally:
                keep_connection()

        return await asyncio.get_running_loop().run_in_executor(self._db, call)

    def run(self) -> None:
        asyncio.run(self.main())

    async def main(self) -> None:
        log.info("worker %s started", self.worker_id)
        try:
            while not self.stopping:
                handled = await self.run_once()
                if self.run_jobs:
                    if time.monotonic() >= self._next_jobs:
                        # Once a second is enough for the job checks; each costs queries.
                        self._next_jobs = time.monotonic() + 1.0
                        await self._in_db(jobs.run_due, self.worker_id)
                    await self._send_webhooks()
                if handled:
                    continue
                if self.exit_when_idle and not await self._in_db(outcomes.due_count):
                    break
                wait = await self._in_db(outcomes.next_due_in, self.idle_seconds)
                await self._idle(wait)
        finally:
            if self._listener is not None:
                self._listener.close()
            released = await self._in_db(outcomes.release_claims, self.worker_id)
            if released:
                log.info("worker %s gave back %d messages", self.worker_id, released)
            for provider, _version in self._providers.values():
                await provider.close()
            from praxisbote.messaging import webhooks

            await webhooks.close()  # finish a webhook batch in flight
            await self._in_db(_close_connection)
            self._db.shutdown(wait=True)
            log.info("worker %s stopped", self.worker_id)

    async def _idle(self, wait: float) -> None:
        """Wait for new work: a NOTIFY (standalone worker on PostgreSQL), this process's
        ``NEW_WORK`` (embedded worker, stop) or at most ``wait`` seconds."""
        loop = asyncio.get_running_loop()
        if self.listen and self._listener is None:
            self._listener = await self._in_db(wakeup_listener)
            self.listen = self._listener is not None  # SQLite: poll
        if self._listener is not None:
            await loop.run_in_executor(None, self._listener.wait, wait, self._stop)
        else:
            await loop.run_in_executor(None, NEW_WORK.wait, wait)
            NEW_WORK.clear()

    async def run_once(self) -> int:
        batch: list[Message] = await self._in_db(
            outcomes.claim, self.worker_id, self.batch_size, self.lease_seconds
        )
        if not batch:
            return 0
        groups: dict[AccountKey, list[Message]] = defaultdict(list)
        for message in batch:
            groups[AccountKey(message.practice_id, message.channel)].append(message)
        await asyncio.gather(*(self._send_group(key, msgs) for key, msgs in groups.items()))
        return len(batch)

    async def _send_group(self, key: AccountKey, messages: list[Message]) -> None:
        try:
            messages = await self._in_db(outcomes.hand_over, self.worker_id, messages)
        except Exception:
            # Unchecked messages must not leave; their lease runs out and they are retried.
            log.exception("hand-over checks failed; the group waits for its lease to expire")
            return
        if not messages:
            return
        try:
            provider, name = await self._provider(key)
            outgoing = await self._in_db(build_outgoing, messages)
            results = await provider.send_batch(outgoing)
        except Exception as exc:
            log.exception("sending a group failed")
            reason = f"could not send: {type(exc).__name__}: {exc}"
            results = [SendOutcome(str(m.pk), error=TransientError(reason)) for m in messages]
            name = ""
        await self._in_db(outcomes.record, self.worker_id, results, name, messages)

    async def _provider(self, key: AccountKey) -> tuple[Provider, str]:
        """The account's provider, kept between batches (pooled connections) and rebuilt when
        the practice changes the account, so a corrected password takes effect at once."""
        version = await self._in_db(account_version, key)
        cached = self._providers.get(key)
        if cached is not None and cached[1] != version:
            await cached[0].close()
            cached = None
        if cached is None:
            provider = await self._in_db(provider_for, key, self.worker_id, self.concurrency)
            provider.run_in_db = self._in_db
            cached = self._providers[key] = (provider, version)
        return cached[0], cached[0].name

    async def _send_webhooks(self) -> None:
        from praxisbote.messaging import webhooks

        await webhooks.send_due(self._in_db, self.worker_id)


def start_embedded(**kwargs: Any) -> tuple[Worker, threading.Thread]:
    """Start a worker on a daemon thread (for ``praxisbote serve``)."""
    from praxisbote.messaging import memory

    memory.mark_embedded_worker()  # password_mode "memory" is possible in this process
    worker = Worker(**kwargs)
    thread = threading.Thread(target=worker.run, name="outbox-worker", daemon=True)
    thread.start()
    return worker, thread
