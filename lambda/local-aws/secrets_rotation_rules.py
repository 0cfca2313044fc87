"""Secrets Manager RotationRules: validated as AWS does, kept as given, and turned into a NextRotationDate.

AWS: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html
- `AutomaticallyAfterDays` (1-1000) or `ScheduleExpression` (`rate(N hours|days)`, at most every
  4 hours and at least every 1000 days, or `cron(...)`), not both;
- `Duration`: the rotation window, `1h`-`24h`.
The emulator rotates at the window's start: NextRotationDate is the last rotation (or the
configuration) plus the interval, or the cron expression's next time; the window is stored and
returned, not waited out. A cron expression the emulator cannot evaluate (L, W, #) is stored but
gives no NextRotationDate, so it never comes due on its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.secretsmanager.exceptions import InvalidParameterException

import schedule_expressions
from schedule_expressions import Cron, ExpressionError, ExpressionNotSupported, Rate

_DURATION = re.compile(r"^(\d{1,2})h$")
_MIN_RATE_SECONDS = 4 * 3600
_MAX_RATE_SECONDS = 1000 * 86400


def parse_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """The rules to store, exactly the fields given; raises InvalidParameterException naming the field."""
    days = rules.get("AutomaticallyAfterDays")
    expression = rules.get("ScheduleExpression")
    duration = rules.get("Duration")
    if days is not None and expression:
        raise InvalidParameterException("RotationRules takes AutomaticallyAfterDays or ScheduleExpression, not both: keep one.")
    if days is None and not expression:
        raise InvalidParameterException("RotationRules needs AutomaticallyAfterDays (1-1000) or ScheduleExpression (rate(N hours|days) or cron(...)).")
    stored: dict[str, Any] = {}
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 1000:
            raise InvalidParameterException("RotationRules.AutomaticallyAfterDays must be within 1-1000.")
        stored["AutomaticallyAfterDays"] = days
    if expression:
        _check_expression(str(expression))
        stored["ScheduleExpression"] = str(expression)
    if duration is not None:
        match = _DURATION.match(str(duration))
        if not match or not 1 <= int(match.group(1)) <= 24:
            raise InvalidParameterException(f"RotationRules.Duration must be a whole number of hours from 1h to 24h, such as 3h; got {duration!r}.")
        stored["Duration"] = str(duration)
    return stored


def next_rotation(rules: dict[str, Any] | None, after: datetime) -> int | None:
    """NextRotationDate (epoch seconds) for a rotation done, or configured, at `after`; None if there is none."""
    if not rules:
        return None
    if "AutomaticallyAfterDays" in rules:
        return int((after + timedelta(days=int(rules["AutomaticallyAfterDays"]))).timestamp())
    try:
        expression = schedule_expressions.parse(rules["ScheduleExpression"])
    except (ExpressionError, ExpressionNotSupported):
        return None
    upcoming = schedule_expressions.next_after(expression, after.astimezone(timezone.utc))
    return int(upcoming.timestamp()) if upcoming else None


def _check_expression(text: str) -> None:
    try:
        expression = schedule_expressions.parse(text)
    except ExpressionError as error:
        raise InvalidParameterException(f"RotationRules.ScheduleExpression: {error}") from None
    except ExpressionNotSupported:
        return  # valid on AWS; stored, but never due here (see the module docstring)
    if isinstance(expression, Rate):
        if "minute" in text or not _MIN_RATE_SECONDS <= expression.seconds <= _MAX_RATE_SECONDS:
            raise InvalidParameterException(
                f"RotationRules.ScheduleExpression {text!r}: a rate must be in hours or days, from rate(4 hours) to rate(1000 days)."
            )
    elif isinstance(expression, Cron):
        # Best effort: two consecutive times from now, closer than 4 hours, are too often.
        first = schedule_expressions.next_after(expression, datetime.now(timezone.utc))
        second = schedule_expressions.next_after(expression, first) if first else None
        if first and second and (second - first).total_seconds() < _MIN_RATE_SECONDS:
            raise InvalidParameterException(f"RotationRules.ScheduleExpression {text!r} rotates more often than every 4 hours, which Secrets Manager refuses.")
    else:
        raise InvalidParameterException(f"RotationRules.ScheduleExpression {text!r}: use rate(N hours|days) or cron(...); at() is for one-time schedules.")
