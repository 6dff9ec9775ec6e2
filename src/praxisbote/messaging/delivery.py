"""From stored messages to provider calls: accounts, provider instances, outgoing data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from praxisbote import crypto
from praxisbote.messaging.models import ChannelAccount, Message
from praxisbote.providers.base import Outgoing, OutgoingAttachment, Provider
from praxisbote.providers.registry import provider_class


@dataclass(frozen=True)
class AccountKey:
    practice_id: Any
    channel: str


def account_secrets(account: ChannelAccount) -> dict[str, Any]:
    if not account.secrets:
        return {}
    return json.loads(crypto.decrypt_text(account.secrets, purpose=secrets_purpose(account)))


def sending_secrets(account: ChannelAccount) -> dict[str, Any]:
    """The secrets a provider sends with: stored ones, plus a password held in memory only
    (``password_mode`` "memory", see ``messaging/memory.py``)."""
    values = account_secrets(account)
    if (account.config or {}).get("password_mode") == "memory":
        from praxisbote.messaging import memory

        values.pop("password", None)
        password = memory.get_password(account.practice_id, account.channel)
        if password:
            values["password"] = password
    return values


def secrets_purpose(account: ChannelAccount) -> str:
    return f"account:{account.practice_id}:{account.channel}"


def set_account_secrets(account: ChannelAccount, values: dict[str, Any]) -> None:
    account.secrets = (
        crypto.encrypt_text(json.dumps(values), purpose=secrets_purpose(account)) if values else ""
    )


def account_version(key: AccountKey) -> Any:
    """When the account was last changed (None: no account, the sandbox)."""
    return (
        ChannelAccount.objects.filter(practice_id=key.practice_id, channel=key.channel)
        .values_list("updated_at", flat=True)
        .first()
    )


def provider_for(key: AccountKey, worker_id: str, concurrency: int) -> Provider:
    account = ChannelAccount.objects.filter(
        practice_id=key.practice_id, channel=key.channel
    ).first() or ChannelAccount(practice_id=key.practice_id, channel=key.channel)
    return build_provider(account, worker_id, concurrency)


def build_provider(
    account: ChannelAccount, worker_id: str, concurrency: int, name: str = ""
) -> Provider:
    """The provider ``name`` (default: the account's own) with the account's settings; a
    delivery report names its gateway, which may be kept while the channel is in test mode."""
    name = name or account.provider
    kwargs: dict[str, Any] = {"concurrency": concurrency}
    if name == "sandbox":
        kwargs["worker_id"] = worker_id
    return provider_class(name)(account.config, sending_secrets(account), **kwargs)


def build_outgoing(messages: list[Message]) -> list[Outgoing]:
    """Provider input for a batch; attachments are read (and decrypted) only here."""
    from praxisbote.messaging.services import read_attachment

    with_files = {m.pk for m in messages if m.channel != "sms"}
    attachments: dict[Any, list[OutgoingAttachment]] = {}
    if with_files:
        from praxisbote.messaging.models import Attachment

        for att in Attachment.objects.filter(message_id__in=with_files):
            attachments.setdefault(att.message_id, []).append(
                OutgoingAttachment(att.filename, att.content_type, read_attachment(att))
            )
    return [
        Outgoing(
            message_id=str(m.pk),
            channel=m.channel,
            recipient=m.recipient,
            body=m.body,
            subject=m.subject,
            html=m.html,
            attempt=m.attempts,
            sender_name=m.practice.display_sender,
            attachments=tuple(attachments.get(m.pk, ())),
            practice_id=str(m.practice_id),
        )
        for m in messages
    ]
