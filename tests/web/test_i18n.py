"""German by default, English on request; every string translatable and translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.test import Client

import praxisbote

from .helpers import text

PACKAGE = Path(praxisbote.__file__).parent
LOCALE = PACKAGE / "locale" / "de" / "LC_MESSAGES"
TEMPLATES = sorted((PACKAGE / "web" / "templates").rglob("*.html"))
# Words that are the same in every language.
UNTRANSLATED_OK = {"praxisbote", "pb_"}


def test_pages_are_german_by_default(db):
    page = Client().get("/login/")
    assert '<html lang="de">' in page.content.decode()
    assert "Anmelden" in text(page.content)
    assert "Passwort" in text(page.content)


def test_the_language_switch_turns_the_pages_english(owner_client):
    german = owner_client.get("/patients/new/")
    assert "Handynummer" in text(german.content)
    response = owner_client.post("/i18n/setlang/", {"language": "en", "next": "/patients/new/"})
    assert response["Location"] == "/patients/new/"
    english = owner_client.get("/patients/new/")
    assert '<html lang="en">' in english.content.decode()
    assert "Mobile number" in text(english.content)
    assert "Handynummer" not in text(english.content)
    owner_client.post("/i18n/setlang/", {"language": "de", "next": "/"})
    assert "Handynummer" in text(owner_client.get("/patients/new/").content)


def test_the_switch_works_before_login_too(db):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Log in" in text(client.get("/login/").content)


def test_the_german_catalog_is_complete_and_has_no_guesses():
    with (LOCALE / "django.po").open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"translate these in django.po: {untranslated}"
    assert not fuzzy, f"check these guesses in django.po: {fuzzy}"


def test_the_compiled_catalog_matches_the_po_file():
    """The .mo is committed so a fresh clone needs no gettext; it must not be stale."""
    with (LOCALE / "django.po").open("rb") as handle:
        po = {_key(m.id): _strings(m.string) for m in read_po(handle) if m.id}
    with (LOCALE / "django.mo").open("rb") as handle:
        mo = {_key(m.id): _strings(m.string) for m in read_mo(handle) if m.id}
    assert mo == po, "run `make messages` (or compilemessages) and commit django.mo"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_untranslated_text(template):
    source = template.read_text(encoding="utf-8")
    source = re.sub(r"{%\s*blocktranslate.*?endblocktranslate\s*%}", " ", source, flags=re.S)
    for attribute in re.findall(r'\b(?:title|alt|placeholder|aria-label)="([^"]*)"', source):
        leftover = re.sub(r"{[%{].*?[%}]}", "", attribute)
        assert not re.search(r"[A-Za-z]{2}", leftover), f"untranslated attribute: {attribute}"
    source = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}|<!--.*?-->", " ", source, flags=re.S)
    source = re.sub(r"<[^>]*>", " ", source)
    words = {w for w in re.findall(r"[A-Za-zÄÖÜäöüß_]{2,}", source)} - UNTRANSLATED_OK
    assert not words, f"wrap in {{% translate %}}: {sorted(words)}"


def _strings(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value,)


def _key(msgid: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return _strings(msgid)
