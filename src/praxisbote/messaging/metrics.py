"""Prometheus metrics: queue depth per state (read at scrape), send latency, failures."""

from __future__ import annotations

from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from praxisbote.providers.base import ProviderError

REGISTRY = CollectorRegistry(auto_describe=True)

SENT = Counter(
    "praxisbote_messages_sent_total",
    "Messages accepted by a provider",
    ["channel"],
    registry=REGISTRY,
)
FAILURES = Counter(
    "praxisbote_send_failures_total",
    "Failed send attempts by kind (transient/permanent/throttled) and error code",
    ["channel", "kind", "code"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "praxisbote_send_latency_seconds",
    "Time from a message being due to its acceptance by the provider",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)


def observe_sent(message) -> None:
    SENT.labels(message.channel).inc()
    LATENCY.labels(message.channel).observe(
        max(0.0, (timezone.now() - message.due_at).total_seconds())
    )


def observe_sent_many(messages, now) -> None:
    """``observe_sent`` for a batch: the label lookups once per channel, not per message."""
    by_channel: dict[str, list] = {}
    for message in messages:
        by_channel.setdefault(message.channel, []).append(message)
    for channel, group in by_channel.items():
        SENT.labels(channel).inc(len(group))
        latency = LATENCY.labels(channel)
        for message in group:
            latency.observe(max(0.0, (now - message.due_at).total_seconds()))


def observe_failure(message, error: ProviderError) -> None:
    kind = (
        "throttled"
        if getattr(error, "throttled", False)
        else ("transient" if error.__class__.__name__ != "PermanentError" else "permanent")
    )
    FAILURES.labels(message.channel, kind, error.code or "none").inc()


class QueueDepth:
    """Counts messages per state from the database at scrape time (shared by all processes)."""

    def describe(self):
        # Without this, registering would run collect() and query the database at import.
        return [GaugeMetricFamily("praxisbote_messages", "Messages in the outbox by state")]

    def collect(self):
        from django.db.models import Count

        from praxisbote.messaging.models import Message

        family = GaugeMetricFamily(
            "praxisbote_messages", "Messages in the outbox by state", labels=["state"]
        )
        for row in Message.objects.values("state").annotate(n=Count("id")).order_by():
            family.add_metric([row["state"]], row["n"])
        yield family


REGISTRY.register(QueueDepth())
