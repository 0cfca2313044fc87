"""The emulator's clock: every `period` seconds, runs each job with the current time, as AWS's schedulers would.

Jobs are Rotations.start_due (due Secrets Manager rotations) and Schedules.run_due (EventBridge
Scheduler schedules). A failing job is logged and the ticker goes on.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable

logger = logging.getLogger("keyroll.local-aws")


class Ticker:
    def __init__(self, period_s: float, jobs: list[Callable[[datetime], Any]]) -> None:
        self._period = period_s
        self._jobs = jobs
        self._stop = threading.Event()

    def start(self) -> None:
        """Starts ticking; a period of 0 means never (only the emulator-only routes fire)."""
        if self._period > 0:
            threading.Thread(target=self._loop, name="keyroll-ticker", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self._period):
            now = datetime.now(timezone.utc)
            for job in self._jobs:
                try:
                    job(now)
                except Exception:  # noqa: BLE001 - one bad tick must not stop the clock
                    logger.exception("Emulator ticker job %s failed", getattr(job, "__qualname__", job))
