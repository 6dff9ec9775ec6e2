"""Rendering templates (TPL-1..3): a Jinja2 sandbox with a fixed, documented context.

Why this shape:

* Templates are written by practice staff, so they run in Jinja2's
  ``SandboxedEnvironment`` and see only plain dicts of documented fields (``FIELDS``),
  never ORM objects: ``{{ patient.practice.api_keys }}`` cannot exist.
* Mistakes are found when a template is saved (``validate``), not when a reminder goes
  out at 07:00: the source is parsed, every placeholder and attribute is checked against
  ``FIELDS``, and it is rendered once with full sample data and once with no patient,
  appointment, link or code. At send time a missing value (an appointment without a
  location, say) renders as empty text instead of failing (``ChainableUndefined``):
  the checks at save time are strict, sending is forgiving.
* Compiled templates are cached by source (``_compile``), so ``render_many`` for a mass
  cancellation compiles each template once and only renders per patient.
* Dates and times come from Babel in the patient's language and the practice's time
  zone (``format_datetime``); the wall-clock time is what the patient reads, in summer
  and in winter.
* ``appointments`` lists every appointment a message is about (a mass cancellation tells
  a patient about all their cancelled appointments in one message, one SMS instead of
  several). It is ``[appointment]`` for every other message, so one template serves
  both; ``{{ appointments }}`` prints the list in the patient's language ("11.03. um
  09:00 Uhr und 12.03. um 10:00 Uhr") and ``{% for a in appointments %}`` gives each
  one the fields of ``appointment``, checked at save time like everything else.

The context reference for practices is docs/templates.md.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from babel.lists import format_list
from django.utils.translation import gettext as _
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import TemplateAssertionError, TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from praxisbote.texts import defaults

#: The documented context: name -> fields reachable with ``name.field`` (None: a value).
FIELDS: dict[str, frozenset[str] | None] = {
    "patient": frozenset(
        {"salutation", "first_name", "last_name", "full_name", "name", "language"}
    ),
    "appointment": frozenset(
        {"start", "end", "date", "time", "when", "weekday", "practitioner", "location"}
    ),
    "practice": frozenset({"name", "phone", "sender"}),
    "appointments": None,
    "link": None,
    "code": None,
    "salutation": None,
    "greeting": None,
}
#: Names that hold a list, and the context name whose fields each item has.
LISTS: dict[str, str] = {"appointments": "appointment"}
BLOCK_NAMES = ("salutation", "greeting")
#: Blocks are rendered into templates; they cannot contain themselves.
BLOCK_FIELDS = {k: v for k, v in FIELDS.items() if k not in BLOCK_NAMES}
LANGUAGES = defaults.LANGUAGES

#: Babel patterns per language: what seed 003 shows ("19.08. um 16:30 Uhr").
PATTERNS = {
    "de": {
        "date": "dd.MM.",
        "time": "HH:mm 'Uhr'",
        "datetime": "dd.MM. 'um' HH:mm 'Uhr'",
    },
    "en": {
        "date": "d MMM",
        "time": "h:mm a",
        "datetime": "d MMM 'at' h:mm a",
    },
}
_LOCALE_KEY = "_language"  # hidden context entries; a template cannot name them (FIELDS)
_TZ_KEY = "_tz"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class TemplateProblem:
    """One mistake in a template source: which field, which line, what is wrong."""

    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line:
            return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


# ---------------------------------------------------------------- dates and times


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _language(language: str | None) -> str:
    return language if language in PATTERNS else "de"


def _format(value: datetime, pattern: str, language: str, tz: str | ZoneInfo) -> str:
    zone = _zone(tz)
    if value.tzinfo is None:  # a naive time is read as the practice's wall clock
        value = value.replace(tzinfo=zone)
    return babel_datetime(value, pattern, tzinfo=zone, locale=_language(language))


def format_datetime(value: datetime, language: str, tz: str | ZoneInfo) -> str:
    """ "19.08. um 16:30 Uhr" (de), "19 Aug at 4:30 PM" (en), in the zone ``tz``."""
    return _format(value, PATTERNS[_language(language)]["datetime"], language, tz)


def format_date(value: datetime, language: str, tz: str | ZoneInfo) -> str:
    return _format(value, PATTERNS[_language(language)]["date"], language, tz)


def format_time(value: datetime, language: str, tz: str | ZoneInfo) -> str:
    return _format(value, PATTERNS[_language(language)]["time"], language, tz)


def _filter(kind: str):
    """A Jinja filter ``|date``, ``|time`` or ``|datetime`` with an optional Babel pattern."""

    def apply(context: Any, value: Any, pattern: str | None = None) -> str:
        if not isinstance(value, datetime):
            return ""
        language = context.get(_LOCALE_KEY) or "de"
        tz = context.get(_TZ_KEY) or "Europe/Vienna"
        return _format(value, pattern or PATTERNS[_language(language)][kind], language, tz)

    from jinja2 import pass_context

    return pass_context(apply)


# ---------------------------------------------------------------- the environment


class _Forgiving(ChainableUndefined):
    """Missing data renders as empty text at send time; a refused attribute still fails."""

    __slots__ = ()

    def __str__(self) -> str:
        if self._undefined_exception is SecurityError:
            self._fail_with_undefined_error()
        return ""

    def __html__(self) -> str:
        return str(self)


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with only documented fields: no attribute starting with "_"."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = _Sandbox(
        autoescape=autoescape,
        undefined=_Forgiving,
        keep_trailing_newline=False,
        trim_blocks=False,
    )
    env.globals.clear()  # no range/lipsum/cycler/namespace: nothing a text needs
    for kind in ("date", "time", "datetime"):
        env.filters[kind] = _filter(kind)
    return env


TEXT_ENV = _environment(autoescape=False)
HTML_ENV = _environment(autoescape=True)


@functools.lru_cache(maxsize=1024)
def _compile(source: str, html: bool = False):
    """Compile once per distinct source: mass sends render the same few templates."""
    return (HTML_ENV if html else TEXT_ENV).from_string(source)


# ---------------------------------------------------------------- the context


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def patient_view(patient: Any) -> dict[str, str] | None:
    """The documented fields of a patient (a ``Patient`` or a dict with its field names)."""
    if patient is None:
        return None
    first, last = _text(_get(patient, "first_name")), _text(_get(patient, "last_name"))
    salutation = _text(_get(patient, "salutation"))
    full = " ".join(p for p in (first, last) if p)
    formal = f"{salutation} {last}" if salutation and last else full
    return {
        "salutation": salutation,
        "first_name": first,
        "last_name": last,
        "full_name": full,
        "name": formal,
        "language": _text(_get(patient, "language")),
    }


def appointment_view(appointment: Any, language: str, tz: str) -> dict[str, Any] | None:
    """Start/end in the practice's zone, and the texts a patient reads in their language."""
    if appointment is None:
        return None
    zone = _zone(tz)
    start, end = _get(appointment, "start"), _get(appointment, "end")
    start = _local(start, zone)
    end = _local(end, zone)
    view: dict[str, Any] = {
        "start": start,
        "end": end,
        "date": "",
        "time": "",
        "when": "",
        "weekday": "",
        "practitioner": _text(_get(appointment, "practitioner")),
        "location": _text(_get(appointment, "location")),
    }
    if start is not None:
        view.update(
            date=format_date(start, language, zone),
            time=format_time(start, language, zone),
            when=format_datetime(start, language, zone),
            weekday=_format(start, "EEEE", language, zone),
        )
    return view


class AppointmentList(list):
    """The ``appointments`` of a message: a list of appointment views that prints as
    "11.03. um 09:00 Uhr und 12.03. um 10:00 Uhr" (Babel's list pattern of the language).
    """

    def __init__(self, views: Iterable[dict[str, Any]], language: str) -> None:
        super().__init__(views)
        self._text = format_list([v["when"] for v in self if v["when"]], locale=language)

    def __str__(self) -> str:
        return self._text


def appointments_view(
    appointments: Iterable[Any] | None, first: Any, language: str, tz: str
) -> AppointmentList:
    """Every appointment of the message, by start; without a list, the one appointment."""
    items = list(appointments) if appointments is not None else [first]
    views = [v for v in (appointment_view(a, language, tz) for a in items) if v is not None]
    epoch = datetime.min.replace(tzinfo=_zone(tz))
    views.sort(key=lambda v: v["start"] or epoch)
    return AppointmentList(views, _language(language))


def _local(value: Any, zone: ZoneInfo) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def practice_view(practice: Any) -> dict[str, str]:
    sender = _text(_get(practice, "sender_name")) or _text(_get(practice, "name"))
    return {
        "name": _text(_get(practice, "name")),
        "phone": _text(_get(practice, "phone")),
        "sender": sender,
    }


def build_context(practice: Any, language: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Plain dicts of documented fields from whatever the caller holds (models or dicts).

    ``appointments`` (optional) lists every appointment the message is about; without it
    the list is the one ``appointment`` (or empty).
    """
    tz = _text(_get(practice, "timezone")) or "Europe/Vienna"
    own = context.get("practice")
    link, code = context.get("link"), context.get("code")
    first = context.get("appointment")
    return {
        "patient": patient_view(context.get("patient")),
        "appointment": appointment_view(first, language, tz),
        "appointments": appointments_view(context.get("appointments"), first, language, tz),
        "practice": practice_view(own if own is not None else practice),
        "link": None if link is None else str(link),
        "code": None if code is None else str(code),
        _LOCALE_KEY: language,
        _TZ_KEY: tz,
    }


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class Sources:
    """What renders one (kind, channel, language): the template and its two blocks."""

    text: str
    subject: str
    html: str
    salutation: str
    greeting: str


def resolve_language(practice: Any, language: str | None) -> str:
    """The patient's language if we ship it, else the practice's, else German."""
    for candidate in (language, _get(practice, "language")):
        if candidate in LANGUAGES:
            return candidate
    return "de"


def sources_for(practice: Any, kind: str, channel: str, languages: Iterable[str]) -> dict:
    """The practice's own sources where it has them, else the shipped defaults; 2 queries."""
    from praxisbote.texts.models import Block, Template

    languages = set(languages)
    own = {
        t.language: t
        for t in Template.objects.filter(
            practice=practice, kind=kind, channel=channel, language__in=languages
        )
    }
    blocks = {
        (b.name, b.language): b.text
        for b in Block.objects.filter(practice=practice, channel=channel, language__in=languages)
    }
    result = {}
    for language in languages:
        template = own.get(language)
        shipped = defaults.template(kind, channel, language)
        result[language] = Sources(
            text=template.text if template else shipped.text,
            subject=template.subject if template else shipped.subject,
            html=template.html if template else shipped.html,
            salutation=blocks.get(
                ("salutation", language), defaults.block("salutation", channel, language)
            ),
            greeting=blocks.get(
                ("greeting", language), defaults.block("greeting", channel, language)
            ),
        )
    return result


# ---------------------------------------------------------------- rendering


def text_to_html(text: str) -> str:
    """A plain text as simple HTML: paragraphs at blank lines, line breaks kept, escaped."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join(
        "<p>" + "<br>\n".join(html_lib.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def render_sources(sources: Sources, channel: str, data: dict[str, Any]) -> Rendered:
    """Render one context; ``data`` comes from ``build_context``."""
    salutation = _compile(sources.salutation).render(data).strip()
    greeting = _compile(sources.greeting).render(data).strip()
    full = {**data, "salutation": salutation, "greeting": greeting}
    text = _compile(sources.text).render(full).strip()
    if channel != "email":
        return Rendered(subject="", text=text, html="")
    subject = " ".join(_compile(sources.subject).render(full).split())
    if sources.html.strip():
        as_markup = {
            "salutation": Markup("<br>").join(escape(x) for x in salutation.split("\n")),
            "greeting": Markup("<br>").join(escape(x) for x in greeting.split("\n")),
        }
        html = _compile(sources.html, html=True).render({**data, **as_markup}).strip()
    else:
        html = text_to_html(text)
    return Rendered(subject=subject, text=text, html=html)


@functools.lru_cache(maxsize=256)
def _names_in(source: str) -> frozenset[str]:
    try:
        tree = TEXT_ENV.parse(source)
    except TemplateSyntaxError:
        return frozenset()
    return frozenset(n.name for n in tree.find_all(nodes.Name) if n.ctx == "load")


def lists_appointments(sources: Sources, channel: str) -> bool:
    """Whether the message body names ``appointments`` (text, and the e-mail's own HTML):
    only then may one message stand for several appointments. A practice's older own
    template that names only ``appointment`` would tell about the first one alone."""
    parts = [sources.text]
    if channel == "email" and sources.html.strip():
        parts.append(sources.html)
    return all("appointments" in _names_in(part) for part in parts)


def render(practice: Any, kind: str, channel: str, language: str, context: dict) -> Rendered:
    """One message's texts: the practice's template for (kind, channel, language) or the
    shipped default. ``context`` keys: patient, appointment, practice, link, code (any None).
    """
    return render_many(practice, kind, channel, [(language, context)])[0]


def render_many(
    practice: Any, kind: str, channel: str, contexts: list[tuple[str, dict]]
) -> list[Rendered]:
    """Many messages of one kind and channel: templates loaded and compiled once."""
    languages = [resolve_language(practice, language) for language, _ctx in contexts]
    sources = sources_for(practice, kind, channel, languages)
    return [
        render_sources(sources[language], channel, build_context(practice, language, ctx))
        for language, (_l, ctx) in zip(languages, contexts, strict=True)
    ]


# ---------------------------------------------------------------- validation (save time)


class _Checker:
    """Walks a parsed template: every placeholder and field must be documented."""

    def __init__(
        self, field: str, allowed: Mapping[str, frozenset[str] | None], general: bool = False
    ) -> None:
        self.field = field
        self.allowed = allowed
        self.general = general
        self.problems: list[TemplateProblem] = []
        # Loop variables over a list (``{% for a in appointments %}``): name -> fields.
        self.items: dict[str, frozenset[str] | None] = {}

    def add(self, node: nodes.Node, message: str) -> None:
        self.problems.append(TemplateProblem(self.field, node.lineno, message))

    def check(self, tree: nodes.Template) -> list[TemplateProblem]:
        local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        local.add("loop")
        for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport)):
            self.add(
                node,
                _(
                    "Including other templates is not available; use {{ salutation }} "
                    "and {{ greeting }} for shared text."
                ),
            )
        for node in tree.find_all(nodes.Extends):
            self.add(node, _("Extending other templates is not available."))
        for loop in tree.find_all(nodes.For):
            if (
                isinstance(loop.iter, nodes.Name)
                and loop.iter.name in LISTS
                and loop.iter.name in self.allowed
                and isinstance(loop.target, nodes.Name)
            ):
                self.items[loop.target.name] = FIELDS[LISTS[loop.iter.name]]
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name not in self.allowed and node.name not in local:
                self.add(node, self._unknown(node.name))
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            self._attribute(node)
        return self.problems

    def _unknown(self, name: str) -> str:
        if self.general and name == "patient":
            return _(
                "A mass notice is the same for everyone (no personal data): "
                "'patient' is not available."
            )
        known = ", ".join(sorted(self.allowed))
        return _("Unknown placeholder '%(name)s'. Available: %(known)s.") % {
            "name": name,
            "known": known,
        }

    def _attribute(self, node: nodes.Getattr | nodes.Getitem) -> None:
        if isinstance(node, nodes.Getattr):
            attr: Any = node.attr
        elif isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        else:
            attr = None
        if isinstance(attr, str) and attr.startswith("_"):
            self.add(node, _("'%(attr)s' is not available in templates.") % {"attr": attr})
            return
        base = node.node
        if isinstance(base, nodes.Name) and base.name in LISTS and base.name in self.allowed:
            self.add(node, self._list_field(base.name))
        elif isinstance(base, nodes.Name) and base.name in self.allowed:
            fields = self.allowed[base.name]
            if fields is None or attr not in fields:
                self.add(node, self._unknown_field(base.name, attr, fields))
        elif isinstance(base, nodes.Name) and base.name in self.items:
            fields = self.items[base.name]
            if fields is None or attr not in fields:
                self.add(node, self._unknown_field(base.name, attr, fields))
        elif isinstance(base, nodes.Getattr | nodes.Getitem) and (
            _root(base) in self.allowed or _root(base) in self.items
        ):
            self.add(node, _("Only the documented fields can be used, e.g. {{ patient.name }}."))

    @staticmethod
    def _list_field(name: str) -> str:
        item = LISTS[name]
        return _(
            "'%(name)s' is a list: print it whole with {{ %(name)s }}, or each one with "
            "{%% for a in %(name)s %%}{{ a.when }}{%% endfor %%}; {{ %(item)s }} is the "
            "first one."
        ) % {"name": name, "item": item}

    @staticmethod
    def _unknown_field(name: str, attr: Any, fields: frozenset[str] | None) -> str:
        if fields is None:
            return _("'%(name)s' is a value without fields.") % {"name": name}
        return _("'%(name)s' has no field '%(attr)s'. Available: %(known)s.") % {
            "name": name,
            "attr": attr,
            "known": ", ".join(sorted(fields)),
        }


def _root(node: nodes.Node) -> str | None:
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        node = node.node
    return node.name if isinstance(node, nodes.Name) else None


def _line_of(exc: BaseException) -> int | None:
    """The template line of a render error: Jinja rewrites tracebacks to template frames."""
    line = getattr(exc, "lineno", None)
    if line:
        return line
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None


def sample_context(practice: Any, patient: Any = None) -> dict[str, Any]:
    """Realistic data for previews and the save-time trial render."""
    start = (
        datetime.now(_zone(_text(_get(practice, "timezone")) or "Europe/Vienna"))
        + timedelta(days=2)
    ).replace(hour=16, minute=30, second=0, microsecond=0)
    return {
        "patient": patient or SAMPLE_PATIENT,
        "appointment": {
            "start": start,
            "end": start + timedelta(minutes=30),
            "practitioner": "Dr. Huber",
            "location": "Raum 2",
        },
        "link": SAMPLE_LINK,
        "code": "483920",
    }


def sample_several(practice: Any) -> dict[str, Any]:
    """The sample with a second appointment a day later (a mass cancellation's notice)."""
    context = sample_context(practice)
    first = context["appointment"]
    second = {**first, "start": first["start"] + timedelta(days=1, hours=-7)}
    second["end"] = second["start"] + timedelta(minutes=30)
    return {**context, "appointments": [first, second]}


SAMPLE_PATIENT = {"salutation": "Frau", "first_name": "Silvana", "last_name": "Müller"}
#: A realistic long name (seed 001: long names can push an SMS into a second part).
LONG_SAMPLE_PATIENT = {
    "salutation": "Frau",
    "first_name": "Maximiliane",
    "last_name": "Schwarzenberger-Hohenstein",
}
SAMPLE_LINK = "https://praxis.example/t/Ab3dE5f"
EMPTY_CONTEXT: dict[str, Any] = {"patient": None, "appointment": None, "link": None, "code": None}


def _trial(source: str, field: str, html: bool, data: dict[str, Any]) -> TemplateProblem | None:
    try:
        _compile(source, html).render(data)
    except Exception as exc:  # any failure here would otherwise happen at send time
        return TemplateProblem(
            field,
            _line_of(exc),
            _("It cannot be rendered: %(reason)s") % {"reason": str(exc) or exc.__class__.__name__},
        )
    return None


def validate(
    source: str,
    field: str = "text",
    *,
    block: bool = False,
    html: bool = False,
    practice: Any = None,
    general: bool = False,
) -> list[TemplateProblem]:
    """Every mistake in one source, with its line: syntax, unknown placeholders, and what
    a trial render with sample data and with empty data raises."""
    env = HTML_ENV if html else TEXT_ENV
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [
            TemplateProblem(
                field, exc.lineno, _("Syntax error: %(reason)s") % {"reason": exc.message or ""}
            )
        ]
    allowed = BLOCK_FIELDS if block else FIELDS
    if general:
        allowed = {k: v for k, v in allowed.items() if k != "patient"}
    problems = _Checker(field, allowed, general=general).check(tree)
    if problems:
        return problems
    try:
        _compile(source, html)
    except (TemplateAssertionError, TemplateError) as exc:
        return [
            TemplateProblem(
                field,
                getattr(exc, "lineno", None),
                _("Syntax error: %(reason)s") % {"reason": getattr(exc, "message", str(exc))},
            )
        ]
    for language in LANGUAGES:
        for sample in (sample_context(practice), sample_several(practice), EMPTY_CONTEXT):
            data = build_context(practice, language, sample)
            data.update(salutation="Hallo", greeting="Viele Grüße")
            if problem := _trial(source, field, html, data):
                return [problem]
    return []
