"""The outbox: messages, their delivery events, channel accounts, webhooks (MSG-1..8)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from praxisbote.patients.models import Patient
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import TenantManager


class State(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    BUFFERED = "buffered", _("buffered")
    UNDELIVERABLE = "undeliverable", _("undeliverable")
    FAILED = "failed", _("failed")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")


class Kind(models.TextChoices):
    FREE = "free", _("free text")
    CONFIRMATION = "confirmation", _("confirmation")
    REMINDER = "reminder", _("reminder")
    RECALL = "recall", _("recall")
    BIRTHDAY = "birthday", _("birthday")
    CANCELLATION = "cancellation", _("cancellation")
    MASS = "mass", _("mass notice")
    CODE = "code", _("access code")
    INVITATION = "invitation", _("invitation")
    TEST = "test", _("test")


class Message(models.Model):
    # Every index costs each of the two updates a sent message gets: the composite and
    # partial indexes in Meta replace the foreign keys' own, and sparse columns are
    # indexed only where set.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    patient = models.ForeignKey(
        Patient,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        db_index=False,
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=250, blank=True)
    body = models.TextField()
    html = models.TextField(blank=True)
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.FREE)
    sensitive = models.BooleanField(default=False)
    state = models.CharField(max_length=15, choices=State.choices)
    due_at = models.DateTimeField(default=now)
    # When the worker may next pick it up: due_at at first, later the retry time.
    next_attempt_at = models.DateTimeField(default=now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    segments = models.PositiveIntegerField(default=1)
    cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    free_units = models.PositiveIntegerField(default=0)
    reserved = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=200, blank=True)
    appointment_id = models.UUIDField(null=True, blank=True)
    campaign_id = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    worker_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The worker's claim: due rows in claimable states, oldest first. Partial, so a
            # sent message leaves it and it stays as small as the queue.
            models.Index(
                fields=["next_attempt_at"],
                name="msg_claim",
                condition=models.Q(state__in=["scheduled", "queued"]),
            ),
            models.Index(fields=["practice", "-created_at"], name="msg_protocol"),
            models.Index(fields=["practice", "state"], name="msg_practice_state"),
            models.Index(
                fields=["practice", "patient"],
                name="msg_patient",
                condition=models.Q(patient__isnull=False),
            ),
            models.Index(
                fields=["appointment_id"],
                name="msg_appointment",
                condition=models.Q(appointment_id__isnull=False),
            ),
            models.Index(
                fields=["campaign_id"],
                name="msg_campaign",
                condition=models.Q(campaign_id__isnull=False),
            ),
            # Delivery reports find their message by the provider's id.
            models.Index(
                fields=["provider", "provider_message_id"],
                name="msg_provider_id",
                condition=~models.Q(provider_message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient} ({self.state})"


class MessageAppointment(models.Model):
    """A further appointment a message is about. A mass cancellation tells a patient about
    all their cancelled appointments in one notice: ``Message.appointment_id`` is the first
    one, these rows the others, so each appointment's speech bubble and timeline (page and
    API) show the notice. Only such notices have rows here; others cost nothing."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="more_appointments")
    appointment_id = models.UUIDField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "appointment_id"], name="one_link_per_message_appointment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.message_id} also about {self.appointment_id}"


class DeliveryEvent(models.Model):
    """One state transition: the protocol (MSG-2/4) is the list of these."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=now)
    from_state = models.CharField(max_length=15, blank=True)
    to_state = models.CharField(max_length=15)
    detail = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state}"


class Attachment(models.Model):
    """A file sent with a message; stored encrypted under the data dir, not in the row."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300)

    def __str__(self) -> str:
        return self.filename


class IdempotencyRecord(models.Model):
    """MSG-6: a repeated request with the same key returns the first answer."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    message_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=now, db_index=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "key"], name="idempotency_per_practice")
        ]

    def __str__(self) -> str:
        return self.key


class ChannelAccount(models.Model):
    """Which provider serves a practice's channel, with its settings and encrypted secrets.

    No row, or provider ``sandbox``: test mode, nothing leaves the server.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="accounts")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    provider = models.CharField(max_length=40, default="sandbox")
    config = models.JSONField(default=dict, blank=True)
    secrets = models.TextField(blank=True)  # crypto.encrypt_text(json) or empty
    cleared_for_sensitive = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "channel"], name="one_account_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.provider}"


class SandboxDelivery(models.Model):
    """Every hand-over to the sandbox provider: what would have left the server."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)
    message_id = models.UUIDField(db_index=True)
    channel = models.CharField(max_length=10)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=250, blank=True)
    body = models.TextField()
    html = models.TextField(blank=True)
    attachments = models.JSONField(default=list)
    provider_message_id = models.CharField(max_length=64)
    worker_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=now)

    objects = TenantManager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}"


class WebhookEndpoint(models.Model):
    """MSG-8: where the integrator wants state changes, and the secret that signs them."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="webhook")
    url = models.URLField(max_length=500)
    secret = models.TextField()  # encrypted
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now)

    objects = TenantManager()

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """A status change waiting to be POSTed to the integrator (its own little outbox)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE)
    event = models.ForeignKey(DeliveryEvent, on_delete=models.CASCADE)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"], name="hook_due")]

    def __str__(self) -> str:
        return f"webhook for event {self.event_id}"


class JobLock(models.Model):
    """One runner at a time for each periodic job, across all processes."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
