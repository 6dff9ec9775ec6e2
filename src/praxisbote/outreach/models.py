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
    # Asked for during the practice's quiet hours: send_at is the end of that quiet period.
    held_for_quiet_hours = models.BooleanField(default=False)
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


class OutreachSettings(models.Model):
    """A practice's choices for birthday greetings and recalls; no row: the defaults."""

    practice = models.OneToOneField(
        Practice, on_delete=models.CASCADE, related_name="outreach_settings"
    )
    birthday_enabled = models.BooleanField(_("send birthday greetings"), default=False)
    birthday_hour = models.PositiveSmallIntegerField(_("birthday greetings at (hour)"), default=9)
    recall_hour = models.PositiveSmallIntegerField(_("recalls at (hour)"), default=9)
    recall_followup_days = models.PositiveSmallIntegerField(
        _("follow-up after (days, 0: none)"), default=14
    )
    updated_at = models.DateTimeField(default=now)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"outreach settings of {self.practice_id}"


class BirthdayGreeting(models.Model):
    """One row per patient and year: the unique constraint is the once-a-year guard.

    Written in the same transaction as the greeting's message, so a second worker, a
    re-run after a crash or a lock that expired mid-run cannot greet twice: its insert
    fails and its message is rolled back with it.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=10, blank=True)
    message_id = models.UUIDField(null=True, blank=True)
    # Empty when sent; otherwise why not (no channel with consent, ...), shown to staff.
    skipped = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "year"], name="one_birthday_per_year")
        ]

    def __str__(self) -> str:
        return f"birthday {self.year} of {self.patient_id}"


class Recall(models.Model):
    """APT-7: when a patient's next check-up is due, and how often it repeats.

    Sending the recall advances ``due_date`` by ``interval_months`` at once (0: a one-off
    recall, which is then done); ``last_sent_at`` starts the follow-up clock, which stops
    when an appointment is booked after it.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="recalls")
    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.CASCADE, related_name="recall"
    )
    due_date = models.DateField(_("recall due on"), null=True, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("repeat every (months)"), default=6)
    note = models.CharField(_("note"), max_length=200, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_due_date = models.DateField(null=True, blank=True)
    # Set when the follow-up went out, or when it became unnecessary (booked, or none set).
    followup_done_at = models.DateTimeField(null=True, blank=True)
    # What the last run did: "sent", "follow-up sent", "booked", or why nothing was sent.
    last_result = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(
                fields=["due_date"], name="recall_due", condition=models.Q(due_date__isnull=False)
            ),
            models.Index(
                fields=["last_sent_at"],
                name="recall_followup",
                condition=models.Q(followup_done_at__isnull=True, last_sent_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"recall {self.due_date} of {self.patient_id}"


class MassCancellation(models.Model):
    """APT-6: appointments cancelled together, with the report of who was told how."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="mass_cancellations"
    )
    days = models.JSONField(default=list)  # ["2027-03-15", ...] practice dates
    notify = models.BooleanField(default=True)
    waiting_list = models.BooleanField(default=False)
    cancelled = models.PositiveIntegerField(default=0)
    notified = models.PositiveIntegerField(default=0)
    # One entry per appointment: patient, start, channel or the reason nobody was told.
    report = models.JSONField(default=list)
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"mass cancellation {self.created_at:%Y-%m-%d} ({self.cancelled})"


class WaitingListEntry(models.Model):
    """A patient waiting for an earlier or a new appointment (seed 001's Warteliste)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="waiting_list")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    wishes = models.CharField(_("wishes"), max_length=500, blank=True)
    # The appointment whose cancellation put the patient here, if any.
    source_appointment_id = models.UUIDField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    # Set when the patient took an offered slot: the entry is done, kept for the record.
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["practice", "created_at"], name="waiting_practice")]

    def __str__(self) -> str:
        return f"waiting {self.patient_id} since {self.created_at:%Y-%m-%d}"


class OfferState(models.TextChoices):
    OPEN = "open", _("open")
    TAKEN = "taken", _("taken")
    WITHDRAWN = "withdrawn", _("withdrawn")
    # Not stored: an open offer whose slot has started (``offers.state_of``).
    EXPIRED = "expired", _("expired")


class SlotOffer(models.Model):
    """A free slot offered to the first patients of the waiting list, each with a link.

    The first invitee to press "take" on the patient page gets the appointment: the
    switch from ``open`` to ``taken`` is one conditional UPDATE, so of two patients
    pressing at once exactly one wins (``offers.take``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="slot_offers")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    practitioner = models.CharField(_("practitioner"), max_length=200, blank=True)
    location = models.CharField(_("place"), max_length=200, blank=True)
    # The cancelled appointment whose slot this is, if it came from one.
    source_appointment_id = models.UUIDField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=OfferState.choices, default=OfferState.OPEN)
    expires_at = models.DateTimeField()  # the slot's start: later nobody can take it
    taken_by = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_invite = models.ForeignKey(
        "OfferInvite", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    appointment_id = models.UUIDField(null=True, blank=True)  # the one booked on taking
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["practice", "created_at"], name="offer_practice")]

    def __str__(self) -> str:
        return f"offer {self.start:%Y-%m-%d %H:%M} ({self.state})"


class OfferInvite(models.Model):
    """One patient's link to an offer; the code is stored only as its SHA-256 digest."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(SlotOffer, on_delete=models.CASCADE, related_name="invites")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    entry = models.ForeignKey(
        WaitingListEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invites",
    )
    channel = models.CharField(max_length=10)
    code_digest = models.CharField(max_length=64, unique=True)
    message_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"invite of {self.patient_id} to {self.offer_id}"
