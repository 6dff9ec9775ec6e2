"""SMS gateway adapters: one module per gateway on ``sms/base.py`` (issue 5).

``ADAPTERS`` names each adapter's module; ``providers/registry.py`` loads them, so adding a
gateway is its module, its fake server under ``tests/fakes/`` and one line here.
"""

from __future__ import annotations

#: Adapter name (stored on the account and on every message) -> module path.
ADAPTERS: dict[str, str] = {
    "seven": "praxisbote.providers.sms.seven",
    "websms": "praxisbote.providers.sms.websms",
    "aspsms": "praxisbote.providers.sms.aspsms",
    "twilio": "praxisbote.providers.sms.twilio",
    "vonage": "praxisbote.providers.sms.vonage",
    "generic": "praxisbote.providers.sms.generic",
}
