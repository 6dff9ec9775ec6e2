"""A configurable HTTP adapter for gateways without a standard API (firmensms.at, …).

Many small DACH gateways publish only a form for their customers and a page of
parameters. Instead of one module per such gateway, an account describes the gateway:

- where and how: ``base_url``, ``path``, ``method`` (POST/GET), ``auth`` (none, basic,
  bearer, header with ``auth_header``), ``username`` (basic); the secret ``api_key`` is the
  password, token or header value;
- the request: ``body_format`` (json, form, query) and ``body_template``, a JSON object
  whose string values may hold the placeholders ``{to}`` (+E.164), ``{to_digits}``,
  ``{to_00}`` (0043…), ``{text}``, ``{sender}``, ``{reference}`` (our message id) and
  ``{callback}`` (our delivery-report URL);
- the answer: ``response_id_path`` (dotted path to the gateway's message id),
  ``success_path``/``success_values`` (e.g. ``error`` must be ``"0"``) and ``error_classes``
  mapping the gateway's error codes to ``auth``, ``credit``, ``number``, ``sender``,
  ``throttle``, ``transient`` or ``rejected``; HTTP 429/401/403/5xx are classified as for
  every adapter;
- delivery reports: ``dlr_id_field``/``dlr_status_field`` (query, form or JSON) and
  ``status_map`` (the gateway's status -> ours: sent, buffered, delivered, undeliverable,
  expired); ``balance_path``/``balance_field`` for a balance query.

``PRESETS`` holds the descriptions known so far. firmensms.at follows the only public
material (community clients, see tests/fakes/generic.py). dentportSMS publishes no API
description at all, so there is no preset for it: a practice enters what its vendor gives it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from praxisbote.messaging.reasons import declare
from praxisbote.providers.base import (
    CheckResult,
    Outgoing,
    PermanentError,
    ProviderError,
    SendOutcome,
    StatusUpdate,
    TransientError,
)
from praxisbote.providers.sms import base
from praxisbote.providers.sms.base import NORMALISED, HttpResponse, HttpSmsProvider
from praxisbote.providers.sms.twilio import basic_header

METHODS = ("POST", "GET")
AUTHS = ("none", "basic", "bearer", "header")
FORMATS = ("json", "form", "query")
ERROR_CLASSES = ("auth", "credit", "number", "sender", "throttle", "transient", "rejected")
#: Key check without a balance query (English like every reason; reasons.py translates it).
NO_KEY_CHECK = declare(
    gettext_noop(
        "%(gateway)s: no key check configured (it needs a balance query); send a test SMS instead."
    )
)
PLACEHOLDER = re.compile(r"\{(to|to_digits|to_00|text|sender|reference|callback)\}")

PRESETS: dict[str, dict[str, Any]] = {
    "firmensms": {
        "label": "firmensms.at",
        "base_url": "https://www.firmensms.at",
        "path": "gateway/rest/sms",
        "method": "POST",
        "auth": "basic",
        "body_format": "json",
        "body_template": {"to": "{to_00}", "text": "{text}", "senderid": "{sender}"},
        "response_id_path": "msgid",
        "success_path": "error",
        "success_values": ["0"],
        "error_classes": {
            "1": "auth",
            "2": "auth",
            "4": "number",
            "14": "number",
            "5": "sender",
            "10": "sender",
            "8": "credit",
            "15": "auth",
        },
        "dlr_id_field": "msgid",
        "dlr_status_field": "status",
        "status_map": {"DELIVERED": "delivered", "FAILED": "undeliverable", "BUFFERED": "buffered"},
        "balance_path": "gateway/rest/balance",
        "balance_field": "balance",
    },
}


def dig(data: Any, path: str) -> Any:
    """``a.b.0.c`` in nested dicts/lists, or None."""
    for part in [p for p in path.split(".") if p]:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """The template with placeholders replaced in every string; other values unchanged."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


def _template(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(
                {"body_template": _("The body template must be a JSON object.")}
            ) from None
    if not isinstance(value, dict) or not value:
        raise ValidationError({"body_template": _("The body template must be a JSON object.")})
    return value


class GenericHttpProvider(HttpSmsProvider):
    name: ClassVar[str] = "generic"
    label: ClassVar[str] = "SMS gateway"
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ()
    OPTIONAL_SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("api_key",)
    CONFIG_FIELDS: ClassVar[tuple[str, ...]] = (
        "preset",
        "label",
        "path",
        "method",
        "auth",
        "auth_header",
        "username",
        "body_format",
        "body_template",
        "response_id_path",
        "success_path",
        "success_values",
        "error_classes",
        "dlr_id_field",
        "dlr_status_field",
        "status_map",
        "balance_path",
        "balance_field",
    )
    supports_webhook: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any] | None = None, *args: Any, **kw: Any) -> None:
        merged = dict(config or {})
        preset = PRESETS.get(str(merged.get("preset") or ""), {})
        merged = {**preset, **{k: v for k, v in merged.items() if v not in (None, "")}}
        super().__init__(merged, *args, **kw)
        self.gateway = str(self.config.get("label") or "SMS gateway")
        self.label = self.gateway  # type: ignore[misc]  # named in reasons and reports
        self.template = _template(self.config.get("body_template") or {"to": "{to}"})
        self.statuses = {
            str(k).upper(): v for k, v in (self.config.get("status_map") or {}).items()
        }

    @classmethod
    def validate_config(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        cleaned = super().validate_config(values)
        preset = PRESETS.get(str(cleaned.get("preset") or ""), {})
        merged = {**preset, **cleaned}
        errors: dict[str, Any] = {}
        checks = (
            ("method", METHODS, "POST"),
            ("auth", AUTHS, "none"),
            ("body_format", FORMATS, "json"),
        )
        for key, allowed, default in checks:
            if str(merged.get(key, default)) not in allowed:
                errors[key] = _("One of: %s.") % ", ".join(allowed)
        if merged.get("auth") == "header" and not merged.get("auth_header"):
            errors["auth_header"] = _("Name the header that carries the key.")
        for code, kind in (merged.get("error_classes") or {}).items():
            if kind not in ERROR_CLASSES:
                errors["error_classes"] = _("Error %(code)s: one of %(kinds)s.") % {
                    "code": code,
                    "kinds": ", ".join(ERROR_CLASSES),
                }
        for raw, ours in (merged.get("status_map") or {}).items():
            if ours not in NORMALISED:
                errors["status_map"] = _("Status %(raw)s: one of %(ours)s.") % {
                    "raw": raw,
                    "ours": ", ".join(sorted(NORMALISED)),
                }
        try:
            cleaned["body_template"] = _template(merged.get("body_template"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if not merged.get("response_id_path"):
            errors["response_id_path"] = _("Name the field that holds the gateway's message id.")
        if errors:
            raise ValidationError(errors)
        return cleaned

    # -- requests -----------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        secret = str(self.secrets.get("api_key", ""))
        auth = self.config.get("auth", "none")
        if auth == "bearer":
            return {"Authorization": f"Bearer {secret}"}
        if auth == "header":
            return {str(self.config["auth_header"]): secret}
        if auth == "basic":
            return {"Authorization": basic_header(str(self.config.get("username", "")), secret)}
        return {}

    def values(self, message: Outgoing) -> dict[str, str]:
        digits = message.recipient.lstrip("+")
        return {
            "to": message.recipient,
            "to_digits": digits,
            "to_00": "00" + digits,
            "text": message.body,
            "sender": self.sender_id,
            "reference": self.client_reference(message),
            "callback": self.callback_url,
        }

    async def send_one(self, message: Outgoing) -> SendOutcome:
        body = fill(self.template, self.values(message))
        fmt = self.config.get("body_format", "json")
        kw: dict[str, Any] = {}
        if fmt == "json":
            # Some gateways (firmensms) refuse "application/json; charset=utf-8".
            kw["form"] = json.dumps(body).encode()
            kw["headers"] = {"Content-Type": "application/json"}
        elif fmt == "form":
            kw["form"] = {k: str(v) for k, v in body.items()}
        else:
            kw["params"] = {k: str(v) for k, v in body.items()}
        method = str(self.config.get("method", "POST"))
        response = await self.request(method, str(self.config.get("path", "")), **kw)
        return self.outcome(message, response)

    def outcome(self, message: Outgoing, response: HttpResponse) -> SendOutcome:
        data = response.json()
        if data is None:
            data = dict(parse_qsl(response.text))
        success_path = str(self.config.get("success_path") or "")
        if success_path:
            code = str(dig(data, success_path))
            allowed = [str(v) for v in self.config.get("success_values") or []]
            if code not in allowed:
                raise self.error_for(code, message.recipient)
        elif response.status >= 400:
            raise self.error_for(str(response.status), message.recipient)
        provider_id = dig(data, str(self.config.get("response_id_path", "")))
        if provider_id in (None, ""):
            raise base.rejected(self.gateway, base.NO_MESSAGE_ID.format())
        return self.accepted(message, str(provider_id), data)

    def error_for(self, code: str, recipient: str) -> ProviderError:
        kind = (self.config.get("error_classes") or {}).get(code, "rejected")
        detail = f"error {code}"
        if kind == "auth":
            return base.wrong_key(self.gateway, detail)
        if kind == "credit":
            return base.no_credit(self.gateway, detail)
        if kind == "number":
            return base.invalid_number(self.gateway, recipient, detail)
        if kind == "sender":
            return base.invalid_sender(self.gateway, detail)
        if kind == "throttle":
            return base.throttled(self.gateway, 1.0)
        if kind == "transient":
            return base.gateway_trouble(self.gateway, detail)
        return base.rejected(self.gateway, detail)

    # -- balance, key check, reports ------------------------------------------------------

    async def balance(self) -> Decimal | None:
        path = str(self.config.get("balance_path") or "")
        if not path:
            return None
        response = await self.request("GET", path)
        data = response.json()
        success_path = str(self.config.get("success_path") or "")
        if success_path and isinstance(data, dict) and success_path in data:
            code = str(dig(data, success_path))
            if code not in [str(v) for v in self.config.get("success_values") or []]:
                raise self.error_for(code, "")
        return base.parse_decimal(dig(data, str(self.config.get("balance_field") or "balance")))

    async def check_credentials(self) -> CheckResult:
        if not self.config.get("balance_path"):
            return CheckResult(ok=False, detail=NO_KEY_CHECK.format(gateway=self.gateway))
        try:
            amount = await self.balance()
        except (PermanentError, TransientError) as exc:
            return CheckResult(ok=False, detail=exc.reason)
        detail = base.KEY_ACCEPTED.format(gateway=self.gateway)
        return CheckResult(ok=True, detail=detail, balance=amount)

    def map_status(self, raw: str) -> str | None:  # type: ignore[override]
        return self.statuses.get(str(raw).strip().upper())

    def parse_webhook(
        self, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> list[StatusUpdate]:
        params: dict[str, Any] = {str(k): v for k, v in query.items()}
        if body:
            try:
                data = json.loads(body)
            except ValueError:
                data = dict(parse_qsl(body.decode("utf-8", "replace")))
            if isinstance(data, dict):
                params.update(data)
        id_field = str(self.config.get("dlr_id_field") or "id")
        provider_id = dig(params, id_field)
        if provider_id in (None, ""):
            raise PermanentError(f"report without {id_field}", code="payload")
        raw = str(dig(params, str(self.config.get("dlr_status_field") or "status")) or "")
        update = self.status_update(str(provider_id), raw, params)
        return [update] if update is not None else []


Adapter = GenericHttpProvider
