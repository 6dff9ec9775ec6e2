"""Recalls (APT-7): "time for your check-up" when a patient's control is due.

Why this shape:

* Per patient one ``Recall``: a due date and an interval in months (seed 003's
  Prophylaxe every 6 months; 0 for a one-off). Staff set it on the patient's page or the
  practice software through the API.
* The periodic job (``messaging.jobs``, under the database lock) sends a recall on or
  after its due date, at the practice's recall hour outside quiet hours (moved out of
  them if they changed after the hour was chosen, as for birthdays), and advances the
  due date by the interval in the same transaction. Follow-ups run in the same window.
  The advance is a conditional UPDATE on the old due date, so a second run (another
  worker, a lock that expired) finds nothing to do: each due date yields one message.
* A recall months overdue (entered late, worker down) is sent once; the next due date is
  the first interval step after today, not a burst of catch-up messages.
* Follow-up: when no appointment was booked since the recall after N days (practice
  setting, 0: none), one more recall goes out. A booking after the recall ends the
  follow-up clock. Interval months are calendar months: Jan 31 + 1 month is Feb 28/29,
  always counted from the first due date so the day does not drift.
* A patient without a channel with consent gets no message; the recall still advances
  and ``last_result`` says why, so staff can call (the recall list shows it).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from praxisbote.messaging.models import Kind, Message
from praxisbote.messaging.services import create_messages
from praxisbote.outreach.birthdays import channel_for, daily_spec, local_day_if_due
from praxisbote.outreach.models import Recall
from praxisbote.outreach.settings import settings_of
from praxisbote.patients.models import Notification, Patient
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped

MAX_INTERVAL_MONTHS = 120
#: ``Recall.last_result`` codes; "recall:<channel>" and "followup:<channel>" name the channel.
RESULTS = {
    "recall": gettext_lazy("recall sent"),
    "followup": gettext_lazy("follow-up sent"),
    "unreachable": gettext_lazy("not sent: no channel with consent, or recalls switched off"),
    "booked": gettext_lazy("appointment booked after the recall: no follow-up"),
    "invalid_address": gettext_lazy("not sent: the address on record is not valid"),
}


def describe(result: str) -> str:
    """``last_result`` in words for staff: "recall sent (SMS)"."""
    code, _sep, channel = result.partition(":")
    text = str(RESULTS.get(code, result))
    return f"{text} ({Channel(channel).label})" if channel in Channel.values else text


# ---------------------------------------------------------------- dates


def add_months(day: date, months: int) -> date:
    """Calendar months later; the day is clamped to the month's end (Jan 31 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due(due: date, interval_months: int, today: date) -> date | None:
    """The first step of ``interval_months`` after ``due`` that lies after ``today``."""
    if not interval_months:
        return None
    step = 1
    while (candidate := add_months(due, step * interval_months)) <= today:
        step += 1
    return candidate


# ---------------------------------------------------------------- staff and API writes


def recall_of(patient: Patient) -> Recall | None:
    return Recall.objects.filter(practice_id=patient.practice_id, patient=patient).first()


def save_recall(patient: Patient, data: Mapping[str, Any]) -> Recall:
    """Create or change the patient's recall; ``ValidationError`` names each bad field."""
    if patient.erased_at:
        raise ValidationError({"patient_id": _("The patient was erased.")})
    errors: dict[str, str] = {}
    recall = recall_of(patient) or Recall(practice_id=patient.practice_id, patient=patient)
    if "due_date" in data:
        recall.due_date = _date(data["due_date"], errors)
    if "interval_months" in data:
        months = data["interval_months"]
        if not isinstance(months, int) or isinstance(months, bool):
            errors["interval_months"] = _("Give a whole number of months (0: once).")
        elif not 0 <= months <= MAX_INTERVAL_MONTHS:
            errors["interval_months"] = _("From 0 (once) to %(n)d months.") % {
                "n": MAX_INTERVAL_MONTHS
            }
        else:
            recall.interval_months = months
    if "note" in data:
        note = str(data["note"] or "").strip()
        if len(note) > 200:
            errors["note"] = _("At most %(n)d characters.") % {"n": 200}
        recall.note = note
    if errors:
        raise ValidationError(errors)
    recall.updated_at = timezone.now()
    recall.save()
    return recall


def _date(value: Any, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, date) else parse_date(str(value))
    if parsed is None:
        errors["due_date"] = _("Enter the date as YYYY-MM-DD.")
    elif parsed.year < 2000 or parsed.year > 2200:
        errors["due_date"] = _("Enter a date between 2000 and 2200.")
    return parsed


def delete_recall(patient: Patient) -> None:
    Recall.objects.filter(practice_id=patient.practice_id, patient=patient).delete()


def list_recalls(practice: Practice, due_until: date | None = None):
    qs = scoped(Recall, practice).filter(patient__erased_at__isnull=True).select_related("patient")
    if due_until is not None:
        qs = qs.filter(due_date__lte=due_until)
    return qs.order_by("due_date", "pk")


# ---------------------------------------------------------------- the periodic job


def run(now: datetime | None = None) -> int:
    """Send due recalls and follow-ups of every practice; how many messages were written."""
    now = now or timezone.now()
    # The latest calendar date anywhere in Europe is at most one day after UTC's.
    horizon = (now + timedelta(days=1)).date()
    due = Q(due_date__lte=horizon)
    followup = Q(followup_done_at__isnull=True, last_sent_at__lte=now - timedelta(days=1))
    practice_ids = (
        Recall.objects.filter(due | followup, patient__erased_at__isnull=True)
        .values_list("practice_id", flat=True)
        .distinct()
    )
    written = 0
    for practice in Practice.objects.filter(pk__in=list(practice_ids)):
        written += run_practice(practice, now)
    return written


def run_practice(practice: Practice, now: datetime) -> int:
    options = settings_of(practice)
    today = local_day_if_due(practice, options.recall_hour, now)
    if today is None:
        return 0
    written = 0
    active = scoped(Recall, practice).filter(patient__erased_at__isnull=True)
    for recall in active.filter(due_date__lte=today).select_related(*_RELATED):
        written += send_due(recall, today, now)
    days = options.recall_followup_days
    if days:
        waiting = active.filter(
            followup_done_at__isnull=True, last_sent_at__lte=now - timedelta(days)
        )
        for recall in waiting.select_related(*_RELATED):
            written += follow_up(recall, now)
    return written


_RELATED = ("patient", "patient__category", "patient__practice")


def send_due(recall: Recall, today: date, now: datetime) -> bool:
    """Send the recall of its due date and advance it; False when another run did."""
    due = recall.due_date
    if due is None or due > today:
        return False
    channel = _channel(recall.patient)
    with transaction.atomic():
        claimed = Recall.objects.filter(pk=recall.pk, due_date=due).update(
            due_date=next_due(due, recall.interval_months, today),
            last_due_date=due,
            last_sent_at=now if channel else None,
            followup_done_at=None,
            last_result=_result(channel, "recall"),
            updated_at=now,
        )
        if not claimed:
            return False
        return _write(recall.patient, channel, now)


def follow_up(recall: Recall, now: datetime) -> bool:
    """One more recall when nothing was booked since the first; False otherwise."""
    sent = recall.last_sent_at
    if sent is None:
        return False
    booked = _booked_since(recall.patient, sent)
    channel = "" if booked else _channel(recall.patient)
    with transaction.atomic():
        claimed = Recall.objects.filter(
            pk=recall.pk, last_sent_at=sent, followup_done_at__isnull=True
        ).update(
            followup_done_at=now,
            last_result="booked" if booked else _result(channel, "followup"),
            updated_at=now,
        )
        if not claimed or booked:
            return False
        return _write(recall.patient, channel, now)


def _booked_since(patient: Patient, moment: datetime) -> bool:
    from praxisbote.appointments.models import Appointment, Status

    return (
        Appointment.objects.filter(
            practice_id=patient.practice_id, patient=patient, created_at__gte=moment
        )
        .exclude(status=Status.CANCELLED)
        .exists()
    )


def _channel(patient: Patient) -> str:
    if Notification.RECALL not in patient.effective_notifications():
        return ""
    return channel_for(patient, Notification.RECALL)


def _result(channel: str, what: str) -> str:
    """A code for ``last_result`` (see ``RESULTS``): ``recall:sms``, ``unreachable``."""
    return f"{what}:{channel}" if channel else "unreachable"


def _write(patient: Patient, channel: str, now: datetime) -> bool:
    if not channel:
        return False
    try:
        create_messages(patient.practice, [daily_spec(patient, Kind.RECALL, channel, now)])
    except ValidationError:  # an address on record that is not valid (any more)
        Recall.objects.filter(patient=patient).update(last_result="invalid_address")
        return False
    return True


def messages_of(patient: Patient):
    """The patient's recall messages, newest first (for the patient page)."""
    return Message.objects.filter(
        practice_id=patient.practice_id, patient=patient, kind=Kind.RECALL
    ).order_by("-created_at")
