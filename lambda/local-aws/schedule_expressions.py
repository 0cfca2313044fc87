"""AWS schedule expressions, `rate()`, `cron()` and `at()`: parsed once, then asked for the next time they fire.

Used by Secrets Manager rotation rules (moto_secrets_rotation.py) and EventBridge Scheduler
schedules (moto_scheduler.py). AWS's syntax:
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
- `rate(value unit)`: unit minute(s) | hour(s) | day(s), value a positive whole number.
- `cron(minutes hours day-of-month month day-of-week year)`: `*`, `?`, numbers, `a-b`, `a,b`,
  `*/n` and `a/n`, month names JAN-DEC and weekday names SUN-SAT (SUN is 1). Best effort: `L`,
  `W` and `#` are refused with ExpressionNotSupported, so callers can say so instead of guessing.
- `at(yyyy-mm-ddThh:mm:ss)`: once.
Times are evaluated in the expression's time zone (IANA name, default UTC) and returned in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i + 1 for i, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_WEEKDAYS = {name: i + 1 for i, name in enumerate("SUN MON TUE WED THU FRI SAT".split())}
# A cron expression that matches nothing within this many days (e.g. 31 FEB) never fires.
_CRON_HORIZON_DAYS = 366 * 5


class ExpressionError(ValueError):
    """The expression is not valid AWS syntax; the message says what is expected."""


class ExpressionNotSupported(ValueError):
    """Valid on AWS, but beyond what the emulator evaluates."""


@dataclass(frozen=True)
class Rate:
    seconds: int
    text: str


@dataclass(frozen=True)
class At:
    when: datetime  # UTC
    text: str


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None: `?`
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # None: `?`; 1 = Sunday
    years: frozenset[int] | None  # None: `*`
    zone: ZoneInfo
    text: str


Expression = Rate | At | Cron


def parse(text: str, zone_name: str | None = None) -> Expression:
    """Parses `rate()`, `cron()` or `at()`; raises ExpressionError or ExpressionNotSupported."""
    text = (text or "").strip()
    zone = _zone(zone_name)
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1:
            raise ExpressionError(f"{text!r}: the rate value must be 1 or more.")
        return Rate(value * _UNIT_SECONDS[unit], text)
    at = _AT.match(text)
    if at:
        try:
            local = datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError as error:
            raise ExpressionError(f"{text!r}: {error}.") from None
        return At(local.replace(tzinfo=zone).astimezone(timezone.utc), text)
    cron = _CRON.match(text)
    if cron:
        return _parse_cron(cron.group(1).split(), zone, text)
    raise ExpressionError(f"{text!r} is not a schedule expression: use rate(value unit), cron(fields) or at(yyyy-mm-ddThh:mm:ss).")


def next_after(expression: Expression, after: datetime) -> datetime | None:
    """The first time strictly after `after` (aware) at which a cron or at() expression fires, in UTC.

    For a rate, the caller owns the anchor (rates fire at anchor + k * seconds), so this returns
    `after + seconds`.
    """
    after = after.astimezone(timezone.utc)
    if isinstance(expression, Rate):
        return after + timedelta(seconds=expression.seconds)
    if isinstance(expression, At):
        return expression.when if expression.when > after else None
    return _next_cron(expression, after)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"Unknown time zone {name!r}: use an IANA name such as UTC or Europe/Paris.") from None


def _parse_cron(fields: list[str], zone: ZoneInfo, text: str) -> Cron:
    if len(fields) != 6:
        raise ExpressionError(f"{text!r}: cron() takes 6 fields (minutes hours day-of-month month day-of-week year); got {len(fields)}.")
    minute, hour, dom, month, dow, year = fields
    for field in fields:
        if re.search(r"[LW#]", field.upper()):
            raise ExpressionNotSupported(f"{text!r}: the emulator does not evaluate L, W or # in cron fields.")
    if (dom == "?") == (dow == "?"):
        raise ExpressionError(f"{text!r}: exactly one of day-of-month and day-of-week must be '?'.")
    return Cron(
        minutes=_field(minute, 0, 59, {}, text),
        hours=_field(hour, 0, 23, {}, text),
        days_of_month=None if dom == "?" else _field(dom, 1, 31, {}, text),
        months=_field(month, 1, 12, _MONTHS, text),
        days_of_week=None if dow == "?" else _field(dow, 1, 7, _WEEKDAYS, text),
        years=None if year == "*" else _field(year, 1970, 2199, {}, text),
        zone=zone,
        text=text,
    )


def _field(raw: str, low: int, high: int, names: dict[str, int], text: str) -> frozenset[int]:
    values: set[int] = set()
    for part in raw.upper().split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _number(step_text, names, text)
            if step < 1:
                raise ExpressionError(f"{text!r}: a cron step must be 1 or more.")
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _number(first, names, text), _number(last, names, text)
        else:
            start = _number(part, names, text)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ExpressionError(f"{text!r}: {raw!r} is outside {low}-{high}.")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(raw: str, names: dict[str, int], text: str) -> int:
    if raw in names:
        return names[raw]
    if not raw.isdigit():
        raise ExpressionError(f"{text!r}: {raw!r} is not a number{' or name' if names else ''}.")
    return int(raw)


def _next_cron(cron: Cron, after: datetime) -> datetime | None:
    # Day by day in the expression's zone, then hours and minutes within a matching day: at most
    # a few thousand steps, where minute by minute could be millions.
    local = after.astimezone(cron.zone).replace(second=0, microsecond=0)
    day = local.date()
    for _ in range(_CRON_HORIZON_DAYS):
        if _day_matches(cron, day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=cron.zone).astimezone(timezone.utc)
                    if candidate > after:
                        return candidate
        day += timedelta(days=1)
    return None


def _day_matches(cron: Cron, day) -> bool:  # type: ignore[no-untyped-def]
    if cron.years is not None and day.year not in cron.years:
        return False
    if day.month not in cron.months:
        return False
    if cron.days_of_month is not None:
        return day.day in cron.days_of_month
    # Python: Monday is 0; AWS cron: Sunday is 1.
    return cron.days_of_week is not None and (day.weekday() + 1) % 7 + 1 in cron.days_of_week
