"""A practice's own templates and salutation/greeting blocks (TPL-1).

A practice starts with no rows: the shipped defaults (``texts.defaults``) apply until a
practice saves its own version of a (kind, channel, language) template or block. Sources
are validated when saved (``texts.services``), so a stored row always renders.
"""

from __future__ import annotations

from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from praxisbote.messaging.models import Kind
from praxisbote.practices.models import Channel, Language, Practice
from praxisbote.practices.tenancy import TenantManager

#: Kinds a template exists for: every message kind except the key-check test message.
TEMPLATE_KINDS = [(value, label) for value, label in Kind.choices if value != Kind.TEST]


class BlockName(models.TextChoices):
    SALUTATION = "salutation", _("salutation")
    GREETING = "greeting", _("greeting")


class Template(models.Model):
    """One text per practice, kind, channel and language.

    SMS and Threema use ``text`` only; e-mail uses ``subject``, ``text`` and ``html`` (an
    empty ``html`` is built from the text, so a practice need not write HTML).
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(_("kind"), max_length=20, choices=TEMPLATE_KINDS)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["kind", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "kind", "channel", "language"], name="template_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.channel}/{self.language}"


class Block(models.Model):
    """A reusable salutation or greeting, per channel and language: ``{{ salutation }}``.

    Per channel because an SMS wants "Hallo Frau Huber," where an e-mail says
    "Sehr geehrte Frau Huber," (seed 001: short salutations save SMS).
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="text_blocks")
    name = models.CharField(_("block"), max_length=20, choices=BlockName.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    text = models.TextField(_("text"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "name", "channel", "language"], name="block_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}/{self.channel}/{self.language}"
