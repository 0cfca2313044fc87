"""A bounded, thread-safe log of emulator events (dicts), numbered so a poller sees each one once.

Backs the rotation events (GET /keyroll-local/secretsmanager/rotation-events) and the schedule
runs (GET /keyroll-local/scheduler/runs). Each record gets `seq` (from 1, across the log) and `at`
(ISO 8601, UTC); the oldest records are dropped past `capacity`.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from datetime import datetime, timezone
from typing import Any

DEFAULT_CAPACITY = 1000


class EventLog:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            stored = {"seq": next(self._sequence), "at": iso_now(), **{k: v for k, v in record.items() if v is not None}}
            self._records.append(stored)
        return dict(stored)

    def query(self, since: int = 0, limit: int | None = None, **equal: str | None) -> list[dict[str, Any]]:
        """Oldest first, with seq > since and every given field equal (None means any)."""
        wanted = {k: v for k, v in equal.items() if v is not None}
        with self._lock:
            matching = [dict(r) for r in self._records if r["seq"] > since and all(r.get(k) == v for k, v in wanted.items())]
        if limit is None:
            return matching
        return matching[-limit:] if limit > 0 else []


def iso_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
