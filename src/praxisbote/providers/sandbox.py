"""The sandbox provider: a real provider that keeps everything on this server.

A fresh practice uses it for every channel until real credentials are configured ("test
mode: nothing leaves this server"). It records each hand-over in ``SandboxDelivery`` (the
outbox page shows them as phone/e-mail previews) and simulates delivery reports through
``poll_status``. Failure rules let tests and practices rehearse errors:

    {"failure_rules": [{"pattern": "^fail-transient", "outcome": "transient", "times": 2},
                       {"pattern": "@invalid\\.example$", "outcome": "permanent"},
                       {"pattern": "99$", "outcome": "undeliverable"}],
     "delay_ms": 0}

``pattern`` is a regular expression searched in the recipient; ``transient`` fails the first
``times`` attempts (default 1), ``permanent`` always fails, ``undeliverable`` is accepted and
later reported as not delivered. Without configured rules the defaults below apply.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from asgiref.sync import sync_to_async
from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    STATUS_DELIVERED,
    STATUS_UNDELIVERABLE,
    CheckResult,
    Outgoing,
    PermanentError,
    Provider,
    SendOutcome,
    StatusUpdate,
    TransientError,
)

DEFAULT_RULES: list[dict[str, Any]] = [
    {"pattern": r"^fail-transient", "outcome": "transient", "times": 2},
    {"pattern": r"^fail-permanent", "outcome": "permanent"},
    {"pattern": r"^undeliverable@|^\+?\d+0009$", "outcome": "undeliverable"},
]

# What test mode writes into the protocol (English, translated for staff: reasons.py).
RULE_REFUSED = declare(gettext_noop("sandbox rule: %(recipient)s is refused"))
RULE_TEMPORARY = declare(gettext_noop("sandbox rule: temporary failure (attempt %(attempt)d)"))
REPORT = declare(gettext_noop("sandbox delivery report"))
NOTHING_LEAVES = declare(gettext_noop("test mode: nothing leaves this server"))


class SandboxProvider(Provider):
    name: ClassVar[str] = "sandbox"
    channels: ClassVar[tuple[str, ...]] = ("email", "sms", "threema")
    polls_status: ClassVar[bool] = True

    def __init__(self, *args: Any, worker_id: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker_id = worker_id
        self.rules = [
            (re.compile(rule["pattern"]), rule["outcome"], int(rule.get("times", 1)))
            for rule in self.config.get("failure_rules", DEFAULT_RULES)
        ]
        self.delay = float(self.config.get("delay_ms", 0)) / 1000

    def _rule_for(self, recipient: str) -> tuple[str, int] | None:
        for pattern, outcome, times in self.rules:
            if pattern.search(recipient):
                return outcome, times
        return None

    async def send_batch(self, messages: Sequence[Outgoing]) -> list[SendOutcome]:
        """Decide each outcome, then record all accepted hand-overs in one write."""
        if self.delay:
            await asyncio.sleep(self.delay * len(messages))
        outcomes: list[SendOutcome] = []
        accepted: list[tuple[Outgoing, str]] = []
        for message in messages:
            rule = self._rule_for(message.recipient)
            if rule and rule[0] == "permanent":
                outcomes.append(
                    SendOutcome(
                        message.message_id,
                        error=PermanentError(RULE_REFUSED.format(recipient=message.recipient)),
                    )
                )
            elif rule and rule[0] == "transient" and message.attempt <= rule[1]:
                outcomes.append(
                    SendOutcome(
                        message.message_id,
                        error=TransientError(RULE_TEMPORARY.format(attempt=message.attempt)),
                    )
                )
            else:
                provider_id = "sbx-" + uuid.uuid4().hex
                tag = "u" if rule and rule[0] == "undeliverable" else "d"
                provider_id = f"{provider_id}-{tag}"
                accepted.append((message, provider_id))
                outcomes.append(SendOutcome(message.message_id, provider_message_id=provider_id))
        if accepted:
            if self.run_in_db is not None:
                await self.run_in_db(self._record, accepted)
            else:
                await sync_to_async(self._record)(accepted)
        return outcomes

    async def send_one(self, message: Outgoing) -> SendOutcome:
        return (await self.send_batch([message]))[0]

    def _record(self, accepted: list[tuple[Outgoing, str]]) -> None:
        from django.utils import timezone

        from praxisbote.db import insert_values
        from praxisbote.messaging.models import SandboxDelivery

        now = timezone.now()
        insert_values(
            SandboxDelivery,
            (
                "practice_id",
                "message_id",
                "channel",
                "recipient",
                "subject",
                "body",
                "html",
                "attachments",
                "provider_message_id",
                "worker_id",
                "at",
            ),
            [
                (
                    m.practice_id,
                    m.message_id,
                    m.channel,
                    m.recipient,
                    m.subject,
                    m.body,
                    m.html,
                    [
                        {
                            "filename": a.filename,
                            "content_type": a.content_type,
                            "size": len(a.data),
                        }
                        for a in m.attachments
                    ],
                    provider_id,
                    self.worker_id,
                    now,
                )
                for m, provider_id in accepted
            ],
        )

    async def check_credentials(self) -> CheckResult:
        return CheckResult(ok=True, detail=NOTHING_LEAVES.format())

    async def poll_status(self, provider_message_ids: Sequence[str]) -> list[StatusUpdate]:
        """Simulated delivery reports: accepted messages are delivered, rule hits are not."""
        return [
            StatusUpdate(
                provider_message_id=pid,
                status=STATUS_UNDELIVERABLE if pid.endswith("-u") else STATUS_DELIVERED,
                detail=REPORT.format(),
                payload={"sandbox": True, "id": pid},
            )
            for pid in provider_message_ids
        ]
