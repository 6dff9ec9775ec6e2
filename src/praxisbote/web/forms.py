"""Staff UI forms: they parse what the browser sends; the domain services validate.

Fields are deliberately lenient (mostly optional text) so that a mistake reaches the
service and the user reads the same message the API gives for it, next to the field.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates
from django.utils.translation import gettext_lazy as _

from praxisbote.patients.models import Notification, Patient, PatientCategory
from praxisbote.patients.services import consent_changes
from praxisbote.practices.models import TIMEZONES, Channel, Language, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.web.patient_picker import PatientField


class WebRenderer(DjangoTemplates):
    """Renders every field as label, help, error, input, with ids for aria-describedby."""

    form_template_name = "web/forms/form.html"
    field_template_name = "web/forms/field.html"


class WebForm(forms.Form):
    default_renderer = WebRenderer
    # Service error keys that have no field of the same name on this form.
    error_fields: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put each message of a service's ``ValidationError`` next to its field."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            self.add_error(self._field_for(key), messages)

    def _field_for(self, key: str) -> str | None:
        # "consent.sms.granted" -> consent_sms_granted, else the nearest known prefix.
        candidates = [self.error_fields.get(key, key), key.replace(".", "_"), key.split(".")[0]]
        return next((c for c in candidates if c in self.fields), None)


def _text(label: str, help_text: str = "", **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, help_text=help_text, required=False, **kwargs)


def _select(label: str, choices: list[tuple[str, str]], help_text: str = "") -> forms.CharField:
    """A select whose value the service checks (a ChoiceField would answer first)."""
    return _text(label, help_text, widget=forms.Select(choices=choices))


def _check(label: str, help_text: str = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, help_text=help_text, required=False)


CHANNEL_CHOICES = [("", _("— none —")), *Channel.choices]
ORDINALS = (_("1st choice"), _("2nd choice"), _("3rd choice"))


def add_channel_order_fields(form: forms.Form, current: list[str] | None) -> None:
    """Three selects for channels in order of preference (no JavaScript needed to sort)."""
    current = list(current or [])
    for i, label in enumerate(ORDINALS, start=1):
        form.fields[f"channel_{i}"] = forms.ChoiceField(
            label=label, choices=CHANNEL_CHOICES, required=False
        )
        form.initial.setdefault(f"channel_{i}", current[i - 1] if len(current) >= i else "")


def channel_order(cleaned: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(c for i in (1, 2, 3) if (c := cleaned.get(f"channel_{i}"))))


class LoginForm(WebForm):
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form with our layout and the password rules as plain text."""

    default_renderer = WebRenderer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(password_validators_help_texts())


class PracticeSettingsForm(WebForm):
    name = _text(_("Practice name"), _("How patients know the practice."))
    phone = _text(
        _("Phone"),
        _("Printed in messages so that patients can call back."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    sender_name = _text(
        _("Sender display name"),
        _("Shown to patients as the sender, e.g. the practice or practitioner."),
    )
    timezone = _select(
        _("Time zone"),
        [(tz, tz) for tz in TIMEZONES],
        _("Appointment times and quiet hours are read in this time zone."),
    )
    language = _select(
        _("Language"),
        Language.choices,
        _("Language of messages to patients for whom no language is recorded."),
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"),
        help_text=_("No automatic messages (such as reminders) go out from this time…"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours until"),
        help_text=_("…until this time; they wait and go out afterwards."),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    protocol_retention_days = forms.IntegerField(
        label=_("Keep the send protocol for (days)"),
        help_text=_("Older protocol entries are deleted automatically (data protection)."),
        required=False,
    )
    email_enabled = _check(
        _("Allow e-mail"), _("Messages may go to patients by e-mail through your mail provider.")
    )
    sms_enabled = _check(
        _("Allow SMS (billed extra)"), _("Messages may go out as SMS; each SMS uses credit.")
    )
    threema_enabled = _check(
        _("Allow Threema (billed extra)"),
        _("Messages may go out through Threema; each message uses credit."),
    )

    def __init__(self, *args: Any, practice: Practice, read_only: bool = False, **kwargs: Any):
        kwargs.setdefault("initial", {f: getattr(practice, f) for f in self.base_fields})
        super().__init__(*args, **kwargs)
        tz = self.fields["timezone"].widget
        if practice.timezone not in TIMEZONES:  # keep a zone set through the API selectable
            tz.choices = [(practice.timezone, practice.timezone), *tz.choices]
        for field in self.fields.values():
            field.disabled = read_only


class ApiKeyForm(WebForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Where the key is used, e.g. the practice software; helps to revoke it later."),
    )


class CategoryForm(WebForm):
    name = _text(_("Name"), _("For example 'Adults', 'Children' or 'Recall only'."))
    notifications = forms.MultipleChoiceField(
        label=_("Automatic notifications"),
        help_text=_("Which automatic messages patients of this kind receive."),
        choices=Notification.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    is_default = _check(
        _("Default for new patients"),
        _("New patients get this category unless another is chosen."),
    )
    error_fields = {"channels": "channel_1"}

    def __init__(self, *args: Any, category: PatientCategory | None = None, **kwargs: Any):
        initial = kwargs.setdefault("initial", {})
        if category is not None:
            initial.update(
                name=category.name,
                notifications=category.notifications,
                is_default=category.is_default,
            )
        super().__init__(*args, **kwargs)
        add_channel_order_fields(self, category.channels if category else [Channel.EMAIL])
        self.fields["channel_1"].help_text = _(
            "Channels to try, in order: the first one the patient consented to and can be "
            "reached on is used."
        )
        if category is not None and category.is_default:
            self.fields["is_default"].disabled = True  # choose another default instead

    def service_data(self) -> dict[str, Any]:
        data = {
            "name": self.cleaned_data["name"],
            "channels": channel_order(self.cleaned_data),
            "notifications": self.cleaned_data["notifications"],
        }
        if self.cleaned_data.get("is_default") and not self.fields["is_default"].disabled:
            data["is_default"] = True
        return data


PATIENT_TEXT = ("salutation", "first_name", "last_name", "email", "mobile", "threema_id", "notes")
AS_CATEGORY = "category"


class PatientForm(WebForm):
    salutation = _text(_("Salutation"), _("As used in letters, e.g. 'Frau Dr.'."))
    first_name = _text(_("First name"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = _text(_("Last name"), widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_date = _text(
        _("Birth date"),
        _("Used for birthday greetings and to tell patients of the same name apart."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    language = _select(
        _("Language"),
        [("", _("as the practice")), *Language.choices],
        _("Messages to this patient are written in this language."),
    )
    email = _text(_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    mobile = _text(
        _("Mobile number"),
        _("Numbers from abroad with country code, e.g. +49 151 …; landlines cannot get SMS."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    threema_id = _text(_("Threema ID"), _("8 characters, shown in the patient's Threema app."))
    notes = _text(
        _("Notes"),
        _("Internal; never sent to the patient."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    category = _select(_("Category"), [], _("Sets which notifications go out and how."))
    channels = forms.ChoiceField(
        label=_("Channels"),
        choices=[(AS_CATEGORY, _("as the category says")), ("own", _("for this patient:"))],
        help_text=_("Which channels to try, in order; the category's choice fits most patients."),
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args: Any, practice: Practice, patient: Patient | None = None, **kw: Any):
        self.patient = patient
        categories = list(scoped(PatientCategory, practice).order_by("name"))
        kw.setdefault("initial", self._initial(patient, categories))
        super().__init__(*args, **kw)
        self.fields["category"].widget.choices = [
            ("", _("— none —")),
            *((str(c.pk), c.name) for c in categories),
        ]
        add_channel_order_fields(self, patient.channels if patient else None)
        for channel, label in Channel.choices:
            self.fields[f"consent_{channel}_granted"] = _check(
                _("%(channel)s: consent given") % {"channel": label}
            )
            self.fields[f"consent_{channel}_source"] = _text(
                _("%(channel)s: source of consent") % {"channel": label}
            )

    @staticmethod
    def _initial(patient: Patient | None, categories: list[PatientCategory]) -> dict[str, Any]:
        if patient is None:
            default = next((c for c in categories if c.is_default), None)
            return {"category": str(default.pk) if default else "", "channels": AS_CATEGORY}
        initial: dict[str, Any] = {f: getattr(patient, f) for f in PATIENT_TEXT}
        initial.update(
            birth_date=patient.birth_date.isoformat() if patient.birth_date else "",
            language=patient.language,
            category=str(patient.category_id or ""),
            channels=AS_CATEGORY if patient.channels is None else "own",
        )
        for channel, entry in (patient.consent or {}).items():
            initial[f"consent_{channel}_granted"] = bool(entry.get("granted"))
            initial[f"consent_{channel}_source"] = entry.get("source", "")
        return initial

    def consent_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"consent_{ch}_granted"], self[f"consent_{ch}_source"]) for ch in Channel.values
        ]

    def service_data(self) -> dict[str, Any]:
        """What the patient services take, as the API would send it."""
        cd = self.cleaned_data
        data: dict[str, Any] = {f: cd[f] for f in (*PATIENT_TEXT, "birth_date", "language")}
        data["category"] = cd["category"]
        data["channels"] = None if cd["channels"] in ("", AS_CATEGORY) else channel_order(cd)
        wanted = {
            ch: {"granted": cd[f"consent_{ch}_granted"], "source": cd[f"consent_{ch}_source"]}
            for ch in Channel.values
        }
        data["consent"] = consent_changes(self.patient.consent if self.patient else {}, wanted)
        return data


# --- Messages: the protocol's filters, the compose form, the webhook ---------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProtocolFilterForm(WebForm):
    """The protocol's filters (a GET form); a wrong value is named and the rest still apply."""

    q = _text(
        _("Recipient"),
        _("Patient name, e-mail address, mobile number or Threema ID."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    patient = forms.UUIDField(required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("all"))], required=False)
    state = forms.ChoiceField(label=_("Status"), choices=[("", _("all"))], required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("all"))], required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("Until"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from praxisbote.messaging.models import Kind, State

        super().__init__(*args, **kwargs)
        everything = ("", _("all"))
        self.fields["channel"].choices = [everything, *Channel.choices]
        self.fields["state"].choices = [everything, *State.choices]
        self.fields["kind"].choices = [everything, *Kind.choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date lies before the start date."))
        return cleaned


class ComposeForm(WebForm):
    """One free-text message; the field names are those of the service's errors."""

    channel = _select(_("Channel"), [], _("Only channels switched on for the practice."))
    # A UUID field: the service is only ever given a well-formed id (or none).
    patient_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    to = _text(
        _("Address"),
        _(
            "E-mail address, mobile number (+43 …, +49 …, +41 …) or Threema ID, as the "
            "channel needs. With a patient chosen, leave it empty to use the patient's address."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    subject = _text(_("Subject"), _("E-mail only."), max_length=250)
    text = _text(
        _("Text"),
        _("Plain text. For SMS, the length decides the number of parts and the cost."),
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        help_text=_("Leave empty to send now. Practice time zone."),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    sensitive = _check(
        _("Contains sensitive data"),
        _(
            "Diagnoses, findings, insurance numbers: such a message goes only through a "
            "channel cleared for sensitive data."
        ),
    )

    # The template the text came from (TPL-4: filled in, then edited by hand); free text
    # when empty or unknown.
    kind = forms.CharField(required=False, widget=forms.HiddenInput)
    # The appointment the message is about (from its page); checked against the practice.
    appointment_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, channels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].widget.choices = channels

    def spec_data(self) -> dict[str, Any]:
        """Keyword arguments of ``messaging.services.MessageSpec``."""
        from praxisbote.texts.models import TEMPLATE_KINDS

        cd = self.cleaned_data
        kinds = {k for k, _label in TEMPLATE_KINDS}
        return {
            "kind": cd.get("kind") if cd.get("kind") in kinds else "free",
            "appointment_id": cd.get("appointment_id"),
            "channel": cd["channel"],
            "text": cd["text"],
            "patient_id": cd["patient_id"],
            "to": cd["to"].strip(),
            "subject": cd["subject"].strip(),
            "send_at": cd["send_at"],
            "sensitive": cd["sensitive"],
        }


class WebhookForm(WebForm):
    url = _text(
        _("Address (URL)"),
        _(
            "Where praxisbote POSTs every status change of a message, signed. "
            "https:// (http:// only to 127.0.0.1 or localhost, for testing)."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    active = _check(
        _("Active"),
        _("Switched off, praxisbote sends your software no status changes until it is on again."),
    )


# --- E-mail through the practice's own provider (MAIL-1..11) -----------------------------------


def _number(label: str, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class EmailSettingsForm(WebForm):
    """Parses the page; ``messaging.email_settings`` validates, as for the API's PUT."""

    preset = _select(
        _("Mail provider"),
        [],
        _("Fills in the server and port; the provider's remarks are shown below it."),
    )
    host = _text(
        _("SMTP server"),
        _("The server for sending mail, e.g. smtp.posteo.de."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    port = _number(
        _("Port"),
        _("465: encrypted from the start (TLS); 587: STARTTLS. Other ports are tried both ways."),
    )
    from_address = _text(
        _("Sender address"),
        _("The practice's e-mail address; patients' replies go here. The test e-mail too."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    from_name = _text(
        _("Sender name"),
        _(
            "Shown to patients as the sender, e.g. the practice or the practitioner. "
            "Empty: the sender display name of the practice settings."
        ),
    )
    username = _text(
        _("User name"),
        _("For logging in at the provider; usually the e-mail address. Empty: the address."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Password"),
        help_text=_(
            "The mailbox password or the app password the provider issues. It is never "
            "shown again; leave the field empty to keep the password already saved."
        ),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    password_mode = _select(
        _("Keep the password"),
        [],
        _(
            "Encrypted on the server: mails keep going out after a restart. Only in memory: "
            "never written to disk, but after every restart of the server the password must "
            "be entered here again, and mails wait until then."
        ),
    )
    bcc = _text(
        _("Archive copy (BCC)"),
        _(
            "Optional: every mail also goes to this address, e.g. the practice's archive "
            "mailbox. Patients do not see it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    cleared_for_sensitive = _check(
        _("Cleared for sensitive data"),
        _(
            "Only if the provider encrypts the mailbox or you have a data-processing "
            "agreement with it. Without this, messages marked sensitive are not sent by e-mail."
        ),
    )
    imap_host = _text(
        _("IMAP server"),
        _(
            "Optional: with it, a copy of every mail sent is put into the mailbox's Sent "
            "folder (same user name and password), e.g. imap.posteo.de."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    imap_port = _number(_("IMAP port"), _("Usually 993. Empty: 993."))
    sent_folder = _text(
        _("Sent folder"),
        _("The folder's name as your mail program shows it, e.g. 'Gesendet'. Empty: 'Sent'."),
    )
    sessions = _number(
        _("Parallel connections"),
        _("How many connections send at the same time (1-10). Empty: 2; providers limit it."),
    )
    max_messages_per_connection = _number(
        _("Mails per connection"),
        _("After this many mails the connection is opened anew (1-10,000). Empty: 100."),
    )
    #: Fields a preset fills in.
    PRESET_FIELDS = (
        "host",
        "port",
        "imap_host",
        "imap_port",
        "sessions",
        "max_messages_per_connection",
    )

    def __init__(
        self,
        *args: Any,
        presets: list[tuple[str, str]],
        memory_note: str = "",
        read_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preset"].widget.choices = [("", _("Other provider or own server")), *presets]
        self.fields["password_mode"].widget.choices = [
            ("stored", _("encrypted on the server")),
            ("memory", _("only in memory (enter again after a restart)")),
        ]
        if memory_note:
            self.fields["password_mode"].help_text = f"{self.fields['password_mode'].help_text} "
            self.fields["password_mode"].help_text += memory_note
        for field in self.fields.values():
            field.disabled = read_only

    def settings_data(self) -> dict[str, Any]:
        """Keyword arguments of ``email_settings.EmailSettingsInput``.

        An empty port goes in as 0 so the service names the mistake, as for the API.
        """
        data = dict(self.cleaned_data)
        data["port"] = data.get("port") or 0
        return data


class PreviewPatientForm(WebForm):
    """Whose data the template editor's preview uses (the patient picker); never saved."""

    preview_patient = PatientField(
        label=_("Preview for"),
        required=False,
        help_text=_("Empty: sample data. Search by name, date of birth, mobile or e-mail."),
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preview_patient"].bind(practice)


class TemplateForm(WebForm):
    """The sources of one template; ``texts.services`` checks placeholders and syntax."""

    subject = _text(
        _("Subject"),
        _("One line. Placeholders work here too."),
        max_length=10_000,
        widget=forms.TextInput(attrs={"spellcheck": "true", "class": "wide"}),
    )
    text = _text(
        _("Text"),
        _(
            "Placeholders like {{ patient.name }} and conditions like "
            "{% if appointment %}…{% endif %}; see the list beside."
        ),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
    )
    html = _text(
        _("HTML"),
        _("Optional. Empty: the e-mail's HTML part is built from the text."),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if channel != Channel.EMAIL:
            del self.fields["subject"]
            del self.fields["html"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Browsers send "\r\n"; the templates (and SMS counts) use "\n".
        return {k: (v or "").replace("\r\n", "\n") for k, v in data.items()}


class BlocksForm(WebForm):
    """Every salutation and greeting block (name x channel x language) on one page."""

    def __init__(self, *args: Any, blocks: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channels, languages = dict(Channel.choices), dict(Language.choices)
        for row in blocks:
            name = self.field_name(row)
            self.fields[name] = _text(
                f"{channels[row['channel']]} · {languages[row['language']]}",
                _("Shipped default") if row["is_default"] else "",
                max_length=10_000,
                widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "true"}),
            )
            self.initial[name] = row["text"]

    @staticmethod
    def field_name(row: dict[str, Any]) -> str:
        return f"{row['name']}_{row['channel']}_{row['language']}"


def credential_field(gateway: str, name: str) -> str:
    return f"cred__{gateway}__{name}"


def option_field(gateway: str, name: str) -> str:
    return f"opt__{gateway}__{name}"


#: How credentials and options are called on the page (the API uses the names themselves).
CREDENTIAL_LABELS = {
    "api_key": _("API key"),
    "api_secret": _("API secret"),
    "auth_token": _("Auth token"),
    "userkey": _("Userkey"),
    "password": _("Password"),
    "signing_secret": _("Webhook signing secret"),
    "signature_secret": _("Signature secret"),
}

#: Labels of the gateways' own settings (``CONFIG_FIELDS``); an option missing here shows
#: its name, which test_sms_settings_page catches.
OPTION_LABELS = {
    "account_sid": _("Account SID"),
    "messaging_service_sid": _("Messaging service SID (optional)"),
    "signature_method": _("Signature method"),
    "preset": _("Preset"),
    "label": _("Gateway name"),
    "path": _("Path of the send request"),
    "method": _("HTTP method"),
    "auth": _("Authentication"),
    "auth_header": _("Header for the key"),
    "username": _("User name"),
    "body_format": _("Body format (json, form or query)"),
    "body_template": _("Body template"),
    "response_id_path": _("Path of the message id in the response"),
    "success_path": _("Path of the success field in the response"),
    "success_values": _("Values that mean success"),
    "error_classes": _("Error classes"),
    "dlr_id_field": _("Delivery report: field with the message id"),
    "dlr_status_field": _("Delivery report: field with the status"),
    "status_map": _("Delivery report: status table"),
    "balance_path": _("Path of the balance request"),
    "balance_field": _("Balance field in the response"),
}


class SmsSettingsForm(WebForm):
    """Switch, gateway and sender ID, plus credentials and options of every gateway (the
    page shows the chosen gateway's; the others stay hidden once JavaScript runs)."""

    sms_enabled = _check(
        _("Allow SMS (billed extra)"),
        _("Off: no SMS is accepted, neither from the practice software nor from this page."),
    )
    gateway = _select(_("Gateway"), [])
    sender_id = _text(
        _("Sender ID"),
        _("Up to 11 letters and digits, or a phone number of up to 16 digits."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    base_url = _text(
        _("Gateway address (optional)"),
        _("Only for an on-premise proxy or a test server; empty: the gateway's own address."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    rate_limit = forms.FloatField(
        label=_("Our own limit (SMS per second, optional)"), required=False, min_value=0
    )
    delivery_reports = _select(
        _("Delivery reports"),
        [
            ("", _("as the gateway does best")),
            ("webhook", _("the gateway calls us (webhook)")),
            ("poll", _("we ask the gateway (polling)")),
        ],
    )
    error_fields = {"credentials": "gateway"}

    def __init__(
        self, *args: Any, gateways: list[dict[str, Any]], current: dict[str, Any], **kwargs: Any
    ) -> None:
        initial = {
            "sms_enabled": current["sms_enabled"],
            "gateway": current["gateway"],
            "sender_id": current["sender_id"],
            "base_url": current["base_url"],
            "rate_limit": current["rate_limit"],
            "delivery_reports": current["delivery_reports"],
        }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.gateways = gateways
        self.chosen = str(self.data.get("gateway") or current["gateway"])
        self.fields["gateway"].widget.choices = [
            ("sandbox", _("Test mode: nothing leaves this server")),
            *[(g["name"], g["label"]) for g in gateways],
        ]
        for g in gateways:
            for name in g["credentials"] + g["optional_credentials"]:
                self.fields[credential_field(g["name"], name)] = _text(
                    str(CREDENTIAL_LABELS.get(name, name)),
                    "" if name in g["credentials"] else _("Optional."),
                    widget=forms.PasswordInput(
                        render_value=False, attrs={"autocomplete": "new-password"}
                    ),
                )
            for name in g["options"]:
                mine = g["name"] == current["gateway"]
                value = (current["options"] or {}).get(name, "") if mine else ""
                self.fields[option_field(g["name"], name)] = _text(
                    str(OPTION_LABELS.get(name, name)),
                    initial=json.dumps(value) if isinstance(value, dict | list) else value,
                )

    def _field_for(self, key: str) -> str | None:
        # "credentials.api_key" -> the chosen gateway's api_key field, likewise options.
        kind, _dot, name = key.partition(".")
        if kind == "credentials" and name:
            return credential_field(self.chosen, name)
        if kind == "options" and name:
            return option_field(self.chosen, name)
        return super()._field_for(key)


class SmsTestForm(WebForm):
    to = _text(
        _("Mobile number (optional)"),
        _("Empty: the practice's own phone number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
