"""Staff UI forms for the reminder rules (APT-2).

Like ``web.forms``, the fields only parse what the browser sends. Whether a rule is valid
(how many reminders, how far ahead, which channels) is decided by
``appointments.services.clean_rule`` -- the function behind ``PUT /api/v1/reminder-rules``
-- and the quiet hours by ``practices.services.update_practice`` (``PATCH /api/v1/practice``),
so the page and the API give the same message for the same mistake.

Lead times are stored in hours. Whole days (multiples of 24) are calendar days in
``appointments.rules.lead_due``, so the page shows them as days, which is what they do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from praxisbote.appointments.rules import BEFORE_QUIET
from praxisbote.appointments.services import MAX_LEADS, Rule
from praxisbote.patients.models import PatientCategory
from praxisbote.practices.models import Practice
from praxisbote.web.forms import CHANNEL_CHOICES, ORDINALS, WebForm, _check, _select

HOURS, DAYS = "hours", "days"
UNIT_CHOICES = [(HOURS, _("hours before")), (DAYS, _("days before"))]
#: One row of the lead-time field as typed: (number, unit).
Row = tuple[str, str]


def lead_rows(hours: Sequence[int]) -> list[Row]:
    """Stored hours as the rows the page shows: whole days as days."""
    return [(str(h // 24), DAYS) if h % 24 == 0 else (str(h), HOURS) for h in hours]


def lead_label(hours: int) -> str:
    """ "2 days (48 h)" or "5 hours": the lead time as staff read it in a summary."""
    if hours % 24:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24}
    return f"{days} ({hours} h)"


def quiet_explained(practice: Practice) -> dict[str, Any]:
    """The practice's quiet hours and the minute a reminder moves to, for the page's text."""
    start, end = practice.quiet_hours_start, practice.quiet_hours_end
    before = (datetime.combine(date(2000, 1, 2), start) - BEFORE_QUIET).time()
    return {
        "start": start,
        "end": end,
        "before": before,
        "none": start == end,
        "zone": practice.timezone,
    }


class LeadTimesWidget(forms.Widget):
    """Rows of number + unit (hours/days before), sent as repeated ``<name>_value`` and
    ``<name>_unit`` fields, so that rows can be added and removed without renaming any.

    Without JavaScript one empty row is offered for a new reminder and a row emptied is
    removed; ``static/web/app.js`` adds "Add a reminder" and "Remove" buttons.
    """

    template_name = "web/forms/lead_times.html"
    use_fieldset = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[Row]:
        values = data.getlist(f"{name}_value") if hasattr(data, "getlist") else []
        units = data.getlist(f"{name}_unit") if hasattr(data, "getlist") else []
        units = list(units) + [HOURS] * (len(values) - len(units))
        return [(str(v).strip(), u) for v, u in zip(values, units, strict=False)]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}_value" not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        disabled = bool(widget["attrs"].get("disabled"))
        rows = list(value or [])
        if not disabled and len([r for r in rows if r[0]]) < MAX_LEADS:
            rows = [r for r in rows if r[0]] + [("", HOURS)]
        base = widget["attrs"].get("id") or f"id_{name}"
        label, unit_label = gettext("Reminder %(n)d"), gettext("Unit of reminder %(n)d")
        widget.update(
            rows=[
                {
                    "value": v,
                    "unit": u,
                    "id": f"{base}_{i}",
                    "label": label % {"n": i + 1},
                    "unit_label": unit_label % {"n": i + 1},
                }
                for i, (v, u) in enumerate(rows)
            ],
            label=label,
            unit_label=unit_label,
            units=UNIT_CHOICES,
            max=MAX_LEADS,
            disabled=disabled,
            invalid=widget["attrs"].get("aria-invalid") == "true",
        )
        return context

    def format_value(self, value: Any) -> Any:
        return value


class LeadTimesField(forms.Field):
    """Lead times in hours, parsed from the rows; range and count are the service's."""

    widget = LeadTimesWidget
    default_error_messages = {
        "invalid": _("Enter each reminder as a whole number, e.g. 48 hours or 2 days."),
    }

    def prepare_value(self, value: Any) -> list[Row]:
        if not value:
            return []
        if all(isinstance(v, int) for v in value):  # initial: stored hours
            return lead_rows(value)
        return list(value)

    def to_python(self, value: Any) -> list[int]:
        hours = []
        for number, unit in self.prepare_value(value):
            if not number:
                continue  # an emptied row is a removed reminder
            try:
                amount = int(number)
            except ValueError as exc:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from exc
            hours.append(amount * 24 if unit == DAYS else amount)
        return hours

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.prepare_value(initial) != self.prepare_value(data)


class RuleForm(WebForm):
    """One rule: confirmation, lead times, channel order (the fields of ``RuleIn``)."""

    error_fields = {"channels": "channel_1"}

    confirm_on_booking = _check(
        _("Confirmation on booking"),
        _("The patient gets a confirmation when an appointment is booked."),
    )
    lead_hours = LeadTimesField(
        label=_("Reminders before the appointment"),
        required=False,
        help_text=_(
            "Up to 5, e.g. 48 hours and 24 hours. Whole days keep the time of day: 1 day "
            "before an appointment at 10:00 is 10:00 the day before, also when the clocks "
            "change. Empty a field to remove that reminder; no reminder at all is allowed."
        ),
    )
    channel_1 = _select(ORDINALS[0], CHANNEL_CHOICES)
    channel_2 = _select(ORDINALS[1], CHANNEL_CHOICES)
    channel_3 = _select(ORDINALS[2], CHANNEL_CHOICES)

    def __init__(self, *args: Any, rule: Rule, read_only: bool = False, **kwargs: Any) -> None:
        initial = {"confirm_on_booking": rule.confirm_on_booking, "lead_hours": rule.lead_hours}
        for i, channel in enumerate(rule.channels[:3], start=1):
            initial[f"channel_{i}"] = channel
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {**initial, **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = read_only

    def rule_data(self) -> dict[str, Any]:
        """What ``services.save_rule`` takes; the channels unsorted and undeduplicated, so
        that the service names a channel chosen twice, as the API does."""
        data = self.cleaned_data
        return {
            "confirm_on_booking": data["confirm_on_booking"],
            "lead_hours": data["lead_hours"],
            "channels": [c for i in (1, 2, 3) if (c := data.get(f"channel_{i}"))],
        }


class DefaultRuleForm(RuleForm):
    """The practice's rule together with the practice's quiet hours, saved as one."""

    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"),
        help_text=_("Practice time. Applies to every rule, birthday greetings and recalls."),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"),
        help_text=_("The same time in both fields: no quiet hours."),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "quiet_hours_start": practice.quiet_hours_start,
            "quiet_hours_end": practice.quiet_hours_end,
        }
        super().__init__(*args, **kwargs)

    def quiet_data(self) -> dict[str, time | None]:
        return {f: self.cleaned_data.get(f) for f in ("quiet_hours_start", "quiet_hours_end")}


class NewRuleForm(RuleForm):
    """A category's own rule; only categories that have none yet can be chosen."""

    category = forms.ModelChoiceField(
        label=_("Patient category"),
        queryset=PatientCategory.objects.none(),
        empty_label=_("— choose —"),
        help_text=_("Its patients get this rule instead of the practice's rule."),
    )
    field_order = ["category"]

    def __init__(self, *args: Any, categories: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = categories
