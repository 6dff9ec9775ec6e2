"""Reminder scheduling tick (issue 6) on PostgreSQL: 1,000,000 appointments, each with its
`scheduled` reminder, 10,000 of them due in the next hour.

What "the scheduling tick" is in this design: reminders are written as `scheduled` outbox
messages when an appointment is booked (or moved with new reminders). Nothing scans
appointments later; the outbox worker's claim (`messaging.outcomes.claim`) takes due rows
(`state IN ('scheduled','queued') AND next_attempt_at <= now`, the partial index
`msg_claim`), moves them scheduled -> queued -> sending with their events, and the worker's
hand-over check (`appointments.handover.drop_stale`) locks their appointments and drops any
written before the appointment's last move. That is what is timed here: claim + hand-over
in batches of OUTBOX_BATCH_SIZE until nothing is due, at a clock one hour ahead (so the
10,000 are due). Sending is not part of the tick (bench_outbox.py measures it).

Loading: 1,000,000 appointments and 1,000,000 reminder messages are generated inside
PostgreSQL with INSERT ... SELECT FROM generate_series (set-based, no rows cross the
socket; faster than COPY from Python). Creation events of those rows are not loaded: the
tick never reads old events, it only appends new ones.

Database: BENCH_APPOINTMENTS_PG_URL if set (the database is emptied and migrated), else a
fresh database `praxisbote_bench_appointments` at BENCH_PG_URL's server.

Runs: the tick is timed ``BENCH_TICKS`` times (default 3) on the same data; between runs
the 10,000 claimed reminders go back to ``scheduled``, their new events are deleted and the
table is vacuumed, so every run finds what a real tick finds. ``BENCH_REUSE=1`` keeps a
database loaded by an earlier run (for profiling; the figures are the same).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

from common import fresh_pg_database, machine, run_seconds

APPOINTMENTS = 1_000_000
DUE = 10_000
PATIENTS = 1_000


def setup_django(url: str, reuse: bool) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PRAXISBOTE_DATA_DIR", tempfile.mkdtemp(prefix="pb-bench-appt-"))
    os.environ.setdefault("PRAXISBOTE_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "praxisbote.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not reuse:
        call_command("flush", interactive=False, verbosity=0)


def load(now: datetime) -> tuple[object, float]:
    from django.db import connection

    from praxisbote.patients.models import Patient
    from praxisbote.practices.services import create_practice

    practice = create_practice(name="Bench", country="AT")
    Patient.objects.bulk_create(
        [
            Patient(practice=practice, last_name=f"P{i}", email=f"p{i}@example.org")
            for i in range(PATIENTS)
        ]
    )
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            CREATE TEMP TABLE bench_patients AS
            SELECT id, (row_number() OVER (ORDER BY id)) - 1 AS n
            FROM patients_patient WHERE practice_id = %s
            """,
            [practice.pk],
        )
        # The first DUE appointments start 24-25 h from now: their 24 h reminder is due in
        # the next hour. The rest start between 25 h and 60 days from now.
        cur.execute(
            """
            INSERT INTO appointments_appointment
              (id, practice_id, patient_id, start, "end", practitioner, location, notes,
               status, version, times_changed_at, slip_digest, slip_code_encrypted,
               slip_expires_at, cannot_come_at, external_uid,
               created_at, updated_at, cancelled_at)
            SELECT gen_random_uuid(), %(practice)s, p.id, s.start, s.start + interval '30 min',
                   'Dr. Bench', 'Raum 1', '', 'booked', 1, %(created)s, NULL, '', NULL,
                   NULL, '', %(created)s, %(created)s, NULL
            FROM (
              SELECT i,
                CASE WHEN i < %(due)s
                  THEN %(now)s + interval '24 hours' + (i * interval '3600 seconds' / %(due)s)
                  ELSE %(now)s + interval '25 hours'
                       + ((i::bigint * 7919) %% (59 * 86400)) * interval '1 second'
                END AS start
              FROM generate_series(0, %(n)s - 1) AS i
            ) s
            JOIN bench_patients p ON p.n = s.i %% %(patients)s
            """,
            {
                "practice": practice.pk,
                "created": now - timedelta(days=1),
                "due": DUE,
                "now": now,
                "n": APPOINTMENTS,
                "patients": PATIENTS,
            },
        )
        cur.execute(
            """
            INSERT INTO messaging_message
              (id, practice_id, patient_id, channel, recipient, subject, body, html, kind,
               sensitive, state, due_at, next_attempt_at, attempts, last_error, provider,
               provider_message_id, segments, cost, free_units, reserved, idempotency_key,
               appointment_id, campaign_id, lease_until, worker_id, created_at, updated_at,
               sent_at)
            SELECT gen_random_uuid(), a.practice_id, a.patient_id, 'email',
                   'patient@example.org', 'Erinnerung', 'Ihr Termin morgen.', '', 'reminder',
                   false, 'scheduled', a.start - interval '24 hours',
                   a.start - interval '24 hours', 0, '', '', '', 1, 0, 0, false, '',
                   a.id, NULL, NULL, '', %(created)s, %(created)s, NULL
            FROM appointments_appointment a
            """,
            {"created": now - timedelta(days=1)},
        )
        cur.execute("ANALYZE appointments_appointment")
        cur.execute("ANALYZE messaging_message")
    return practice, time.perf_counter() - started


def loaded_before() -> datetime | None:
    """The ``now`` of an earlier load of this database, or None when it holds other data."""
    from django.db.models import Min

    from praxisbote.appointments.models import Appointment

    if Appointment.objects.count() != APPOINTMENTS:
        return None
    first = Appointment.objects.aggregate(first=Min("start"))["first"]
    return first - timedelta(hours=24)


def reset(at: datetime) -> None:
    """Undo a tick: the due reminders are scheduled again and their new events go away."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM messaging_deliveryevent WHERE at >= %s", [at - timedelta(hours=1)])
        cur.execute(
            """
            UPDATE messaging_message SET state = 'scheduled', attempts = 0, worker_id = '',
                   lease_until = NULL, reserved = false
            WHERE state <> 'scheduled'
            """
        )
    connection.close()  # VACUUM cannot run inside the connection's transaction block
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE messaging_message")
        cur.execute("VACUUM ANALYZE messaging_deliveryevent")
        cur.execute("VACUUM ANALYZE appointments_appointment")


def explain(at: datetime, batch: int) -> str:
    from django.db import transaction

    from praxisbote.messaging import states
    from praxisbote.messaging.models import Message

    qs = (
        Message.objects.filter(state__in=states.CLAIMABLE, next_attempt_at__lte=at)
        .order_by("next_attempt_at")
        .select_for_update(skip_locked=True, of=("self",))
    )
    with transaction.atomic():
        plan = qs[:batch].explain(analyze=True, buffers=True)
        transaction.set_rollback(True)
    return plan


def tick(at: datetime, batch: int) -> dict:
    """Claim + hand-over until nothing is due; wall time, and CPU time of this process and
    of its PostgreSQL session (/proc schedstat), which the machine's load does not inflate."""
    from django.db import connection

    from praxisbote.messaging import outcomes

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_start = time.process_time()
    db_start = run_seconds(backend)
    claim_s = hand_s = 0.0
    claimed = handed = batches = 0
    with mock.patch("django.utils.timezone.now", return_value=at):
        while True:
            started = time.perf_counter()
            rows = outcomes.claim("bench-worker", batch, 120)
            claim_s += time.perf_counter() - started
            if not rows:
                break
            batches += 1
            claimed += len(rows)
            started = time.perf_counter()
            handed += len(outcomes.hand_over("bench-worker", rows))
            hand_s += time.perf_counter() - started
    return {
        "cpu_s": time.process_time() - cpu_start,
        "db_cpu_s": run_seconds(backend) - db_start,
        "claimed": claimed,
        "handed": handed,
        "batches": batches,
        "claim_s": claim_s,
        "hand_over_s": hand_s,
    }


def main() -> int:
    url = os.environ.get("BENCH_APPOINTMENTS_PG_URL") or fresh_pg_database(
        "praxisbote_bench_appointments"
    )
    if not url:
        return 0
    reuse = os.environ.get("BENCH_REUSE") == "1"
    setup_django(url, reuse)
    from django.conf import settings

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} (shared machine)")
    now = datetime.now(UTC).replace(microsecond=0)
    earlier = loaded_before() if reuse else None
    if earlier is None:
        if reuse:
            from django.core.management import call_command

            call_command("flush", interactive=False, verbosity=0)
        _practice, load_s = load(now)
        print(f"loaded {APPOINTMENTS:,} appointments + reminders in {load_s:.1f} s")
    else:
        now = earlier
        print(f"reusing {APPOINTMENTS:,} appointments + reminders loaded earlier")
    at = now + timedelta(hours=1)
    reset(at)
    batch = settings.OUTBOX_BATCH_SIZE
    print("claim query plan (one batch, EXPLAIN ANALYZE, rolled back):")
    print("  " + explain(at, batch).replace("\n", "\n  "))
    runs = int(os.environ.get("BENCH_TICKS", "3"))
    for run in range(1, runs + 1):
        if run > 1:
            reset(at)
        report(run, tick(at, batch), batch)
    print(f"load average after the runs: {os.getloadavg()[0]:.1f} (shared machine)")
    return 0


def report(run: int, result: dict, batch: int) -> None:
    from praxisbote.messaging.models import Message

    total = result["claim_s"] + result["hand_over_s"]
    untouched = Message.objects.filter(state="scheduled").count()
    print(
        f"run {run}: tick at now+1h: claimed {result['claimed']:,} in {result['batches']} "
        f"batches of {batch}; claim {result['claim_s']:.2f} s, hand-over check "
        f"{result['hand_over_s']:.2f} s, total {total:.2f} s (target < 1 s)"
    )
    cpu = result["cpu_s"] + result["db_cpu_s"]
    print(
        f"CPU for the tick: this process {result['cpu_s']:.2f} s + its PostgreSQL session "
        f"{result['db_cpu_s']:.2f} s = {cpu:.2f} s (what an otherwise idle machine needs)"
    )
    per_batch = 1000 * result["claim_s"] / max(1, result["batches"])
    print(f"claim per batch of {batch}: {per_batch:.0f} ms (select, 2 transitions, 2 events each)")
    print(f"still scheduled (not touched): {untouched:,} of {APPOINTMENTS - DUE:,} expected")
    assert result["claimed"] == DUE and result["handed"] == DUE, result
    assert untouched == APPOINTMENTS - DUE


if __name__ == "__main__":
    sys.exit(main())
