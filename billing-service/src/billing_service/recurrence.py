"""Recurring schedules: run dates anchored to the first run's day, periods, company dates.

Runs are counted from the anchor (the first run), never chained from the previous run, so a
monthly template started on Jan 31 runs Feb 28 (29 in leap years), Mar 31, Apr 30: the short
months clamp to their last day without dragging the later runs with them.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INTERVALS = ("daily", "weekly", "monthly", "quarterly", "yearly")
_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
_DAYS = {"daily": 1, "weekly": 7}


def add_months(anchor: date, months: int) -> date:
    month_index = anchor.month - 1 + months
    year, month = anchor.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def run_date(anchor: date, interval: str, run: int) -> date:
    """The date of run number `run` (0 is the anchor itself)."""
    if interval in _DAYS:
        return anchor + timedelta(days=_DAYS[interval] * run)
    if interval in _MONTHS:
        return add_months(anchor, _MONTHS[interval] * run)
    raise ValueError(f"unknown interval {interval!r}")


def period(anchor: date, interval: str, run: int) -> tuple[date, date]:
    """The period run `run` bills: from its date up to the day before the next run."""
    return run_date(anchor, interval, run), run_date(anchor, interval, run + 1) - timedelta(days=1)


def period_label(start: date, end: date) -> str:
    return f"{start.isoformat()} - {end.isoformat()}"


def company_today(now: datetime, timezone: str) -> date:
    """The calendar date in the company's timezone at the instant `now` (timezone-aware)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
