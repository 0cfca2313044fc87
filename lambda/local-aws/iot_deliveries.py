"""The local rules engine's record of recent rule action runs, served at GET /keyroll-local/iot/deliveries.

One record per action run (an errorAction run is a record of its own). Bounded: the oldest records
are dropped past `capacity`. Header values are never stored, only header names, because they carry
API keys; URLs and topics are stored as the rule declares them.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

DEFAULT_CAPACITY = 1000


@dataclass
class Delivery:
    ruleName: str
    topic: str
    action: str  # "http", "republish", or the unsupported action's type
    # delivered: 2xx answer (or republished); failed: sent, but no 2xx after the retries;
    # not-sent: refused before sending (no ENABLED destination, role or secret unusable, ...)
    result: str
    node: int
    attempts: int = 0
    # The last HTTP status answered, or None when nothing answered.
    status: int | None = None
    url: str | None = None
    targetTopic: str | None = None
    errorAction: bool = False
    headerNames: list[str] = field(default_factory=list)
    error: dict[str, str] | None = None
    accountId: str = ""
    region: str = ""
    seq: int = 0
    at: str = ""


class DeliveryLog:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._records: deque[Delivery] = deque(maxlen=capacity)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, record: Delivery) -> Delivery:
        with self._lock:
            record.seq = next(self._sequence)
            record.at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            self._records.append(record)
        return record

    def query(self, rule: str | None = None, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Oldest first. `since` skips records up to that seq, so a poller sees each record once."""
        with self._lock:
            matching = [r for r in self._records if r.seq > since and (rule is None or r.ruleName == rule)]
        if limit is not None:
            matching = matching[-limit:]
        return [{k: v for k, v in asdict(r).items() if v is not None} for r in matching]
