"""Appointments and reminder rules (REQUIREMENTS APT-1..5, 10, 11)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from praxisbote.patients.models import Patient, PatientCategory
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import TenantManager


class Status(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", _("cancelled")
    COMPLETED = "completed", _("completed")
    NO_SHOW = "no_show", _("did not come")


class Appointment(models.Model):
    """One appointment; times are stored in UTC and shown in the practice's zone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointments")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="appointments", db_index=False
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    practitioner = models.CharField(_("practitioner"), max_length=200, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    # Bumped on every change of start/end. The worker's hand-over compares a message's
    # creation time with times_changed_at: a reminder written before the last move is stale.
    version = models.PositiveIntegerField(default=1)
    times_changed_at = models.DateTimeField(default=now)
    # Express slip (APT-10): the code is looked up by its SHA-256 digest and kept encrypted
    # only so that the API and UI can show the link again.
    slip_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    slip_code_encrypted = models.TextField(blank=True)
    slip_expires_at = models.DateTimeField(null=True, blank=True)
    # APT-11: the patient pressed "I cannot come" on the slip; nothing else changes.
    cannot_come_at = models.DateTimeField(null=True, blank=True)
    external_uid = models.CharField(max_length=255, blank=True)  # iCalendar UID of an import
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["practice", "start"], name="appt_practice_start"),
            models.Index(fields=["patient", "start"], name="appt_patient_start"),
            models.Index(
                fields=["practice", "external_uid"],
                name="appt_external_uid",
                condition=~models.Q(external_uid=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} ({self.status})"


class ReminderRule(models.Model):
    """What goes out for an appointment: per practice (category null) or per category.

    A practice without a row uses ``DEFAULTS``: a confirmation on booking and one reminder
    24 h before, by the patient's preferred channel with consent.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="reminder_rules")
    category = models.ForeignKey(
        PatientCategory, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    confirm_on_booking = models.BooleanField(_("confirmation on booking"), default=True)
    # Lead times in hours before the start, e.g. [48, 24]. Whole days keep the wall-clock
    # time across a daylight-saving change (24 h before 10:00 is 10:00 the day before).
    lead_hours = models.JSONField(_("reminders (hours before)"), default=list)
    # Channel order; empty: the patient's own preferred order. Consent is always required.
    channels = models.JSONField(_("channel order"), default=list, blank=True)
    updated_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "category"], name="one_rule_per_category"),
            models.UniqueConstraint(
                fields=["practice"],
                condition=models.Q(category__isnull=True),
                name="one_practice_rule",
            ),
        ]

    def __str__(self) -> str:
        return f"rule {self.category_id or 'practice'}"


DEFAULTS = {"confirm_on_booking": True, "lead_hours": [24], "channels": []}
