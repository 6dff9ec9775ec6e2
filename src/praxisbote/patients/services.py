"""Patient writes, validation, GDPR export and erasure; shared by API, UI and CLI.

Validation lives here, not in forms or schemas, so the API and the staff UI give the
same message for the same mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, When
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from praxisbote.patients.models import (
    DEFAULT_NOTIFICATIONS,
    Notification,
    Patient,
    PatientCategory,
)
from praxisbote.phone import normalise_mobile
from praxisbote.practices.models import Channel, Language, Practice
from praxisbote.practices.tenancy import scoped

THREEMA_ID = re.compile(r"^[A-Z0-9*][A-Z0-9]{7}$")
TEXT_FIELDS = {
    "salutation": 50,
    "first_name": 100,
    "last_name": 100,
    "notes": 10000,
    "external_id": 100,
}
PATIENT_FIELDS = (
    *TEXT_FIELDS,
    "birth_date",
    "language",
    "email",
    "mobile",
    "threema_id",
    "category",
    "channels",
    "notifications",
    "consent",
)

# Other apps (messaging, appointments, documents) add what they hold about a patient.
ExportHook = Callable[[Patient], dict[str, Any]]
EraseHook = Callable[[Patient], None]
EXPORT_HOOKS: list[ExportHook] = []
ERASE_HOOKS: list[EraseHook] = []


def create_default_categories(practice: Practice) -> PatientCategory:
    return PatientCategory.objects.create(
        practice=practice,
        name=_("Standard"),
        channels=[Channel.EMAIL, Channel.SMS],
        notifications=DEFAULT_NOTIFICATIONS,
        is_default=True,
    )


def default_category(practice: Practice) -> PatientCategory | None:
    return scoped(PatientCategory, practice).filter(is_default=True).first()


def _clean_channels(value: Any, field: str, errors: dict[str, str]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(v not in Channel.values for v in value):
        errors[field] = _("Channels must be a list of: email, sms, threema.")
        return None
    return list(dict.fromkeys(value))


def _clean_notifications(value: Any, errors: dict[str, str]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(v not in Notification.values for v in value):
        errors["notifications"] = _("Notifications must be a list of: %(kinds)s.") % {
            "kinds": ", ".join(Notification.values)
        }
        return None
    return list(dict.fromkeys(value))


def _clean_consent(value: Any, old: Mapping[str, Any], errors: dict[str, str]) -> dict:
    """Merge consent changes; a change without ``at`` is stamped now (PAT-4)."""
    if not isinstance(value, Mapping):
        errors["consent"] = _("Consent must be an object per channel.")
        return dict(old)
    merged = dict(old)
    for channel, entry in value.items():
        field = f"consent.{channel}"
        if channel not in Channel.values:
            errors[field] = _("Unknown channel %(channel)s.") % {"channel": channel}
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("granted"), bool):
            errors[f"{field}.granted"] = _("Say whether consent is granted (true or false).")
            continue
        at = entry.get("at")
        if at in (None, ""):
            stamp = timezone.now()
        else:
            stamp = at if isinstance(at, datetime) else parse_datetime(str(at))
            if stamp is None:
                errors[f"{field}.at"] = _("Enter a date and time (ISO 8601).")
                continue
            if timezone.is_naive(stamp):
                stamp = timezone.make_aware(stamp, UTC)
        merged[channel] = {
            "granted": entry["granted"],
            "source": str(entry.get("source") or "")[:200],
            "at": stamp.isoformat(),
        }
    return merged


def _clean_birth_date(value: Any, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, date) else parse_date(str(value))
    if parsed is None:
        errors["birth_date"] = _("Enter the birth date as YYYY-MM-DD.")
    elif parsed > timezone.localdate() or parsed.year < 1880:
        errors["birth_date"] = _("The birth date cannot be in the future or before 1880.")
    return parsed


def clean_patient_data(
    practice: Practice, data: Mapping[str, Any], patient: Patient | None = None
) -> dict[str, Any]:
    """Validated, normalised values for the fields present in ``data``.

    Raises ``ValidationError`` with a message per field; nothing is written.
    """
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field in TEXT_FIELDS:
            text = "" if value is None else str(value).strip()
            if len(text) > TEXT_FIELDS[field]:
                errors[field] = _("At most %(n)d characters.") % {"n": TEXT_FIELDS[field]}
            out[field] = text
        elif field == "birth_date":
            out[field] = _clean_birth_date(value, errors)
        elif field == "language":
            if value not in ("", None, *Language.values):
                errors[field] = _("Language must be de or en.")
            out[field] = value or ""
        elif field == "email":
            text = (value or "").strip()
            if text:
                try:
                    validate_email(text)
                except ValidationError:
                    errors[field] = _("%(value)s is not a valid e-mail address.") % {"value": text}
            out[field] = text
        elif field == "mobile":
            text = (value or "").strip()
            try:
                out[field] = normalise_mobile(text, practice.country) if text else ""
            except ValidationError as exc:
                errors[field] = exc.messages[0]
        elif field == "threema_id":
            text = (value or "").strip().upper()
            if text and not THREEMA_ID.match(text):
                errors[field] = _("A Threema ID has 8 characters: letters A-Z and digits.")
            out[field] = text
        elif field == "category":
            out[field] = _clean_category(practice, value, errors)
        elif field == "channels":
            out[field] = _clean_channels(value, field, errors)
        elif field == "notifications":
            out[field] = _clean_notifications(value, errors)
        elif field == "consent":
            old = patient.consent if patient else {}
            out[field] = _clean_consent(value or {}, old, errors)
    if errors:
        raise ValidationError(errors)
    return out


def _clean_category(practice: Practice, value: Any, errors: dict[str, str]):
    if value in (None, ""):
        return None
    if isinstance(value, PatientCategory):
        value = value.pk
    try:
        return scoped(PatientCategory, practice).get(pk=int(value))
    except (PatientCategory.DoesNotExist, ValueError, TypeError):
        errors["category"] = _("No such patient category in this practice.")
        return None


def create_patient(practice: Practice, data: Mapping[str, Any]) -> Patient:
    values = clean_patient_data(practice, data)
    if not (values.get("first_name") or values.get("last_name")):
        raise ValidationError({"last_name": _("Enter at least a first or a last name.")})
    if "category" not in data:
        values["category"] = default_category(practice)
    return Patient.objects.create(practice=practice, **values)


def update_patient(patient: Patient, data: Mapping[str, Any]) -> Patient:
    if patient.erased_at:
        raise ValidationError({"id": _("This patient's data was erased; it cannot be changed.")})
    values = clean_patient_data(patient.practice, data, patient)
    for field, value in values.items():
        setattr(patient, field, value)
    if not (patient.first_name or patient.last_name):
        raise ValidationError({"last_name": _("Enter at least a first or a last name.")})
    patient.save()
    return patient


#: Birth dates as staff type them: 31.12.1980, 1.3.1980, 31.12.80, 1980-12-31.
BIRTH_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y")
#: How many matches the patient picker shows (more: type more of the name).
PICK_LIMIT = 10


def as_birth_date(word: str) -> date | None:
    """``word`` as a birth date, or None; a two-digit year is never in the future."""
    for pattern in BIRTH_DATE_FORMATS:
        try:
            day = datetime.strptime(word, pattern).date()
        except ValueError:
            continue
        if day > timezone.localdate():
            day = day.replace(year=day.year - 100)
        return day
    return None


def _word_matches(word: str) -> Q:
    """One search word: a birth date, or a fragment of a name, e-mail address or mobile
    number, or the ID from the practice software. On PostgreSQL the fragments use the
    trigram index of migration patients 0003, the date ``patient_birth_date``."""
    born = as_birth_date(word)
    if born is not None:
        return Q(birth_date=born)
    return (
        Q(first_name__icontains=word)
        | Q(last_name__icontains=word)
        | Q(email__icontains=word)
        | Q(mobile__icontains=word.lstrip("0"))
        | Q(external_id=word)
    )


def _matching(practice: Practice, query: str) -> QuerySet[Patient]:
    qs = scoped(Patient, practice).filter(erased_at__isnull=True)
    for word in (query or "").split():
        qs = qs.filter(_word_matches(word))
    return qs


def search_patients(practice: Practice, query: str = "") -> QuerySet[Patient]:
    """The practice's patients (never erased ones) matching every word of ``query``."""
    return _matching(practice, query).select_related("category")


def find_patients(
    practice: Practice, query: str, limit: int = PICK_LIMIT
) -> tuple[list[Patient], bool]:
    """The patient picker's best matches and whether there are more: the patients list's
    search, last names starting with the first word first, then first names, then the
    rest; namesakes by birth date. Empty query: nobody (a picker never lists everyone)."""
    if not (query or "").split():
        return [], False
    rows = list(_ranked(practice, query)[: limit + 1])
    return rows[:limit], len(rows) > limit


def _ranked(practice: Practice, query: str) -> QuerySet[Patient]:
    first = query.split()[0]
    rank = Case(
        When(last_name__istartswith=first, then=0),
        When(first_name__istartswith=first, then=1),
        default=2,
        output_field=IntegerField(),
    )
    return (
        _matching(practice, query)
        .annotate(rank=rank)
        .order_by("rank", "last_name", "first_name", "birth_date", "pk")
    )


def patient_as_dict(patient: Patient) -> dict[str, Any]:
    return {
        "id": str(patient.id),
        "external_id": patient.external_id,
        "salutation": patient.salutation,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "language": patient.language,
        "email": patient.email,
        "mobile": patient.mobile,
        "threema_id": patient.threema_id,
        "notes": patient.notes,
        "category": patient.category.name if patient.category else None,
        "channels": patient.effective_channels(),
        "notifications": patient.effective_notifications(),
        "consent": patient.consent,
        "created_at": patient.created_at.isoformat(),
        "updated_at": patient.updated_at.isoformat(),
    }


def export_patient(patient: Patient) -> dict[str, Any]:
    """Everything held about one patient (GDPR Art. 15)."""
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "practice": {"id": str(patient.practice_id), "name": patient.practice.name},
        "patient": patient_as_dict(patient),
    }
    for hook in EXPORT_HOOKS:
        data.update(hook(patient))
    return data


@transaction.atomic
def erase_patient(patient: Patient) -> Patient:
    """Remove personal data (GDPR Art. 17) but keep the row, so billing totals stay whole."""
    for hook in ERASE_HOOKS:
        hook(patient)
    for field in (*TEXT_FIELDS, "email", "mobile", "threema_id", "language"):
        setattr(patient, field, "")
    patient.birth_date = None
    patient.consent = {}
    patient.channels = None
    patient.notifications = None
    patient.erased_at = timezone.now()
    patient.save()
    return patient


def save_category(
    practice: Practice, category: PatientCategory | None, data: Mapping[str, Any]
) -> PatientCategory:
    """Create (``category`` None) or change a patient category."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if "name" in data or category is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = _("Enter a name.")
        elif (
            scoped(PatientCategory, practice)
            .filter(name=name)
            .exclude(pk=category.pk if category else None)
            .exists()
        ):
            errors["name"] = _("A category with this name exists already.")
        values["name"] = name
    if data.get("channels") is not None:
        values["channels"] = _clean_channels(data["channels"], "channels", errors)
    if data.get("notifications") is not None:
        values["notifications"] = _clean_notifications(data["notifications"], errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if category is None:
            values.setdefault("channels", [Channel.EMAIL])
            values.setdefault("notifications", DEFAULT_NOTIFICATIONS)
            category = PatientCategory(practice=practice)
        for field, value in values.items():
            setattr(category, field, value)
        if data.get("is_default"):
            scoped(PatientCategory, practice).update(is_default=False)
            category.is_default = True
        category.save()
    return category


def consent_changes(
    old: Mapping[str, Any], wanted: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Only the channels whose consent or source differs from ``old``.

    A form shows every channel and sends them all back; passing only the changes keeps
    the recorded time of an unchanged consent instead of restamping it on every save.
    """
    changes: dict[str, dict[str, Any]] = {}
    for channel, entry in wanted.items():
        before = old.get(channel) or {}
        granted = bool(entry.get("granted"))
        source = str(entry.get("source") or "").strip()
        if granted != bool(before.get("granted")) or source != before.get("source", ""):
            changes[channel] = {"granted": granted, "source": source}
    return changes


def categories_with_counts(practice: Practice) -> QuerySet[PatientCategory]:
    """The practice's categories, each with ``patient_count`` (erased patients left out)."""
    return scoped(PatientCategory, practice).annotate(
        patient_count=Count("patients", filter=Q(patients__erased_at__isnull=True))
    )
