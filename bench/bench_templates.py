"""Template rendering speed (issue 6, TPL): what render_many() costs per message.

A mass cancellation or a reminder tick renders hundreds of messages of one kind at once.
render_many() loads the sources in two queries and compiles each once (cached by
source); this measures the per-message part that remains: building the plain-dict
context (with Babel dates in the patient's language and the practice's zone) and
rendering text, salutation and greeting. Target: 500 messages in < 100 ms, a small part of
the 3 s that APT-6 allows for queueing 500 cancellations. Best of 7 rounds, CPU time.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta

import django
from common import machine

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "praxisbote.settings")
django.setup()

from praxisbote.practices.models import Practice  # noqa: E402
from praxisbote.texts import defaults, rendering  # noqa: E402

ROUNDS, MESSAGES = 7, 500
TARGET_MS = 100.0


def contexts() -> list[tuple[str, dict]]:
    start = datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    return [
        (
            "de" if i % 3 else "en",
            {
                "patient": {"salutation": "Frau", "first_name": f"Anna{i}", "last_name": "Huber"},
                "appointment": {"start": start + timedelta(minutes=15 * i), "location": "Raum 2"},
                "link": f"https://praxis.example/t/Ab3dE{i:02d}",
            },
        )
        for i in range(MESSAGES)
    ]


def sources(channel: str, kind: str) -> dict[str, rendering.Sources]:
    result = {}
    for language in ("de", "en"):
        src = defaults.template(kind, channel, language)
        result[language] = rendering.Sources(
            src.text,
            src.subject,
            src.html,
            defaults.block("salutation", channel, language),
            defaults.block("greeting", channel, language),
        )
    return result


def run(practice: Practice, channel: str, kind: str, items: list[tuple[str, dict]]) -> float:
    compiled = sources(channel, kind)
    best = float("inf")
    for _round in range(ROUNDS):
        began = time.process_time()
        for language, ctx in items:
            data = rendering.build_context(practice, language, ctx)
            rendering.render_sources(compiled[language], channel, data)
        best = min(best, time.process_time() - began)
    return best * 1000


def main() -> int:
    print(f"Template rendering, {MESSAGES} messages per round; {machine()}")
    practice = Practice(
        name="Zahnarztpraxis Dr. Mustermann", phone="01234-567890", timezone="Europe/Vienna"
    )
    items = contexts()
    slow = []
    for channel, kind in (("sms", "cancellation"), ("sms", "reminder"), ("email", "reminder")):
        ms = run(practice, channel, kind, items)
        each = ms / MESSAGES * 1000
        print(f"{channel:6} {kind:13} {ms:8.1f} ms per {MESSAGES} ({each:.0f} us each)")
        if ms > TARGET_MS:
            slow.append((channel, kind, ms))
    print(f"target < {TARGET_MS:.0f} ms per {MESSAGES}: {'MISSED' if slow else 'met'}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
