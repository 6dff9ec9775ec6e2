"""Reading the staff UI's HTML in tests."""

from __future__ import annotations

import html
import re


def text(content: bytes | str) -> str:
    """Page text without tags, whitespace squeezed, entities decoded."""
    raw = content.decode() if isinstance(content, bytes) else content
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def field_error(content: bytes, field: str) -> str:
    """The message shown next to ``field``: the element its input names in aria-describedby."""
    page = content.decode()
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    assert match, f"no error shown next to {field}"
    # The labelled control: id_<field> (the patient picker's search field is named
    # <field>_q, its value travels in <field>), else the input named <field>.
    input_tag = re.search(
        rf'<(input|select|textarea)\b[^>]*\bid="id_{field}"[^>]*>', page
    ) or re.search(rf'<(input|select|textarea)\b[^>]*\bname="{field}"[^>]*>', page)
    assert input_tag, f"no input named {field}"
    assert f"id_{field}_error" in input_tag.group(0), "error not linked by aria-describedby"
    assert 'aria-invalid="true"' in input_tag.group(0)
    return text(match.group(1))


def hidden_field_error(content: bytes, field: str) -> str:
    """The message shown for a hidden field (e.g. the chosen patient), next to what it holds."""
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', content.decode(), re.S
    )
    assert match, f"no error shown for {field}"
    return text(match.group(1))


def input_value(content: bytes, field: str) -> str | None:
    tag = re.search(rf'<input\b[^>]*\bname="{field}"[^>]*>', content.decode())
    assert tag, f"no input named {field}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def de(message: str) -> str:
    """``message`` as a German user reads it (German is the UI's default language)."""
    from django.utils import translation

    with translation.override("de"):
        return translation.gettext(message)
