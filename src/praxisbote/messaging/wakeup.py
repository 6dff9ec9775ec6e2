"""Waking standalone workers at once when messages become due (PostgreSQL LISTEN/NOTIFY).

A worker in its own process cannot see the ``NEW_WORK`` event of the process that wrote the
messages; without this it would notice them at its next poll (``PRAXISBOTE_OUTBOX_IDLE_MS``,
250 ms by default, 125 ms on average), a tenth of the whole hand-over time of a 10,000
message batch. The writer sends ``NOTIFY`` inside its transaction, so PostgreSQL delivers it
exactly when the messages become visible (and never for a rollback); each standalone worker
keeps one extra connection that LISTENs while it is idle. Polling stays as the fallback
(SQLite, a lost connection, scheduled messages and retries coming due).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from django.db import connection

log = logging.getLogger(__name__)

CHANNEL = "praxisbote_outbox"


def announce() -> None:
    """Tell listening workers that messages are due; call inside the writing transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")


class Listener:
    """One LISTEN connection of a standalone worker; ``wait`` blocks until a NOTIFY or
    the timeout. Must be created on a thread that may use the database settings."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = connection.get_connection_params()
        self._conn: Any = None

    def wait(self, timeout: float, interrupt: threading.Event | None = None) -> bool:
        """True when woken by a notification, False after ``timeout`` seconds or once
        ``interrupt`` is set (checked every 0.1 s, so a stopping worker is not held up)."""
        deadline = time.monotonic() + timeout
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            while (left := deadline - time.monotonic()) > 0:
                if interrupt is not None and interrupt.is_set():
                    return False
                # Notifications that arrived while the worker was busy wake it at once:
                # at most one extra claim that finds nothing.
                for _ in self._conn.notifies(timeout=min(left, 0.1), stop_after=1):
                    return True
            return False
        except Exception:  # any failure: poll as before, reconnect next time
            log.warning("worker wake-up connection failed; polling instead", exc_info=True)
            self.close()
            time.sleep(max(0.0, min(deadline - time.monotonic(), 1.0)))
            return False

    def _connect(self) -> Any:
        import psycopg

        conn = psycopg.connect(**self.params, autocommit=True)
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
            self._conn = None
