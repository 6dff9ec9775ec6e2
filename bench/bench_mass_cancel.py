"""Mass cancellation of a day with 500 appointments (issue 6, APT-6): < 3 s to queue.

What is timed: ``outreach.mass_cancel.cancel`` for one day, wall clock, in one
transaction: choosing each patient's channel, locking and cancelling the 500
appointments, withdrawing their 1,000 pending confirmations/reminders (with credit
release and events), rendering 500 cancellation notices (templates loaded once per
channel and language; one notice per patient, and every patient here has one
appointment), writing them through ``create_messages(batch=True)`` with their events, 500
waiting-list entries and the report. Half the patients are told by SMS, half by e-mail,
a third in English.

Runs on SQLite (a fresh data dir) and, when reachable, on PostgreSQL (a fresh database
``praxisbote_bench_mass_cancel`` at BENCH_PG_URL's server), each in its own process.
Best of 3 rounds (each round loads a fresh day).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from common import fresh_pg_database, machine

APPOINTMENTS = 500
ROUNDS = 3
TARGET_S = 3.0


def setup_django() -> None:
    os.environ.setdefault("PRAXISBOTE_DATA_DIR", tempfile.mkdtemp(prefix="pb-bench-mc-"))
    os.environ.setdefault("PRAXISBOTE_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "praxisbote.settings"
    import django

    django.setup()
    from django.core.management import call_command

    if os.environ.get("DATABASE_URL"):
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)


def load(day: date):
    """A practice with 500 patients and one booked appointment each on ``day``, every
    appointment with a scheduled confirmation and reminder in the outbox."""
    from zoneinfo import ZoneInfo

    from praxisbote.appointments.models import Appointment
    from praxisbote.billing.services import add_credit
    from praxisbote.messaging.services import MessageSpec, create_messages
    from praxisbote.patients.models import Patient
    from praxisbote.practices.services import create_practice

    practice = create_practice(name=f"Bench {day}", country="AT", phone="+43 1 5551234")
    practice.sms_enabled = True
    practice.save()
    add_credit(practice, 1000)
    consent = {"granted": True, "source": "bench", "at": "2026-01-01T00:00:00+00:00"}
    patients = Patient.objects.bulk_create(
        [
            Patient(
                practice=practice,
                first_name=f"Anna{i}",
                last_name="Huber-Schwarzenberger",
                salutation="Frau",
                language="en" if i % 3 == 0 else "",
                email=f"p{i}@example.org",
                mobile=f"+4367612{i:05d}",
                channels=["sms", "email"] if i % 2 else ["email", "sms"],
                consent={"sms": consent, "email": consent},
            )
            for i in range(APPOINTMENTS)
        ]
    )
    zone = ZoneInfo(practice.timezone)
    first = datetime(day.year, day.month, day.day, 7, 0, tzinfo=zone)
    appointments = Appointment.objects.bulk_create(
        [
            Appointment(
                practice=practice,
                patient=p,
                start=first + timedelta(minutes=i),
                end=first + timedelta(minutes=i + 30),
                location="Raum 2",
            )
            for i, p in enumerate(patients)
        ]
    )
    later = datetime.now(UTC) + timedelta(days=1)
    specs = [
        MessageSpec(
            channel="email",
            patient_id=a.patient_id,
            text="Termin",
            subject="Termin",
            kind=kind,
            appointment_id=a.pk,
            send_at=later,
        )
        for a in appointments
        for kind in ("confirmation", "reminder")
    ]
    create_messages(practice, specs, batch=True)
    return practice


def measure() -> None:
    setup_django()
    from django.db import connection

    from praxisbote.messaging.models import Message
    from praxisbote.outreach import mass_cancel

    best = float("inf")
    for round_ in range(ROUNDS):
        day = date(2030, 3, 11) + timedelta(days=round_)
        practice = load(day)
        began = time.perf_counter()
        result = mass_cancel.cancel(practice, [day], waiting_list=True, created_by="bench")
        took = time.perf_counter() - began
        best = min(best, took)
        assert result.cancelled == APPOINTMENTS and result.notified == APPOINTMENTS
        withdrawn = Message.objects.filter(practice=practice, state="cancelled").count()
        assert withdrawn == 2 * APPOINTMENTS, withdrawn
        print(f"  round {round_ + 1}: {took:.2f} s")
    verdict = "met" if best < TARGET_S else "MISSED"
    print(
        f"  {connection.vendor}: best {best:.2f} s for {APPOINTMENTS} appointments "
        f"(target < {TARGET_S:.0f} s: {verdict})"
    )
    if best >= TARGET_S:
        sys.exit(1)


def main() -> int:
    if "--measure" in sys.argv:
        measure()
        return 0
    print(f"Mass cancellation, {APPOINTMENTS} appointments of one day; {machine()}")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    runs = [("SQLite", env)]
    url = fresh_pg_database("praxisbote_bench_mass_cancel")
    if url:
        runs.append(("PostgreSQL", {**env, "DATABASE_URL": url}))
    else:
        print("  PostgreSQL not reachable: skipped")
    failed = False
    for name, run_env in runs:
        print(f" {name}:", flush=True)
        done = subprocess.run([sys.executable, __file__, "--measure"], env=run_env, check=False)
        failed = failed or done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
