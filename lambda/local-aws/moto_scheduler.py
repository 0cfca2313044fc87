"""Makes EventBridge Scheduler schedules fire: moto 5.2.1 stores them (moto/scheduler/models.py) and never runs them.

Nothing of moto's is patched: schedules are read where moto keeps them
(EventBridgeSchedulerBackend.schedule_groups[group].schedules), and `Schedules.run_due` is called
by the ticker (local_ticker.py). As on AWS
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
- only ENABLED schedules fire, recurring ones between StartDate and EndDate;
- `rate()` fires at StartDate (or, without one, when the schedule was created or last updated)
  and every interval after; `cron()` at its times in ScheduleExpressionTimezone; `at()` once,
  and a schedule with ActionAfterCompletion=DELETE is deleted after it fired;
- a missed occurrence is not made up: one run per tick at most;
- the flexible time window is ignored (the emulator fires at the window's start).
Only Lambda function targets are run: invoked asynchronously (InvocationType Event) with the
target's Input as the event ({} without one). Other targets are recorded as not supported.
`Schedules.run_now` fires one schedule whatever its expression and state
(POST /keyroll-local/scheduler/run). Every run is recorded in an EventLog (GET /keyroll-local/scheduler/runs).
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule, scheduler_backends

import schedule_expressions
from local_event_log import EventLog
from schedule_expressions import At, Cron, ExpressionError, ExpressionNotSupported, Rate

logger = logging.getLogger("keyroll.local-aws")


class ScheduleNotFound(LookupError):
    pass


class ScheduleAmbiguous(LookupError):
    pass


@dataclass
class _Fired:
    # The schedule as it was when last fired: an update starts its occurrences afresh.
    version: tuple[Any, ...]
    last: float  # epoch seconds of the occurrence last fired


class Schedules:
    def __init__(self, runs: EventLog) -> None:
        self.runs = runs
        self._fired: dict[str, _Fired] = {}
        self._unreadable: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def run_due(self, now: datetime) -> list[dict[str, Any]]:
        """Fires every schedule due at `now`; returns the run records."""
        records: list[dict[str, Any]] = []
        with self._lock:
            for backend, group, schedule in _all_schedules():
                occurrence = self._due(schedule, now.timestamp())
                if occurrence is None:
                    continue
                self._fired[schedule.arn] = _Fired(_version(schedule), occurrence)
                records.append(self._fire(schedule, "tick"))
                if _is_one_time(schedule) and schedule.action_after_completion == "DELETE":
                    group.schedules.pop(schedule.name, None)
        return records

    def run_now(self, name: str, group_name: str | None = None, account_id: str | None = None, region: str | None = None) -> dict[str, Any]:
        """Fires one schedule now; raises ScheduleNotFound or ScheduleAmbiguous."""
        group_name = group_name or "default"
        matches = [
            (backend, schedule)
            for backend, group, schedule in _all_schedules()
            if schedule.name == name and group.name == group_name
            and account_id in (None, backend.account_id) and region in (None, backend.region_name)
        ]
        if not matches:
            raise ScheduleNotFound(f"No schedule {name!r} in group {group_name!r}" + (f" of account {account_id}" if account_id else "")
                                   + (f" in {region}" if region else "") + ": check the name and groupName (default: default).")
        if len(matches) > 1:
            where = ", ".join(f"{b.account_id}/{b.region_name}" for b, _ in matches)
            raise ScheduleAmbiguous(f"Schedule {name!r} in group {group_name!r} exists in several places ({where}): pass region (and accountId).")
        with self._lock:
            return self._fire(matches[0][1], "run")

    def _due(self, schedule: Schedule, now: float) -> float | None:
        """The occurrence to fire now (epoch seconds), or None."""
        if schedule.state != "ENABLED":
            return None
        try:
            expression = schedule_expressions.parse(schedule.schedule_expression, schedule.schedule_expression_timezone)
        except (ExpressionError, ExpressionNotSupported) as error:
            key = (schedule.arn, schedule.schedule_expression)
            if key not in self._unreadable:
                self._unreadable.add(key)
                logger.warning("Schedule %s never fires in the emulator: %s", schedule.arn, error)
            return None
        fired = self._fired.get(schedule.arn)
        if fired is not None and fired.version != _version(schedule):
            fired = None
        if isinstance(expression, At):
            when = expression.when.timestamp()
            return when if fired is None and when <= now else None
        start = _epoch(schedule.start_date)
        end = _epoch(schedule.end_date)
        if (start is not None and now < start) or (end is not None and now > end):
            return None
        anchor = start if start is not None else float(schedule.last_modified_date)
        if isinstance(expression, Rate):
            if now < anchor:
                return None
            latest = anchor + math.floor((now - anchor) / expression.seconds) * expression.seconds
            return latest if fired is None or latest > fired.last else None
        assert isinstance(expression, Cron)
        after = datetime.fromtimestamp(fired.last if fired else anchor, timezone.utc)
        upcoming = schedule_expressions.next_after(expression, after)
        # Recorded as `now`, not as the occurrence, so occurrences missed meanwhile are not made up.
        return now if upcoming is not None and upcoming.timestamp() <= now else None

    def _fire(self, schedule: Schedule, trigger: str) -> dict[str, Any]:
        target = schedule.target or {}
        target_arn = str(target.get("Arn", ""))
        record: dict[str, Any] = {
            "scheduleArn": schedule.arn,
            "scheduleName": schedule.name,
            "groupName": schedule.group_name,
            "scheduleExpression": schedule.schedule_expression,
            "targetArn": target_arn,
            "trigger": trigger,
        }
        parts = target_arn.split(":")
        if not (len(parts) >= 7 and parts[0] == "arn" and parts[2] == "lambda" and parts[5] == "function"):
            record.update(result="not-supported", error={"code": "TARGET_NOT_SUPPORTED",
                                                         "message": f"The emulator runs only Lambda function targets; {target_arn!r} is not one."})
            return self.runs.add(record)
        from moto.awslambda.utils import get_backend

        try:
            get_backend(parts[4], parts[3]).invoke(target_arn, None, target.get("Input") or "{}", {"x-amz-invocation-type": "Event"}, {})
            record["result"] = "invoked"
        except Exception as error:  # noqa: BLE001 - e.g. the function is gone; AWS would count a failed invocation
            record.update(result="failed", error={"code": str(getattr(error, "error_type", type(error).__name__)),
                                                  "message": str(getattr(error, "message", error))})
        return self.runs.add(record)


def _all_schedules() -> list[tuple[EventBridgeSchedulerBackend, Any, Schedule]]:
    # Copied first: requests change moto's dicts while the ticker reads them.
    found = []
    for account in list(dict.values(scheduler_backends)):
        for backend in list(dict.values(account)):
            for group in list(backend.schedule_groups.values()):
                found.extend((backend, group, schedule) for schedule in list(group.schedules.values()))
    return found


def _version(schedule: Schedule) -> tuple[Any, ...]:
    return (schedule.schedule_expression, schedule.schedule_expression_timezone, schedule.last_modified_date)


def _is_one_time(schedule: Schedule) -> bool:
    return str(schedule.schedule_expression or "").strip().startswith("at(")


def _epoch(value: Any) -> float | None:
    """StartDate/EndDate as moto keeps them: epoch seconds from the SDKs, or an ISO 8601 string."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
