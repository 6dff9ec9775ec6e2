"""Reminder times: lead times, quiet hours at midnight, and the two DST Sundays (APT-2).

2026: clocks go forward on Sunday 29 March (02:00 -> 03:00) and back on Sunday 25 October
(03:00 -> 02:00) in Vienna, Berlin and Zurich alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from praxisbote.appointments.rules import (
    QuietHours,
    confirmation_due,
    lead_due,
    reminder_due,
    reminder_times,
)

ZONES = ["Europe/Vienna", "Europe/Berlin", "Europe/Zurich"]
NIGHT = (time(20, 0), time(8, 0))


def quiet(zone: str, start: time = NIGHT[0], end: time = NIGHT[1]) -> QuietHours:
    return QuietHours(start, end, ZoneInfo(zone))


def at(zone: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone), fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("zone", ZONES)
def test_day_before_keeps_the_wall_clock_time_over_the_spring_change(zone):
    start = at(zone, 2026, 3, 29, 10, 0)  # Sunday, already summer time: 08:00 UTC
    due = reminder_due(start, 24, quiet(zone))
    assert due == utc(2026, 3, 28, 9, 0)  # Saturday 10:00 winter time
    assert due.astimezone(ZoneInfo(zone)).hour == 10
    assert start - due == timedelta(hours=23), "the night had only 23 hours"


@pytest.mark.parametrize("zone", ZONES)
def test_day_before_keeps_the_wall_clock_time_over_the_autumn_change(zone):
    start = at(zone, 2026, 10, 25, 10, 0)  # Sunday, winter time again: 09:00 UTC
    due = reminder_due(start, 24, quiet(zone))
    assert due == utc(2026, 10, 24, 8, 0)  # Saturday 10:00 summer time
    assert start - due == timedelta(hours=25)


@pytest.mark.parametrize("zone", ZONES)
def test_monday_after_the_change_is_reminded_sunday_same_time(zone):
    start = at(zone, 2026, 3, 30, 9, 30)
    due = reminder_due(start, 48, quiet(zone))
    assert due.astimezone(ZoneInfo(zone)) == at(zone, 2026, 3, 28, 9, 30)


def test_hour_leads_are_real_hours_across_the_change():
    zone = "Europe/Vienna"
    # 09:00 summer time on the change day is 07:00 UTC; 3 real hours before is 04:00 UTC,
    # i.e. 06:00 summer time (not 06:00 wall time minus the lost hour).
    start = at(zone, 2026, 3, 29, 9, 0)
    assert lead_due(start, 3, ZoneInfo(zone)) == utc(2026, 3, 29, 4, 0)
    # ... which is inside the night, so it goes out Saturday 19:59 winter time.
    assert reminder_due(start, 3, quiet(zone)) == utc(2026, 3, 28, 18, 59)
    # Crossing the change at 02:00: 04:30 summer time minus 3 real hours is 00:30 winter time.
    none = quiet(zone, time(0, 0), time(0, 0))
    early = at(zone, 2026, 3, 29, 4, 30)
    assert reminder_due(early, 3, none).astimezone(ZoneInfo(zone)) == at(zone, 2026, 3, 29, 0, 30)


def test_lead_falling_into_the_skipped_hour_goes_before_the_quiet_night():
    zone = "Europe/Vienna"
    start = at(zone, 2026, 3, 29, 4, 0)  # 02:00 UTC; 2 h before: 00:00 UTC = 01:00 CET
    due = reminder_due(start, 2, quiet(zone))
    assert due == at(zone, 2026, 3, 28, 19, 59).astimezone(UTC) == utc(2026, 3, 28, 18, 59)


def test_lead_in_the_repeated_autumn_hour_goes_before_the_quiet_night():
    zone = "Europe/Berlin"
    # 02:30 happens twice on 25 October; both are inside the night.
    for fold in (0, 1):
        moment = at(zone, 2026, 10, 25, 2, 30, fold=fold).astimezone(UTC)
        start = moment + timedelta(hours=5)
        due = reminder_due(start, 5, quiet(zone))
        assert due == utc(2026, 10, 24, 17, 59), fold  # Saturday 19:59 summer time


@pytest.mark.parametrize(
    ("lead_lands_at", "expected"),
    [
        ((2026, 6, 10, 19, 59), (2026, 6, 10, 19, 59)),  # last minute before the night
        ((2026, 6, 10, 20, 0), (2026, 6, 10, 19, 59)),  # first minute of the night
        ((2026, 6, 10, 23, 59), (2026, 6, 10, 19, 59)),  # just before midnight
        ((2026, 6, 11, 0, 0), (2026, 6, 10, 19, 59)),  # midnight: the night began yesterday
        ((2026, 6, 11, 0, 1), (2026, 6, 10, 19, 59)),
        ((2026, 6, 11, 7, 59), (2026, 6, 10, 19, 59)),  # last minute of the night
        ((2026, 6, 11, 8, 0), (2026, 6, 11, 8, 0)),  # the night is over
    ],
)
def test_quiet_hours_around_midnight_move_the_reminder_before_the_night(lead_lands_at, expected):
    zone = "Europe/Vienna"
    lands = at(zone, *lead_lands_at)
    start = lands + timedelta(hours=5)
    assert reminder_due(start, 5, quiet(zone)) == at(zone, *expected).astimezone(UTC)


def test_quiet_hours_inside_one_day():
    zone = "Europe/Zurich"
    lunch = quiet(zone, time(12, 0), time(14, 0))
    start = at(zone, 2026, 6, 10, 16, 0)
    assert reminder_due(start, 3, lunch) == at(zone, 2026, 6, 10, 11, 59).astimezone(UTC)
    assert reminder_due(start, 1, lunch) == at(zone, 2026, 6, 10, 15, 0).astimezone(UTC)


def test_no_quiet_hours_when_start_equals_end():
    zone = "Europe/Vienna"
    none = quiet(zone, time(0, 0), time(0, 0))
    start = at(zone, 2026, 6, 11, 1, 0)
    assert reminder_due(start, 2, none) == at(zone, 2026, 6, 10, 23, 0).astimezone(UTC)


def test_confirmation_waits_for_the_morning_and_is_immediate_by_day():
    zone = "Europe/Vienna"
    q = quiet(zone)
    evening = at(zone, 2026, 3, 28, 21, 30)  # Saturday night before the spring change
    assert confirmation_due(evening, q) == at(zone, 2026, 3, 29, 8, 0).astimezone(UTC)
    assert confirmation_due(evening, q) == utc(2026, 3, 29, 6, 0)  # 08:00 summer time
    day = at(zone, 2026, 3, 28, 10, 0)
    assert confirmation_due(day, q) == day.astimezone(UTC)


def test_reminder_times_skip_the_past_and_merge_equal_moments():
    zone = "Europe/Vienna"
    start = at(zone, 2026, 6, 11, 8, 30)
    # 12 h and 11 h before are both in the night: one reminder at 19:59, not two.
    now = at(zone, 2026, 6, 1, 12, 0)
    times = reminder_times(start, [12, 11, 48], quiet(zone), now)
    assert [lead for lead, _ in times] == [48, 12]
    assert times[1][1] == at(zone, 2026, 6, 10, 19, 59).astimezone(UTC)
    late = at(zone, 2026, 6, 10, 20, 30)
    assert reminder_times(start, [24, 12], quiet(zone), late) == []
