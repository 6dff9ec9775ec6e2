"""Staff UI forms for appointments: date and time in the practice's zone, the questions
seed 002 asks (new reminder after a move?), and nothing the service does not check again."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from praxisbote.practices.models import Practice
from praxisbote.web.forms import WebForm, _check, _text
from praxisbote.web.patient_picker import PatientField


def _date(label: str) -> forms.DateField:
    # ISO whatever the language: a date input ignores "11.03.2030" and shows nothing.
    return forms.DateField(
        label=label, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


def _time(label: str) -> forms.TimeField:
    return forms.TimeField(
        label=label, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )


def _duration() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=24 * 60, initial=30
    )


def local_start(day: date, clock: time, zone: str) -> datetime:
    """The practice's wall-clock time as an aware time (zoneinfo; fold 0 in autumn)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone))


class TimesMixin:
    cleaned_data: dict[str, Any]

    def times(self, zone: str) -> tuple[datetime, datetime]:
        start = local_start(self.cleaned_data["date"], self.cleaned_data["time"], zone)
        return start, start + timedelta(minutes=self.cleaned_data["duration"])


class AppointmentForm(TimesMixin, WebForm):
    error_fields = {"patient_id": "patient", "start": "date", "end": "duration"}

    patient = PatientField(label=_("Patient"))
    date = _date(_("Date"))
    time = _time(_("Time"))
    duration = _duration()
    practitioner = _text(_("Practitioner"), max_length=200)
    location = _text(_("Place"), _("Room or address; shown on the appointment slip."))
    notes = _text(_("Notes"), _("For the practice only; never sent."), widget=forms.Textarea)
    send_confirmation = _check(
        _("Send a confirmation"), _("As the reminder rules say, by the patient's channel.")
    )
    create_reminders = _check(_("Create reminders"), _("As the reminder rules say."))

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].bind(practice)


REMINDER_CHOICES = [
    ("yes", _("Yes, create a new reminder for the new time")),
    ("no", _("No reminder")),
]


class MoveForm(TimesMixin, WebForm):
    error_fields = {"start": "date", "end": "duration"}

    date = _date(_("New date"))
    time = _time(_("New time"))
    duration = _duration()
    renew_reminders = forms.ChoiceField(
        label=_("Create a new reminder?"),
        help_text=_("The reminders for the old time are withdrawn in any case."),
        choices=REMINDER_CHOICES,
        widget=forms.RadioSelect,
    )
    notify_patient = _check(_("Confirm the new time to the patient now"))


class CopyForm(TimesMixin, WebForm):
    error_fields = {"start": "date", "end": "duration"}

    date = _date(_("Date of the copy"))
    time = _time(_("Time"))
    duration = _duration()
    create_reminders = _check(
        _("Create reminders for the copy"), _("Reminders are not copied (seed 002).")
    )
    notify_patient = _check(_("Send a confirmation of the copy"))


class CancelForm(WebForm):
    notify_patient = _check(
        _("Tell the patient"), _("Sends the cancellation text by the patient's channel.")
    )
