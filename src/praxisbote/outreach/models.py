"""Mass notices (APT-9) and, later in this app, birthdays, recalls and the waiting list.

A mass notice is a campaign: its messages carry ``Message.campaign_id == MassNotice.id``,
so the protocol, the worker and billing treat them like any other message while the
notice keeps what was asked (text, audience) and what came of it (counts, cost, who was
left out and why).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import TenantManager


class MassNotice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="mass_notices")
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    text = models.TextField(_("text"))
    channels = models.JSONField(_("channels"), default=list)
    order = models.CharField(max_length=10, default="patient")
    # The audience as asked (categories, consent, has-mobile/e-mail, search, ids).
    audience = models.JSONField(default=dict, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    by_channel = models.JSONField(default=dict, blank=True)  # {"sms": 12, "email": 30}
    skipped = models.JSONField(default=dict, blank=True)  # {"no_consent": 3, ...}
    cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    send_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=254, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="mass_notice_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"mass notice {self.created_at:%Y-%m-%d %H:%M} ({self.recipients})"
