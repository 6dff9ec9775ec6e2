"""The patient picker: one search field for every staff page that picks a patient.

Why this shape:

* A practice has 5,000-50,000 patients: a ``<select>`` of all of them is neither
  possible (it was cut at 2,000) nor usable. The picker searches the patients list's
  search (``patients.services.find_patients``: last and first name, birth date, e-mail
  or mobile fragment, scoped to the practice, never erased patients) and shows the best
  matches with name and birth date, so namesakes can be told apart.
* Without JavaScript: the field's own "Search" button (``<name>_search``) sends the form,
  and the page comes back with everything entered kept (``keep_entered``: nothing is
  validated, nothing saved) and the matches as radio buttons. Sending the form with text
  in the field but no patient chosen is not an error page either: the matches appear,
  with "choose one" next to the field.
* With JavaScript (``static/web/patient-picker.js``): type-ahead against the staff-only
  JSON view ``web:patient_search``, debounced, an ARIA combobox usable by keyboard.
* The chosen patient travels as its id and is looked up again, scoped to the practice,
  when the form is cleaned: an id of another practice, an erased or unknown patient, is
  a message next to the field, never a server error and never a hint that it exists.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from praxisbote.messaging.services import _is_uuid
from praxisbote.patients.models import Patient
from praxisbote.patients.services import find_patients
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped

#: Type-ahead starts at this many characters (the server answers any query).
MIN_CHARS = 2


def chosen_patient(practice: Practice | None, patient_id: Any) -> Patient | None:
    """The practice's living patient with this id, else None (wrong practice included)."""
    if practice is None or not patient_id or not _is_uuid(patient_id):
        return None
    return scoped(Patient, practice).filter(pk=patient_id, erased_at__isnull=True).first()


def describe(patient: Patient) -> dict[str, str]:
    """What the picker shows of a match: enough to tell namesakes apart."""
    name = ", ".join(p for p in (patient.last_name, patient.first_name) if p)
    born = date_format(patient.birth_date, "SHORT_DATE_FORMAT") if patient.birth_date else ""
    return {
        "id": str(patient.pk),
        "name": name or str(patient.pk),
        "born": born,
        "hint": patient.mobile or patient.email,
    }


def matches(practice: Practice, query: str) -> dict[str, Any]:
    """The picker's answer for ``query`` (the JSON view and the page without script)."""
    found, more = find_patients(practice, query)
    return {"query": query, "results": [describe(p) for p in found], "more": more}


class PatientPicker(forms.Widget):
    """A search field, a "Search" button, the chosen patient and, after a search, the
    matches. Its value is ``{"id", "q", "search"}`` from the fields ``<name>``,
    ``<name>_q`` and ``<name>_search``."""

    template_name = "web/forms/patient_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.practice: Practice | None = None

    def value_from_datadict(self, data: Any, files: Any, name: str) -> dict[str, Any]:
        return {
            "id": (data.get(name) or "").strip(),
            "q": (data.get(f"{name}_q") or "").strip(),
            "search": f"{name}_search" in data,
        }

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and f"{name}_q" not in data

    @staticmethod
    def as_value(value: Any) -> dict[str, Any]:
        """An initial value may be a patient id (``?patient=`` links) or a Patient."""
        if isinstance(value, dict):
            return {"id": "", "q": "", "search": False, **value}
        if isinstance(value, Patient):
            return {"id": str(value.pk), "q": "", "search": False}
        return {"id": str(value or ""), "q": "", "search": False}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, None, attrs)
        value = self.as_value(value)
        chosen = chosen_patient(self.practice, value["id"])
        show = bool(value["q"]) and (value["search"] or chosen is None)
        found = matches(self.practice, value["q"]) if show and self.practice else None
        results = found["results"] if found else []
        if chosen is not None and found and all(r["id"] != str(chosen.pk) for r in results):
            results = [describe(chosen), *results]  # the chosen one stays choosable
        context["picker"] = {
            "name": name,
            "id": context["widget"]["attrs"].get("id") or f"id_{name}",
            "query": value["q"],
            "chosen": describe(chosen) if chosen else None,
            "searched": found is not None,
            "results": results,
            "more": bool(found and found["more"]),
            "min_chars": MIN_CHARS,
        }
        return context


class PatientField(forms.Field):
    """Cleans to the chosen ``Patient`` of the practice (see ``bind``), or a message."""

    widget = PatientPicker
    default_error_messages = {
        "required": _("Search for the patient and choose one."),
        "choose": _("Choose the patient among the matches below."),
        "unknown": _(
            "This patient cannot be chosen (not a patient of this practice, or erased). "
            "Search again."
        ),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            _(
                "Last name, first name, date of birth (31.12.1980), part of the mobile "
                "number or e-mail address."
            ),
        )
        super().__init__(*args, **kwargs)

    def bind(self, practice: Practice) -> None:
        self.practice = practice
        self.widget.practice = practice

    def clean(self, value: Any) -> Patient | None:
        value = PatientPicker.as_value(value)
        if not value["id"]:
            if value["q"]:
                raise ValidationError(self.error_messages["choose"], code="choose")
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        patient = chosen_patient(getattr(self, "practice", None), value["id"])
        if patient is None:
            raise ValidationError(self.error_messages["unknown"], code="unknown")
        return patient


def searching(form: forms.Form) -> bool:
    """Whether the form came from a picker's "Search" button (show, do not save)."""
    return form.is_bound and any(
        f"{form.add_prefix(name)}_search" in form.data
        for name, field in form.fields.items()
        if isinstance(field, PatientField)
    )


def keep_entered(form: forms.Form) -> None:
    """Show the form again with what was entered, without validating it: a search inside
    a form must not greet the user with errors for fields they have not filled yet."""
    form.initial = {
        name: field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        for name, field in form.fields.items()
    }
    form.is_bound = False
    form.data = {}
    form.files = {}
