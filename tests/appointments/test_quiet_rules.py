"""Quiet hours for messages other than reminders: held until the morning (mass notices,
recalls, birthdays, offers), urgent cancellations, and the daily moment of a job whose
hour was overtaken by changed quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from praxisbote.appointments.rules import (
    QuietHours,
    daily_moment,
    next_quiet_start,
    outside_quiet,
    urgent_due,
)

VIENNA = ZoneInfo("Europe/Vienna")
NIGHT = QuietHours(time(20, 0), time(8, 0), VIENNA)
NONE = QuietHours(time(0, 0), time(0, 0), VIENNA)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=VIENNA)


def test_outside_quiet_holds_until_the_morning_and_leaves_the_day_alone():
    assert outside_quiet(at(2027, 3, 15, 23, 10), NIGHT) == at(2027, 3, 16, 8, 0)
    assert outside_quiet(at(2027, 3, 16, 2, 0), NIGHT) == at(2027, 3, 16, 8, 0)
    assert outside_quiet(at(2027, 3, 16, 20, 0), NIGHT) == at(2027, 3, 17, 8, 0)  # 20:00 quiet
    assert outside_quiet(at(2027, 3, 16, 8, 0), NIGHT) == at(2027, 3, 16, 8, 0)  # 08:00 not
    assert outside_quiet(at(2027, 3, 16, 12, 0), NIGHT) == at(2027, 3, 16, 12, 0)
    assert outside_quiet(at(2027, 3, 16, 23, 0), NONE) == at(2027, 3, 16, 23, 0)
    assert outside_quiet(at(2027, 3, 16, 12, 0), NIGHT).tzinfo == UTC


def test_the_morning_after_the_spring_change_is_08_00_summer_time():
    # Sunday 28 March 2027: 02:00 -> 03:00 in Vienna.
    held = outside_quiet(at(2027, 3, 27, 22, 0), NIGHT)
    assert held == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)  # 08:00 CEST


def test_next_quiet_start():
    assert next_quiet_start(at(2027, 3, 16, 8, 0), NIGHT) == at(2027, 3, 16, 20, 0)
    assert next_quiet_start(at(2027, 3, 16, 21, 0), NIGHT) == at(2027, 3, 17, 20, 0)
    assert next_quiet_start(at(2027, 3, 16, 21, 0), NONE) is None


@pytest.mark.parametrize(
    ("now", "appointment", "due"),
    [
        # Night, the appointment is tomorrow morning: at once.
        (at(2027, 3, 15, 23, 0), at(2027, 3, 16, 8, 30), at(2027, 3, 15, 23, 0)),
        # Night, tomorrow evening before the next quiet period: still at once.
        (at(2027, 3, 15, 23, 0), at(2027, 3, 16, 19, 30), at(2027, 3, 15, 23, 0)),
        # Night, the appointment is the day after tomorrow: the morning is soon enough.
        (at(2027, 3, 15, 23, 0), at(2027, 3, 17, 9, 0), at(2027, 3, 16, 8, 0)),
        # Early morning, an appointment the same evening after 20:00 can wait until 08:00.
        (at(2027, 3, 16, 6, 0), at(2027, 3, 16, 20, 30), at(2027, 3, 16, 8, 0)),
        (at(2027, 3, 16, 6, 0), at(2027, 3, 16, 9, 0), at(2027, 3, 16, 6, 0)),
        # Daytime: always at once.
        (at(2027, 3, 16, 12, 0), at(2027, 4, 1, 9, 0), at(2027, 3, 16, 12, 0)),
    ],
)
def test_urgent_due_breaks_the_quiet_hours_only_for_the_coming_day(now, appointment, due):
    assert urgent_due(now, appointment, NIGHT) == due


def test_urgent_due_without_quiet_hours_is_now():
    assert urgent_due(at(2027, 3, 15, 23, 0), at(2027, 5, 1, 9, 0), NONE) == at(2027, 3, 15, 23)


@pytest.mark.parametrize(
    ("hour", "quiet", "moment"),
    [
        (9, NIGHT, at(2027, 3, 15, 9, 0)),  # outside: as chosen
        (7, NIGHT, at(2027, 3, 15, 8, 0)),  # in the morning's quiet: its end
        (21, NIGHT, at(2027, 3, 15, 8, 0)),  # quiet until tomorrow: this morning's end
        (0, NONE, at(2027, 3, 15, 0, 0)),
        # A quiet period inside the day (12-14): its end, the same day.
        (13, QuietHours(time(12, 0), time(14, 0), VIENNA), at(2027, 3, 15, 14, 0)),
    ],
)
def test_daily_moment_is_never_quiet_and_always_on_the_day(hour, quiet, moment):
    found = daily_moment(date(2027, 3, 15), hour, quiet)
    assert found == moment
    assert not quiet.contains(found)
    assert found.astimezone(VIENNA).date() == date(2027, 3, 15)
