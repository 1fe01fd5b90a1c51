"""Schedule expressions, as EventBridge Scheduler writes them, evaluated here: when is a pull due?

The configuration document gives each connector instance a schedule; one dispatcher (functions/
dispatch.py), itself invoked every minute by one EventBridge schedule, starts the instances whose latest
slot it has not started yet. So the expressions are evaluated in Python, with the same syntax as
EventBridge Scheduler (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):

* ``rate(15 minutes)``, ``rate(1 hour)``, ``rate(2 days)``: every N units. Slots are counted from the
  Unix epoch (a ``rate(15 minutes)`` instance is due at :00, :15, :30 and :45 of every hour, UTC), so
  they do not move when the dispatcher is late or a deployment restarts it.
* ``cron(minutes hours day-of-month month day-of-week year)``, in UTC: ``*``, ``?``, lists ``,``,
  ranges ``-``, steps ``/``, month and weekday names (``JAN``, ``MON``), ``L`` (last day of the month;
  ``6L`` the last Friday), ``W`` (``15W`` the weekday nearest the 15th, ``LW`` the last weekday) and
  ``#`` (``2#1`` the first Monday). Weekdays count from 1 = Sunday, as in EventBridge. One of
  day-of-month and day-of-week must be ``?``.
* ``off``: never scheduled (a push-only destination, or a connector pulled by hand).

Time zones other than UTC are not supported: write the cron in UTC.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from core.errors import ConfigurationError

#: How far back ``latest_slot`` looks for a cron slot before deciding the schedule never fires.
_SEARCH_DAYS = 2 * 366

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# Fixed names, not calendar.month_abbr: that one follows the process locale.
_MONTHS = {
    name: i
    for i, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_FIELD_RANGES = {
    "minutes": (0, 59),
    "hours": (0, 23),
    "day-of-month": (1, 31),
    "month": (1, 12),
    "day-of-week": (1, 7),
    "year": (1970, 2199),
}


class ScheduleError(ConfigurationError):
    """A schedule expression that EventBridge Scheduler's syntax (or this evaluator) does not accept."""


@dataclass(frozen=True, slots=True)
class _DayRule:
    """A day-of-month or day-of-week field beyond plain values: L, W, LW, nL, n#k."""

    kind: str  # "last", "weekday_near", "last_weekday", "last_dow", "nth_dow"
    value: int = 0
    nth: int = 0


@dataclass(frozen=True, slots=True)
class _Field:
    values: frozenset[int] | None  # None: any ("*" or "?")
    rules: tuple[_DayRule, ...] = ()

    def any(self) -> bool:
        return self.values is None and not self.rules


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression; ``latest_slot(at)`` is the last time it fired at or before ``at``."""

    expression: str
    period_seconds: int | None = None
    cron: tuple[_Field, ...] | None = None

    @property
    def off(self) -> bool:
        return self.period_seconds is None and self.cron is None

    def latest_slot(self, at: datetime) -> datetime | None:
        """The most recent scheduled time at or before ``at`` (UTC, to the minute); None if ``off`` or
        if a cron has not fired in the last two years."""
        at = _utc(at).replace(second=0, microsecond=0)
        if self.period_seconds is not None:
            stamp = int(at.timestamp())
            return datetime.fromtimestamp(stamp - stamp % self.period_seconds, UTC)
        if self.cron is None:
            return None
        minutes, hours, dom, month, dow, year = self.cron
        day = at.date()
        for back in range(_SEARCH_DAYS):
            if back:
                day -= timedelta(days=1)
            if not _matches_day(day, dom, month, dow, year):
                continue
            last_hour = at.hour if back == 0 else 23
            for hour in range(last_hour, -1, -1):
                if hours.values is not None and hour not in hours.values:
                    continue
                last_minute = at.minute if (back == 0 and hour == at.hour) else 59
                for minute in range(last_minute, -1, -1):
                    if minutes.values is None or minute in minutes.values:
                        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
        return None

    def longest_gap(
        self, start: datetime | None = None, days: int = 93, slots: int = 500
    ) -> timedelta | None:
        """The longest wait between two slots (a rate's period; for a cron, over its first ``slots``
        slots or ``days`` days after ``start``, whichever ends first); None if ``off``, and a year for
        a cron that fires less than twice in that window."""
        if self.period_seconds is not None:
            return timedelta(seconds=self.period_seconds)
        if self.cron is None:
            return None
        begin = _utc(start or datetime(2026, 1, 1, tzinfo=UTC)).replace(second=0, microsecond=0)
        cursor = begin + timedelta(days=days)
        found: list[datetime] = []
        while cursor >= begin and len(found) < slots:
            slot = self.latest_slot(cursor)
            if slot is None or slot < begin:
                break
            found.append(slot)
            cursor = slot - timedelta(minutes=1)
        if len(found) < 2:
            return timedelta(days=366)
        return max(a - b for a, b in itertools.pairwise(found))


def parse_schedule(expression: str) -> Schedule:
    """Parse ``rate(...)``, ``cron(...)`` or ``off``; raise ScheduleError naming what is wrong."""
    text = " ".join(str(expression).split())
    if text.lower() == "off":
        return Schedule("off")
    rate = _RATE.match(text)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if count < 1:
            raise ScheduleError(f"{expression!r}: a rate must be at least 1 {unit}")
        return Schedule(text, period_seconds=count * _UNIT_SECONDS[unit])
    cron = _CRON.match(text)
    if cron:
        return Schedule(text, cron=_parse_cron(expression, cron.group(1)))
    raise ScheduleError(
        f"{expression!r} is not a schedule: write rate(15 minutes), rate(1 hour), "
        "cron(0 6 * * ? *) (EventBridge Scheduler syntax, UTC) or off"
    )


def _parse_cron(expression: str, body: str) -> tuple[_Field, ...]:
    parts = body.split()
    if len(parts) != 6:
        raise ScheduleError(
            f"{expression!r}: a cron has six fields (minutes hours day-of-month month day-of-week year), "
            f"not {len(parts)}; e.g. cron(0 6 * * ? *)"
        )
    names = list(_FIELD_RANGES)
    fields = tuple(_parse_field(expression, name, part) for name, part in zip(names, parts, strict=True))
    dom_text, dow_text = parts[2], parts[4]
    if (dom_text == "?") == (dow_text == "?"):
        raise ScheduleError(
            f"{expression!r}: exactly one of day-of-month and day-of-week must be '?' "
            "(e.g. cron(0 6 * * ? *) or cron(0 6 ? * MON-FRI *))"
        )
    if "?" in (parts[0], parts[1], parts[3], parts[5]):
        raise ScheduleError(f"{expression!r}: '?' is only allowed in day-of-month or day-of-week")
    return fields


def _number(expression: str, field: str, token: str) -> int:
    names = _MONTHS if field == "month" else _WEEKDAYS if field == "day-of-week" else {}
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit():
        raise ScheduleError(f"{expression!r}: {token!r} is not a valid {field} value")
    value = int(token)
    low, high = _FIELD_RANGES[field]
    if not low <= value <= high:
        raise ScheduleError(f"{expression!r}: {field} {value} is outside {low}-{high}")
    return value


def _parse_field(expression: str, field: str, text: str) -> _Field:
    if text in ("*", "?"):
        return _Field(None)
    low, high = _FIELD_RANGES[field]
    values: set[int] = set()
    rules: list[_DayRule] = []
    for item in text.split(","):
        rule = _day_rule(expression, field, item)
        if rule is not None:
            rules.append(rule)
            continue
        base, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(
                    f"{expression!r}: step {step_text!r} in {field} must be a positive number"
                )
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(expression, field, first), _number(expression, field, last)
            if start > end:
                raise ScheduleError(f"{expression!r}: range {base!r} in {field} runs backwards")
        else:
            start = _number(expression, field, base)
            end = high if step_text else start
        values.update(range(start, end + 1, step))
    return _Field(frozenset(values) if values else None if rules else frozenset(), tuple(rules))


def _day_rule(expression: str, field: str, item: str) -> _DayRule | None:
    upper = item.upper()
    if field == "day-of-month":
        if upper == "L":
            return _DayRule("last")
        if upper == "LW":
            return _DayRule("last_weekday")
        if upper.endswith("W"):
            return _DayRule("weekday_near", _number(expression, field, upper[:-1]))
    elif field == "day-of-week":
        if upper.endswith("L") and len(upper) > 1:
            return _DayRule("last_dow", _number(expression, field, upper[:-1]))
        if "#" in upper:
            day, _, nth = upper.partition("#")
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise ScheduleError(f"{expression!r}: in {item!r} the week must be 1 to 5")
            return _DayRule("nth_dow", _number(expression, field, day), int(nth))
    elif any(c in upper for c in "LW#"):
        raise ScheduleError(f"{expression!r}: L, W and # are only allowed in day-of-month or day-of-week")
    return None


def _weekday(day: date) -> int:
    """EventBridge's day-of-week number: 1 = Sunday ... 7 = Saturday."""
    return (day.isoweekday() % 7) + 1


def _matches_day(day: date, dom: _Field, month: _Field, dow: _Field, year: _Field) -> bool:
    if year.values is not None and day.year not in year.values:
        return False
    if month.values is not None and day.month not in month.values:
        return False
    return _matches(dom, day, day.day, _dom_rule) and _matches(dow, day, _weekday(day), _dow_rule)


def _matches(field: _Field, day: date, value: int, rule_check: Callable[[_DayRule, date], bool]) -> bool:
    if field.any():
        return True
    if field.values is not None and value in field.values:
        return True
    return any(rule_check(rule, day) for rule in field.rules)


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _dom_rule(rule: _DayRule, day: date) -> bool:
    last = _last_day(day)
    if rule.kind == "last":
        return day.day == last
    if rule.kind == "last_weekday":
        target = last
        while date(day.year, day.month, target).isoweekday() > 5:
            target -= 1
        return day.day == target
    # weekday_near: the weekday nearest ``value`` within the month (Quartz's W).
    target = min(rule.value, last)
    weekday = date(day.year, day.month, target).isoweekday()
    if weekday == 6:
        target = target - 1 if target > 1 else target + 2
    elif weekday == 7:
        target = target + 1 if target < last else target - 2
    return day.day == target


def _dow_rule(rule: _DayRule, day: date) -> bool:
    if _weekday(day) != rule.value:
        return False
    if rule.kind == "last_dow":
        return day.day + 7 > _last_day(day)
    return (day.day - 1) // 7 + 1 == rule.nth


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


__all__ = ["Schedule", "ScheduleError", "parse_schedule"]
