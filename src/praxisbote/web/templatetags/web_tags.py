"""Small template helpers for the staff UI."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe

from praxisbote.messaging import reasons
from praxisbote.messaging.models import Kind, State
from praxisbote.patients.models import Notification
from praxisbote.practices.models import Channel, Language
from praxisbote.web.rule_forms import lead_label

register = template.Library()


@register.simple_tag(takes_context=True)
def current(context: template.Context, prefixes: str) -> SafeString:
    """``aria-current="page"`` on the navigation link of the section being shown.

    ``prefixes``: URL names that belong to the section, by their start, space-separated.
    """
    request: HttpRequest | None = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else ""
    hit = bool(name) and any(name.startswith(p) for p in prefixes.split())
    return mark_safe(' aria-current="page"' if hit else "")  # noqa: S308


@register.filter
def channel_label(code: str) -> str:
    return dict(Channel.choices).get(code, code)


@register.filter
def notification_label(code: str) -> str:
    return dict(Notification.choices).get(code, code)


@register.filter
def language_label(code: str) -> str:
    return dict(Language.choices).get(code, code)


@register.filter
def state_label(code: str) -> str:
    return dict(State.choices).get(code, code)


@register.filter
def kind_label(code: str) -> str:
    return dict(Kind.choices).get(code, code)


@register.filter
def lead_time(hours: int) -> str:
    """A reminder's lead time: "2 days (48 h)" or "5 hours"."""
    return lead_label(int(hours))


@register.filter
def readable(text: str) -> str:
    """A stored English reason (event detail, last error) in the reader's language."""
    return reasons.readable(text or "")


@register.filter
def money(value: Any) -> str:
    """An amount with 2 decimals, or up to 4 where a price needs them (Threema: 0,015)."""
    if value is None or value == "":
        return ""
    amount = Decimal(value)
    places = max(2, min(4, -amount.normalize().as_tuple().exponent))
    return number_format(amount, decimal_pos=places, use_l10n=True)


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
