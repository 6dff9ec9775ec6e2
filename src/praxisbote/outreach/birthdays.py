"""Birthday greetings (APT-8): opt-in per practice, at its chosen hour, once a year.

Why this shape:

* The periodic job (``messaging.jobs``, under the database lock) runs every few minutes;
  a practice is due once its local clock has passed the chosen hour on that day and it is
  not inside its quiet hours. The hour is checked against the quiet hours when it is
  saved; if the quiet hours change later, the greeting moves out of them (to their end
  that day, else to the morning's end) instead of never going out. A worker that was
  down at 09:00 still greets at 11:00 the same day; a day missed completely is not made
  up the next day (a late greeting reads as a mistake).
* "Once a year" is a unique row per (patient, year) written in the same transaction as the
  message: the job lock keeps runs apart, and the constraint still holds when a lock
  expired mid-run or two installations share a database by mistake.
* Opt-in twice, as PAT-3 wants: the practice switches greetings on, and the patient (or the
  patient's category) has "birthday" among the automatic notifications. Only a channel
  with consent is used (PAT-4), in the patient's preferred order.
* February 29: in a common year the greeting goes out on February 28, so it stays in
  February and in the right year (the day the age changes in the civil-law reading of
  Austria, Germany and Switzerland is disputed; the 28th is the usual practice choice).
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from praxisbote.messaging.models import Kind
from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.outreach.models import BirthdayGreeting, OutreachSettings
from praxisbote.patients.models import Notification, Patient
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped

log = logging.getLogger(__name__)


def celebrated_on(day: date) -> list[tuple[int, int]]:
    """(month, day) of the birth dates whose birthday is ``day``: Feb 29 on Feb 28 in a
    common year."""
    pairs = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        pairs.append((2, 29))
    return pairs


def local_day_if_due(practice: Practice, hour: int, now: datetime) -> date | None:
    """The practice's date when its clock is past the day's moment for ``hour`` and
    outside quiet hours.

    The moment is ``hour`` o'clock, moved out of the quiet hours when they were changed
    after the hour was chosen (``rules.daily_moment``): a greeting set for 21:00 with
    quiet hours from 20:00 goes out in the morning instead of never.
    """
    from praxisbote.appointments import rules

    quiet = rules.quiet_hours_of(practice)
    today = now.astimezone(ZoneInfo(practice.timezone)).date()
    if now < rules.daily_moment(today, hour, quiet) or quiet.contains(now):
        return None
    return today


def send_moment(practice: Practice, now: datetime) -> datetime:
    """A moment ahead (the worker reserves credit then, MSG-5), never in quiet hours: a
    run just before they begin must not let the message leave inside them."""
    from praxisbote.appointments import rules
    from praxisbote.appointments.services import WRITE_AHEAD

    return rules.outside_quiet(now + WRITE_AHEAD, rules.quiet_hours_of(practice))


def daily_spec(patient: Patient, kind: str, channel: str, now: datetime) -> MessageSpec:
    """The message of a daily job (birthday greeting, recall): the practice's template for
    ``kind`` in the patient's language, about the patient alone, at ``send_moment``.

    Scheduled a moment ahead: the worker reserves credit when it takes it, so a low balance
    delays the message instead of failing it (MSG-5).
    """
    from praxisbote.texts.rendering import render

    practice = patient.practice
    context = {"patient": patient, "appointment": None, "practice": practice}
    out = render(practice, kind, channel, patient.effective_language, context)
    return MessageSpec.rendered(
        channel, out, patient_id=patient.pk, send_at=send_moment(practice, now), kind=kind
    )


def channel_for(patient: Patient, notification: str) -> str:
    """The patient's first preferred channel with consent that the practice allows."""
    practice = patient.practice
    return next(
        (c for c in patient.automatic_channels(notification) if practice.channel_enabled(c)), ""
    )


def run(now: datetime | None = None) -> int:
    """Greet every due patient of every practice that opted in; how many were written."""
    now = now or timezone.now()
    written = 0
    for row in OutreachSettings.objects.filter(birthday_enabled=True).select_related("practice"):
        day = local_day_if_due(row.practice, row.birthday_hour, now)
        if day is not None:
            written += greet_practice(row.practice, day, now)
    return written


def birthday_patients(practice: Practice, day: date):
    born = Q()
    for month, dom in celebrated_on(day):
        born |= Q(birth_date__month=month, birth_date__day=dom)
    done = BirthdayGreeting.objects.filter(practice=practice, year=day.year).values("patient_id")
    return (
        scoped(Patient, practice)
        .filter(born, erased_at__isnull=True, birth_date__year__lt=day.year)
        .exclude(pk__in=done)
        .select_related("category", "practice")
        .order_by("pk")
    )


def greet_practice(practice: Practice, day: date, now: datetime) -> int:
    return sum(greet(patient, day.year, now) for patient in birthday_patients(practice, day))


def greet(patient: Patient, year: int, now: datetime) -> bool:
    """Write this year's greeting; False when it exists already or cannot be sent."""
    wanted = Notification.BIRTHDAY in patient.effective_notifications()
    channel = channel_for(patient, Notification.BIRTHDAY) if wanted else ""
    reason = "" if channel else ("not wanted" if not wanted else "no channel with consent")
    try:
        with transaction.atomic():
            row = BirthdayGreeting.objects.create(
                practice_id=patient.practice_id,
                patient=patient,
                year=year,
                channel=channel,
                skipped=reason,
                created_at=now,
            )
            if channel:
                _write_message(row, patient, channel, now)
    except IntegrityError:
        return False  # greeted this year already (another run, another worker)
    return bool(row.message_id)


def _write_message(row: BirthdayGreeting, patient: Patient, channel: str, now: datetime) -> None:
    spec = daily_spec(patient, Kind.BIRTHDAY, channel, now)
    try:
        message = create_messages(patient.practice, [spec]).messages[0]
    except ValidationError as exc:  # e.g. an address on record that is not valid
        row.skipped = "; ".join(exc.messages)[:200]
        row.save(update_fields=["skipped"])
        log.info("birthday greeting for patient %s not written: %s", patient.pk, row.skipped)
        return
    row.message_id = message.pk
    row.save(update_fields=["message_id"])
