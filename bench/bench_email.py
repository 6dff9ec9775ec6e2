"""E-mail throughput (issue 4): 2,000 mails through one account to a local SMTP sink.

The sink is aiosmtpd in a process of its own on loopback, STARTTLS required, AUTH required,
its certificate from a trustme CA (``email_sink.py``). Measured in the same run:

1. sink capacity: four plain smtplib clients (processes) reusing their connections in
   parallel, 500 mails each;
2. Apprise's ``mailtos://`` plugin, throttle 0, one connection (STARTTLS + login) per mail;
3. praxisbote end to end: ``POST /api/v1/messages/batch`` of 2,000 to ``praxisbote serve``
   (SQLite, embedded worker) with the account on the sink, until all are ``sent``.

Target: praxisbote >= 90% of the sink's capacity. Figures are printed; docs/benchmarks.md
records them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import smtplib
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import trustme
from common import Env, cpu_seconds, free_port, machine, post_json, wait_http

MAILS = int(os.environ.get("BENCH_EMAIL_MAILS", "2000"))
CLIENTS = 4
USER = "praxis@bench.example"
PASSWORD = "bench-App-Passwort-1"  # noqa: S105 - the sink's, made up
SUBJECT = "Termin"
TEXT = "Ihr Termin morgen um 10:30 Uhr. Absagen bitte telefonisch."
SESSIONS = int(os.environ.get("BENCH_EMAIL_SESSIONS", "4"))


class Sink:
    """The sink process; ``stop()`` returns how many mails it accepted."""

    def __init__(self, tls_dir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("email_sink.py")),
                str(self.port),
                str(tls_dir / "cert.pem"),
                str(tls_dir / "key.pem"),
                USER,
                PASSWORD,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"sink did not start: {line!r}")
        self.cpu_start = self.cpu_seconds()
        #: CPU seconds the sink spent between start and stop (its own work per mail).
        self.cpu_used = 0.0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        self.cpu_used = self.cpu_seconds() - self.cpu_start
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return int(out.strip().rsplit(" ", 1)[-1])


def tls_files() -> Path:
    """A trustme CA (put in SSL_CERT_FILE for every client) and the sink's certificate."""
    ca = trustme.CA()
    path = Path(tempfile.mkdtemp(prefix="praxisbote-bench-tls-"))
    ca.cert_pem.write_to_path(str(path / "ca.pem"))
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(path / "cert.pem"))
    os.environ["SSL_CERT_FILE"] = str(path / "ca.pem")
    return path


def report(
    label: str, count: int, seconds: float, sink: Sink, sink_rate: float | None = None
) -> float:
    rate = count / seconds
    ratio = f"   {rate / sink_rate:5.0%} of the sink" if sink_rate else ""
    print(f"{label:<50} {seconds:6.2f} s {rate:6.0f} mails/s{ratio}")
    print(
        f"{'':<4}sink busy {sink.cpu_used / seconds:4.0%} of the time, "
        f"{sink.cpu_used / count * 1000:.2f} ms CPU per mail"
    )
    return rate


# -- 1. the sink's capacity: four reusing smtplib clients ------------------------------------


def _mail(i: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Praxis Bench <{USER}>"
    mail["To"] = f"patient{i}@example.org"
    mail["Subject"] = SUBJECT
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain="bench.example")
    mail.set_content(TEXT, cte="quoted-printable")
    return mail.as_bytes()


def _client(port: int, first: int, count: int, go, done) -> None:
    mails = [_mail(first + i) for i in range(count)]
    context = ssl.create_default_context()
    go.wait()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.starttls(context=context)
        smtp.login(USER, PASSWORD)
        for i, data in enumerate(mails):
            smtp.sendmail(USER, [f"patient{first + i}@example.org"], data)
    done.put(count)


def sink_capacity(tls_dir: Path) -> tuple[float, float]:
    sink = Sink(tls_dir)
    ctx = multiprocessing.get_context("fork")
    go, done = ctx.Event(), ctx.Queue()
    share = MAILS // CLIENTS
    clients = [
        ctx.Process(target=_client, args=(sink.port, k * share, share, go, done))
        for k in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    time.sleep(0.5)  # let each client build its mails before the clock starts
    started = time.perf_counter()
    go.set()
    sent = sum(done.get(timeout=300) for _ in clients)
    seconds = time.perf_counter() - started
    for client in clients:
        client.join()
    received = sink.stop()
    assert received == sent == share * CLIENTS, (received, sent)
    rate = report(f"sink capacity: {CLIENTS} smtplib clients reusing", sent, seconds, sink)
    return rate, sink.cpu_used / sent


# -- 2. Apprise mailtos://, one connection per mail ------------------------------------------


def apprise_reference(tls_dir: Path, sink_rate: float) -> float:
    import apprise

    sink = Sink(tls_dir)
    notifier = apprise.Apprise()
    url = (
        f"mailtos://127.0.0.1:{sink.port}?mode=starttls&smtp=127.0.0.1"
        f"&user={USER}&pass={PASSWORD}&from={USER}&to=patient@example.org"
    )
    assert notifier.add(url), url
    for plugin in notifier:
        plugin.request_rate_per_sec = 0  # no throttling between mails
    started = time.perf_counter()
    ok = sum(bool(notifier.notify(body=TEXT, title=SUBJECT)) for _ in range(MAILS))
    seconds = time.perf_counter() - started
    received = sink.stop()
    assert ok == received == MAILS, (ok, received)
    label = "Apprise mailtos:// (throttle 0, one connection/mail)"
    return report(label, ok, seconds, sink, sink_rate)


# -- 3. praxisbote end to end ---------------------------------------------------------------


def _request(url: str, body: dict, key: str, method: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _states(env: Env) -> dict[str, int]:
    path = f"{env.data_dir}/praxisbote.sqlite3"
    with sqlite3.connect(path, timeout=30) as conn:
        rows = conn.execute("SELECT state, count(*) FROM messaging_message GROUP BY state")
        return dict(rows.fetchall())


def praxisbote_outbox(tls_dir: Path, sink_rate: float) -> float:
    sink = Sink(tls_dir)
    env = Env()
    key = env.practice()["api_key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = env.start("serve", "--port", str(port), SSL_CERT_FILE=str(tls_dir / "ca.pem"))
    wait_http(base + "/healthz")
    _request(
        base + "/api/v1/channels/email",
        {
            "host": "127.0.0.1",
            "port": sink.port,
            "from_address": USER,
            "from_name": "Praxis Bench",
            "password": PASSWORD,
            "sessions": SESSIONS,
        },
        key,
        "PUT",
    )
    batch = [
        {"channel": "email", "to": f"patient{i}@example.org", "subject": SUBJECT, "text": TEXT}
        for i in range(MAILS)
    ]
    cpu_start = cpu_seconds(serve.pid)
    status, body, enqueue = post_json(base + "/api/v1/messages/batch", {"messages": batch}, key)
    assert status == 201 and body["count"] == MAILS, body
    started = time.perf_counter() - enqueue
    while True:
        states = _states(env)
        if states.get("sent", 0) + states.get("failed", 0) >= MAILS:
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds(serve.pid) - cpu_start
    env.stop()
    received = sink.stop()
    assert states.get("sent") == received == MAILS, (states, received)
    print(f"{'':<4}(enqueue of the batch through the API: {enqueue:.2f} s, included)")
    # One process does the API, the embedded worker and SQLite: its CPU per mail bounds the
    # rate on its own (one interpreter runs on one core at a time).
    print(
        f"{'':<4}praxisbote process CPU {cpu:.2f} s, {cpu / MAILS * 1000:.2f} ms per mail "
        f"(ceiling of one process: {MAILS / cpu:,.0f} mails/s), busy {cpu / seconds:.0%}"
    )
    label = f"praxisbote end to end ({SESSIONS} SMTP sessions)"
    return report(label, MAILS, seconds, sink, sink_rate)


def main() -> int:
    print(f"machine: {machine()}")
    print(f"{MAILS} e-mails, one account, to a local aiosmtpd sink (STARTTLS + AUTH)")
    tls_dir = tls_files()
    sink_rate, sink_cpu = sink_capacity(tls_dir)
    apprise_rate = apprise_reference(tls_dir, sink_rate)
    outbox_rate = praxisbote_outbox(tls_dir, sink_rate)
    print(
        f"praxisbote / Apprise: {outbox_rate / apprise_rate:.1f}x;   "
        f"praxisbote / sink capacity: {outbox_rate / sink_rate:.0%} (target >= 90%)"
    )
    # When the four clients leave the sink idle part of the time, they, not the sink, set
    # the "capacity": the sink's own CPU per mail gives the ceiling it would reach alone.
    print(
        f"(the sink's CPU ceiling at {sink_cpu * 1000:.2f} ms per mail: about "
        f"{1 / sink_cpu:.0f} mails/s; praxisbote reached {outbox_rate * sink_cpu:.0%} of it)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
