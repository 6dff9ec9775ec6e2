"""Patients, their categories ("Akten-Typ") and consent (REQUIREMENTS PAT-1..4)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import TenantManager


class Notification(models.TextChoices):
    """Automatic notifications a patient may receive (PAT-3)."""

    CONFIRMATION = "confirmation", _("Appointment confirmation")
    REMINDER = "reminder", _("Appointment reminder")
    RECALL = "recall", _("Recall")
    BIRTHDAY = "birthday", _("Birthday greeting")
    MASS = "mass", _("Mass notice")


DEFAULT_NOTIFICATIONS = ["confirmation", "reminder", "recall", "mass"]


class PatientCategory(models.Model):
    """Defaults for new and existing patients of one kind of file (seed 001's Akten-Typ)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=100)
    # Channels in order of preference, e.g. ["sms", "email"].
    channels = models.JSONField(_("notification channels"), default=list)
    notifications = models.JSONField(_("automatic notifications"), default=list)
    is_default = models.BooleanField(default=False)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="category_name_per_practice")
        ]

    def __str__(self) -> str:
        return self.name


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="patients")
    external_id = models.CharField(
        _("ID in the practice software"), max_length=100, blank=True, default=""
    )
    salutation = models.CharField(_("salutation"), max_length=50, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=2, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    mobile = models.CharField(_("mobile number"), max_length=20, blank=True)
    threema_id = models.CharField(_("Threema ID"), max_length=8, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    category = models.ForeignKey(
        PatientCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="patients"
    )
    # None means "as the category says"; a list overrides it for this patient (PAT-3).
    channels = models.JSONField(null=True, blank=True)
    notifications = models.JSONField(null=True, blank=True)
    # {"email": {"granted": true, "source": "Anmeldebogen", "at": "2026-…"}, ...} (PAT-4)
    consent = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]  # id: stable pages for equal names
        # The search (patients list, patient picker) finds by birth date here; name,
        # e-mail and mobile fragments use a trigram index on PostgreSQL (migration 0003).
        indexes = [
            models.Index(fields=["practice", "last_name", "first_name"]),
            models.Index(fields=["practice", "external_id"]),
            models.Index(fields=["practice", "birth_date"], name="patient_birth_date"),
        ]

    def __str__(self) -> str:
        return self.full_name or str(self.id)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def effective_language(self) -> str:
        return self.language or self.practice.language

    def effective_channels(self) -> list[str]:
        if self.channels is not None:
            return list(self.channels)
        return list(self.category.channels) if self.category else [Channel.EMAIL]

    def effective_notifications(self) -> list[str]:
        if self.notifications is not None:
            return list(self.notifications)
        return list(self.category.notifications) if self.category else DEFAULT_NOTIFICATIONS

    def has_consent(self, channel: str) -> bool:
        return bool((self.consent or {}).get(channel, {}).get("granted"))

    def automatic_channels(self, notification: str) -> list[str]:
        """Channels an automatic message may use, in order: wanted, consented, reachable.

        Whether the practice has switched the channel on is checked by the sender.
        """
        if self.erased_at or notification not in self.effective_notifications():
            return []
        return [
            ch for ch in self.effective_channels() if self.has_consent(ch) and self.address_for(ch)
        ]

    def address_for(self, channel: str) -> str:
        return {"email": self.email, "sms": self.mobile, "threema": self.threema_id}.get(
            channel, ""
        )
