"""A practice's outreach settings (birthday greetings, recall hour and follow-up)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote.outreach.models import OutreachSettings
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped

MAX_FOLLOWUP_DAYS = 365


def settings_of(practice: Practice) -> OutreachSettings:
    """The stored row, or an unsaved one with the defaults (birthdays off)."""
    return scoped(OutreachSettings, practice).first() or OutreachSettings(practice=practice)


def in_quiet_hours(practice: Practice, hour: int) -> bool:
    """Whether ``hour``:00 practice time falls inside the practice's quiet hours."""
    from praxisbote.appointments import rules

    zone = ZoneInfo(practice.timezone)
    today = timezone.now().astimezone(zone).date()
    moment = datetime.combine(today, time(hour), tzinfo=zone)
    return rules.quiet_hours_of(practice).contains(moment)


def moved_hours(practice: Practice, row: OutreachSettings) -> dict[str, str]:
    """Hours that now lie inside the quiet hours (changed after they were chosen), with
    the time the job uses instead today, e.g. {"birthday_hour": "08:00"}: shown to staff."""
    from praxisbote.appointments import rules

    zone = ZoneInfo(practice.timezone)
    today = timezone.now().astimezone(zone).date()
    quiet = rules.quiet_hours_of(practice)
    moved = {}
    for name in ("birthday_hour", "recall_hour"):
        hour = getattr(row, name)
        moment = rules.daily_moment(today, hour, quiet).astimezone(zone)
        if (moment.hour, moment.minute) != (hour, 0):
            moved[name] = f"{moment:%H:%M}"
    return moved


def _hour(data: Mapping[str, Any], name: str, practice: Practice, errors: dict[str, str]):
    value = data[name]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 23:
        errors[name] = _("Give a whole hour from 0 to 23.")
    elif in_quiet_hours(practice, value):
        errors[name] = _(
            "%(hour)02d:00 is inside the practice's quiet hours; nothing automatic goes out "
            "then. Choose an hour outside them."
        ) % {"hour": value}
    return value


def save_settings(practice: Practice, data: Mapping[str, Any]) -> OutreachSettings:
    """Change the fields present in ``data``; ``ValidationError`` names each bad one."""
    errors: dict[str, str] = {}
    row = settings_of(practice)
    if "birthday_enabled" in data:
        if not isinstance(data["birthday_enabled"], bool):
            errors["birthday_enabled"] = _("Say true or false.")
        row.birthday_enabled = bool(data["birthday_enabled"])
    for name in ("birthday_hour", "recall_hour"):
        if name in data:
            setattr(row, name, _hour(data, name, practice, errors))
    if "recall_followup_days" in data:
        days = data["recall_followup_days"]
        if (
            not isinstance(days, int)
            or isinstance(days, bool)
            or not 0 <= days <= MAX_FOLLOWUP_DAYS
        ):
            errors["recall_followup_days"] = _("Give a number of days from 0 to %(n)d.") % {
                "n": MAX_FOLLOWUP_DAYS
            }
        else:
            row.recall_followup_days = days
    if errors:
        raise ValidationError(errors)
    row.updated_at = timezone.now()
    row.save()
    return row
