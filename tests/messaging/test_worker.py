"""The worker on the real database: claims, retries, failures, credit, leases, jobs."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from tests.messaging.conftest import drain

from praxisbote.billing.models import CreditAccount
from praxisbote.billing.services import add_credit
from praxisbote.messaging import jobs, outcomes, retention
from praxisbote.messaging.models import (
    Attachment,
    ChannelAccount,
    JobLock,
    Message,
    SandboxDelivery,
)
from praxisbote.messaging.services import MessageSpec, attachment_dir, create_messages

pytestmark = pytest.mark.django_db(transaction=True)


def send(practice, *specs: MessageSpec) -> list[Message]:
    return create_messages(practice, list(specs), batch=True).messages


def mail(to: str = "anna@example.org", **kw) -> MessageSpec:
    return MessageSpec(channel="email", to=to, text="Hallo", subject="Termin", **kw)


def states_of(messages) -> list[str]:
    return [Message.objects.get(pk=m.pk).state for m in messages]


def timeline(message) -> list[tuple[str, str]]:
    return [(e.from_state, e.to_state) for e in Message.objects.get(pk=message.pk).events.all()]


def test_queued_messages_are_handed_over_once_then_delivered_by_status_poll(practice):
    messages = send(practice, *[mail(f"p{i}@example.org") for i in range(30)])
    drain()
    assert set(states_of(messages)) == {"sent"}
    assert SandboxDelivery.objects.count() == 30
    assert jobs.poll_statuses() == 30
    assert set(states_of(messages)) == {"delivered"}
    assert timeline(messages[0]) == [
        ("", "queued"),
        ("queued", "sending"),
        ("sending", "sent"),
        ("sent", "delivered"),
    ]


def test_transient_failures_are_retried_until_sent(practice, fast_retries):
    [message] = send(practice, mail("fail-transient@example.org"))
    for _ in range(100):  # each retry waits its (tiny) backoff before it is due again
        drain()
        if Message.objects.get(pk=message.pk).state == "sent":
            break
        time.sleep(0.02)
    row = Message.objects.get(pk=message.pk)
    assert row.state == "sent"
    assert row.attempts == 3  # the default rule fails the first two attempts
    reasons = [e.detail for e in row.events.filter(to_state="queued")]
    assert any("temporary failure" in r for r in reasons)


def test_permanent_failure_ends_failed_with_reason_and_releases_credit(practice):
    practice.sms_enabled = True
    practice.save()
    add_credit(practice, Decimal("1"))
    CreditAccount.objects.filter(practice=practice).update(free_sms_per_month=0)
    ChannelAccount.objects.create(
        practice=practice,
        channel="sms",
        provider="sandbox",
        config={"failure_rules": [{"pattern": "12345678$", "outcome": "permanent"}]},
    )
    [message] = send(practice, MessageSpec(channel="sms", to="067612345678", text="x"))
    assert CreditAccount.objects.get(practice=practice).reserved == Decimal("0.10")
    drain()
    row = Message.objects.get(pk=message.pk)
    assert row.state == "failed"
    assert "refused" in row.last_error
    account = CreditAccount.objects.get(practice=practice)
    assert (account.reserved, account.balance) == (0, Decimal("1"))


def test_accepted_sms_is_charged(practice):
    practice.sms_enabled = True
    practice.save()
    add_credit(practice, Decimal("1"))
    CreditAccount.objects.filter(practice=practice).update(free_sms_per_month=0)
    send(practice, MessageSpec(channel="sms", to="067612345678", text="x" * 200))
    drain()
    account = CreditAccount.objects.get(practice=practice)
    assert (account.balance, account.reserved) == (Decimal("0.80"), 0)


def test_too_old_transient_failure_expires(practice, settings):
    settings.OUTBOX_MAX_AGE_HOURS = {**settings.OUTBOX_MAX_AGE_HOURS, "email": 1}
    [message] = send(practice, mail("fail-transient@example.org"))
    Message.objects.filter(pk=message.pk).update(due_at=timezone.now() - timedelta(hours=2))
    drain()
    row = Message.objects.get(pk=message.pk)
    assert row.state == "expired"
    assert "gave up" in row.last_error


def test_scheduled_message_waits_until_due(practice):
    [message] = send(practice, mail(send_at=timezone.now() + timedelta(hours=1)))
    drain()
    assert states_of([message]) == ["scheduled"]
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    drain()
    assert timeline(message)[:3] == [
        ("", "scheduled"),
        ("scheduled", "queued"),
        ("queued", "sending"),
    ]


def test_due_reminder_without_credit_waits_queued_with_reason_then_goes(practice):
    practice.sms_enabled = True
    practice.save()
    CreditAccount.objects.update_or_create(practice=practice, defaults={"free_sms_per_month": 0})
    [message] = send(
        practice,
        MessageSpec(
            channel="sms",
            to="067612345678",
            text="x",
            send_at=timezone.now() + timedelta(minutes=5),
        ),
    )
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    drain()
    row = Message.objects.get(pk=message.pk)
    assert row.state == "queued"
    assert "0.1000" in row.last_error  # needed amount, in the practice's words
    add_credit(practice, Decimal("1"))
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    drain()
    row.refresh_from_db()
    assert (row.state, row.last_error) == ("sent", "")


def test_expired_lease_is_rescued_and_a_late_result_is_ignored(practice):
    [message] = send(practice, mail())
    [claimed] = outcomes.claim("dead-worker", 10, lease_seconds=60)
    Message.objects.filter(pk=claimed.pk).update(lease_until=timezone.now() - timedelta(1))
    assert outcomes.rescue_expired_leases() == 1
    assert states_of([message]) == ["queued"]
    assert len(outcomes.claim("live-worker", 10, lease_seconds=60)) == 1
    from praxisbote.providers.base import SendOutcome

    assert outcomes.record("dead-worker", [SendOutcome(str(message.pk), "late")]) == 0
    assert outcomes.record("live-worker", [SendOutcome(str(message.pk), "p-1")]) == 1
    row = Message.objects.get(pk=message.pk)
    assert (row.state, row.provider_message_id) == ("sent", "p-1")


def test_stopping_worker_gives_back_what_it_holds(practice):
    send(practice, mail(), mail("b@example.org"))
    outcomes.claim("w-stop", 10, lease_seconds=600)
    assert outcomes.release_claims("w-stop") == 2
    assert set(Message.objects.values_list("state", flat=True)) == {"queued"}
    assert set(Message.objects.values_list("attempts", flat=True)) == {0}


def test_job_lock_lets_one_runner_in(db):
    every = timedelta(seconds=60)
    assert jobs.acquire("demo", "a", every, ttl=timedelta(minutes=1))
    assert not jobs.acquire("demo", "b", every, ttl=timedelta(minutes=1))
    JobLock.objects.filter(name="demo").update(locked_until=None, last_run_at=timezone.now())
    assert not jobs.acquire("demo", "b", every, ttl=timedelta(minutes=1))  # not due yet


def test_retention_purges_old_protocol_and_files(practice):
    import base64

    [old] = send(
        practice,
        mail(
            attachments=[{"filename": "a.pdf", "content_base64": base64.b64encode(b"x").decode()}]
        ),
    )
    [fresh] = send(practice, mail())
    drain()
    stored = attachment_dir() / Attachment.objects.get(message_id=old.pk).path
    assert stored.exists()
    Message.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=29))
    assert retention.purge() == 1
    assert list(Message.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not stored.exists()


def test_metrics_show_queue_depth(client, practice):
    send(practice, mail(), mail("b@example.org"))
    text = client.get("/metrics").content.decode()
    assert 'praxisbote_messages{state="queued"} 2.0' in text


def test_worker_rebuilds_a_provider_when_its_account_changes(practice):
    import asyncio

    from praxisbote.messaging.delivery import AccountKey
    from praxisbote.messaging.worker import Worker

    account = ChannelAccount.objects.create(
        practice=practice, channel="email", provider="sandbox", config={"delay_ms": 0}
    )
    worker = Worker(run_jobs=False)
    key = AccountKey(practice.pk, "email")

    async def twice_then_after_change():
        first, _ = await worker._provider(key)
        again, _ = await worker._provider(key)
        await worker._in_db(
            lambda: ChannelAccount.objects.filter(pk=account.pk).update(
                config={"delay_ms": 1}, updated_at=timezone.now()
            )
        )
        changed, _ = await worker._provider(key)
        return first, again, changed

    first, again, changed = asyncio.run(twice_then_after_change())
    worker._db.shutdown()
    assert first is again, "kept between batches (pooled connections)"
    assert changed is not first
    assert changed.config == {"delay_ms": 1}


def test_transient_failure_waits_for_its_backoff(practice, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 600
    [message] = send(practice, mail("fail-transient@example.org"))
    drain()
    row = Message.objects.get(pk=message.pk)
    assert (row.state, row.attempts) == ("queued", 1)
    wait = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 250 < wait <= 600, "50-100 % of the first step, with jitter"
    assert row.lease_until is None


def test_message_waiting_for_credit_expires_at_the_maximum_age(practice, settings):
    practice.sms_enabled = True
    practice.save()
    CreditAccount.objects.update_or_create(practice=practice, defaults={"free_sms_per_month": 0})
    [message] = send(
        practice,
        MessageSpec(
            channel="sms",
            to="067612345678",
            text="x",
            send_at=timezone.now() + timedelta(minutes=5),
        ),
    )
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now(), due_at=timezone.now() - timedelta(hours=73)
    )
    drain()
    row = Message.objects.get(pk=message.pk)
    assert row.state == "expired"
    assert "no credit" in row.last_error


def test_one_batch_mixes_ready_scheduled_and_failing_messages(practice, fast_retries):
    """On PostgreSQL one claim takes ready messages by one statement and the others
    (scheduled, now due) the general way; outcomes of every kind are recorded together."""
    ready = send(practice, *[mail(f"r{i}@example.org") for i in range(5)])
    [refused] = send(practice, mail("fail-permanent@example.org"))
    [flaky] = send(practice, mail("fail-transient@example.org"))
    [later] = send(practice, mail("later@example.org", send_at=timezone.now() + timedelta(1)))
    Message.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now())
    for _ in range(100):
        drain()
        if Message.objects.get(pk=flaky.pk).state == "sent":
            break
        time.sleep(0.02)
    assert states_of([*ready, refused, flaky, later]) == [*["sent"] * 5, "failed", "sent", "sent"]
    assert timeline(later) == [
        ("", "scheduled"),
        ("scheduled", "queued"),
        ("queued", "sending"),
        ("sending", "sent"),
    ]
    assert timeline(ready[0]) == [("", "queued"), ("queued", "sending"), ("sending", "sent")]
    row = Message.objects.get(pk=ready[0].pk)
    assert (row.provider, row.lease_until, row.worker_id != "") == ("sandbox", None, True)
    assert row.provider_message_id.startswith("sbx-")
    # Each accepted hand-over recorded once by the sandbox, the refused one never.
    assert SandboxDelivery.objects.count() == 7
    assert not SandboxDelivery.objects.filter(message_id=refused.pk).exists()


def test_late_result_with_claimed_rows_is_ignored(practice):
    """The worker passes its claimed rows to ``record``: ownership is still checked."""
    from praxisbote.providers.base import SendOutcome, TransientError

    [message, other] = send(practice, mail(), mail("b@example.org"))
    dead = outcomes.claim("dead-worker", 10, lease_seconds=60)
    Message.objects.update(lease_until=timezone.now() - timedelta(1))
    assert outcomes.rescue_expired_leases() == 2
    live = outcomes.claim("live-worker", 10, lease_seconds=60)
    late = [
        SendOutcome(str(message.pk), "late"),
        SendOutcome(str(other.pk), error=TransientError("x")),
    ]
    assert outcomes.record("dead-worker", late, "sandbox", dead) == 0
    results = [SendOutcome(str(message.pk), "p-1"), SendOutcome(str(other.pk), "p-2")]
    assert outcomes.record("live-worker", results, "sandbox", live) == 2
    rows = {r.pk: r for r in Message.objects.all()}
    assert (rows[message.pk].state, rows[message.pk].provider_message_id) == ("sent", "p-1")
    assert [e.to_state for e in rows[other.pk].events.all()].count("sent") == 1


def test_recording_a_claimed_batch_costs_few_queries(practice):
    """Claimed rows carry every column the hand-over checks and recording read: none is
    loaded row by row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from praxisbote.providers.base import PermanentError, SendOutcome, TransientError

    send(practice, *[mail(f"q{i}@example.org") for i in range(60)])
    with CaptureQueriesContext(connection) as claiming:
        claimed = outcomes.claim("w-q", 100, lease_seconds=60)
    assert len(claimed) == 60
    results = [SendOutcome(str(m.pk), f"p-{i}") for i, m in enumerate(claimed[:40])]
    results += [SendOutcome(str(m.pk), error=TransientError("busy")) for m in claimed[40:50]]
    results += [SendOutcome(str(m.pk), error=PermanentError("no")) for m in claimed[50:]]
    with CaptureQueriesContext(connection) as recording:
        assert outcomes.hand_over("w-q", claimed) == claimed
        assert outcomes.record("w-q", results, "sandbox", claimed) == 60
    assert len(claiming.captured_queries) < 15, claiming.captured_queries
    assert len(recording.captured_queries) < 25, recording.captured_queries
    counts = {s: Message.objects.filter(state=s).count() for s in ("sent", "queued", "failed")}
    assert counts == {"sent": 40, "queued": 10, "failed": 10}


def test_idle_standalone_worker_wakes_on_new_messages(practice):
    """PostgreSQL: the writer's NOTIFY wakes a listening worker long before its next poll."""
    import threading

    from django.db import connection

    from praxisbote.messaging.worker import Worker

    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers poll")
    worker = Worker(idle_seconds=30, run_jobs=False, listen=True)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while worker._listener is None and time.monotonic() < deadline:
            time.sleep(0.02)  # idle and listening
        time.sleep(0.2)
        started = time.monotonic()
        [message] = send(practice, mail())
        while Message.objects.get(pk=message.pk).state != "sent":
            assert time.monotonic() - started < 10, "not woken within 10 s (poll: 30 s)"
            time.sleep(0.02)
    finally:
        stopping = time.monotonic()
        worker.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - stopping < 5  # stop is not held up by the 30 s wait
