"""Provider names to classes; the only place that knows every provider module."""

from __future__ import annotations

from praxisbote.providers.base import Provider
from praxisbote.providers.sandbox import SandboxProvider
from praxisbote.providers.smtp import SmtpProvider

PROVIDERS: dict[str, type[Provider]] = {
    SandboxProvider.name: SandboxProvider,
    SmtpProvider.name: SmtpProvider,
}


def provider_class(name: str) -> type[Provider]:
    try:
        return PROVIDERS[name]
    except KeyError as exc:
        raise KeyError(f"unknown provider {name!r}") from exc
