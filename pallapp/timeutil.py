"""Time zones: UTC in the database, Europe/Stockholm for people."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def now_local() -> datetime:
    return datetime.now(STOCKHOLM)


def today_local() -> date:
    """Today's date in Sweden (a care episode ending today is over at Swedish midnight)."""
    return now_local().date()
