"""Small template helpers for the staff UI."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from praxisbote.patients.models import Notification
from praxisbote.practices.models import Channel, Language

register = template.Library()


@register.simple_tag(takes_context=True)
def current(context: template.Context, prefix: str) -> SafeString:
    """``aria-current="page"`` on the navigation link of the section being shown."""
    request: HttpRequest | None = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else ""
    return mark_safe(' aria-current="page"' if name and name.startswith(prefix) else "")  # noqa: S308


@register.filter
def channel_label(code: str) -> str:
    return dict(Channel.choices).get(code, code)


@register.filter
def notification_label(code: str) -> str:
    return dict(Notification.choices).get(code, code)


@register.filter
def language_label(code: str) -> str:
    return dict(Language.choices).get(code, code)
