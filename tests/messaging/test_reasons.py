"""Reasons stored in English, read in German (messaging/reasons.py).

Every declared template must come back translated with its values; anything else must come
back exactly as stored. The stored text itself must not change (integrators read it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

import praxisbote
from praxisbote.messaging import outcomes, reasons
from praxisbote.messaging.reasons import CLAIMED_BY, DUE, GAVE_UP, Reason, declare, readable
from praxisbote.providers import imap_sent, smtp
from praxisbote.providers.sms import base as sms
from praxisbote.providers.sms import seven

SRC = Path(praxisbote.__file__).parent


def sample(reason: Reason) -> dict[str, object]:
    """Values for each parameter: numbers for %d, a known reason for nested ones (so the
    nesting is exercised), otherwise text with characters that regular expressions and
    ``%`` formatting treat specially (but not the templates' own separators such as " (",
    which would make any reading ambiguous)."""
    values: dict[str, object] = {}
    for name in sorted(reason.names):
        if f"%({name})d" in reason.template:
            values[name] = 7
        elif name in reason.nested:
            values[name] = smtp.CONNECTION_REFUSED.format(host="mx.example.org", port=587)
        else:
            values[name] = f"{name}-1 x.y*+?[a]$ %s %(host)s \\d"
    return values


def german(reason: Reason, values: dict[str, object]) -> str:
    with translation.override("de"):
        inner = {
            k: gettext(smtp.CONNECTION_REFUSED.template) % {"host": "mx.example.org", "port": 587}
            if k in reason.nested
            else v
            for k, v in values.items()
        }
        return gettext(reason.template) % inner


@pytest.mark.parametrize("reason", reasons.catalogue(), ids=lambda r: r.template[:60])
def test_each_template_round_trips_into_german_with_its_values(reason):
    values = sample(reason)
    stored = reason.format(**values)
    assert stored == reason.template % values, "the stored text is the English template"
    with translation.override("de"):
        shown = readable(stored)
        assert gettext(reason.template) != reason.template, "no German translation"
    assert shown == german(reason, values)
    for name, value in values.items():
        if name not in reason.nested:
            assert str(value) in shown
    with translation.override("en"):
        assert readable(stored) == stored


@pytest.mark.parametrize(
    "stored",
    [
        "550 5.1.1 <anna@example.org>: Recipient address rejected",
        "seven.io: DELIVERED",
        "Der Termin wurde abgesagt.",  # written in German before reasons were declared
        "claimed by",  # a template's start without its value
        "gave up after three attempts: boom",  # %d needs digits
        "",
    ],
)
def test_a_text_of_no_template_comes_back_unchanged(stored):
    with translation.override("de"):
        assert readable(stored) == stored


def test_values_cannot_inject_format_directives_into_the_translation():
    hostile = "%(port)s %s %% %(host)s {0}"
    stored = smtp.CONNECTION_REFUSED.format(host=hostile, port=25)
    with translation.override("de"):
        shown = readable(stored)
    assert shown.startswith(f"Der Mailserver {hostile} Port 25 hat die Verbindung abgelehnt.")


def test_nested_reasons_are_translated_at_every_level():
    login = smtp.LOGIN_REFUSED.format(answer="535 5.7.8 Authentication failed")
    stored = GAVE_UP.format(n=5, reason=login)
    assert stored.startswith("gave up after 5 attempts: The e-mail provider did not accept")
    with translation.override("de"):
        shown = readable(stored)
    assert shown.startswith("aufgegeben nach 5 Versuchen: Der E-Mail-Anbieter hat")
    assert shown.endswith("(Antwort des Servers: 535 5.7.8 Authentication failed)")


def test_an_smtp_sent_detail_with_two_bcc_notes_and_a_failed_copy_reads_german():
    detail = smtp.ACCEPTED.format(host="smtp.posteo.de", answer="250 2.0.0 Ok: queued as 4Xz")
    for address in ("archiv@praxis.at", "chef@praxis.at"):
        detail = smtp.BCC_REFUSED.format(detail=detail, address=address, answer="550 no; sorry")
    problem = imap_sent.REFUSED.format(host="imap.posteo.de", port=993)
    stored = smtp.SENT_COPY_FAILED.format(detail=detail, folder="Sent", problem=problem)
    with translation.override("de"):
        shown = readable(stored)
    assert shown == (
        "angenommen von smtp.posteo.de: 250 2.0.0 Ok: queued as 4Xz; "
        "BCC-Kopie an archiv@praxis.at abgelehnt: 550 no; sorry; "
        "BCC-Kopie an chef@praxis.at abgelehnt: 550 no; sorry; "
        "Kopie in den Ordner „Sent“ fehlgeschlagen (die E-Mail wurde gesendet): "
        "Der IMAP-Server imap.posteo.de Port 993 hat die Verbindung abgelehnt; "
        "prüfen Sie den IMAP-Port."
    )


def test_the_more_specific_template_wins():
    stored = smtp.REFUSED_MESSAGE_FOR_NOW.format(answer="451 4.7.1 greylisted")
    with translation.override("de"):
        assert readable(stored).endswith("(vorübergehend; es wird erneut versucht)")
    rejected = sms.REJECTED.format(gateway="seven.io", detail=seven.TOO_LONG.format(detail="401"))
    with translation.override("de"):
        assert readable(rejected) == "seven.io hat die SMS abgelehnt: Text zu lang (401)."


def test_the_details_the_claim_sql_writes_are_the_declared_ones():
    """``_CLAIM_READY_SQL`` spells out 'due' and passes 'claimed by <worker>'."""
    assert f"'{DUE.format()}'" in outcomes._CLAIM_READY_SQL
    assert DUE.format() == "due"
    assert CLAIMED_BY.format(worker="vm-1-ab") == "claimed by vm-1-ab"
    with translation.override("de"):
        assert readable("due") == "fällig"
        assert readable("claimed by vm-1-ab") == "übernommen von vm-1-ab"


def test_format_takes_exactly_the_templates_parameters():
    with pytest.raises(TypeError):
        smtp.CONNECTION_REFUSED.format(host="h")
    with pytest.raises(TypeError):
        smtp.CONNECTION_REFUSED.format(host="h", port=1, extra="x")


@pytest.mark.parametrize(
    "template",
    ["unnamed %s", "repr %(x)r", "float %(x)f", "%(a)s%(b)s", "nested %(a)s", "50% off"],
)
def test_templates_that_could_not_be_recognised_are_refused(template):
    with pytest.raises(ValueError):
        Reason(template, nested=["b"] if template == "nested %(a)s" else ())


def test_a_repeated_parameter_must_repeat_its_value():
    reason = Reason("%(cur)s from %(cur)s")
    assert reason.match("EUR from EUR") == {"cur": "EUR"}
    assert reason.match("EUR from CHF") is None


def test_declaring_the_same_template_twice_gives_the_same_reason():
    assert declare(DUE.template) is DUE


def test_a_broken_translation_falls_back_to_english(monkeypatch):
    monkeypatch.setattr(reasons, "gettext", lambda text: "kaputt %(nirgends)s")
    assert smtp.NO_ANSWER.translated({"host": "h", "port": 1}) == smtp.NO_ANSWER.format(
        host="h", port=1
    )


def _modules_that_declare() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name == "declare":
                    module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
                    found.add(module)
                    break
    return found


def test_readable_loads_every_module_that_declares_reasons():
    """A module missing from DECLARING_MODULES would leave its reasons English in a process
    that happens not to import it (the web process does not import the worker's code)."""
    from praxisbote.providers.sms import ADAPTERS

    known = {*reasons.DECLARING_MODULES, *ADAPTERS.values(), "praxisbote.messaging.reasons"}
    missing = _modules_that_declare() - known
    assert not missing, f"add to reasons.DECLARING_MODULES: {sorted(missing)}"


def test_every_reason_literal_is_collected_for_translation():
    """Templates reach django.po only through gettext_noop at the declaration."""
    po = (SRC / "locale/de/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    msgids = set(re.findall(r'^msgid "(.*)"$', po, re.M))
    for reason in reasons.catalogue():
        assert reason.template.replace('"', '\\"') in msgids, reason.template
