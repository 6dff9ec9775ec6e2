"""Dates the staff UI reads from query strings (``?day=2030-03-11``).

Django's ``parse_date`` raises ``ValueError`` for a well-formed impossible date
(2030-02-30), and a day at the calendar's edge (9999-12-31) overflows as soon as a page
adds a day to it: both were answered with a server error. Pages navigate by day, so an
unusable value just means "no day given".
"""

from __future__ import annotations

from datetime import date

from django.utils.dateparse import parse_date

#: Days a page may show: far enough for any appointment, far from ``date.min``/``date.max``.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def parse_day(value: str | None) -> date | None:
    """``value`` as a date when it is a real day in the supported range, else ``None``."""
    try:
        day = parse_date((value or "").strip())
    except ValueError:
        return None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return None
    return day
