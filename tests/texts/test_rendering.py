"""Rendering (TPL-1..3): the contract ``render``/``render_many``/``format_datetime``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation
from jinja2.sandbox import SecurityError

from praxisbote.messaging.models import Kind
from praxisbote.patients.services import create_patient
from praxisbote.texts import defaults, rendering
from praxisbote.texts.models import Block, Template
from praxisbote.texts.rendering import format_datetime, render, render_many


@pytest.fixture(autouse=True)
def english():
    """Problem texts are translated; these tests read the English ones."""
    with translation.override("en"):
        yield


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_seed_formats_in_german_and_english():
    start = utc(2026, 8, 19, 14, 30)  # summer: Vienna is UTC+2
    assert format_datetime(start, "de", "Europe/Vienna") == "19.08. um 16:30 Uhr"
    assert format_datetime(start, "en", "Europe/Vienna") == "19 Aug at 4:30 PM"


@pytest.mark.parametrize("zone", ["Europe/Vienna", "Europe/Berlin", "Europe/Zurich"])
@pytest.mark.parametrize(
    ("instant", "de", "en"),
    [
        (utc(2026, 1, 15, 15, 30), "15.01. um 16:30 Uhr", "15 Jan at 4:30 PM"),  # winter, +1
        (utc(2026, 7, 15, 14, 30), "15.07. um 16:30 Uhr", "15 Jul at 4:30 PM"),  # summer, +2
        # the DST days themselves: last Sunday of March and of October 2026
        (utc(2026, 3, 29, 0, 30), "29.03. um 01:30 Uhr", "29 Mar at 1:30 AM"),  # before switch
        (utc(2026, 3, 29, 1, 30), "29.03. um 03:30 Uhr", "29 Mar at 3:30 AM"),  # after
        (utc(2026, 10, 25, 0, 30), "25.10. um 02:30 Uhr", "25 Oct at 2:30 AM"),  # first 2:30
        (utc(2026, 10, 25, 1, 30), "25.10. um 02:30 Uhr", "25 Oct at 2:30 AM"),  # second 2:30
        (utc(2026, 10, 25, 15, 30), "25.10. um 16:30 Uhr", "25 Oct at 4:30 PM"),
    ],
)
def test_wall_clock_in_the_practice_zone_across_dst(zone, instant, de, en):
    assert format_datetime(instant, "de", zone) == de
    assert format_datetime(instant, "en", zone) == en


def test_unknown_language_formats_in_german():
    assert format_datetime(utc(2026, 8, 19, 14, 30), "fr", "Europe/Berlin") == (
        "19.08. um 16:30 Uhr"
    )


@pytest.fixture
def huber(practice):
    return create_patient(
        practice,
        {"salutation": "Frau", "first_name": "Anna", "last_name": "Huber", "mobile": "0676123456"},
    )


def appointment(start: datetime | None = None) -> dict:
    return {"start": start or utc(2026, 8, 19, 14, 30), "location": "Raum 2"}


def test_shipped_default_with_orm_patient(practice, huber):
    out = render(
        practice, Kind.REMINDER, "sms", "de", {"patient": huber, "appointment": appointment()}
    )
    assert "Anna Huber" in out.text and "19.08. um 16:30 Uhr" in out.text
    assert practice.phone in out.text  # seed 003: the practice's phone, call to cancel
    assert out.subject == "" and out.html == ""


def test_practice_template_wins_and_blocks_apply(practice, huber):
    Template.objects.create(
        practice=practice,
        kind="reminder",
        channel="sms",
        language="de",
        text="{{ salutation }} morgen {{ appointment.time }}. {{ greeting }}",
    )
    Block.objects.create(
        practice=practice, name="greeting", channel="sms", language="de", text="Ihr Team"
    )
    out = render(
        practice, "reminder", "sms", "de", {"patient": huber, "appointment": appointment()}
    )
    assert out.text == "Hallo Frau Huber, morgen 16:30 Uhr. Ihr Team"
    # English still falls back to the shipped default
    en = render(practice, "reminder", "sms", "en", {"patient": huber, "appointment": appointment()})
    assert en.text.startswith("Reminder for Anna Huber: 19 Aug at 4:30 PM.")


def test_unknown_language_uses_practice_language(practice, huber):
    out = render(
        practice, "reminder", "sms", "fr", {"patient": huber, "appointment": appointment()}
    )
    assert out.text.startswith("Erinnerung Anna Huber")


def test_email_has_subject_text_and_escaped_html(practice):
    patient = {"salutation": "Herr", "first_name": "Bob", "last_name": "<b>Tables</b>"}
    out = render(
        practice, "confirmation", "email", "de", {"patient": patient, "appointment": appointment()}
    )
    assert out.subject == "Ihr Termin am 19.08. um 16:30 Uhr"
    assert out.text.startswith("Sehr geehrter Herr <b>Tables</b>,")
    assert "&lt;b&gt;Tables&lt;/b&gt;" in out.html and "<b>" not in out.html


def test_own_html_is_autoescaped(practice):
    Template.objects.create(
        practice=practice,
        kind="free",
        channel="email",
        language="en",
        subject="Hi",
        text="x",
        html="<p>{{ salutation }}</p><p>{{ patient.last_name }}</p>",
    )
    out = render(practice, "free", "email", "en", {"patient": {"last_name": "<script>"}})
    assert out.html == "<p>Dear &lt;script&gt;,</p><p>&lt;script&gt;</p>"


def test_missing_values_render_empty_at_send_time(practice):
    out = render(practice, "confirmation", "email", "de", {"patient": None, "appointment": None})
    assert out.text.startswith("Guten Tag,")
    assert "None" not in out.text


def test_render_many_loads_and_compiles_once(practice, huber, django_assert_num_queries):
    contexts = [
        ("de" if i % 2 else "en", {"patient": huber, "appointment": appointment()})
        for i in range(400)
    ]
    rendering._compile.cache_clear()
    with django_assert_num_queries(2):  # templates + blocks, for all languages at once
        out = render_many(practice, "cancellation", "sms", contexts)
    assert len(out) == 400
    assert out[0].text.startswith("We are sorry") and out[1].text.startswith("Ihr Termin am")
    # 3 sources (text, salutation, greeting) per language
    assert rendering._compile.cache_info().misses == 6


def test_stored_escape_attempts_are_refused_by_the_sandbox(practice):
    """Even a row written around the validation cannot reach Python internals."""
    for source in (
        "{{ patient.__class__.__mro__ }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ practice.name.__class__ }}",
    ):
        Template.objects.update_or_create(
            practice=practice,
            kind="free",
            channel="sms",
            language="de",
            defaults={"text": source},
        )
        with pytest.raises(SecurityError):
            render(practice, "free", "sms", "de", {"patient": {"last_name": "X"}})


def test_context_has_no_orm_objects(practice, huber):
    data = rendering.build_context(practice, "de", {"patient": huber, "appointment": appointment()})
    assert type(data["patient"]) is dict and type(data["practice"]) is dict
    assert set(data["patient"]) == rendering.FIELDS["patient"]
    assert set(data["appointment"]) == rendering.FIELDS["appointment"]
    assert set(data["practice"]) == rendering.FIELDS["practice"]


def test_datetime_filter_with_babel_pattern(practice):
    Template.objects.create(
        practice=practice,
        kind="reminder",
        channel="threema",
        language="de",
        text="{{ appointment.weekday }}, {{ appointment.start|datetime('d. MMMM') }}",
    )
    out = render(practice, "reminder", "threema", "de", {"appointment": appointment()})
    assert out.text == "Mittwoch, 19. August"


# ---------------------------------------------------------------- save-time validation


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        ("{{ patient.nam }}", 1, "has no field 'nam'"),
        ("Hallo\n{{ vorname }}", 2, "Unknown placeholder 'vorname'"),
        ("a\nb\n{% if patient %}x", 3, "Syntax error"),
        ("{{ foo }\n", 1, "Syntax error"),
        ("x\n{{ patient.__class__ }}", 2, "'__class__' is not available"),
        ("{{ ''.__class__ }}", 1, "'__class__' is not available"),
        ("{{ patient.name.upper() }}", 1, "Only the documented fields"),
        ("{{ link.x }}", 1, "is a value without fields"),
        ("{% include 'other' %}", 1, "Including other templates"),
        ("\n\n{{ appointment.when|nosuchfilter }}", 3, "No filter named"),
        ("{{ cycler }}", 1, "Unknown placeholder 'cycler'"),
        ("ok\n{{ 1 / 0 }}", 2, "cannot be rendered"),
        ("{{ appointments.when }}", 1, "'appointments' is a list"),
        ("{{ appointments[0] }}", 1, "'appointments' is a list"),
        ("{% for a in appointments %}\n{{ a.datum }}{% endfor %}", 2, "'a' has no field 'datum'"),
        ("{% for a in appointments %}{{ a.when.x }}{% endfor %}", 1, "documented fields"),
    ],
)
def test_validate_reports_line_and_reason(source, line, reason):
    problems = rendering.validate(source, "text")
    assert problems, source
    assert problems[0].line == line
    assert reason in problems[0].message
    assert problems[0].field == "text"


def test_blocks_cannot_use_blocks():
    assert rendering.validate("{{ greeting }}", block=True)
    assert not rendering.validate("{{ greeting }}")


def test_valid_sources_pass():
    for source in (
        "{% if appointment.location %}{{ appointment.location }}{% else %}-{% endif %}",
        "{% set n = patient.name %}{{ n }}",
        "{{ appointment.start|date }} {{ appointment.start|time('HH:mm') }}",
        "{{ code|default('') }} {{ link }}",
        "{{ appointments }} ({{ appointments|length }})",
        "{% for a in appointments %}{{ a.weekday }} {{ a.start|time }}{% endfor %}",
        "{% for appointment in appointments %}{{ appointment.location }}{% endfor %}",
    ):
        assert rendering.validate(source) == [], source


def test_all_shipped_defaults_validate():
    for kind, _label in Template._meta.get_field("kind").choices:
        for channel in ("sms", "email", "threema"):
            for language in defaults.LANGUAGES:
                src = defaults.template(kind, channel, language)
                assert rendering.validate(src.text) == [], (kind, channel, language)
                assert rendering.validate(src.subject, "subject") == []
    for name in ("salutation", "greeting"):
        for channel in ("sms", "email"):
            for language in defaults.LANGUAGES:
                assert rendering.validate(defaults.block(name, channel, language), block=True) == []


def test_appointments_list_every_appointment_in_the_patients_language(practice):
    """A message about several appointments (mass cancellation) names them all; any other
    message has the one appointment as its list, so one template serves both."""
    source = (
        "{{ appointments }}|{% for a in appointments %}{{ a.weekday }} {{ a.time }};{% endfor %}"
    )
    later, first = appointment(utc(2026, 8, 20, 7, 0)), appointment()  # out of order
    several = {"appointment": first, "appointments": [later, first]}
    data = rendering.build_context(practice, "de", several)
    out = rendering._compile(source).render(data)
    assert out == (
        "19.08. um 16:30 Uhr und 20.08. um 09:00 Uhr|Mittwoch 16:30 Uhr;Donnerstag 09:00 Uhr;"
    )
    english = rendering._compile(source).render(rendering.build_context(practice, "en", several))
    assert english.startswith("19 Aug at 4:30 PM and 20 Aug at 9:00 AM|Wednesday 4:30 PM;")
    one = rendering.build_context(practice, "de", {"appointment": first})
    assert rendering._compile(source).render(one) == "19.08. um 16:30 Uhr|Mittwoch 16:30 Uhr;"
    none = rendering.build_context(practice, "de", {"appointment": None})
    assert rendering._compile(source).render(none) == "|"


def test_html_lists_appointments_escaped(practice):
    data = rendering.build_context(practice, "de", {"appointment": appointment()})
    html = rendering._compile("<p>{{ appointments }}</p>", html=True).render(data)
    assert html == "<p>19.08. um 16:30 Uhr</p>"


def test_a_template_lists_appointments_only_when_its_body_names_them():
    def sources(text, html=""):
        return rendering.Sources(text=text, subject="", html=html, salutation="", greeting="")

    assert rendering.lists_appointments(sources("{{ appointments }}"), "sms")
    assert not rendering.lists_appointments(sources("{{ appointment.when }}"), "sms")
    assert rendering.lists_appointments(
        sources("{% for a in appointments %}{{ a.when }}{% endfor %}"), "threema"
    )
    # an e-mail whose own HTML names only the first appointment cannot stand for all
    own_html = sources("{{ appointments }}", "<p>{{ appointment.when }}</p>")
    assert not rendering.lists_appointments(own_html, "email")
    assert rendering.lists_appointments(own_html, "sms")
    for language in defaults.LANGUAGES:
        for channel in ("sms", "email", "threema"):
            src = defaults.template("cancellation", channel, language)
            assert rendering.lists_appointments(sources(src.text, src.html), channel)
