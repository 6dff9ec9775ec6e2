"""A reminder never leaves with a stale time, even when the worker claimed it just before
the move (APT-3): the claim and the move race, and the hand-over check decides."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from praxisbote.appointments import services
from praxisbote.appointments.models import Appointment
from praxisbote.messaging import outcomes
from praxisbote.messaging.delivery import AccountKey
from praxisbote.messaging.models import Message, SandboxDelivery
from praxisbote.messaging.worker import Worker

from .test_api import future

pytestmark = pytest.mark.django_db(transaction=True)


def booked(practice, patient, days=3):
    start = future(days=days, hour=10)
    appointment, _ = services.create_appointment(
        practice,
        {"patient_id": patient.pk, "start": start, "end": start + timedelta(minutes=30)},
    )
    # Make its messages due now, as if the reminder's hour had come.
    past = timezone.now() - timedelta(seconds=5)
    Message.objects.filter(appointment_id=appointment.pk).update(due_at=past, next_attempt_at=past)
    return appointment


def send(worker: Worker, batch: list[Message]) -> None:
    """The worker's own send path for a batch it claimed (hand-over check included)."""

    async def run() -> None:
        groups: dict[AccountKey, list[Message]] = {}
        for message in batch:
            groups.setdefault(AccountKey(message.practice_id, message.channel), []).append(message)
        try:
            for key, messages in groups.items():
                await worker._send_group(key, messages)
        finally:
            for provider, _version in worker._providers.values():
                await provider.close()

    try:
        asyncio.run(run())
    finally:
        worker._db.submit(connections.close_all).result()
        worker._db.shutdown(wait=True)


def test_claimed_reminder_of_a_moved_appointment_is_not_sent(practice, patient):
    appointment = booked(practice, patient)
    worker = Worker(worker_id="w-race", run_jobs=False)
    batch = outcomes.claim(worker.worker_id, 100, 60)
    old_ids = {m.pk for m in batch}
    assert {m.kind for m in batch} == {"confirmation", "reminder"}
    assert {m.state for m in Message.objects.filter(pk__in=old_ids)} == {"sending"}

    new_start = future(days=6, hour=16)
    moved, written = services.update_appointment(
        appointment, {"start": new_start}, renew_reminders=True
    )
    assert written.withdrawn == 0, "claimed rows are not pending any more"
    assert written.in_flight == 2

    send(worker, batch)

    assert not SandboxDelivery.objects.filter(message_id__in=old_ids).exists()
    for message in Message.objects.filter(pk__in=old_ids):
        assert message.state == "cancelled"
        assert "not sent with the old time" in message.events.last().detail
        assert message.reserved is False
    fresh = Message.objects.get(appointment_id=appointment.pk, state="scheduled")
    assert fresh.kind == "reminder" and "16:00" in fresh.body
    assert moved.version == 2


def test_claimed_reminder_of_an_unchanged_appointment_is_sent(practice, patient):
    """The control: without a move the same path hands both messages over."""
    appointment = booked(practice, patient)
    worker = Worker(worker_id="w-calm", run_jobs=False)
    batch = outcomes.claim(worker.worker_id, 100, 60)
    send(worker, batch)
    delivered = SandboxDelivery.objects.filter(message_id__in=[m.pk for m in batch])
    assert delivered.count() == 2
    assert set(
        Message.objects.filter(appointment_id=appointment.pk).values_list("state", flat=True)
    ) <= {"sent", "delivered"}


def test_claimed_reminder_of_a_cancelled_appointment_is_not_sent(practice, patient):
    appointment = booked(practice, patient)
    worker = Worker(worker_id="w-cancel", run_jobs=False)
    batch = outcomes.claim(worker.worker_id, 100, 60)
    services.cancel_appointment(appointment)
    send(worker, batch)
    assert not SandboxDelivery.objects.exists()


def test_a_move_in_progress_does_not_hold_up_the_hand_over(practice, patient):
    """The check reads committed state: a move whose transaction is still open has not
    happened yet, so the claimed reminder passes without waiting, and the move, once
    committed, counts it as in flight."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL (SQLite has one writer)")
    appointment = booked(practice, patient)
    batch = outcomes.claim("w-open-move", 100, 60)
    assert len(batch) == 2
    moved_uncommitted = threading.Event()
    commit = threading.Event()
    written: list = []

    def move_and_hold() -> None:
        try:
            with transaction.atomic():
                _moved, w = services.update_appointment(
                    Appointment.objects.get(pk=appointment.pk),
                    {"start": future(days=7)},
                    renew_reminders=False,
                )
                written.append(w)
                moved_uncommitted.set()
                commit.wait(5)
        finally:
            connections.close_all()

    mover = threading.Thread(target=move_and_hold)
    mover.start()
    assert moved_uncommitted.wait(5)
    started = time.monotonic()
    handed = outcomes.hand_over("w-open-move", batch)
    waited = time.monotonic() - started
    commit.set()
    mover.join(5)
    assert waited < 1.0, "the check must not wait for the move's transaction"
    assert {m.pk for m in handed} == {m.pk for m in batch}
    assert written[0].in_flight == 2 and written[0].withdrawn == 0
    # Once the move has committed, the next check finds the same messages stale.
    assert outcomes.hand_over("w-open-move", batch) == []
    assert set(
        Message.objects.filter(pk__in=[m.pk for m in batch]).values_list("state", flat=True)
    ) == {"cancelled"}


def test_claimed_reminder_keeps_its_full_timeline(practice, patient):
    """Claimed in one statement on PostgreSQL or the general way on SQLite, a due reminder
    records both transitions, in order."""
    appointment = booked(practice, patient)
    batch = outcomes.claim("w-timeline", 100, 60)
    reminder = next(m for m in batch if m.kind == "reminder")
    assert reminder.appointment_id == appointment.pk
    moves = [(e.from_state, e.to_state) for e in Message.objects.get(pk=reminder.pk).events.all()]
    assert moves == [("", "scheduled"), ("scheduled", "queued"), ("queued", "sending")]
    assert Message.objects.get(pk=reminder.pk).state == "sending"


def test_two_people_creating_the_same_category_rule_both_succeed(practice):
    """The second insert waits for the first on the unique constraint, fails there and then
    changes the first one's row instead of answering with an error (was a 500)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL (SQLite has one writer)")
    from praxisbote.appointments.models import ReminderRule
    from praxisbote.patients.models import PatientCategory

    category = PatientCategory.objects.create(practice=practice, name="Kontrolle")
    inserted = threading.Event()
    commit = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                services.save_rule(practice, category, {"lead_hours": [48]})
                inserted.set()
                commit.wait(5)
        finally:
            connections.close_all()

    holder = threading.Thread(target=first)
    holder.start()
    assert inserted.wait(5)
    threading.Timer(0.3, commit.set).start()  # the second save below waits for this commit
    rule = services.save_rule(practice, category, {"lead_hours": [72, 24]})
    holder.join(5)
    assert rule.lead_hours == [72, 24]
    rows = ReminderRule.objects.filter(practice=practice, category=category)
    assert [r.lead_hours for r in rows] == [[72, 24]]
