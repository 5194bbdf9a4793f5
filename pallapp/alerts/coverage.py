"""Coverage hours: when a unit reads its alerts. Pure; times are Swedish local time."""

from __future__ import annotations

from datetime import datetime, time

from pallapp.timeutil import STOCKHOLM


def parse_weekdays(text: str) -> frozenset[int]:
    """ISO weekdays from digits: "12345" is Monday to Friday."""
    return frozenset(int(char) for char in text if char in "1234567")


def in_coverage(weekdays: str, start: time | None, end: time | None, at: datetime) -> bool:
    """Whether `at` falls in the coverage hours: on one of `weekdays`, from `start` up to (not
    including) `end`, in Swedish local time. No days or no hours configured: never covered."""
    if start is None or end is None or not weekdays or start >= end:
        return False
    local = at.astimezone(STOCKHOLM)
    return local.isoweekday() in parse_weekdays(weekdays) and start <= local.time() < end
