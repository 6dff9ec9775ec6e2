"""Outbox throughput (issue 3): POST /api/v1/messages/batch of 10,000, then until all sent.

SQLite with the embedded worker (`praxisbote serve`), PostgreSQL with `serve --no-worker`
and 2 standalone workers; plus the peak memory of one worker draining 100,000 queued
messages. Figures are printed; docs/benchmarks.md records them.
"""

from __future__ import annotations

import sys
import time

from common import (
    Env,
    count_sent,
    free_port,
    fresh_pg_database,
    machine,
    post_json,
    rss_peak_mb,
    wait_http,
)

BATCH = 10_000


def messages(n: int, offset: int = 0) -> list[dict]:
    return [
        {
            "channel": "email",
            "to": f"patient{offset + i}@example.org",
            "subject": "Termin",
            "text": "Ihr Termin morgen um 10:30 Uhr. Absagen bitte telefonisch.",
        }
        for i in range(n)
    ]


def run_case(label: str, env: Env, workers: int) -> dict:
    practice = env.practice()
    key = practice["api_key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if workers == 0:
        env.start("serve", "--port", str(port))
    else:
        env.start("serve", "--port", str(port), "--no-worker")
        for _ in range(workers):
            env.start("worker", "--no-jobs")
    wait_http(base + "/healthz")
    status, body, enqueue = post_json(
        base + "/api/v1/messages/batch", {"messages": messages(BATCH)}, key
    )
    assert status == 201 and body["count"] == BATCH, body
    started = time.perf_counter() - enqueue
    while count_sent(env) < BATCH:
        time.sleep(0.05)
    total = time.perf_counter() - started
    env.stop()
    result = {"case": label, "enqueue_s": enqueue, "total_s": total, "rate": BATCH / total}
    print(
        f"{label:<42} enqueue {enqueue:5.2f} s   end-to-end {total:6.2f} s   "
        f"{BATCH / total:7.0f} msg/s"
    )
    return result


def memory_case(env: Env, count: int = 100_000) -> None:
    practice = env.practice()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env.start("serve", "--port", str(port), "--no-worker")
    wait_http(base + "/healthz")
    for offset in range(0, count, BATCH):
        post_json(
            base + "/api/v1/messages/batch",
            {"messages": messages(BATCH, offset)},
            practice["api_key"],
        )
    worker = env.start("worker", "--no-jobs", "--exit-when-idle")
    peak = 0.0
    while worker.poll() is None:
        try:
            peak = max(peak, rss_peak_mb(worker.pid))
        except OSError:
            break
        time.sleep(0.2)
    env.stop()
    print(f"{'worker peak RSS draining ' + format(count, ',') + ' queued':<42} {peak:6.1f} MB")


def main() -> int:
    print(f"machine: {machine()}")
    run_case("SQLite, embedded worker", Env(), workers=0)
    url = fresh_pg_database("praxisbote_bench")
    if url:
        run_case("PostgreSQL, 2 workers", Env(url), workers=2)
    if "--quick" not in sys.argv:
        memory_case(Env(fresh_pg_database("praxisbote_bench_mem") or ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
