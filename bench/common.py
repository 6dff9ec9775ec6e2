"""Shared helpers for benchmarks: machine description, processes, a fresh database."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb // 1024 // 1024} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Env:
    """A data dir and database of its own, and the `praxisbote` command run against them."""

    def __init__(self, database_url: str = "") -> None:
        self.data_dir = tempfile.mkdtemp(prefix="praxisbote-bench-")
        self.env = {
            **os.environ,
            "PRAXISBOTE_DATA_DIR": self.data_dir,
            "PRAXISBOTE_LOG_LEVEL": "WARNING",
        }
        self.env.pop("DATABASE_URL", None)
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.processes: list[subprocess.Popen] = []

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "praxisbote.cli", *args],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "praxisbote.cli", *args],
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.processes.append(process)
        return process

    def practice(self) -> dict:
        self.cli("init")
        return json.loads(
            self.cli("practice", "create", "--name", "Bench", "--country", "AT")
            .strip()
            .splitlines()[-1]
        )

    def stop(self) -> None:
        if getattr(self, "_count_conn", None) is not None:
            self._count_conn.close()
            self._count_conn = None
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def post_json(url: str, body: dict, key: str) -> tuple[int, dict, float]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        payload = json.loads(response.read())
        return response.status, payload, time.perf_counter() - started


def get_json(url: str, key: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def fresh_pg_database(name: str) -> str | None:
    """Drop and create ``name``; the URL, or None when PostgreSQL is unreachable."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"PostgreSQL unavailable ({exc}); skipping its figures")
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def count_sent(env: Env) -> int:
    """Messages handed over, read straight from the database so as not to load the server."""
    url = env.env.get("DATABASE_URL", "")
    sql = "SELECT count(*) FROM messaging_message WHERE state IN ('sent', 'delivered')"
    if url.startswith("postgresql"):
        import psycopg

        # One connection for all polls: a new one each 50 ms would cost the server a
        # process start each time, on the cores the workers need.
        if getattr(env, "_count_conn", None) is None:
            env._count_conn = psycopg.connect(url, autocommit=True, application_name="bench")
        return env._count_conn.execute(sql).fetchone()[0]
    import sqlite3

    with sqlite3.connect(f"{env.data_dir}/praxisbote.sqlite3", timeout=30) as conn:
        return conn.execute(sql).fetchone()[0]


def first_claim(env: Env) -> float:
    """Unix time of the first claim (queued -> sending event) in the database."""
    url = env.env.get("DATABASE_URL", "")
    sql = "SELECT min(at) FROM messaging_deliveryevent WHERE to_state = 'sending'"
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(sql).fetchone()[0].timestamp()
    import sqlite3
    from datetime import datetime

    with sqlite3.connect(f"{env.data_dir}/praxisbote.sqlite3", timeout=30) as conn:
        return datetime.fromisoformat(conn.execute(sql).fetchone()[0]).timestamp()


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def run_seconds(pid: int) -> float:
    """CPU time of a single-threaded process in nanosecond resolution (/proc/<pid>/schedstat).

    /proc/<pid>/stat counts in clock ticks (10 ms): a database session that lives a few
    milliseconds shows 0 there.
    """
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU seconds of given processes and of the PostgreSQL sessions serving them.

    Sessions are found in pg_stat_activity by ``application_name`` prefix and database;
    a sampler thread reads each backend's /proc/<pid>/stat every 50 ms, so a backend
    that lives shorter than that (a connection per query) is partly missed: ``sessions``
    says how many were seen.
    """

    def __init__(self, database_url: str, app_prefix: str) -> None:
        import threading

        self.url = database_url
        self.prefix = app_prefix
        self.pids: list[int] = []
        self.start_proc: dict[int, float] = {}
        self.backends: dict[int, list[float]] = {}  # pid -> [at first sight, last seen]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._conn = None

    def start(self, pids: list[int]) -> None:
        self.pids = pids
        self.start_proc = {pid: cpu_seconds(pid) for pid in pids}
        if self.url:
            self._poll(initial=True)
            self._thread.start()

    def _poll(self, initial: bool = False) -> None:
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(self.url, autocommit=True, application_name="bench")
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE %s",
            (self.prefix + "%",),
        ).fetchall()
        for (pid,) in rows:
            try:
                now = run_seconds(pid)
            except OSError:
                continue
            # Existing at the start: counts from now; born since: all its CPU counts.
            seen = self.backends.setdefault(pid, [now if initial else 0.0, now])
            seen[1] = now

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for pid in list(self.backends):
                try:
                    self.backends[pid][1] = run_seconds(pid)
                except OSError:
                    pass
            self._poll()

    def stop(self) -> dict[str, float]:
        """CPU seconds since ``start``: the processes, their database sessions."""
        procs = sum(cpu_seconds(pid) - self.start_proc[pid] for pid in self.pids)
        if self.url:
            self._stop.set()
            self._thread.join()
            self._poll_last()
            self._conn.close()
        db = sum(last - first for first, last in self.backends.values())
        return {"processes": procs, "database": db, "sessions": len(self.backends)}

    def _poll_last(self) -> None:
        for pid in self.backends:
            try:
                self.backends[pid][1] = run_seconds(pid)
            except OSError:
                pass
