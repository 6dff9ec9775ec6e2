"""When reminders go out: lead times, quiet hours and daylight-saving time (APT-2).

Pure functions over aware datetimes, so that the rules are tested without a database.
Arithmetic on real time happens in UTC; only whole-day lead times and quiet hours are
wall-clock rules, computed in the practice's zone with ``zoneinfo``. (Python subtracts
a timedelta from an aware datetime in wall-clock time of its own zone, which is wrong
across a change: everything below converts explicitly.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: A reminder that would fall into the quiet period goes out this long before it starts.
BEFORE_QUIET = timedelta(minutes=1)


@dataclass(frozen=True)
class QuietHours:
    """No automatic message from ``start`` until ``end`` (practice time); may span midnight.

    ``start == end`` means no quiet period.
    """

    start: time
    end: time
    zone: ZoneInfo

    def contains(self, moment: datetime) -> bool:
        return self.period_start(moment) is not None

    def period_start(self, moment: datetime) -> datetime | None:
        """The UTC start of the quiet period that ``moment`` falls into, or None."""
        if self.start == self.end:
            return None
        local = moment.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        day: date | None = None
        if self.start < self.end:
            day = local.date() if self.start <= clock < self.end else None
        elif clock >= self.start:
            day = local.date()
        elif clock < self.end:
            day = local.date() - timedelta(days=1)
        if day is None:
            return None
        return wall_to_utc(day, self.start, self.zone)

    def period_end(self, moment: datetime) -> datetime | None:
        """The UTC end of the quiet period that ``moment`` falls into, or None."""
        begin = self.period_start(moment)
        if begin is None:
            return None
        day = begin.astimezone(self.zone).date()
        if self.start > self.end:
            day += timedelta(days=1)
        return wall_to_utc(day, self.end, self.zone)


def wall_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone`` as UTC. A time that does not exist (the hour skipped
    in spring) is read with the offset before the change, i.e. it lands an hour later;
    a time that exists twice (autumn) is the first of the two (fold=0)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def lead_due(start: datetime, lead_hours: int, zone: ZoneInfo) -> datetime:
    """When a reminder ``lead_hours`` before ``start`` is due, in UTC.

    Whole days are calendar days: "24 h before" an appointment at 10:00 is 10:00 the day
    before, also when the clocks changed in between (then 23 or 25 real hours). Other
    lead times are real hours.
    """
    if lead_hours % 24 == 0:
        local = start.astimezone(zone)
        day = local.date() - timedelta(days=lead_hours // 24)
        return wall_to_utc(day, local.time().replace(tzinfo=None), zone)
    return start.astimezone(UTC) - timedelta(hours=lead_hours)


def reminder_due(start: datetime, lead_hours: int, quiet: QuietHours) -> datetime:
    """The lead time's due moment; inside the quiet period it moves to just before it."""
    due = lead_due(start, lead_hours, quiet.zone)
    quiet_start = quiet.period_start(due)
    if quiet_start is not None:
        due = quiet_start - BEFORE_QUIET
    return due


def outside_quiet(moment: datetime, quiet: QuietHours) -> datetime:
    """``moment`` in UTC, or the end of the quiet period it falls into.

    The rule for every automatic message that answers nothing urgent (mass notices,
    recalls, birthday greetings, waiting-list offers): it waits for the morning, it is
    neither dropped nor sent at night.
    """
    end = quiet.period_end(moment)
    return end if end is not None else moment.astimezone(UTC)


def confirmation_due(now: datetime, quiet: QuietHours) -> datetime:
    """A confirmation is an answer to the booking: now, or when the quiet period ends."""
    return outside_quiet(now, quiet)


def next_quiet_start(moment: datetime, quiet: QuietHours) -> datetime | None:
    """The UTC start of the first quiet period that begins after ``moment``."""
    if quiet.start == quiet.end:
        return None
    day = moment.astimezone(quiet.zone).date()
    for offset in (0, 1, 2):
        begin = wall_to_utc(day + timedelta(days=offset), quiet.start, quiet.zone)
        if begin > moment:
            return begin
    return None  # pragma: no cover - one of three consecutive days always has a start


def urgent_due(now: datetime, appointment_start: datetime, quiet: QuietHours) -> datetime:
    """When a cancellation notice goes out: at once, unless it can wait for the morning.

    A notice for an appointment that starts before the next quiet period begins (the
    coming day, e.g. tomorrow 08:30 when it is 23:00 now) goes out at once, also at
    night: waiting until 08:00 could be too late. A notice for a later appointment
    waits until the current quiet period ends.
    """
    end = quiet.period_end(now)
    if end is None:
        return now.astimezone(UTC)
    following = next_quiet_start(end, quiet)
    if following is None or appointment_start < following:
        return now.astimezone(UTC)
    return end


def daily_moment(day: date, hour: int, quiet: QuietHours) -> datetime:
    """When a once-a-day job (birthday greetings, recalls) is due on ``day``, in UTC.

    ``hour`` o'clock practice time; when that lies in the quiet hours (they were changed
    after the hour was chosen) the end of that quiet period if it ends the same day,
    else the end of the night's quiet period of that day (the morning). Never inside
    the quiet hours, and always on ``day``, so the job can still find the day's patients.
    """
    wanted = wall_to_utc(day, time(hour), quiet.zone)
    end = quiet.period_end(wanted)
    if end is None:
        return wanted
    if end.astimezone(quiet.zone).date() == day:
        return end
    midnight = wall_to_utc(day, time.min, quiet.zone)
    return outside_quiet(midnight, quiet)


def reminder_times(
    start: datetime, lead_hours: list[int], quiet: QuietHours, now: datetime
) -> list[tuple[int, datetime]]:
    """(lead, due) for every lead time still ahead of ``now``, one per distinct moment.

    A reminder whose moment has passed is not written: the confirmation already told
    the patient, and a late "reminder" at night would break the quiet hours.
    """
    seen: set[datetime] = set()
    result = []
    for lead in sorted(set(lead_hours), reverse=True):
        due = reminder_due(start, lead, quiet)
        if due <= now or due >= start or due in seen:
            continue
        seen.add(due)
        result.append((lead, due))
    return result


def quiet_hours_of(practice) -> QuietHours:
    return QuietHours(
        practice.quiet_hours_start, practice.quiet_hours_end, ZoneInfo(practice.timezone)
    )
