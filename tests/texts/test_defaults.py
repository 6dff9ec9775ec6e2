"""Shipped defaults follow seed 003 (TPL-5): short, the practice's phone, call to cancel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from praxisbote.practices.models import Practice
from praxisbote.texts import encoding
from praxisbote.texts.models import TEMPLATE_KINDS
from praxisbote.texts.rendering import build_context, render_sources, sources_for

# Typical names of German-speaking patients and practices (seed 003 uses the first ones).
PATIENTS = [
    {"salutation": "Frau", "first_name": "Silvana", "last_name": "Müller"},
    {"salutation": "Herr", "first_name": "Thomas", "last_name": "Gruber"},
    {"salutation": "Frau", "first_name": "Katharina", "last_name": "Hofbauer"},
    {"salutation": "Herr", "first_name": "Jürgen", "last_name": "Schneider"},
]
PRACTICES = [
    {"name": "Zahnarztpraxis Dr. Mustermann", "phone": "01234-567890"},
    {"name": "Praxis Dr. Huber", "phone": "+43 1 5551234"},
    {"name": "Physiotherapie am Park", "phone": "+41 44 123 45 67"},
]
LINK = "https://praxis.example/t/Ab3dE5f"  # an express slip link (APT-10)
KINDS = [kind for kind, _label in TEMPLATE_KINDS]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_sms_defaults_fit_one_gsm_sms_with_typical_names(kind, language):
    for fields in PRACTICES:
        practice = Practice.objects.create(country="AT", timezone="Europe/Vienna", **fields)
        sources = sources_for(practice, kind, "sms", [language])[language]
        for patient in PATIENTS:
            context = {
                "patient": patient,
                "appointment": {"start": datetime(2026, 12, 19, 15, 30, tzinfo=UTC)},
                "link": LINK,
                "code": "483920",
            }
            out = render_sources(sources, "sms", build_context(practice, language, context))
            analysis = encoding.analyze(out.text)
            assert analysis.encoding == encoding.GSM7, out.text
            assert analysis.units <= 160, (analysis.units, out.text)
            assert analysis.segments == 1
            if kind in ("confirmation", "reminder", "recall", "cancellation", "invitation"):
                assert fields["phone"] in out.text  # seed 003: name the phone number


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "en"])
def test_appointment_defaults_say_call_to_cancel(language):
    practice = Practice.objects.create(name="P", country="DE", phone="030 1234567")
    for kind in ("confirmation", "reminder"):
        text = sources_for(practice, kind, "sms", [language])[language].text
        words = {"de": "Verhindert? Tel.", "en": "call"}[language]
        assert words.lower() in text.lower()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "en"])
def test_cancellation_of_several_appointments_costs_fewer_sms(language):
    """A mass cancellation tells a patient about all their appointments in one SMS: two
    fit one SMS with typical practices, and n appointments never need n parts."""
    for fields in PRACTICES:
        practice = Practice.objects.create(country="AT", timezone="Europe/Vienna", **fields)
        sources = sources_for(practice, "cancellation", "sms", [language])[language]
        for count in range(2, 7):
            # two-digit hours (10:30 AM is longer than 9:30 AM) on different days
            starts = [datetime(2026, 12, 14 + i, 9 + i, 30, tzinfo=UTC) for i in range(count)]
            appointments = [{"start": s} for s in starts]
            context = {
                "patient": PATIENTS[2],
                "appointment": appointments[0],
                "appointments": appointments,
                "link": LINK,
            }
            out = render_sources(sources, "sms", build_context(practice, language, context))
            analysis = encoding.analyze(out.text)
            assert analysis.encoding == encoding.GSM7, out.text
            assert analysis.segments < count, (count, out.text)
            if count == 2:
                assert analysis.segments == 1, out.text
            assert fields["phone"] in out.text
