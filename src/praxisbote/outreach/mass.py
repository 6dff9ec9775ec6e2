"""Mass notices (APT-9): one general text to all or a filtered set of patients.

Why this shape:

* Seed 001: a mass notice is general, "eine Personalisierung ist nicht möglich". The text
  may name the practice (``{{ practice.name }}``, ``{{ practice.phone }}``), which is the
  same for every patient, and nothing else; it is rendered once.
* A mass notice is automatic in the sense of PAT-4: it goes only by a channel the patient
  consented to, and only to patients who did not switch mass notices off (PAT-3). Who is
  left out is counted by reason, so staff can see why 40 of 400 patients get nothing.
* Preview and send share ``select``: the preview's ``fingerprint`` names exactly the
  recipients, channels and text it priced; a send with that fingerprint is refused when
  anything changed in between (a patient withdrew consent, a colleague edited the text).
* Sending writes through ``messaging.services.create_messages`` with ``batch=True`` (the
  path of ``POST /messages/batch``), all messages carrying the notice's id as
  ``campaign_id``, in one transaction with the ``MassNotice`` row: all or nothing.
* Quiet hours: a mass notice is automatic (PAT-4) and never urgent, so one sent (or
  scheduled) inside the practice's quiet hours is held until they end: not dropped, not
  sent at night. The preview says so ("goes out at 08:00"), and the sending time is part
  of the fingerprint, so a preview of 19:55 confirmed at 20:05 is shown again.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from jinja2 import meta

from praxisbote.appointments import rules
from praxisbote.billing import services as billing
from praxisbote.billing.models import CreditAccount, FreeQuota
from praxisbote.messaging import services
from praxisbote.messaging.models import Kind, Message
from praxisbote.outreach.models import MassNotice
from praxisbote.patients.models import Notification, Patient
from praxisbote.patients.services import search_patients
from praxisbote.practices.models import Channel, Practice
from praxisbote.practices.tenancy import scoped
from praxisbote.texts import encoding, rendering

ORDERS = ("patient", "given")
MAX_TEXT = 5000
SAMPLE_SIZE = 20
#: Why a patient of the audience gets nothing; the keys are API values.
SKIP_REASONS = {
    "opted_out": gettext_lazy("switched mass notices off"),
    "no_address": gettext_lazy("no address for the chosen channels"),
    "no_consent": gettext_lazy("no consent for the chosen channels"),
    "invalid_address": gettext_lazy("address on record is not valid"),
}
#: Names a mass notice text may use: the same for every patient.
ALLOWED_NAMES = frozenset({"practice"})


class FingerprintMismatch(Exception):
    """The recipients or the text changed since the preview that was confirmed."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before for a different mass notice."""


@dataclass(frozen=True)
class Audience:
    """Who is asked for; every filter narrows (AND). Empty filters: all patients."""

    category_ids: tuple[int, ...] = ()
    consented_to: tuple[str, ...] = ()
    has_mobile: bool | None = None
    has_email: bool | None = None
    q: str = ""
    patient_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "category_ids": list(self.category_ids),
            "consented_to": list(self.consented_to),
            "has_mobile": self.has_mobile,
            "has_email": self.has_email,
            "q": self.q,
            "patient_ids": [str(p) for p in self.patient_ids],
        }


@dataclass(frozen=True)
class Content:
    text: str
    subject: str = ""


@dataclass
class Selection:
    """Who gets the notice by which channel, and who is left out and why."""

    recipients: list[tuple[Patient, str]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    skipped_sample: list[tuple[Patient, str]] = field(default_factory=list)

    def by_channel(self) -> dict[str, int]:
        return dict(Counter(channel for _p, channel in self.recipients))


@dataclass
class Rendered:
    text: str
    subject: str
    html: str
    sms_text: str  # after smart encoding (SMS-6), what an SMS would carry


# ---------------------------------------------------------------- validation


def clean(
    practice: Practice, content: Content, channels: Sequence[str], order: str
) -> tuple[Content, list[str]]:
    """The text, subject and channels as given, or ``ValidationError`` naming each field."""
    errors: dict[str, str] = {}
    text = (content.text or "").strip()
    if not text:
        errors["text"] = _("The message text is empty.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("At most %(n)d characters.") % {"n": MAX_TEXT}
    elif problem := _text_problem(text, practice):
        errors["text"] = problem
    subject = " ".join((content.subject or "").split())
    if len(subject) > 250:
        errors["subject"] = _("At most %(n)d characters.") % {"n": 250}
    elif subject and (problem := _text_problem(subject, practice)):
        errors["subject"] = problem
    chosen = _clean_channels(practice, channels, errors)
    if order not in ORDERS:
        errors["order"] = _("Order must be 'patient' or 'given'.")
    if errors:
        raise ValidationError(errors)
    return Content(text=text, subject=subject), chosen


def _clean_channels(practice: Practice, channels: Sequence[str], errors: dict[str, str]):
    chosen: list[str] = []
    for channel in channels or ():
        if channel not in Channel.values:
            errors["channels"] = _("Channels must be email, sms or threema.")
            return []
        if not practice.channel_enabled(channel):
            errors["channels"] = _(
                "The channel %(channel)s is not switched on for this practice (practice settings)."
            ) % {"channel": channel}
            return []
        if channel not in chosen:
            chosen.append(channel)
    if not chosen and "channels" not in errors:
        errors["channels"] = _("Choose at least one channel.")
    return chosen


def _text_problem(source: str, practice: Practice) -> str:
    """Empty when the text is general; otherwise what to change, in words for staff."""
    problems = rendering.validate(source, practice=practice)
    if problems:
        return str(problems[0])
    names = meta.find_undeclared_variables(rendering.TEXT_ENV.parse(source))
    if names - ALLOWED_NAMES:
        return _(
            "A mass notice is the same for everyone (no personalisation): only "
            "{{ practice.name }} and {{ practice.phone }} can be used, not %(names)s."
        ) % {"names": ", ".join(sorted(names - ALLOWED_NAMES))}
    return ""


def clean_audience(practice: Practice, audience: Audience) -> Audience:
    errors: dict[str, str] = {}
    if any(c not in Channel.values for c in audience.consented_to):
        errors["audience.consented_to"] = _("Channels must be email, sms or threema.")
    if audience.category_ids:
        from praxisbote.patients.models import PatientCategory

        known = set(
            scoped(PatientCategory, practice)
            .filter(pk__in=audience.category_ids)
            .values_list("pk", flat=True)
        )
        if set(audience.category_ids) - known:
            errors["audience.category_ids"] = _("No such category in this practice.")
    for pid in audience.patient_ids:
        if not services._is_uuid(pid):
            errors["audience.patient_ids"] = _("Not a valid patient id: %(id)s") % {"id": pid}
            break
    if len(audience.q) > 200:
        errors["audience.q"] = _("At most %(n)d characters.") % {"n": 200}
    if errors:
        raise ValidationError(errors)
    return audience


# ---------------------------------------------------------------- selection


def audience_queryset(practice: Practice, audience: Audience) -> QuerySet[Patient]:
    qs = search_patients(practice, audience.q)
    if audience.patient_ids:
        qs = qs.filter(pk__in=list(audience.patient_ids))
    if audience.category_ids:
        qs = qs.filter(category_id__in=list(audience.category_ids))
    if audience.has_mobile is not None:
        qs = qs.exclude(mobile="") if audience.has_mobile else qs.filter(mobile="")
    if audience.has_email is not None:
        qs = qs.exclude(email="") if audience.has_email else qs.filter(email="")
    # Consent lives in a JSON column; ``select`` filters it in Python, the same on
    # SQLite and PostgreSQL.
    return qs.order_by("last_name", "first_name", "pk")


def _candidates(patient: Patient, channels: Sequence[str], order: str) -> list[str]:
    if order == "given":
        return list(channels)
    preferred = [c for c in patient.effective_channels() if c in channels]
    return preferred + [c for c in channels if c not in preferred]


def _choose(patient: Patient, channels: Sequence[str], order: str, country: str) -> tuple[str, str]:
    """(channel, "") for the first channel the patient can receive, else ("", reason)."""
    if Notification.MASS not in patient.effective_notifications():
        return "", "opted_out"
    candidates = _candidates(patient, channels, order)
    reachable = [c for c in candidates if patient.address_for(c)]
    if not reachable:
        return "", "no_address"
    consented = [c for c in reachable if patient.has_consent(c)]
    if not consented:
        return "", "no_consent"
    for channel in consented:
        try:
            services.normalise_address(channel, patient.address_for(channel), country)
        except ValidationError:
            continue
        return channel, ""
    return "", "invalid_address"


def select(
    practice: Practice, audience: Audience, channels: Sequence[str], order: str
) -> Selection:
    selection = Selection()
    for patient in audience_queryset(practice, audience).iterator(chunk_size=2000):
        if any(not patient.has_consent(c) for c in audience.consented_to):
            continue  # not in the audience asked for (filter), so not "skipped" either
        channel, reason = _choose(patient, channels, order, practice.country)
        if channel:
            selection.recipients.append((patient, channel))
        else:
            selection.skipped[reason] += 1
            if len(selection.skipped_sample) < SAMPLE_SIZE:
                selection.skipped_sample.append((patient, reason))
    return selection


# ---------------------------------------------------------------- rendering and price


def render(practice: Practice, content: Content) -> Rendered:
    """The one text everybody gets; the subject defaults to the mass template's."""
    language = rendering.resolve_language(practice, practice.language)
    data = rendering.build_context(practice, language, rendering.EMPTY_CONTEXT)
    subject = (
        content.subject
        or rendering.render_sources(
            rendering.sources_for(practice, Kind.MASS, Channel.EMAIL, [language])[language],
            Channel.EMAIL,
            data,
        ).subject
    )
    sources = rendering.Sources(
        text=content.text, subject=subject, html="", salutation="", greeting=""
    )
    email = rendering.render_sources(sources, Channel.EMAIL, data)
    text = email.text
    sms_text = encoding.smart_text(text) if practice.sms_smart_encoding else text
    return Rendered(text=text, subject=email.subject, html=email.html, sms_text=sms_text)


def default_text(practice: Practice) -> tuple[str, str]:
    """(e-mail subject, short text) of the practice's mass template, rendered without a
    link: what the staff form starts from."""
    language = rendering.resolve_language(practice, practice.language)
    context = dict(rendering.EMPTY_CONTEXT)
    subject = rendering.render(practice, Kind.MASS, Channel.EMAIL, language, context).subject
    text = rendering.render(practice, Kind.MASS, Channel.SMS, language, context).text
    return subject, text


def _free_left(practice: Practice, account: CreditAccount, channel: str) -> int:
    limit = account.free_per_month(channel)
    if not limit:
        return 0
    used = (
        scoped(FreeQuota, practice)
        .filter(channel=channel, month=billing.month_key(practice))
        .values_list("used", flat=True)
        .first()
        or 0
    )
    return max(0, limit - used)


def price(practice: Practice, rendered: Rendered, by_channel: Mapping[str, int]) -> dict:
    """Per channel: messages, units each, list price, free units left, expected charge."""
    account = CreditAccount.objects.filter(practice=practice).first() or CreditAccount(
        practice=practice
    )
    rows: dict[str, dict[str, Any]] = {}
    total = Decimal("0")
    for channel, count in sorted(by_channel.items()):
        text = rendered.sms_text if channel == Channel.SMS else rendered.text
        units_each = services.units_for(channel, text)
        units = units_each * count
        unit_price = account.price(channel)
        free_left = _free_left(practice, account, channel) if unit_price > 0 else 0
        charged = unit_price * max(0, units - free_left)
        total += charged
        row: dict[str, Any] = {
            "count": count,
            "units_each": units_each,
            "units": units,
            "price": unit_price,
            "list_cost": unit_price * units,
            "free_units_left": free_left,
            "cost": charged,
            "test_mode": services.in_test_mode(practice, channel),
        }
        if channel == Channel.SMS:
            analysis = encoding.analyze(text)
            row.update(encoding=analysis.encoding, characters=analysis.characters)
        rows[channel] = row
    return {
        "channels": rows,
        "cost": total,
        "currency": account.currency,
        "available_credit": account.available,
        "enough_credit": total <= account.available,
    }


def schedule(
    practice: Practice, send_at: datetime | None, now: datetime | None = None
) -> tuple[datetime | None, bool]:
    """(when the notice goes out, whether the quiet hours moved it); None: at once."""
    now = now or timezone.now()
    moment = send_at if send_at is not None and send_at > now else now
    shifted = rules.outside_quiet(moment, rules.quiet_hours_of(practice))
    if shifted > moment:
        return shifted, True
    return send_at, False


def fingerprint(selection: Selection, rendered: Rendered, send_at: datetime | None) -> str:
    digest = hashlib.sha256()
    for patient, channel in sorted(selection.recipients, key=lambda r: str(r[0].pk)):
        digest.update(f"{patient.pk}:{channel};".encode())
    digest.update(f"|{rendered.subject}|{rendered.text}|{send_at}".encode())
    return digest.hexdigest()


@dataclass
class Preview:
    rendered: Rendered
    selection: Selection
    cost: dict
    fingerprint: str
    content: Content
    channels: list[str]
    send_at: datetime | None  # when it goes out (None: at once), after the quiet hours
    held_for_quiet_hours: bool = False


def preview(
    practice: Practice,
    audience: Audience,
    content: Content,
    channels: Sequence[str],
    order: str = "patient",
    send_at: datetime | None = None,
    *,
    now: datetime | None = None,
) -> Preview:
    """What a send would do, without writing anything (BIL-5: the cost before sending)."""
    content, chosen = clean(practice, content, channels, order)
    audience = clean_audience(practice, audience)
    send_at, held = schedule(practice, _clean_send_at(send_at), now)
    rendered = render(practice, content)
    selection = select(practice, audience, chosen, order)
    return Preview(
        rendered=rendered,
        selection=selection,
        cost=price(practice, rendered, selection.by_channel()),
        fingerprint=fingerprint(selection, rendered, send_at),
        content=content,
        channels=chosen,
        send_at=send_at,
        held_for_quiet_hours=held,
    )


def _clean_send_at(send_at: datetime | None) -> datetime | None:
    if send_at is None:
        return None
    if timezone.is_naive(send_at):
        raise ValidationError({"send_at": _("Give the time with its offset, e.g. +01:00.")})
    return send_at.astimezone(UTC)


# ---------------------------------------------------------------- sending


def send(
    practice: Practice,
    audience: Audience,
    content: Content,
    channels: Sequence[str],
    order: str = "patient",
    *,
    send_at: datetime | None = None,
    expected_fingerprint: str = "",
    created_by: str = "",
    idempotency_key: str = "",
    request_hash: str = "",
    now: datetime | None = None,
) -> tuple[MassNotice, bool]:
    """Write the notice and all its messages in one transaction; (notice, replayed).

    Raises ``ValidationError``, ``FingerprintMismatch``, ``IdempotencyConflict`` or
    ``billing.InsufficientCredit``; nothing is written then.
    """
    if idempotency_key and (replay := _replay(practice, idempotency_key, request_hash)):
        return replay, True
    planned = preview(practice, audience, content, channels, order, send_at, now=now)
    if expected_fingerprint and expected_fingerprint != planned.fingerprint:
        raise FingerprintMismatch()
    if not planned.selection.recipients:
        raise ValidationError(
            {"audience": _("No patient of this selection can receive the notice.")}
        )
    notice = MassNotice(
        practice=practice,
        subject=planned.rendered.subject,
        text=planned.rendered.text,
        channels=planned.channels,
        order=order,
        audience=audience.as_dict(),
        recipients=len(planned.selection.recipients),
        by_channel=planned.selection.by_channel(),
        skipped=dict(planned.selection.skipped),
        send_at=planned.send_at,
        held_for_quiet_hours=planned.held_for_quiet_hours,
        created_by=created_by[:254],
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    specs = [_spec(notice, planned.rendered, p, ch) for p, ch in planned.selection.recipients]
    try:
        with transaction.atomic():
            notice.save()
            written: list[Message] = []
            for chunk in _chunks(specs, services.MAX_BATCH):
                written.extend(services.create_messages(practice, chunk, batch=True).messages)
            notice.cost = services.total_cost(written)
            notice.save(update_fields=["cost"])
    except IntegrityError:
        if idempotency_key and (replay := _replay(practice, idempotency_key, request_hash)):
            return replay, True
        raise
    return notice, False


def _spec(notice: MassNotice, rendered: Rendered, patient: Patient, channel: str):
    return services.MessageSpec.rendered(
        channel,
        rendered,
        patient_id=patient.pk,
        send_at=notice.send_at,
        kind=Kind.MASS,
        campaign_id=notice.pk,
    )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _replay(practice: Practice, key: str, request_hash: str) -> MassNotice | None:
    notice = scoped(MassNotice, practice).filter(idempotency_key=key).first()
    if notice is not None and notice.request_hash != request_hash:
        raise IdempotencyConflict(key)
    return notice


# ---------------------------------------------------------------- reading and withdrawing


def states_of(notice: MassNotice) -> dict[str, int]:
    """How many of the notice's messages are in each state (one grouped query)."""
    from django.db.models import Count

    rows = (
        Message.objects.filter(practice_id=notice.practice_id, campaign_id=notice.pk)
        .values("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["state"]: row["n"] for row in rows}


def withdraw(notice: MassNotice) -> int:
    """Cancel the notice's messages that have not gone out yet; how many were."""
    return services.cancel_many(notice.practice, campaign_id=notice.pk)
