"""The practice's SMS gateway account (issue 5, seeds 001 and 003): read, validate, save,
key check, balance, test SMS, and the delivery-report token.

Shared by the API (``api/sms_channel.py``) and the staff settings page: ``clean`` is the one
validation both use. Credentials go in and never come out (only ``credentials_set``); they
are stored encrypted (``set_account_secrets``). Each account gets an unguessable token for
its delivery-report URL ``/hooks/sms/<gateway>/<token>``: the token is kept encrypted with
the credentials (gateways that take a callback URL per message need it at send time) and
its SHA-256 in the config, which is what an incoming report is looked up by.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.messaging.delivery import account_secrets, set_account_secrets
from praxisbote.messaging.models import ChannelAccount, Kind, Message, State
from praxisbote.messaging.reasons import declare
from praxisbote.practices.models import Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.providers.base import CheckResult
from praxisbote.providers.registry import provider_class, sms_adapters
from praxisbote.providers.sms.base import HttpSmsProvider, validate_sender

CHANNEL = "sms"
SANDBOX = "sandbox"
DELIVERY_MODES = ("webhook", "poll")
MAX_RATE = 1000.0
HOOK_TOKEN = "hook_token"  # noqa: S105 - the name of a secret, not one
HOOK_DIGEST = "hook_token_sha256"
#: Config keys every gateway has; adapter-specific ones come from ``CONFIG_FIELDS``.
COMMON_FIELDS = ("sender_id", "base_url", "rate_limit", "delivery_reports")


@dataclass
class SmsSettingsInput:
    gateway: str
    credentials: dict[str, str] = field(default_factory=dict)
    sender_id: str = ""
    base_url: str = ""
    rate_limit: float | None = None
    delivery_reports: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: Seed 001's switch "SMS erlauben (extra abgerechnet)"; None leaves it as it is.
    sms_enabled: bool | None = None


class NotSupported(Exception):
    """The configured gateway has no such capability (e.g. no balance in its API)."""


def account(practice: Practice) -> ChannelAccount | None:
    return scoped(ChannelAccount, practice).filter(channel=CHANNEL).first()


def adapter_class(name: str) -> type[HttpSmsProvider]:
    cls = provider_class(name)
    assert issubclass(cls, HttpSmsProvider)
    return cls


def gateways() -> list[dict[str, Any]]:
    """The gateways a practice can choose, with what each needs and can do."""
    return [
        {
            "name": name,
            "label": cls.label,
            "default_base_url": cls.default_base_url,
            "credentials": list(cls.SECRET_FIELDS),
            "optional_credentials": list(cls.OPTIONAL_SECRET_FIELDS),
            "options": list(cls.CONFIG_FIELDS),
            "supports_balance": cls.supports_balance,
            "supports_webhook": cls.supports_webhook,
            "supports_polling": cls.polls_status,
            "sender_required": cls.sender_required,
        }
        for name, cls in sorted(sms_adapters().items())
        if issubclass(cls, HttpSmsProvider)
    ]


def hook_url(gateway: str, token: str) -> str:
    return f"{settings.BASE_URL}/hooks/sms/{gateway}/{token}"


def read(practice: Practice) -> dict[str, Any]:
    """The settings as shown to the practice: everything but the credentials."""
    acc = account(practice)
    gateway = acc.provider if acc else SANDBOX
    config = dict(acc.config) if acc and gateway != SANDBOX else {}
    stored = account_secrets(acc) if acc and gateway != SANDBOX else {}
    cls = adapter_class(gateway) if gateway != SANDBOX else None
    fields = (cls.SECRET_FIELDS + cls.OPTIONAL_SECRET_FIELDS) if cls else ()
    return {
        "gateway": gateway,
        "test_mode": gateway == SANDBOX,
        "sms_enabled": practice.sms_enabled,
        "sender_id": config.get("sender_id", ""),
        "base_url": config.get("base_url", ""),
        "effective_base_url": config.get("base_url") or (cls.default_base_url if cls else ""),
        "rate_limit": config.get("rate_limit"),
        "delivery_reports": _delivery_mode(cls, config) if cls else "",
        "options": {k: config[k] for k in (cls.CONFIG_FIELDS if cls else ()) if k in config},
        "credentials_set": {name: bool(stored.get(name)) for name in fields},
        "webhook_url": config.get("callback_url", ""),
        "supports_balance": bool(cls and cls.supports_balance),
        "supports_webhook": bool(cls and cls.supports_webhook),
    }


def _delivery_mode(cls: type[HttpSmsProvider], config: dict[str, Any]) -> str:
    return config.get("delivery_reports") or ("webhook" if cls.supports_webhook else "poll")


def clean(
    data: SmsSettingsInput, stored: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate the input: (config, credentials) to store, or ``ValidationError`` by field.

    ``stored`` are the account's current credentials: an empty credential keeps the stored
    one when the gateway stays the same. This is the one check the API and the staff page
    share.
    """
    errors: dict[str, str] = {}
    gateway = (data.gateway or "").strip()
    if gateway == SANDBOX:
        return {}, {}
    names = sms_adapters()
    if gateway not in names:
        errors["gateway"] = _("Choose one of: %(names)s.") % {
            "names": ", ".join([SANDBOX, *sorted(names)])
        }
        raise ValidationError({k: [v] for k, v in errors.items()})
    cls = adapter_class(gateway)
    config: dict[str, Any] = {}
    credentials = _clean_credentials(cls, data.credentials, stored or {}, errors)
    sender = (data.sender_id or "").strip()
    if sender:
        try:
            config["sender_id"] = validate_sender(sender)
        except ValidationError as exc:
            errors["sender_id"] = exc.messages[0]
    elif cls.sender_required:
        errors["sender_id"] = _("%(gateway)s needs a sender ID.") % {"gateway": cls.label}
    base_url = (data.base_url or "").strip().rstrip("/")
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors["base_url"] = _(
                "Enter the gateway's address as http(s)://host/path, or leave it empty for "
                "%(default)s."
            ) % {"default": cls.default_base_url}
        config["base_url"] = base_url
    if data.rate_limit is not None:
        if not 0 < data.rate_limit <= MAX_RATE:
            errors["rate_limit"] = _(
                "Between 0 and 1000 SMS per second (empty: no limit of our own)."
            )
        config["rate_limit"] = data.rate_limit
    mode = (data.delivery_reports or "").strip()
    if mode:
        if mode not in DELIVERY_MODES:
            errors["delivery_reports"] = _("Choose 'webhook' or 'poll'.")
        elif mode == "webhook" and not cls.supports_webhook:
            errors["delivery_reports"] = _(
                "%(gateway)s sends no delivery reports to a URL; choose 'poll'."
            ) % {"gateway": cls.label}
        elif mode == "poll" and not cls.polls_status:
            errors["delivery_reports"] = _(
                "%(gateway)s cannot be asked for delivery reports; choose 'webhook'."
            ) % {"gateway": cls.label}
        config["delivery_reports"] = mode
    try:
        config.update(cls.validate_config(data.options or {}))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors[f"options.{name}"] = " ".join(messages)
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    return config, credentials


def _clean_credentials(
    cls: type[HttpSmsProvider],
    given: dict[str, str],
    stored: dict[str, Any],
    errors: dict[str, str],
) -> dict[str, str]:
    allowed = cls.SECRET_FIELDS + cls.OPTIONAL_SECRET_FIELDS
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        errors["credentials"] = _("%(gateway)s takes only: %(names)s.") % {
            "gateway": cls.label,
            "names": ", ".join(allowed),
        }
    result: dict[str, str] = {}
    for name in allowed:
        value = str(given.get(name) or "").strip()
        if any(c in value for c in "\r\n") or len(value) > 500:
            errors[f"credentials.{name}"] = _("At most 500 characters on one line.")
        value = value or str(stored.get(name) or "")
        if value:
            result[name] = value
        elif name in cls.SECRET_FIELDS:
            errors[f"credentials.{name}"] = _(
                "Enter the %(name)s from your %(gateway)s account."
            ) % {
                "name": name,
                "gateway": cls.label,
            }
    return result


def save(practice: Practice, data: SmsSettingsInput) -> ChannelAccount:
    """Validate and store; the SMS channel then sends through the chosen gateway."""
    with transaction.atomic():
        acc = account(practice) or ChannelAccount(practice=practice, channel=CHANNEL)
        gateway = (data.gateway or "").strip()
        if gateway == SANDBOX and acc.pk is not None and acc.provider != SANDBOX:
            return _to_test_mode(practice, data)
        previous = (acc.config or {}).get("previous_provider") if acc.pk else None
        same = acc.pk is not None and gateway in (acc.provider, previous)
        stored = account_secrets(acc) if acc.pk else {}
        # Switching gateway drops the old gateway's credentials; the hook token stays.
        config, credentials = clean(data, stored if same else {})
        _apply_switch(practice, data)
        token = str(stored.get(HOOK_TOKEN) or secrets.token_urlsafe(32))
        if gateway != SANDBOX:
            credentials[HOOK_TOKEN] = token
            config[HOOK_DIGEST] = digest(token)
            config["callback_url"] = hook_url(gateway, token)
        acc.provider = gateway
        acc.config = config
        acc.updated_at = timezone.now()
        set_account_secrets(acc, credentials)
        acc.save()
        _wake_waiting(practice)
        return acc


def _to_test_mode(practice: Practice, data: SmsSettingsInput) -> ChannelAccount:
    """Test mode keeps the gateway's settings and report URL: SMS already handed to the
    gateway still get their delivery reports, and switching back needs no new credentials."""
    from praxisbote.messaging.services import switch_to_sandbox

    _apply_switch(practice, data)
    return switch_to_sandbox(practice, CHANNEL)


def _apply_switch(practice: Practice, data: SmsSettingsInput) -> None:
    """The practice's "SMS erlauben" switch, when the input sets it."""
    if data.sms_enabled is not None and data.sms_enabled != practice.sms_enabled:
        practice.sms_enabled = data.sms_enabled
        practice.save(update_fields=["sms_enabled"])


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def account_for_hook(gateway: str, token: str) -> ChannelAccount | None:
    """The account a delivery report's URL names, or None; the token is compared in
    constant time after the lookup by its digest."""
    if not token or len(token) > 200:
        return None
    candidates = ChannelAccount.objects.filter(
        Q(provider=gateway) | Q(provider=SANDBOX, config__previous_provider=gateway),
        channel=CHANNEL,
        config__hook_token_sha256=digest(token),
    )
    for acc in candidates:
        stored = str(account_secrets(acc).get(HOOK_TOKEN) or "")
        if stored and hmac.compare_digest(stored.encode(), token.encode()):
            return acc
    return None


def _wake_waiting(practice: Practice) -> None:
    """SMS waiting for a retry (e.g. after a wrong key) go now with the new settings."""
    now = timezone.now()
    woken = (
        scoped(Message, practice)
        .filter(channel=CHANNEL, state=State.QUEUED, next_attempt_at__gt=now)
        .update(next_attempt_at=now, updated_at=now)
    )
    if woken:
        from praxisbote.messaging import wakeup
        from praxisbote.messaging.worker import notify_new_work

        wakeup.announce()  # standalone workers (PostgreSQL), at commit
        transaction.on_commit(notify_new_work)


def provider(practice: Practice) -> HttpSmsProvider | None:
    """The practice's gateway adapter (None in test mode), for key check and balance."""
    from praxisbote.messaging.delivery import AccountKey, provider_for

    acc = account(practice)
    if acc is None or acc.provider == SANDBOX:
        return None
    built = provider_for(AccountKey(practice.pk, CHANNEL), "settings", 2)
    assert isinstance(built, HttpSmsProvider)
    return built


def _run(coro_factory) -> Any:
    async def go(gateway: HttpSmsProvider) -> Any:
        try:
            return await coro_factory(gateway)
        finally:
            await gateway.close()

    return go


#: English like the gateways' own answers next to it (the page translates: reasons.py).
NO_GATEWAY = declare(gettext_noop("SMS is in test mode; choose a gateway and enter its key first."))


def key_check(practice: Practice) -> CheckResult:
    """Seed 003's "Key-Check": does the gateway accept the stored credentials?

    ``detail`` is English (the gateway's reason or a declared one): the API returns it as
    it is, the settings page through ``reasons.readable``.
    """
    gateway = provider(practice)
    if gateway is None:
        return CheckResult(False, NO_GATEWAY.format())
    return asyncio.run(_run(lambda g: g.check_credentials())(gateway))


def balance(practice: Practice) -> tuple[Decimal | None, str]:
    """The credit left at the gateway and its label; ``NotSupported`` where there is none."""
    gateway = provider(practice)
    if gateway is None:
        raise NotSupported(_("SMS is in test mode: there is no gateway account to ask."))
    if not gateway.supports_balance:
        raise NotSupported(_("%(gateway)s has no balance in its API.") % {"gateway": gateway.label})
    return asyncio.run(_run(lambda g: g.balance())(gateway)), gateway.label


def send_test(practice: Practice, to: str = "") -> Message:
    """A test SMS through the outbox to ``to`` or the practice's own number (seed 003)."""
    from praxisbote.messaging.services import MessageSpec, create_messages

    number = (to or "").strip() or practice.phone
    if not number:
        raise ValidationError(
            {"to": [_("Give a mobile number; the practice has no phone number on file.")]}
        )
    text = _("praxisbote: test SMS from %(name)s. If you can read it, SMS sending works.") % {
        "name": practice.display_sender
    }
    spec = MessageSpec(channel=CHANNEL, text=text, to=number, kind=Kind.TEST)
    return create_messages(practice, [spec]).messages[0]
