"""Practices (tenants), their staff and API keys (REQUIREMENTS TEN-1..5)."""

from __future__ import annotations

import uuid
from datetime import time
from zoneinfo import available_timezones

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from praxisbote.practices.tenancy import TenantManager

COUNTRY_TIMEZONES = {"AT": "Europe/Vienna", "DE": "Europe/Berlin", "CH": "Europe/Zurich"}
TIMEZONES = sorted(tz for tz in available_timezones() if tz.startswith("Europe/"))


class Country(models.TextChoices):
    AT = "AT", _("Austria")
    DE = "DE", _("Germany")
    CH = "CH", _("Switzerland")


class Language(models.TextChoices):
    DE = "de", "Deutsch"
    EN = "en", "English"


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    THREEMA = "threema", _("Threema")


class Practice(models.Model):
    """One tenant. Every other row in the system belongs to exactly one practice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices)
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Vienna")
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.DE
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    sender_name = models.CharField(
        _("sender display name"),
        max_length=100,
        blank=True,
        help_text=_("Shown to patients as the sender, e.g. the practice or practitioner."),
    )
    quiet_hours_start = models.TimeField(_("quiet hours from"), default=time(20, 0))
    quiet_hours_end = models.TimeField(_("quiet hours until"), default=time(8, 0))
    protocol_retention_days = models.PositiveIntegerField(
        _("keep the send protocol for (days)"), default=28
    )
    email_enabled = models.BooleanField(_("allow e-mail"), default=True)
    sms_enabled = models.BooleanField(_("allow SMS (billed extra)"), default=False)
    threema_enabled = models.BooleanField(_("allow Threema (billed extra)"), default=False)
    sms_smart_encoding = models.BooleanField(
        _("smart SMS encoding"),
        default=True,
        help_text=_(
            "Replace typographic quotes, dashes and similar characters by their GSM look-alikes "
            "when that keeps an SMS in the cheaper GSM-7 encoding (SMS-6)."
        ),
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_sender(self) -> str:
        return self.sender_name or self.name

    def channel_enabled(self, channel: str) -> bool:
        return bool(getattr(self, f"{channel}_enabled", False))


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    STAFF = "staff", _("Staff")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("e-mail address required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member who logs into the web UI; belongs to one practice."""

    email = models.EmailField(_("e-mail address"), unique=True)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STAFF)
    full_name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


class ApiKey(models.Model):
    """An integrator's key. Only a SHA-256 digest is stored; the key is shown once.

    Keys carry 256 bits of randomness, so a fast digest is safe here (no dictionary to
    guess from) and keeps every API request cheap; passwords use Argon2 instead.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(models.Model):
    """Failed login attempts, kept in the database so the limit holds across processes."""

    key = models.CharField(max_length=255, db_index=True)
    at = models.DateTimeField(default=now, db_index=True)

    def __str__(self) -> str:
        return f"{self.key} at {self.at:%Y-%m-%d %H:%M}"
