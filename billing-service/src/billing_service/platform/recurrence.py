"""Recurring schedules: run dates anchored to the first run's day, periods, company dates.

Runs are counted from the anchor (the first run), never chained from the previous run, so a
monthly template started on Jan 31 runs Feb 28 (29 in leap years), Mar 31, Apr 30: the short
months clamp to their last day without dragging the later runs with them.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
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


def first_run_on_or_after(anchor: date, interval: str, day: date) -> int:
    """The number of the first run dated `day` or later (computed, not stepped: a template
    anchored centuries back must not cost a loop per missed run)."""
    if day <= anchor:
        return 0
    if interval in _DAYS:
        return -(-(day - anchor).days // _DAYS[interval])  # ceiling division
    months = _MONTHS[interval]
    elapsed = (day.year - anchor.year) * 12 + day.month - anchor.month
    run = max(elapsed // months - 1, 0)  # dated before `day`: its month is at least a step earlier
    while run_date(anchor, interval, run) < day:
        run += 1
    return run


def period(anchor: date, interval: str, run: int) -> tuple[date, date]:
    """The period run `run` bills: from its date up to the day before the next run."""
    return run_date(anchor, interval, run), run_date(anchor, interval, run + 1) - timedelta(days=1)


def period_label(start: date, end: date) -> str:
    return f"{start.isoformat()} - {end.isoformat()}"


def company_today(now: datetime, timezone: str) -> date:
    """The calendar date in the company's timezone at the instant `now` (timezone-aware).
    A timezone this machine does not know (a row written before validation, a name dropped
    from the tz database) counts as UTC rather than failing every date of the company."""
    return now.astimezone(ZoneInfo(timezone) if is_timezone(timezone) else UTC).date()


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, e.g. "America"
        return False
    return True
