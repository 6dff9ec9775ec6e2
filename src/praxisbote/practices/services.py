"""Writes and checks for practices, staff and API keys; shared by API, UI and CLI."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from praxisbote.practices.models import (
    COUNTRY_TIMEZONES,
    ApiKey,
    Country,
    Language,
    LoginFailure,
    Practice,
    Role,
    User,
)

KEY_PREFIX = "pb_"


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: ``secret`` exists only here and is never stored."""

    key: ApiKey
    secret: str


def create_practice(
    *,
    name: str,
    country: str,
    timezone_name: str | None = None,
    language: str = Language.DE,
    **fields,
) -> Practice:
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the practice's name.")
    if country not in Country.values:
        errors["country"] = _("Country must be AT, DE or CH.")
    if language not in Language.values:
        errors["language"] = _("Language must be de or en.")
    tz = timezone_name or COUNTRY_TIMEZONES.get(country, "Europe/Vienna")
    if not is_valid_timezone(tz):
        errors["timezone"] = _("Unknown time zone %(tz)s.") % {"tz": tz}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        practice = Practice.objects.create(
            name=name, country=country, timezone=tz, language=language, **fields
        )
        from praxisbote.patients.services import create_default_categories

        create_default_categories(practice)
    return practice


def is_valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(practice: Practice, name: str = "default") -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        practice=practice, name=(name or "default")[:100], prefix=prefix, digest=_digest(secret)
    )
    return IssuedKey(key=key, secret=secret)


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The active key for ``secret``, or None. Constant-time digest comparison."""
    if not secret or not secret.startswith(KEY_PREFIX):
        return None
    prefix = secret[len(KEY_PREFIX) :].split("_", 1)[0]
    key = (
        ApiKey.objects.select_related("practice")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.digest, _digest(secret)):
        return None
    now = timezone.now()
    # Record use at most once a minute: a busy integrator must not turn every call into a write.
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    *, practice: Practice, email: str, role: str, password: str | None = None, full_name: str = ""
) -> tuple[User, str]:
    """Create a staff login; returns the user and the password (generated if not given)."""
    email = (email or "").strip().lower()
    errors: dict[str, str] = {}
    if role not in Role.values:
        errors["role"] = _("Role must be owner or staff.")
    if not email or "@" not in email:
        errors["email"] = _("Enter a valid e-mail address.")
    elif User.objects.filter(email=email).exists():
        errors["email"] = _("A user with this e-mail address already exists.")
    password = password or generate_password()
    candidate = User(email=email, practice=practice, role=role)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        email, password, practice=practice, role=role, full_name=full_name
    )
    return user, password


def _throttle_keys(email: str, client: str | None) -> list[str]:
    keys = [f"email:{(email or '').strip().lower()}"]
    if client:
        keys.append(f"ip:{client}")
    return keys


def login_locked(email: str, client: str | None) -> bool:
    """True when too many recent failures for this address or this client."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    for key in _throttle_keys(email, client):
        limit = settings.LOGIN_MAX_ATTEMPTS * (4 if key.startswith("ip:") else 1)
        if LoginFailure.objects.filter(key=key, at__gte=since).count() >= limit:
            return True
    return False


def record_login_failure(email: str, client: str | None) -> None:
    LoginFailure.objects.bulk_create(
        [LoginFailure(key=key) for key in _throttle_keys(email, client)]
    )


def clear_login_failures(email: str) -> None:
    LoginFailure.objects.filter(key__in=_throttle_keys(email, None)).delete()


PRACTICE_SETTINGS = (
    "name",
    "timezone",
    "language",
    "phone",
    "sender_name",
    "quiet_hours_start",
    "quiet_hours_end",
    "protocol_retention_days",
    "email_enabled",
    "sms_enabled",
    "threema_enabled",
    "sms_smart_encoding",
)


def update_practice(practice: Practice, data: dict) -> Practice:
    """Change practice settings (TEN-4/5); validates all fields before writing any."""
    errors: dict[str, str] = {}
    values = {k: v for k, v in data.items() if k in PRACTICE_SETTINGS}
    for field, value in values.items():
        if value is None:
            errors[field] = _("This field cannot be empty.")
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = _("Enter the practice's name.")
    if values.get("timezone") is not None and not is_valid_timezone(values["timezone"]):
        errors["timezone"] = _("Unknown time zone %(tz)s.") % {"tz": values["timezone"]}
    if values.get("language") is not None and values["language"] not in Language.values:
        errors["language"] = _("Language must be de or en.")
    days = values.get("protocol_retention_days")
    if days is not None and not 1 <= int(days) <= 3650:
        errors["protocol_retention_days"] = _("Between 1 and 3650 days.")
    for field in ("phone", "sender_name"):
        if values.get(field) is not None and len(str(values[field])) > 100:
            errors[field] = _("At most %(n)d characters.") % {"n": 100}
    if errors:
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(practice, field, value.strip() if isinstance(value, str) else value)
    practice.save()
    return practice
