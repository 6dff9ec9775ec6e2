"""Outbox throughput (issue 3): POST /api/v1/messages/batch of 10,000, then until all sent.

SQLite with the embedded worker (`praxisbote serve`), PostgreSQL with `serve --no-worker`
and 2 standalone workers; plus the peak memory of one worker draining 100,000 queued
messages. Figures are printed; docs/benchmarks.md records them.
"""

from __future__ import annotations

import os
import sys
import time

from common import (
    CpuMeter,
    Env,
    count_sent,
    first_claim,
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
    url = env.env.get("DATABASE_URL", "")
    serve = env.start("serve", "--port", str(port), *(["--no-worker"] if workers else []))
    pids = [env.start("worker", "--no-jobs").pid for _ in range(workers)]
    wait_http(base + "/healthz")
    serve_meter = CpuMeter(url, "praxisbote serve")
    worker_meter = CpuMeter(url, "praxisbote worker")
    serve_meter.start([serve.pid])
    worker_meter.start(pids)
    status, body, enqueue = post_json(
        base + "/api/v1/messages/batch", {"messages": messages(BATCH)}, key
    )
    assert status == 201 and body["count"] == BATCH, body
    enqueued_at = time.time()
    started = time.perf_counter() - enqueue
    while count_sent(env) < BATCH:
        time.sleep(0.05)
    total = time.perf_counter() - started
    cpu = {"serve": serve_meter.stop(), "workers": worker_meter.stop()}
    # How long idle workers took to notice the committed batch (negative: before the
    # response reached the benchmark).
    pickup = first_claim(env) - enqueued_at
    env.stop()
    result = {
        "case": label,
        "enqueue_s": enqueue,
        "total_s": total,
        "rate": BATCH / total,
        "cpu": cpu,
        "pickup_s": pickup,
    }
    print(
        f"{label:<42} enqueue {enqueue:5.2f} s   end-to-end {total:6.2f} s   "
        f"{BATCH / total:7.0f} msg/s   (drain after the enqueue {total - enqueue:5.2f} s, "
        f"first claim {pickup * 1e3:+.0f} ms after the response)"
    )
    print_cpu(cpu, workers)
    return result


def print_cpu(cpu: dict, workers: int) -> None:
    """CPU per message: what the machine's cores can afford, whatever else runs on it.

    On a shared machine the wall clock varies with other work; CPU seconds per message do
    much less, and ``cores / CPU per message`` is the throughput ceiling of this machine.
    """
    per = {name: {k: v for k, v in part.items() if k != "sessions"} for name, part in cpu.items()}
    rows = [
        (
            "serve process (enqueue" + ("" if workers else " + embedded worker") + ")",
            per["serve"]["processes"],
        )
    ]
    if per["serve"]["database"]:
        rows.append(("  its PostgreSQL sessions", per["serve"]["database"]))
    if workers:
        rows.append((f"{workers} worker processes", per["workers"]["processes"]))
        rows.append(
            (
                f"  their PostgreSQL sessions ({cpu['workers']['sessions']} seen)",
                per["workers"]["database"],
            )
        )
    for name, seconds in rows:
        print(f"    CPU {name:<44} {seconds:6.2f} s   {seconds / BATCH * 1e3:6.3f} ms/msg")
    drain = per["workers"]["processes"] + per["workers"]["database"] if workers else 0.0
    total = sum(seconds for _, seconds in rows)
    cores = os.cpu_count() or 1
    if workers:
        print(
            f"    drain CPU {drain / BATCH * 1e3:.3f} ms/msg -> ceiling on {cores} cores "
            f"{cores / (drain / BATCH):,.0f} msg/s; with enqueue {total / BATCH * 1e3:.3f} "
            f"ms/msg -> {cores / (total / BATCH):,.0f} msg/s"
        )
    else:  # one process: its Python runs on one core at a time (the GIL)
        print(
            f"    all CPU {total / BATCH * 1e3:.3f} ms/msg -> ceiling of one process "
            f"{1 / (total / BATCH):,.0f} msg/s"
        )


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
    if "--pg-only" not in sys.argv:
        run_case("SQLite, embedded worker", Env(), workers=0)
    url = "" if "--sqlite-only" in sys.argv else fresh_pg_database("praxisbote_bench")
    if url:
        run_case("PostgreSQL, 2 workers", Env(url), workers=2)
    if "--quick" not in sys.argv:
        memory_case(Env(fresh_pg_database("praxisbote_bench_mem") or ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
