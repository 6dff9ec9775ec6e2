"""Reserve, charge, release (BIL-5, MSG-5): money moves only through these functions.

A paid message reserves its cost when it is queued, is charged when the provider accepts
it and released when it fails, expires or is cancelled. Free monthly units (seed 001:
5 SMS and 5 Threema) are used first and given back on release.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from praxisbote.billing.models import CreditAccount, CreditEntry, EntryKind, FreeQuota
from praxisbote.messaging.reasons import declare
from praxisbote.practices.models import Practice

if TYPE_CHECKING:
    from praxisbote.messaging.models import Message

ZERO = Decimal("0")


NOT_ENOUGH_CREDIT = declare(
    gettext_noop("Not enough credit: %(needed)s %(cur)s needed, %(available)s %(cur)s available.")
)


class InsufficientCredit(Exception):
    """``str()`` is for the person who asked (active language); ``reason`` is the English
    text the outbox stores while messages wait for credit."""

    def __init__(self, needed: Decimal, available: Decimal, currency: str = "EUR") -> None:
        self.needed = needed
        self.available = available
        self.currency = currency
        params = {"needed": needed, "available": available, "cur": currency}
        self.reason = NOT_ENOUGH_CREDIT.format(**params)
        super().__init__(NOT_ENOUGH_CREDIT.translated(params))


@dataclass(frozen=True)
class Charge:
    """What one message costs after free units: ``amount`` of money, ``free_units`` taken."""

    amount: Decimal
    free_units: int


def account_for(practice: Practice) -> CreditAccount:
    account, created = CreditAccount.objects.get_or_create(practice=practice)
    if created:
        account.refresh_from_db()  # stored precision (0.1000), as every later read
    return account


def price_of(account: CreditAccount, channel: str, units: int) -> Decimal:
    """List price before free units: what the UI shows before sending."""
    return account.price(channel) * units


def month_key(practice: Practice) -> str:
    """The practice's current month ("2026-11"), in its own time zone: free units reset at
    midnight of the 1st where the practice is, whichever zone the caller has active."""
    return timezone.localdate(timezone=ZoneInfo(practice.timezone)).strftime("%Y-%m")


def _take_free_units(practice: Practice, channel: str, wanted: int, limit: int) -> int:
    if wanted <= 0 or limit <= 0:
        return 0
    quota, _ = FreeQuota.objects.select_for_update().get_or_create(
        practice=practice, channel=channel, month=month_key(practice)
    )
    take = max(0, min(wanted, limit - quota.used))
    if take:
        FreeQuota.objects.filter(pk=quota.pk).update(used=F("used") + take)
    return take


@transaction.atomic
def reserve(practice: Practice, items: Sequence[tuple[str, int]]) -> list[Charge]:
    """Reserve the cost of several messages at once, all or nothing.

    ``items`` are (channel, units). Raises ``InsufficientCredit`` and reserves nothing when
    the available credit does not cover the total.
    """
    account = CreditAccount.objects.select_for_update().get(pk=account_for(practice).pk)
    units_by_channel: dict[str, int] = defaultdict(int)
    for channel, units in items:
        if account.price(channel) > ZERO:
            units_by_channel[channel] += units
    free_left = {
        ch: _take_free_units(practice, ch, total, account.free_per_month(ch))
        for ch, total in units_by_channel.items()
    }
    charges: list[Charge] = []
    total = ZERO
    for channel, units in items:
        price = account.price(channel)
        if price <= ZERO:
            charges.append(Charge(ZERO, 0))
            continue
        free = min(units, free_left.get(channel, 0))
        free_left[channel] = free_left.get(channel, 0) - free
        amount = price * (units - free)
        total += amount
        charges.append(Charge(amount, free))
    if total > ZERO:
        updated = CreditAccount.objects.filter(
            pk=account.pk, balance__gte=F("reserved") + total
        ).update(reserved=F("reserved") + total)
        if not updated:
            transaction.set_rollback(True)
            raise InsufficientCredit(total, account.available, account.currency)
    return charges


def _by_practice(messages: Iterable[Message]) -> dict[object, list[Message]]:
    groups: dict[object, list[Message]] = defaultdict(list)
    for message in messages:
        groups[message.practice_id].append(message)
    return groups


def charge(messages: Iterable[Message]) -> None:
    """Turn reservations into charges for messages the provider accepted."""
    for practice_id, group in _by_practice(m for m in messages if m.reserved).items():
        total = sum((m.cost for m in group), ZERO)
        if total:
            CreditAccount.objects.filter(practice_id=practice_id).update(
                balance=F("balance") - total, reserved=F("reserved") - total
            )
        CreditEntry.objects.bulk_create(
            CreditEntry(
                practice_id=practice_id,
                kind=EntryKind.CHARGE,
                amount=-m.cost,
                message_id=m.id,
                channel=m.channel,
                units=m.segments,
            )
            for m in group
        )
        for m in group:
            m.reserved = False


def release(messages: Iterable[Message]) -> None:
    """Give back the reservation (and free units) of messages that will not be sent."""
    for practice_id, group in _by_practice(m for m in messages if m.reserved).items():
        total = sum((m.cost for m in group), ZERO)
        if total:
            CreditAccount.objects.filter(practice_id=practice_id).update(
                reserved=F("reserved") - total
            )
        month = month_key(group[0].practice)
        free: dict[str, int] = defaultdict(int)
        for m in group:
            free[m.channel] += m.free_units
            m.reserved = False
        for channel, units in free.items():
            if units:
                FreeQuota.objects.filter(
                    practice_id=practice_id, channel=channel, month=month, used__gte=units
                ).update(used=F("used") - units)


def add_credit(practice: Practice, amount: Decimal, note: str = "") -> CreditAccount:
    """Record a purchase (or a correction when negative)."""
    with transaction.atomic():
        account = account_for(practice)
        CreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
        CreditEntry.objects.create(
            practice=practice,
            kind=EntryKind.PURCHASE if amount >= 0 else EntryKind.ADJUSTMENT,
            amount=amount,
            note=note[:200],
        )
    account.refresh_from_db()
    return account
