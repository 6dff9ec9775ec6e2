"""Status webhooks (MSG-8): signed POSTs to a real receiver on a loopback socket.

The receiver checks signatures with the Python example of docs/webhooks.md, executed from
the document itself, so the example integrators copy is the one that is tested.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from django.db import close_old_connections, connections
from django.utils import timezone

from praxisbote import crypto
from praxisbote.messaging import webhooks
from praxisbote.messaging.models import DeliveryEvent, WebhookDelivery, WebhookEndpoint
from praxisbote.messaging.services import MessageSpec, create_messages
from praxisbote.messaging.worker import Worker

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verifier():
    """``verify_praxisbote_request`` as printed in docs/webhooks.md."""
    code = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert code, "docs/webhooks.md has a Python example"
    namespace: dict = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_praxisbote_request"]


verify = documented_verifier()


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def verified(self, secret: str, now: float | None = None) -> bool:
        return verify(
            secret,
            self.body,
            self.headers.get("X-Praxisbote-Timestamp"),
            self.headers.get("X-Praxisbote-Signature"),
            now,
        )


class Receiver:
    """An integrator's endpoint on 127.0.0.1 in its own thread; can fail the next N calls."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.fail_next = 0
        self.delay = 0.0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/praxisbote"

    def start(self) -> Receiver:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.run_forever()

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/praxisbote", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._ready.set()

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits.append(Hit(dict(request.headers), await request.read()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500, text="kaputt\n")
        return web.Response(status=204)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def hook(practice, receiver):
    """The practice's webhook pointing at the receiver; yields the plain secret."""
    _endpoint, secret = webhooks.configure(practice, url=receiver.url)
    return secret


def send_message(practice, text: str = "Hallo"):
    spec = MessageSpec(channel="email", to="patient@example.at", text=text)
    return create_messages(practice, [spec]).messages[0]


def send_webhooks() -> int:
    """What the worker does on one loop, then wait for the batch: via a database thread."""
    pool = ThreadPoolExecutor(max_workers=1)

    async def in_db(func, *args):
        def call():
            close_old_connections()
            return func(*args)

        return await asyncio.get_running_loop().run_in_executor(pool, call)

    async def main() -> int:
        try:
            return await webhooks.send_due(in_db, "test-worker")
        finally:
            await webhooks.close()

    try:
        return asyncio.run(main())
    finally:
        pool.submit(connections.close_all).result()
        pool.shutdown()


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def seconds_until(moment) -> float:
    return (moment - timezone.now()).total_seconds()


# --- Sending --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_state_change_reaches_the_integrator_signed(practice, receiver, hook):
    message = send_message(practice)
    Worker(exit_when_idle=True, idle_seconds=0).run()

    events = list(DeliveryEvent.objects.filter(message=message))
    assert {e.to_state for e in events} >= {"queued", "sending", "sent"}
    assert len(receiver.hits) == len(events)
    for hit in receiver.hits:
        assert hit.verified(hook), hit.headers
        assert hit.headers["Content-Type"] == "application/json"
        assert hit.headers["User-Agent"].startswith("praxisbote/")
    posted = sorted((h.json for h in receiver.hits), key=lambda p: p["at"])
    assert [(p["from_state"], p["to_state"]) for p in posted] == [
        (e.from_state or None, e.to_state) for e in sorted(events, key=lambda e: e.at)
    ]
    first = posted[0]
    assert first["type"] == "message.state_changed"
    assert first["message_id"] == str(message.pk)
    assert first["practice_id"] == str(practice.pk)
    assert first["channel"] == "email"
    assert first["kind"] == "free"
    assert first["patient_id"] is None
    assert set(first) == {
        "id", "type", "message_id", "practice_id", "from_state", "to_state", "at", "detail",
        "channel", "kind", "patient_id", "appointment_id", "provider_message_id",
    }  # fmt: skip
    sent = next(p for p in posted if p["to_state"] == "sent")
    message.refresh_from_db()
    assert sent["provider_message_id"] == message.provider_message_id
    assert "patient@example.at" not in b"".join(h.body for h in receiver.hits).decode()
    deliveries = WebhookDelivery.objects.filter(practice=practice)
    assert {d.pk for d in deliveries} == {p["id"] for p in posted}
    assert all(d.delivered_at and d.attempts == 1 and not d.lease_until for d in deliveries)


@pytest.mark.django_db(transaction=True)
def test_a_tampered_or_replayed_request_fails_the_documented_check(practice, receiver, hook):
    send_message(practice)
    send_webhooks()
    hit = receiver.hits[0]
    sent_at = int(hit.headers["X-Praxisbote-Timestamp"])
    assert abs(sent_at - time.time()) < 60
    assert hit.verified(hook)
    assert not Hit(hit.headers, hit.body.replace(b"queued", b"sent__")).verified(hook)
    assert not hit.verified("another-secret")
    assert not hit.verified(hook, now=sent_at + 5 * 60 + 1), "older than 5 minutes"
    assert hit.verified(hook, now=sent_at + 5 * 60)
    forged = {**hit.headers, "X-Praxisbote-Timestamp": str(sent_at + 1)}
    assert not Hit(forged, hit.body).verified(hook), "the timestamp is signed too"


@pytest.mark.django_db(transaction=True)
def test_failed_posts_are_retried_with_growing_backoff_until_delivered(practice, receiver, hook):
    send_message(practice)
    receiver.fail_next = 2
    (delivery,) = WebhookDelivery.objects.filter(practice=practice)

    assert send_webhooks() == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.last_error == "HTTP 500: kaputt"
    assert delivery.delivered_at is None and delivery.lease_until is None
    assert 7.5 <= seconds_until(delivery.next_attempt_at) <= 10.5  # 10 s, jitter 80-100 %

    assert send_webhooks() == 0, "not due yet"
    assert len(receiver.hits) == 1

    make_due(delivery)
    send_webhooks()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert 15.5 <= seconds_until(delivery.next_attempt_at) <= 20.5  # doubled

    make_due(delivery)
    send_webhooks()
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert delivery.delivered_at is not None
    assert delivery.last_error == ""
    assert len(receiver.hits) == 3
    assert {h.json["id"] for h in receiver.hits} == {delivery.pk}, "same id: drop repeats"
    assert all(h.verified(hook) for h in receiver.hits)


@pytest.mark.django_db(transaction=True)
def test_gives_up_after_the_last_attempt_with_the_reason(practice, receiver, hook, settings, api):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    send_message(practice)
    receiver.fail_next = 10
    (delivery,) = WebhookDelivery.objects.filter(practice=practice)
    send_webhooks()
    make_due(delivery)
    send_webhooks()
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.last_error == "gave up after 2 attempts: HTTP 500: kaputt"
    assert webhooks.state_of(delivery) == webhooks.HookState.FAILED

    make_due(delivery)
    assert send_webhooks() == 0
    assert len(receiver.hits) == 2
    listed = api.get("/api/v1/webhook/deliveries", state="failed").json()
    assert listed["count"] == 1
    assert listed["items"][0]["last_error"].startswith("gave up after 2 attempts")
    assert listed["items"][0]["next_attempt_at"] is None


@pytest.mark.django_db(transaction=True)
def test_a_refused_connection_is_retried(practice):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nobody listens there
    webhooks.configure(practice, url=f"http://127.0.0.1:{port}/hook")
    send_message(practice)
    send_webhooks()
    (delivery,) = WebhookDelivery.objects.filter(practice=practice)
    assert delivery.attempts == 1
    assert delivery.last_error.startswith("could not connect")
    assert delivery.delivered_at is None
    assert seconds_until(delivery.next_attempt_at) > 5


@pytest.mark.django_db(transaction=True)
def test_a_slow_receiver_does_not_hold_up_the_worker(practice, receiver, hook, settings):
    settings.WEBHOOK_WAIT_SECONDS = 0.05
    receiver.delay = 0.5
    send_message(practice)
    pool = ThreadPoolExecutor(max_workers=1)

    async def in_db(func, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, func, *args)

    async def main():
        started = time.monotonic()
        assert await webhooks.send_due(in_db, "w") == 1
        assert await webhooks.send_due(in_db, "w") == 0, "one batch in flight at a time"
        assert time.monotonic() - started < 0.4
        await webhooks.close()  # a stopping worker waits for the batch

    try:
        asyncio.run(main())
    finally:
        pool.submit(connections.close_all).result()
        pool.shutdown()
    (delivery,) = WebhookDelivery.objects.filter(practice=practice)
    assert delivery.delivered_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_worker_reuses_one_http_session_and_closes_it(practice, receiver, hook, monkeypatch):
    sessions = []
    hold = webhooks._hold_session

    async def watched():
        async for session in hold():
            sessions.append(session)
            yield session

    monkeypatch.setattr(webhooks, "_hold_session", watched)
    send_message(practice)
    send_message(practice)
    Worker(exit_when_idle=True, idle_seconds=0).run()
    assert len(receiver.hits) >= 6
    assert len(sessions) == 1
    assert sessions[0].closed, "closed with the worker's loop"


@pytest.mark.django_db(transaction=True)
def test_a_leased_delivery_is_not_claimed_twice(practice, hook):
    send_message(practice)
    first = webhooks.claim(100, 60)
    assert first is not None and len(first) == 1
    assert webhooks.claim(100, 60) is None
    assert webhooks.record(first.lease, [webhooks.Result(first.requests[0].delivery_id)]) == 1
    assert webhooks.record(first.lease, [webhooks.Result(first.requests[0].delivery_id)]) == 0


# --- Queueing ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_without_an_endpoint_no_delivery_is_queued(practice, receiver):
    send_message(practice)
    Worker(exit_when_idle=True, idle_seconds=0).run()
    assert DeliveryEvent.objects.count() >= 3
    assert not WebhookDelivery.objects.exists()
    assert receiver.hits == []


def test_a_paused_endpoint_queues_nothing(practice, receiver):
    webhooks.configure(practice, url=receiver.url, active=False)
    send_message(practice)
    assert not WebhookDelivery.objects.exists()


def test_queueing_costs_one_query_and_nothing_is_due_costs_one(
    practice, other_practice, django_assert_num_queries
):
    message = send_message(practice)
    events = list(DeliveryEvent.objects.filter(message=message).select_related("message"))
    with django_assert_num_queries(1):
        webhooks.queue_for_events(events)
    with django_assert_num_queries(1):
        assert webhooks.claim(100, 60) is None
    webhooks.configure(other_practice, url="https://other.example/hook")
    with django_assert_num_queries(1):
        webhooks.queue_for_events(events)  # another practice's endpoint: still nothing
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_claim_queues_a_webhook_per_event_for_practices_with_an_endpoint(
    practice, other_practice, hook
):
    """The claim (one statement on PostgreSQL, the general path on SQLite) writes the same
    events and webhook deliveries: scheduled -> queued -> sending, in order, only for the
    practice with an active endpoint, even when both practices share the batch."""
    from praxisbote.messaging import outcomes

    later = timezone.now() + timedelta(minutes=5)
    ours = create_messages(
        practice, [MessageSpec(channel="email", to="a@example.at", text="x", send_at=later)]
    ).messages[0]
    theirs = create_messages(
        other_practice,
        [MessageSpec(channel="email", to="b@example.at", text="y", send_at=later)],
    ).messages[0]
    WebhookDelivery.objects.all().delete()  # the creation events' deliveries: not this test
    past = timezone.now() - timedelta(seconds=1)
    type(ours).objects.filter(pk__in=[ours.pk, theirs.pk]).update(due_at=past, next_attempt_at=past)

    claimed = outcomes.claim("w-hooks", 10, 60)

    assert {m.pk for m in claimed} == {ours.pk, theirs.pk}
    for message in (ours, theirs):
        moves = [
            (e.from_state, e.to_state, e.detail)
            for e in DeliveryEvent.objects.filter(message_id=message.pk).order_by("at", "id")
        ]
        assert moves[1:] == [
            ("scheduled", "queued", "due"),
            ("queued", "sending", "claimed by w-hooks"),
        ]
    queued = WebhookDelivery.objects.order_by("event_id").select_related("event")
    assert [(d.practice_id, d.event.message_id, d.event.to_state) for d in queued] == [
        (practice.pk, ours.pk, "queued"),
        (practice.pk, ours.pk, "sending"),
    ]
    assert all(d.attempts == 0 and d.delivered_at is None for d in queued)


def test_a_rolled_back_change_queues_no_webhook(practice, receiver, hook):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        send_message(practice)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the caller fails after the state change")
    assert not WebhookDelivery.objects.exists()


# --- The API ---------------------------------------------------------------------------------


def test_the_secret_is_shown_on_creation_and_rotation_only(api, practice):
    created = api.put("/api/v1/webhook", {"url": "https://praxis-software.example/hooks"})
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert len(secret) >= 40
    stored = WebhookEndpoint.objects.get(practice=practice)
    assert secret not in stored.secret, "stored encrypted"
    assert crypto.decrypt_text(stored.secret, purpose=f"webhook:{practice.pk}") == secret

    shown = api.get("/api/v1/webhook")
    assert shown.status_code == 200
    assert set(shown.json()) == {"url", "active", "created_at"}

    changed = api.put("/api/v1/webhook", {"url": "https://new.example/hooks", "active": False})
    assert changed.status_code == 200
    assert changed.json() == {**shown.json(), "url": "https://new.example/hooks", "active": False}
    assert webhooks.secret_of(WebhookEndpoint.objects.get(practice=practice)) == secret

    rotated = api.post("/api/v1/webhook/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != secret
    assert webhooks.secret_of(WebhookEndpoint.objects.get(practice=practice)) == new_secret

    others = [
        api.get("/api/v1/webhook"),
        api.put("/api/v1/webhook", {"url": "https://new.example/hooks"}),
        api.get("/api/v1/webhook/deliveries"),
        api.post("/api/v1/webhook/test"),
        api.delete("/api/v1/webhook"),
    ]
    for response in others:
        for value in (secret, new_secret, new_secret[-4:]):
            assert value.encode() not in response.content, response.content
        assert b"secret" not in response.content


@pytest.mark.parametrize(
    "url",
    [
        "http://praxis-software.example/hooks",
        "ftp://praxis-software.example/hooks",
        "not a url",
        "https://user:pass@praxis-software.example/hooks",
        "https://praxis-software.example/" + "x" * 500,
    ],
)
def test_an_unusable_url_is_refused_naming_the_field(api, url):
    response = api.put("/api/v1/webhook", {"url": url})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_with_a_reason(api):
    response = api.put("/api/v1/webhook", {"url": "http://praxis-software.example/hooks"})
    assert "https://" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9000/hook"]
)
def test_plain_http_to_the_own_machine_is_allowed_for_testing(api, url):
    assert api.put("/api/v1/webhook", {"url": url}).status_code == 201


def test_without_a_webhook_the_endpoints_answer_404(api):
    for response in (
        api.get("/api/v1/webhook"),
        api.delete("/api/v1/webhook"),
        api.post("/api/v1/webhook/rotate-secret"),
        api.post("/api/v1/webhook/test"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert api.get("/api/v1/webhook/deliveries").json() == {"items": [], "count": 0}


def test_deleting_the_webhook_drops_waiting_deliveries_and_keeps_history(api, practice, hook):
    send_message(practice)
    send_message(practice)
    done, _waiting = WebhookDelivery.objects.filter(practice=practice).order_by("pk")
    WebhookDelivery.objects.filter(pk=done.pk).update(delivered_at=timezone.now(), attempts=1)

    assert api.delete("/api/v1/webhook").status_code == 204
    assert api.get("/api/v1/webhook").status_code == 404
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [done.pk]


def test_deliveries_list_only_the_own_practice(api, other_api, practice, other_practice):
    webhooks.configure(practice, url="https://praxis-software.example/hooks")
    webhooks.configure(other_practice, url="https://other.example/hooks")
    mine = send_message(practice)
    theirs = send_message(other_practice)
    send_message(other_practice)

    listed = api.get("/api/v1/webhook/deliveries").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["message_id"] == str(mine.pk)
    assert item["state"] == "pending"
    assert item["to_state"] == "queued"
    assert item["from_state"] is None
    assert item["attempts"] == 0
    assert item["next_attempt_at"] is not None
    assert str(theirs.pk) not in json.dumps(listed)
    assert other_api.get("/api/v1/webhook/deliveries").json()["count"] == 2
    for state in ("delivered", "failed"):
        assert api.get("/api/v1/webhook/deliveries", state=state).json()["count"] == 0
    assert api.get("/api/v1/webhook/deliveries", state="pending").json()["count"] == 1
    assert api.get("/api/v1/webhook/deliveries", state="lost").status_code == 422

    api.post("/api/v1/webhook/rotate-secret")
    other = WebhookEndpoint.objects.get(practice=other_practice)
    assert webhooks.secret_of(other)  # still decrypts: rotation touched only the own practice


def test_the_test_ping_is_signed_and_reports_the_answer(api, receiver):
    secret = api.put("/api/v1/webhook", {"url": receiver.url, "active": False}).json()["secret"]

    answer = api.post("/api/v1/webhook/test")
    assert answer.status_code == 200, answer.content
    assert answer.json()["ok"] is True
    assert answer.json()["status_code"] == 204
    (hit,) = receiver.hits
    assert hit.verified(secret)
    assert hit.json["type"] == "webhook.test"
    assert hit.json["id"] == 0

    receiver.fail_next = 1
    failed = api.post("/api/v1/webhook/test").json()
    assert failed["ok"] is False
    assert failed["status_code"] == 500
    assert failed["error"] == "HTTP 500"
    assert not WebhookDelivery.objects.exists(), "a ping is not stored"
