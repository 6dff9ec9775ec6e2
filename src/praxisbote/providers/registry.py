"""Provider names to classes; the only place that knows every provider module."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from praxisbote.providers.base import Provider
from praxisbote.providers.sandbox import SandboxProvider
from praxisbote.providers.sms import ADAPTERS as SMS_ADAPTERS
from praxisbote.providers.smtp import SmtpProvider

PROVIDERS: dict[str, type[Provider]] = {
    SandboxProvider.name: SandboxProvider,
    SmtpProvider.name: SmtpProvider,
}


@cache
def _sms_adapter(name: str) -> type[Provider]:
    """SMS adapters are imported on first use: most processes need one or none."""
    module = import_module(SMS_ADAPTERS[name])
    return module.Adapter


def sms_adapters() -> dict[str, type[Provider]]:
    """Every SMS gateway adapter by name (for the settings' gateway choice)."""
    return {name: _sms_adapter(name) for name in SMS_ADAPTERS}


def provider_class(name: str) -> type[Provider]:
    if name in PROVIDERS:
        return PROVIDERS[name]
    if name in SMS_ADAPTERS:
        return _sms_adapter(name)
    raise KeyError(f"unknown provider {name!r}")
