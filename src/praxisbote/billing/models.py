"""Credits and prices (REQUIREMENTS BIL-1, BIL-5, MSG-5)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import TenantManager

MONEY = {"max_digits": 12, "decimal_places": 4}


class CreditAccount(models.Model):
    """A practice's prepaid balance and price list (defaults from seed 001).

    ``reserved`` is money held for queued paid messages; what can be spent is
    ``balance - reserved``. Both change only through single conditional UPDATEs in
    ``billing.services`` so concurrent workers never overdraw.
    """

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="credit")
    balance = models.DecimalField(default=Decimal("0"), **MONEY)
    reserved = models.DecimalField(default=Decimal("0"), **MONEY)
    currency = models.CharField(max_length=3, default="EUR")
    price_sms = models.DecimalField(_("price per SMS segment"), default=Decimal("0.10"), **MONEY)
    price_threema = models.DecimalField(
        _("price per Threema message"), default=Decimal("0.015"), **MONEY
    )
    price_email = models.DecimalField(_("price per e-mail"), default=Decimal("0"), **MONEY)
    free_sms_per_month = models.PositiveIntegerField(default=5)
    free_threema_per_month = models.PositiveIntegerField(default=5)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.practice}: {self.available} {self.currency}"

    @property
    def available(self) -> Decimal:
        return self.balance - self.reserved

    def price(self, channel: str) -> Decimal:
        return getattr(self, f"price_{channel}", Decimal("0"))

    def free_per_month(self, channel: str) -> int:
        return getattr(self, f"free_{channel}_per_month", 0)


class FreeQuota(models.Model):
    """Free units used per practice, channel and month ("5 pro Monat frei")."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)
    channel = models.CharField(max_length=10)
    month = models.CharField(max_length=7)  # "2026-11"
    used = models.PositiveIntegerField(default=0)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "channel", "month"], name="quota_month")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.month}: {self.used}"


class EntryKind(models.TextChoices):
    PURCHASE = "purchase", _("Credit purchase")
    CHARGE = "charge", _("Message charged")
    ADJUSTMENT = "adjustment", _("Adjustment")


class CreditEntry(models.Model):
    """The ledger: purchases and charges, the basis of statements (BIL-3)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="credit_entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(**MONEY)
    message_id = models.UUIDField(null=True, blank=True, db_index=True)
    channel = models.CharField(max_length=10, blank=True)
    units = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=now, db_index=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
