"""Staff UI forms for outreach (mass notices; later birthdays, recalls, waiting list).

Like ``web.forms``: the fields only parse; ``outreach`` services validate, and their
messages land next to the field of the same name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from praxisbote.outreach import mass
from praxisbote.outreach.mass_cancel import MAX_DAYS
from praxisbote.patients.models import PatientCategory
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.web.dates import FIRST_DAY, LAST_DAY
from praxisbote.web.forms import DATE_INPUT, WebForm
from praxisbote.web.patient_picker import PatientField

TRISTATE = [("", _("either")), ("yes", _("yes")), ("no", _("no"))]


def _tristate(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class MassNoticeForm(WebForm):
    error_fields = {
        "audience.category_ids": "categories",
        "audience.consented_to": "consented_to",
        "audience.q": "q",
        "audience": "categories",
    }

    categories = forms.MultipleChoiceField(
        label=_("Patient categories"),
        help_text=_("None ticked: patients of every category."),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consented_to = forms.MultipleChoiceField(
        label=_("Only patients who consented to"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    has_mobile = forms.ChoiceField(label=_("Has a mobile number"), choices=TRISTATE, required=False)
    has_email = forms.ChoiceField(
        label=_("Has an e-mail address"), choices=TRISTATE, required=False
    )
    q = forms.CharField(
        label=_("Search"),
        help_text=_("Name, e-mail address, mobile number or ID; empty: everybody."),
        required=False,
    )
    channels = forms.MultipleChoiceField(
        label=_("Send by"),
        help_text=_(
            "Each patient gets the notice once, by a ticked channel they consented to. "
            "Patients who switched mass notices off get nothing."
        ),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    order = forms.ChoiceField(
        label=_("Which channel first"),
        choices=[
            ("patient", _("the patient's preferred channel")),
            ("given", _("e-mail before SMS before Threema (cheapest first)")),
        ],
        initial="patient",
        widget=forms.RadioSelect,
    )
    subject = forms.CharField(
        label=_("Subject"), help_text=_("E-mail only."), required=False, max_length=250
    )
    text = forms.CharField(
        label=_("Text"),
        help_text=_(
            "The same text for everyone: no names or appointment data (seed 001). "
            "{{ practice.name }} and {{ practice.phone }} may be used."
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        help_text=_("Leave empty to send now. Practice time zone."),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    fingerprint = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [
            (str(c.pk), c.name) for c in scoped(PatientCategory, practice)
        ]
        self.fields["channels"].choices = [
            (c, label) for c, label in Channel.choices if practice.channel_enabled(c)
        ]

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``outreach.mass.preview`` / ``send``."""
        cd = self.cleaned_data
        order = cd.get("order") or "patient"
        channels = list(cd.get("channels") or [])
        if order == "given":
            channels = [c for c in ("email", "sms", "threema") if c in channels]
        return {
            "audience": mass.Audience(
                category_ids=tuple(int(c) for c in cd.get("categories") or []),
                consented_to=tuple(cd.get("consented_to") or []),
                has_mobile=_tristate(cd.get("has_mobile") or ""),
                has_email=_tristate(cd.get("has_email") or ""),
                q=(cd.get("q") or "").strip(),
            ),
            "content": mass.Content(text=cd.get("text") or "", subject=cd.get("subject") or ""),
            "channels": channels,
            "order": order,
            "send_at": cd.get("send_at"),
        }


class OutreachSettingsForm(WebForm):
    birthday_enabled = forms.BooleanField(
        label=_("Send birthday greetings"),
        help_text=_(
            "Only to patients whose category (or own setting) includes birthday greetings, "
            "by a channel they consented to; once a year. Born on 29 February: on 28 "
            "February in other years."
        ),
        required=False,
    )
    birthday_hour = forms.IntegerField(
        label=_("Birthday greetings at (hour)"),
        help_text=_("0-23, practice time zone; outside the quiet hours."),
        required=False,
    )
    recall_hour = forms.IntegerField(
        label=_("Recalls at (hour)"),
        help_text=_("0-23, practice time zone; outside the quiet hours."),
        required=False,
    )
    recall_followup_days = forms.IntegerField(
        label=_("Follow-up after (days)"),
        help_text=_(
            "If no appointment was booked after a recall, it is sent once more after so "
            "many days; 0: no follow-up."
        ),
        required=False,
    )


class RecallForm(WebForm):
    due_date = forms.DateField(
        label=_("Recall due on"),
        help_text=_("The recall goes out on this day at the practice's recall hour."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    interval_months = forms.IntegerField(
        label=_("Repeat every (months)"),
        help_text=_("0: only once."),
        required=False,
        initial=6,
    )
    note = forms.CharField(
        label=_("Note"), help_text=_("For staff, e.g. Prophylaxe; not sent."), required=False
    )


class WaitingEntryForm(WebForm):
    patient_id = PatientField(label=_("Patient"))
    wishes = forms.CharField(
        label=_("Wishes"),
        help_text=_("e.g. mornings only, not on Mondays"),
        required=False,
        max_length=500,
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient_id"].bind(practice)


class OfferForm(WebForm):
    error_fields = {"entry_ids": "count", "end": "duration", "appointment_id": "start"}

    appointment_id = forms.CharField(required=False, widget=forms.HiddenInput)
    start = forms.DateTimeField(
        label=_("Free slot"),
        help_text=_("Date and time, practice time zone."),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, initial=30, min_value=5, max_value=1440
    )
    practitioner = forms.CharField(label=_("Practitioner"), required=False, max_length=200)
    location = forms.CharField(label=_("Place"), required=False, max_length=200)
    count = forms.IntegerField(
        label=_("Offer to the first"),
        help_text=_(
            "How many patients without an open offer, oldest entries first. Each gets a "
            "link to take the slot; the first to tap gets it."
        ),
        required=False,
        initial=3,
        min_value=1,
        max_value=50,
    )

    def slot(self) -> dict[str, Any]:
        """The data of ``outreach.offers.create``."""
        cd = self.cleaned_data
        start = cd.get("start")
        minutes = cd.get("duration") or 30
        return {
            "appointment_id": cd.get("appointment_id") or None,
            "start": start,
            "end": start + timedelta(minutes=minutes) if start else None,
            "practitioner": cd.get("practitioner") or "",
            "location": cd.get("location") or "",
        }


class MassCancelRangeForm(WebForm):
    """The days of a mass cancellation: a first and a last day (a sick week is Monday to
    Friday), capped at ``MAX_DAYS`` like the API; optionally one practitioner's only."""

    date_from = forms.DateField(label=_("First day"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("Last day"), required=False, widget=DATE_INPUT)
    # Free text behind a select: the choices are the practitioners of the chosen days,
    # known only once the days are valid.
    practitioner = forms.CharField(
        label=_("Practitioner"),
        help_text=_("Only this practitioner's appointments, e.g. when one of you is ill."),
        required=False,
        widget=forms.Select,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date_to"].help_text = gettext(
            "Empty: only the first day. At most %(n)d days at once."
        ) % {"n": MAX_DAYS}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if "date_from" in cleaned and first is None:
            self.add_error("date_from", _("Choose the first day."))
            return cleaned
        for name, day in (("date_from", first), ("date_to", last)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Enter a day between the years 1900 and 2999."))
        if self.errors or first is None:
            return cleaned
        last = cleaned["date_to"] = last or first
        if last < first:
            self.add_error("date_to", _("The last day lies before the first day."))
        elif (last - first).days + 1 > MAX_DAYS:
            limit = first + timedelta(days=MAX_DAYS - 1)
            self.add_error(
                "date_to",
                _("At most %(n)d days at once: choose a last day up to %(last)s.")
                % {"n": MAX_DAYS, "last": date_format(limit, "SHORT_DATE_FORMAT")},
            )
        return cleaned

    def days(self) -> list[date]:
        first, last = self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def offer_practitioners(self, names: list[str]) -> None:
        """The select's choices: everybody, or one of the practitioners of these days."""
        chosen = self.cleaned_data.get("practitioner") or ""
        names = sorted(set(names) | ({chosen} - {""}))
        self.fields["practitioner"].widget.choices = [
            ("", _("all")),
            *((n, n) for n in names),
        ]
