"""Shipped default templates and blocks in German and English (TPL-5).

They follow seed 003's advice: short and precise (every SMS default stays under 160 GSM-7
characters with typical names, the practice's phone and an appointment link;
``tests/texts/test_defaults.py`` proves it), the practice's phone in the text, and "call
to cancel" rather than "reply to cancel" (a reply by SMS would not move follow-up
appointments). Threema uses the SMS wording: short is kind there too.

A practice's own ``Template``/``Block`` rows replace these one by one; deleting a row
brings the default back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """The Jinja sources of one template; ``html`` empty: built from the text."""

    text: str
    subject: str = ""
    html: str = ""


# {name: {channel: {language: source}}}; "short" stands for SMS and Threema.
BLOCKS: dict[str, dict[str, dict[str, str]]] = {
    "salutation": {
        "short": {
            "de": "Hallo{% if patient %} {{ patient.name }}{% endif %},",
            "en": "Hello{% if patient %} {{ patient.name }}{% endif %},",
        },
        "email": {
            "de": (
                "{% if patient and patient.salutation == 'Frau' %}Sehr geehrte {{ patient.name }},"
                "{% elif patient and patient.salutation == 'Herr' %}"
                "Sehr geehrter {{ patient.name }},"
                "{% elif patient %}Guten Tag {{ patient.full_name }},"
                "{% else %}Guten Tag,{% endif %}"
            ),
            "en": "Dear {% if patient %}{{ patient.name }}{% else %}patient{% endif %},",
        },
    },
    "greeting": {
        "short": {
            "de": "Viele Grüße {{ practice.sender }}",
            "en": "Best wishes, {{ practice.sender }}",
        },
        "email": {
            "de": (
                "Mit freundlichen Grüßen\n{{ practice.sender }}"
                "{% if practice.phone %}\nTel. {{ practice.phone }}{% endif %}"
            ),
            "en": (
                "Kind regards\n{{ practice.sender }}"
                "{% if practice.phone %}\nPhone {{ practice.phone }}{% endif %}"
            ),
        },
    },
}

_FOR_PATIENT_DE = "{% if patient %} für {{ patient.full_name }}{% endif %}"
_FOR_PATIENT_EN = "{% if patient %} for {{ patient.full_name }}{% endif %}"

# {kind: {language: (short text, e-mail subject, e-mail text)}}
_TEXTS: dict[str, dict[str, tuple[str, str, str]]] = {
    "confirmation": {
        "de": (
            "Termin" + _FOR_PATIENT_DE + ": {{ appointment.when }}. Verhindert? Tel. "
            "{{ practice.phone }}{% if link %} {{ link }}{% endif %} {{ greeting }}",
            "Ihr Termin am {{ appointment.when }}",
            "{{ salutation }}\n\nwir bestätigen Ihren Termin am {{ appointment.when }}"
            "{% if appointment.location %} ({{ appointment.location }}){% endif %}.\n"
            "{% if link %}Termin und Kalendereintrag: {{ link }}\n{% endif %}\n"
            "Falls Sie verhindert sind, rufen Sie uns bitte unter {{ practice.phone }} an, "
            "damit wir einen neuen Termin vereinbaren können.\n\n{{ greeting }}",
        ),
        "en": (
            "Appointment" + _FOR_PATIENT_EN + ": {{ appointment.when }}. To cancel call "
            "{{ practice.phone }}{% if link %} {{ link }}{% endif %} {{ greeting }}",
            "Your appointment on {{ appointment.when }}",
            "{{ salutation }}\n\nwe confirm your appointment on {{ appointment.when }}"
            "{% if appointment.location %} ({{ appointment.location }}){% endif %}.\n"
            "{% if link %}Details and calendar entry: {{ link }}\n{% endif %}\n"
            "If you cannot come, please call us on {{ practice.phone }} so that we can "
            "find a new date.\n\n{{ greeting }}",
        ),
    },
    "reminder": {
        "de": (
            "Erinnerung{% if patient %} {{ patient.full_name }}{% endif %}: "
            "{{ appointment.when }}. Verhindert? Tel. {{ practice.phone }}"
            "{% if link %} {{ link }}{% endif %} {{ greeting }}",
            "Erinnerung: Ihr Termin am {{ appointment.when }}",
            "{{ salutation }}\n\nwir erinnern Sie an Ihren Termin am {{ appointment.when }}"
            "{% if appointment.location %} ({{ appointment.location }}){% endif %}.\n"
            "{% if link %}Termin und Kalendereintrag: {{ link }}\n{% endif %}\n"
            "Falls Sie verhindert sind, sagen Sie bitte telefonisch unter "
            "{{ practice.phone }} ab.\n\n{{ greeting }}",
        ),
        "en": (
            "Reminder" + _FOR_PATIENT_EN + ": {{ appointment.when }}. Cannot come? Call "
            "{{ practice.phone }}{% if link %} {{ link }}{% endif %} {{ greeting }}",
            "Reminder: your appointment on {{ appointment.when }}",
            "{{ salutation }}\n\nthis is a reminder of your appointment on "
            "{{ appointment.when }}"
            "{% if appointment.location %} ({{ appointment.location }}){% endif %}.\n"
            "{% if link %}Details and calendar entry: {{ link }}\n{% endif %}\n"
            "If you cannot come, please call us on {{ practice.phone }}.\n\n{{ greeting }}",
        ),
    },
    "recall": {
        "de": (
            "{{ salutation }} es ist wieder Zeit für eine Kontrolle. Rufen Sie uns bitte "
            "unter {{ practice.phone }} an. {{ greeting }}",
            "Zeit für Ihre Kontrolle",
            "{{ salutation }}\n\nes ist wieder Zeit für Ihren Kontrolltermin. Wir freuen uns "
            "auf Ihren Anruf unter {{ practice.phone }}.\n\n{{ greeting }}",
        ),
        "en": (
            "{{ salutation }} it is time for your check-up. Please call us on "
            "{{ practice.phone }}. {{ greeting }}",
            "Time for your check-up",
            "{{ salutation }}\n\nit is time for your next check-up. We look forward to your "
            "call on {{ practice.phone }}.\n\n{{ greeting }}",
        ),
    },
    "birthday": {
        "de": (
            "{{ salutation }} alles Gute zum Geburtstag! {{ greeting }}",
            "Alles Gute zum Geburtstag",
            "{{ salutation }}\n\nwir wünschen Ihnen alles Gute zum Geburtstag, Gesundheit "
            "und ein schönes neues Lebensjahr.\n\n{{ greeting }}",
        ),
        "en": (
            "{{ salutation }} happy birthday! {{ greeting }}",
            "Happy birthday",
            "{{ salutation }}\n\nwe wish you a happy birthday, good health and a wonderful "
            "year ahead.\n\n{{ greeting }}",
        ),
    },
    "cancellation": {
        # One notice may list several appointments (mass cancellation): ``appointments``.
        "de": (
            "{% if appointments|length > 1 %}Ihre Termine am {{ appointments }} entfallen "
            "leider. Neuer Termin: Tel. {{ practice.phone }}{% else %}Ihr Termin am "
            "{{ appointments }} muss leider entfallen. Bitte rufen Sie uns für einen neuen "
            "Termin an: {{ practice.phone }}{% endif %} {{ greeting }}",
            "Absage {% if appointments|length > 1 %}Ihrer Termine{% else %}Ihres Termins am "
            "{{ appointments }}{% endif %}",
            "{{ salutation }}\n\n{% if appointments|length > 1 %}leider müssen wir Ihre "
            "Termine absagen:\n{% for a in appointments %}- {{ a.weekday }}, {{ a.when }}\n"
            "{% endfor %}\nBitte rufen Sie uns unter {{ practice.phone }} an, damit wir neue "
            "Termine vereinbaren können.{% else %}leider müssen wir Ihren Termin am "
            "{{ appointments }} absagen. Bitte rufen Sie uns unter {{ practice.phone }} an, "
            "damit wir einen neuen Termin vereinbaren können.{% endif %} Wir bitten um "
            "Verständnis.\n\n{{ greeting }}",
        ),
        "en": (
            "{% if appointments|length > 1 %}Sorry, we must cancel your appointments on "
            "{{ appointments }}. Please call {{ practice.phone }}.{% else %}We are sorry: "
            "your appointment on {{ appointments }} is cancelled. Please call "
            "{{ practice.phone }} for a new one.{% endif %} {{ greeting }}",
            "Your appointment{% if appointments|length > 1 %}s are cancelled{% else %} on "
            "{{ appointments }} is cancelled{% endif %}",
            "{{ salutation }}\n\n{% if appointments|length > 1 %}we are sorry to cancel "
            "your appointments:\n{% for a in appointments %}- {{ a.weekday }}, {{ a.when }}\n"
            "{% endfor %}\nPlease call us on {{ practice.phone }} to find new dates."
            "{% else %}we are sorry to cancel your appointment on {{ appointments }}. Please "
            "call us on {{ practice.phone }} to find a new date.{% endif %}\n\n{{ greeting }}",
        ),
    },
    "free": {
        "de": (
            "{{ salutation }}\n\n{{ greeting }}",
            "Nachricht von {{ practice.name }}",
            "{{ salutation }}\n\n\n\n{{ greeting }}",
        ),
        "en": (
            "{{ salutation }}\n\n{{ greeting }}",
            "Message from {{ practice.name }}",
            "{{ salutation }}\n\n\n\n{{ greeting }}",
        ),
    },
    "mass": {
        # Mass notices are general (seed 001): no patient placeholders.
        "de": (
            "{{ practice.name }} informiert: {% if link %}{{ link }} {% endif %}"
            "Fragen? Tel. {{ practice.phone }}",
            "Information von {{ practice.name }}",
            "Liebe Patientinnen und Patienten,\n\n"
            "{% if link %}Details: {{ link }}\n\n{% endif %}"
            "Bei Fragen erreichen Sie uns unter {{ practice.phone }}.\n\n{{ greeting }}",
        ),
        "en": (
            "News from {{ practice.name }}: {% if link %}{{ link }} {% endif %}"
            "Questions? Call {{ practice.phone }}",
            "News from {{ practice.name }}",
            "Dear patients,\n\n{% if link %}Details: {{ link }}\n\n{% endif %}"
            "If you have questions, please call us on {{ practice.phone }}.\n\n{{ greeting }}",
        ),
    },
    "code": {
        # The code travels alone, never with the document link (DOC-1).
        "de": (
            "Ihr Zugangscode für das Dokument von {{ practice.name }}: {{ code }}",
            "Ihr Zugangscode",
            "{{ salutation }}\n\nIhr Zugangscode lautet: {{ code }}\n\n{{ greeting }}",
        ),
        "en": (
            "Your access code for the document from {{ practice.name }}: {{ code }}",
            "Your access code",
            "{{ salutation }}\n\nyour access code is: {{ code }}\n\n{{ greeting }}",
        ),
    },
    "invitation": {
        "de": (
            "Videosprechstunde{% if appointment %} am {{ appointment.when }}{% endif %}: "
            "{{ link }} Fragen? Tel. {{ practice.phone }} {{ greeting }}",
            "Einladung zur Videosprechstunde",
            "{{ salutation }}\n\nSie sind zur Videosprechstunde"
            "{% if appointment %} am {{ appointment.when }}{% endif %} eingeladen. "
            "Bitte öffnen Sie zur vereinbarten Zeit diesen Link: {{ link }}\n\n"
            "Bei Fragen erreichen Sie uns unter {{ practice.phone }}.\n\n{{ greeting }}",
        ),
        "en": (
            "Video consultation{% if appointment %} on {{ appointment.when }}{% endif %}: "
            "{{ link }} Questions? Call {{ practice.phone }} {{ greeting }}",
            "Invitation to a video consultation",
            "{{ salutation }}\n\nyou are invited to a video consultation"
            "{% if appointment %} on {{ appointment.when }}{% endif %}. "
            "Please open this link at the agreed time: {{ link }}\n\n"
            "If you have questions, please call us on {{ practice.phone }}.\n\n{{ greeting }}",
        ),
    },
}

LANGUAGES = ("de", "en")


def _family(channel: str) -> str:
    return "email" if channel == "email" else "short"


def template(kind: str, channel: str, language: str) -> Source:
    """The shipped source for (kind, channel, language); German for unknown languages."""
    texts = _TEXTS[kind].get(language) or _TEXTS[kind]["de"]
    short, subject, email_text = texts
    if channel == "email":
        return Source(text=email_text, subject=subject)
    return Source(text=short)


def block(name: str, channel: str, language: str) -> str:
    sources = BLOCKS[name][_family(channel)]
    return sources.get(language) or sources["de"]
