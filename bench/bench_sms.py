"""SMS throughput (issue 5): 10,000 SMS through the seven.io adapter to its fake server.

The fake (``tests/fakes/seven.py``, aiohttp.web) runs in a process of its own on loopback
and speaks seven's API (``X-Api-Key``, ``POST /api/sms`` JSON, ``SmsResponse``). Measured in
the same run:

1. the fake's capacity: a bare aiohttp client (one session, keep-alive) with 8, 16 and 32
   requests in flight, 10,000 SMS each; the best is the reference;
2. Apprise's seven plugin (``seven://KEY/NUMBER``), throttle 0, its ``notify_url`` (a class
   attribute: Apprise has no host parameter for seven) pointed at the fake on the instance;
3. praxisbote end to end: ``POST /api/v1/messages/batch`` of 10,000 SMS (one segment each,
   credit reserved and charged) to ``praxisbote serve`` (SQLite, embedded worker) with the
   account on seven.io at the fake (``base_url``), until all are ``sent``.

Target: praxisbote >= 1,000 SMS/s. Figures are printed; docs/benchmarks.md records them.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, Env, free_port, machine, post_json

SMS = int(os.environ.get("BENCH_SMS", "10000"))
APPRISE_SMS = int(os.environ.get("BENCH_SMS_APPRISE", "3000"))
TEXT = "Ihr Termin morgen um 10:30 Uhr. Absagen bitte telefonisch: 01 5551234"
FAKE = ROOT / "tests" / "fakes" / "seven.py"
TARGET = 1000

sys.path.insert(0, str(ROOT))
from tests.fakes.seven import API_KEY  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far: the figure a loaded machine does not bend."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def number(i: int) -> str:
    return f"+43676{1000000 + i:07d}"


class Fake:
    """The fake seven gateway in its own process; ``stop()`` returns how many it accepted."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(FAKE), str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"fake did not start: {line!r}")
        self.cpu_start = cpu_seconds(self.process.pid)
        self.cpu_used = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def stop(self) -> int:
        self.cpu_used = cpu_seconds(self.process.pid) - self.cpu_start
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return int(out.strip().rsplit(" ", 1)[-1])

    def kill(self) -> None:
        """After a failure: never leave the fake behind (it holds the terminal's pipes)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def report(
    label: str, count: int, seconds: float, fake: Fake, reference: float | None = None
) -> float:
    rate = count / seconds
    ratio = f"   {rate / reference:5.0%} of the fake's capacity" if reference else ""
    print(f"{label:<56} {seconds:6.2f} s {rate:6.0f} SMS/s{ratio}")
    print(f"{'':<4}fake: {fake.cpu_used / count * 1000:.2f} ms CPU per SMS")
    return rate


# -- 1. the fake's capacity: bare aiohttp -----------------------------------------------------


async def _bare(base_url: str, count: int, in_flight: int) -> int:
    import aiohttp

    queue = iter(range(count))
    ok = 0
    headers = {"X-Api-Key": API_KEY, "Accept": "application/json"}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal ok
        for i in queue:
            body = {"to": number(i), "text": TEXT, "foreign_id": f"bench-{i}"}
            async with session.post(f"{base_url}/sms", json=body, headers=headers) as response:
                data = await response.json(content_type=None)
                ok += data["success"] == "100"

    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(in_flight)))
    return ok


def fake_capacity() -> float:
    best = 0.0
    for in_flight in (8, 16, 32):
        fake = Fake()
        try:
            started = time.perf_counter()
            ok = asyncio.run(_bare(fake.base_url, SMS, in_flight))
            seconds = time.perf_counter() - started
            accepted = fake.stop()
        finally:
            fake.kill()
        assert ok == accepted == SMS, (ok, accepted)
        label = f"fake capacity: bare aiohttp, {in_flight} in flight"
        best = max(best, report(label, ok, seconds, fake))
    return best


# -- 2. Apprise's seven plugin ------------------------------------------------------------------


def apprise_reference(reference: float) -> float:
    fake = Fake()
    try:
        return _apprise(fake, reference)
    finally:
        fake.kill()


def _apprise(fake: Fake, reference: float) -> float:
    import apprise

    notifier = apprise.Apprise()
    assert notifier.add(f"seven://{API_KEY}/{number(0).lstrip('+')}")
    for plugin in notifier:
        plugin.request_rate_per_sec = 0  # no throttling between SMS
        plugin.notify_url = f"{fake.base_url}/sms"  # the plugin's only address, on the instance
    started = time.perf_counter()
    ok = sum(bool(notifier.notify(body=TEXT)) for _ in range(APPRISE_SMS))
    seconds = time.perf_counter() - started
    accepted = fake.stop()
    assert ok == accepted == APPRISE_SMS, (ok, accepted)
    return report("Apprise seven:// (throttle 0, requests)", ok, seconds, fake, reference)


# -- 3. praxisbote end to end ---------------------------------------------------------------


def _states(env: Env) -> dict[str, int]:
    with sqlite3.connect(f"{env.data_dir}/praxisbote.sqlite3", timeout=30) as conn:
        rows = conn.execute("SELECT state, count(*) FROM messaging_message GROUP BY state")
        return dict(rows.fetchall())


def praxisbote_outbox(reference: float) -> float:
    fake, env = Fake(), Env()
    try:
        return _outbox(fake, env, reference)
    finally:
        env.stop()
        fake.kill()


def _outbox(fake: Fake, env: Env, reference: float) -> float:
    import json
    import urllib.request

    from common import wait_http

    practice = env.practice()
    key = practice["api_key"]
    env.cli("credits", "add", "--practice", practice["practice_id"], "--amount", str(SMS))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = env.start("serve", "--port", str(port))
    wait_http(base + "/healthz")
    settings = {
        "gateway": "seven",
        "credentials": {"api_key": API_KEY},
        "sender_id": "PraxisBench",
        "base_url": fake.base_url,
        "sms_enabled": True,
    }
    request = urllib.request.Request(
        base + "/api/v1/channels/sms",
        data=json.dumps(settings).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert json.loads(response.read())["gateway"] == "seven"
    batch = [{"channel": "sms", "to": number(i), "text": TEXT} for i in range(SMS)]
    cpu_before = cpu_seconds(server.pid)
    status, body, enqueue = post_json(base + "/api/v1/messages/batch", {"messages": batch}, key)
    assert status == 201 and body["count"] == SMS, body
    started = time.perf_counter() - enqueue
    while True:
        states = _states(env)
        if states.get("sent", 0) + states.get("failed", 0) >= SMS:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu_before
    env.stop()
    accepted = fake.stop()
    assert states.get("sent") == accepted == SMS, (states, accepted)
    print(f"{'':<4}(enqueue of the batch through the API: {enqueue:.2f} s, included)")
    label = "praxisbote end to end (seven adapter, SQLite, serve)"
    rate = report(label, SMS, seconds, fake, reference)
    print(
        f"{'':<4}praxisbote serve: {cpu / SMS * 1000:.2f} ms CPU per SMS (enqueue, send, "
        f"record): about {SMS / cpu:.0f} SMS/s for one free core"
    )
    return rate


def main() -> int:
    print(f"machine: {machine()}")
    print(f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"{SMS} SMS (one segment each) through seven.io's API to a local fake gateway")
    reference = fake_capacity()
    apprise_rate = apprise_reference(reference)
    outbox_rate = praxisbote_outbox(reference)
    verdict = "met" if outbox_rate >= TARGET else "NOT met"
    print(
        f"praxisbote / Apprise: {outbox_rate / apprise_rate:.1f}x;   "
        f"praxisbote: {outbox_rate:.0f} SMS/s (target >= {TARGET}: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
