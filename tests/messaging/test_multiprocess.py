"""Real worker processes against the real database: exactly-once hand-over and crash rescue.

Workers are started as ``praxisbote worker`` subprocesses on the test database; the sandbox
provider records every hand-over, so duplicates and losses are counted, not guessed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from praxisbote.messaging.models import ChannelAccount, Message, SandboxDelivery
from praxisbote.messaging.services import MessageSpec, create_messages

pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        host = db.get("HOST") or "127.0.0.1"
        user, port = db.get("USER") or "postgres", db.get("PORT") or 5432
        return f"postgresql://{user}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def start_worker(*args: str, **env: str) -> subprocess.Popen:
    environ = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PRAXISBOTE_DATA_DIR": str(settings.DATA_DIR),
        "PRAXISBOTE_LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "praxisbote.cli", "worker", "--exit-when-idle", *args],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def enqueue(practice, count: int) -> None:
    for start in range(0, count, 10_000):
        specs = [
            MessageSpec(channel="email", to=f"p{i}@example.org", text="Ihr Termin")
            for i in range(start, min(count, start + 10_000))
        ]
        create_messages(practice, specs, batch=True)


def wait_all(processes: list[subprocess.Popen], timeout: float = 240) -> None:
    for process in processes:
        _, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err


def handovers_per_message() -> dict[int, int]:
    rows = SandboxDelivery.objects.values("message_id").annotate(n=Count("id"))
    histogram: dict[int, int] = {}
    for row in rows:
        histogram[row["n"]] = histogram.get(row["n"], 0) + 1
    return histogram


def test_many_workers_hand_each_message_over_exactly_once(practice):
    postgres = connection.vendor == "postgresql"
    count, workers = (20_000, 4) if postgres else (4_000, 2)
    enqueue(practice, count)
    started = time.monotonic()
    wait_all([start_worker("--no-jobs") for _ in range(workers)])
    elapsed = time.monotonic() - started
    assert Message.objects.filter(state="sent").count() == count
    assert handovers_per_message() == {1: count}
    busy = SandboxDelivery.objects.values("worker_id").distinct().count()
    assert busy >= 2, "the work was shared between processes"
    print(f"{workers} workers on {connection.vendor}: {count} messages in {elapsed:.1f}s")


def test_killed_worker_messages_are_reclaimed_after_the_lease(practice):
    count, batch = 2_000, 100
    ChannelAccount.objects.create(
        practice=practice, channel="email", provider="sandbox", config={"delay_ms": 2}
    )
    enqueue(practice, count)
    victim = start_worker(
        "--no-jobs", "--batch-size", str(batch), PRAXISBOTE_OUTBOX_LEASE_SECONDS="3"
    )
    deadline = time.monotonic() + 60
    while Message.objects.filter(state="sent").count() < 2 * batch:
        assert time.monotonic() < deadline, "the victim made no progress"
        time.sleep(0.02)
    # Kill it while it holds a claimed batch (the sandbox's delay keeps it busy sending).
    while not Message.objects.filter(state="sending").exists():
        assert time.monotonic() < deadline, "the victim claimed no further batch"
        time.sleep(0.005)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    stranded = Message.objects.filter(state="sending").count()
    assert stranded > 0, "the worker died holding a batch"
    rescuer = start_worker(
        "--batch-size",
        str(batch),
        PRAXISBOTE_OUTBOX_RESCUE_SECONDS="1",
        PRAXISBOTE_OUTBOX_POLL_SECONDS="3600",
    )
    wait_all([rescuer])
    # The rescuer runs the periodic jobs, so its status poll may already report delivery.
    assert Message.objects.filter(state__in=("sent", "delivered")).count() == count
    histogram = handovers_per_message()
    duplicates = sum((n - 1) * k for n, k in histogram.items())
    assert sum(histogram.values()) == count, "no message lost"
    # At-least-once: only a batch handed over but not yet recorded can go twice.
    assert duplicates <= batch
    rescued = Message.objects.filter(events__detail__contains="lease of worker").distinct()
    assert rescued.count() == stranded
    print(f"SIGKILL: {stranded} stranded messages rescued, {duplicates} duplicates")


def test_sigterm_finishes_the_batch_in_flight_and_leaves_nothing_claimed(practice):
    ChannelAccount.objects.create(
        practice=practice, channel="email", provider="sandbox", config={"delay_ms": 5}
    )
    enqueue(practice, 1_000)
    worker = start_worker("--no-jobs", "--batch-size", "100")
    deadline = time.monotonic() + 60
    while not Message.objects.filter(state="sending").exists():
        assert time.monotonic() < deadline, "the worker claimed nothing"
        time.sleep(0.005)
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert not Message.objects.filter(state="sending").exists()
    sent = Message.objects.filter(state="sent").count()
    assert 100 <= sent < 1_000, "the batch in flight was finished, the rest left queued"
    assert Message.objects.filter(state="queued").count() == 1_000 - sent
    assert handovers_per_message() == {1: sent}
