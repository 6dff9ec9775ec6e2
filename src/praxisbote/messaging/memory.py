"""Secrets held by this process only: the e-mail password in ``password_mode`` "memory".

Seed 000's mode: the password is never written to the database (nor to any file); after a
restart it is gone and the practice enters it again. That only works when the process that
holds it also sends, so it is allowed only while an embedded worker runs in this process
(``praxisbote serve`` without ``--no-worker``); ``worker.start_embedded`` says so here.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_secrets: dict[tuple[str, str], str] = {}
_embedded_worker = threading.Event()


def mark_embedded_worker(running: bool = True) -> None:
    """Called by ``worker.start_embedded``: this process sends what it queues."""
    if running:
        _embedded_worker.set()
    else:
        _embedded_worker.clear()


def embedded_worker_running() -> bool:
    return _embedded_worker.is_set()


def _key(practice_id: Any, channel: str) -> tuple[str, str]:
    return (str(practice_id).replace("-", ""), channel)


def put_password(practice_id: Any, channel: str, password: str) -> None:
    with _lock:
        _secrets[_key(practice_id, channel)] = password


def get_password(practice_id: Any, channel: str) -> str:
    with _lock:
        return _secrets.get(_key(practice_id, channel), "")


def forget_password(practice_id: Any, channel: str) -> None:
    with _lock:
        _secrets.pop(_key(practice_id, channel), None)


def forget_all() -> None:
    """What a restart does (tests use it to simulate one)."""
    with _lock:
        _secrets.clear()
