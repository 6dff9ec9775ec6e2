"""Reasons in the protocol: stored in English, read in the staff's language.

Provider reasons and the outbox's own details (``DeliveryEvent.detail``,
``Message.last_error``) are stored in English on purpose: the API and the status webhooks
hand them to integrators and operators, who need a text that does not change with the
language of whoever caused it (docs/api.md). Practice staff read the same texts in the
staff UI, in German. So every fixed text is declared once here or in the module that
raises it, as an English template with named parameters::

    REFUSED = declare(gettext_noop("The mail server %(host)s refused the connection."))
    raise TransientError(REFUSED.format(host=self.host))

``Reason.format`` gives the stored English text. ``readable(text)`` recognises a stored
text by its template (a regular expression built from it once, parameters captured),
and returns the template's translation in the active language with the same values.
Texts that match no template (a raw server answer, rows stored before a template existed)
come back unchanged, so the worst case is the English text staff saw before.

Captured values are only ever *values* of ``%`` formatting: a value containing
``%(host)s`` stays literal text, so a server answer cannot change the translated string.
A parameter named in ``nested`` holds a reason itself ("gave up after 3 attempts:
<reason>"); it is made readable too.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

# ``%(name)s`` / ``%(name)d`` and ``%%``: the only conversions a template may use, so that
# every parameter can be recognised again in the stored text.
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>\w+)\)(?P<kind>[sd])|(?P<percent>%))")
#: How deep nested reasons are followed (a reason in a reason in a reason).
_MAX_DEPTH = 4

#: Modules outside this one that declare reasons; ``readable`` imports them once so that
#: it knows every template in any process (the web process never imports the worker's
#: modules on its own). SMS adapters are found through ``providers.sms.ADAPTERS``.
#: ``tests/messaging/test_reasons.py`` fails when a module declares reasons but is
#: missing here.
DECLARING_MODULES = (
    "praxisbote.messaging.email_settings",
    "praxisbote.messaging.sms_settings",
    "praxisbote.providers.base",
    "praxisbote.providers.smtp",
    "praxisbote.providers.imap_sent",
    "praxisbote.providers.sandbox",
    "praxisbote.providers.sms.base",
    "praxisbote.billing.services",
    "praxisbote.appointments.handover",
    "praxisbote.appointments.services",
    "praxisbote.outreach.mass_cancel",
)


class Reason:
    """One stored English text with named parameters, and how to recognise it again."""

    __slots__ = ("_ints", "_pattern", "_prefix", "_suffix", "names", "nested", "template")

    def __init__(self, template: str, nested: Iterable[str] = ()) -> None:
        self.template = template
        self.nested = frozenset(nested)
        names: list[str] = []
        ints: set[str] = set()
        parts: list[str] = []
        last = 0
        previous_was_parameter = False
        for found in _PLACEHOLDER.finditer(template):
            text = template[last : found.start()]
            if "%" in text:
                raise ValueError(f"only %(name)s, %(name)d and %% in reasons: {template!r}")
            parts.append(re.escape(text))
            last = found.end()
            if found["percent"]:
                parts.append("%")
                previous_was_parameter = False
                continue
            name, kind = found["name"], found["kind"]
            if previous_was_parameter and not text:
                raise ValueError(f"two parameters without text between them: {template!r}")
            previous_was_parameter = True
            if name in names:
                parts.append(f"(?P={name})")
                continue
            names.append(name)
            if kind == "d":
                ints.add(name)
                parts.append(rf"(?P<{name}>-?\d+)")
            elif name in self.nested:
                # Greedy: a nested reason may itself contain this template's separator
                # ("...; BCC copy to ..." twice); the outer text is the last occurrence.
                parts.append(rf"(?P<{name}>.*)")
            else:
                parts.append(rf"(?P<{name}>.*?)")
        tail = template[last:]
        if "%" in tail:
            raise ValueError(f"only %(name)s, %(name)d and %% in reasons: {template!r}")
        parts.append(re.escape(tail))
        unknown = self.nested - set(names)
        if unknown:
            raise ValueError(f"nested parameters not in the template: {sorted(unknown)}")
        self.names = frozenset(names)
        self._ints = frozenset(ints)
        self._pattern = re.compile("".join(parts), re.DOTALL)
        # Cheap tests before the regular expression: the fixed start and end of the text.
        first = _PLACEHOLDER.search(template)
        self._prefix = template[: first.start()] if first else template
        self._suffix = tail if first else template

    def __repr__(self) -> str:
        return f"Reason({self.template!r})"

    @property
    def specificity(self) -> int:
        """Fixed characters: where two templates fit a text, the more specific one wins."""
        return len(_PLACEHOLDER.sub("", self.template))

    def format(self, **params: Any) -> str:
        """The English text to store. Every parameter must be given, and no other."""
        if params.keys() != self.names:
            raise TypeError(f"{self.template!r} takes {sorted(self.names)}, got {sorted(params)}")
        return self.template % params

    def match(self, text: str) -> dict[str, Any] | None:
        """The parameters of ``text`` if it is this reason's stored form, else None."""
        if not (text.startswith(self._prefix) and text.endswith(self._suffix)):
            return None
        found = self._pattern.fullmatch(text)
        if found is None:
            return None
        values: dict[str, Any] = found.groupdict()
        for name in self._ints:
            values[name] = int(values[name])
        return values

    def translated(self, params: dict[str, Any]) -> str:
        """This reason in the active language with ``params`` (English when untranslated)."""
        try:
            return gettext(self.template) % params
        except (KeyError, TypeError, ValueError):
            # A broken translation must not hide the reason: fall back to the English one.
            return self.template % params


_DECLARED: dict[str, Reason] = {}
_catalogue: tuple[Reason, ...] | None = None


def declare(template: str, nested: Iterable[str] = ()) -> Reason:
    """Register a reason template; call with ``gettext_noop("...")`` so that
    ``make messages`` collects it for translation."""
    global _catalogue
    reason = _DECLARED.get(template)
    if reason is None:
        reason = _DECLARED[template] = Reason(template, nested)
        _catalogue = None
    elif reason.nested != frozenset(nested):
        raise ValueError(f"{template!r} declared twice with different nested parameters")
    return reason


def catalogue() -> tuple[Reason, ...]:
    """Every declared reason in the order they are tried (imports the declaring modules
    once)."""
    global _catalogue
    if _catalogue is None:
        _load_declaring_modules()
        _catalogue = tuple(sorted(_DECLARED.values(), key=_precedence))
        _readable.cache_clear()
    return _catalogue


def _precedence(reason: Reason) -> tuple[bool, int]:
    """Reasons that hold reasons first, then the more specific (more fixed characters).

    A text built from two reasons, e.g. "<refused>; copy to the Sent folder failed:
    <refused>", also fits the inner template alone, whose last parameter swallows the rest.
    The outer reading is the true one, so templates with nested parameters are tried first.
    """
    return (not reason.nested, -reason.specificity)


@functools.cache
def _load_declaring_modules() -> None:
    from praxisbote.providers.sms import ADAPTERS

    for module in (*DECLARING_MODULES, *ADAPTERS.values()):
        importlib.import_module(module)


def readable(text: str) -> str:
    """A stored reason in the active language; a text of no known template unchanged."""
    if not text:
        return text
    language = translation.get_language() or ""
    if language.startswith("en"):
        return text  # stored English is what an English reader gets
    catalogue()
    return _readable(text, language, 0)


@functools.lru_cache(maxsize=2048)
def _readable(text: str, language: str, depth: int) -> str:
    """Cached per language: the same details ("due", "accepted by ...") repeat a lot."""
    for reason in catalogue():
        params = reason.match(text)
        if params is None:
            continue
        if depth < _MAX_DEPTH:
            for name in reason.nested:
                params[name] = _readable(params[name], language, depth + 1)
        return reason.translated(params)
    return text


# --- The outbox's own details ---------------------------------------------------------
# Providers, billing and the appointment side declare theirs next to the code that raises
# them (see DECLARING_MODULES).

#: A message is written: queued at once, or scheduled for later (ISO time, UTC offset).
QUEUED = declare(gettext_noop("queued"))
SCHEDULED_FOR = declare(gettext_noop("scheduled for %(at)s"))
#: The worker's claim. Written by SQL too (``outcomes._CLAIM_READY_SQL``): keep in step.
DUE = declare(gettext_noop("due"))
CLAIMED_BY = declare(gettext_noop("claimed by %(worker)s"))
#: A provider accepted without saying more.
ACCEPTED_BY = declare(gettext_noop("accepted by %(provider)s"))
RELEASED = declare(gettext_noop("released by a stopping worker"))
LEASE_EXPIRED = declare(gettext_noop("lease of worker %(worker)s expired; queued again"))
GAVE_UP = declare(gettext_noop("gave up after %(n)d attempts: %(reason)s"), nested=["reason"])
CREDIT_TOO_LATE = declare(
    gettext_noop("no credit before the maximum age: %(reason)s"), nested=["reason"]
)
NO_REPORT = declare(gettext_noop("no delivery report within the window"))
CANCELLED = declare(gettext_noop("cancelled"))
CANCELLED_BY_API = declare(gettext_noop("cancelled through the API"))
CANCELLED_BY_STAFF = declare(gettext_noop("cancelled in the staff UI by %(user)s"))
#: Network trouble shared by gateways and webhook deliveries.
NO_ANSWER_WITHIN = declare(gettext_noop("no answer within %(seconds)s s"))
#: Webhook deliveries to the integrator's endpoint (``WebhookDelivery.last_error``).
WEBHOOK_NO_ENDPOINT = declare(gettext_noop("no webhook endpoint"))
WEBHOOK_ENDPOINT_OFF = declare(gettext_noop("endpoint is off"))
WEBHOOK_NO_SECRET = declare(gettext_noop("cannot decrypt the webhook secret"))
WEBHOOK_NO_CONNECTION = declare(gettext_noop("could not connect: %(error)s"))
