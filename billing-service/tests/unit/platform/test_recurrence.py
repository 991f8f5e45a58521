"""Interval arithmetic: month ends, leap years, company dates across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from billing_service.platform.recurrence import (
    INTERVALS,
    company_today,
    first_run_on_or_after,
    is_timezone,
    period,
    period_label,
    run_date,
)


def test_monthly_from_jan_31_clamps_without_drifting():
    runs = [run_date(date(2025, 1, 31), "monthly", n) for n in range(5)]
    assert runs == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    ]


def test_leap_years():
    assert run_date(date(2024, 1, 31), "monthly", 1) == date(2024, 2, 29)
    assert run_date(date(2024, 2, 29), "yearly", 1) == date(2025, 2, 28)
    assert run_date(date(2024, 2, 29), "yearly", 4) == date(2028, 2, 29)
    assert run_date(date(2023, 11, 30), "quarterly", 1) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("interval", "run", "expected"),
    [
        ("daily", 3, date(2025, 1, 4)),
        ("weekly", 2, date(2025, 1, 15)),
        ("monthly", 12, date(2026, 1, 1)),
        ("quarterly", 3, date(2025, 10, 1)),
        ("yearly", 2, date(2027, 1, 1)),
        ("daily", 365, date(2026, 1, 1)),
    ],
)
def test_each_interval(interval, run, expected):
    assert run_date(date(2025, 1, 1), interval, run) == expected


def test_periods_end_the_day_before_the_next_run():
    assert period(date(2025, 1, 1), "monthly", 0) == (date(2025, 1, 1), date(2025, 1, 31))
    assert period_label(*period(date(2025, 1, 1), "monthly", 0)) == "2025-01-01 - 2025-01-31"
    assert period(date(2025, 1, 31), "monthly", 1) == (date(2025, 2, 28), date(2025, 3, 30))
    assert period(date(2024, 12, 30), "weekly", 0) == (date(2024, 12, 30), date(2025, 1, 5))


def test_company_dates_follow_their_timezone_across_dst():
    # 23:30 UTC on the night Europe/Berlin leaves summer time is already the next day there.
    late = datetime(2025, 10, 25, 22, 30, tzinfo=UTC)
    assert company_today(late, "UTC") == date(2025, 10, 25)
    assert company_today(late, "Europe/Berlin") == date(2025, 10, 26)
    # After the change Berlin is UTC+1: 23:30 UTC on Oct 26 is 00:30 on Oct 27.
    assert company_today(datetime(2025, 10, 26, 23, 30, tzinfo=UTC), "Europe/Berlin") == date(
        2025, 10, 27
    )
    # New York springs forward on 2025-03-09; 04:59 UTC is still the 8th there, 05:00 too.
    assert company_today(datetime(2025, 3, 9, 4, 59, tzinfo=UTC), "America/New_York") == date(
        2025, 3, 8
    )
    assert company_today(datetime(2025, 3, 9, 5, 0, tzinfo=UTC), "America/New_York") == date(
        2025, 3, 9
    )
    assert company_today(datetime(2025, 1, 1, 11, 0, tzinfo=UTC), "Pacific/Kiritimati") == date(
        2025, 1, 2
    )


def test_timezone_names_are_checked():
    assert is_timezone("Africa/Johannesburg")
    assert not is_timezone("Mars/Olympus_Mons")
    assert not is_timezone("../etc/passwd")


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("anchor", [date(2024, 1, 31), date(2023, 2, 28), date(2024, 2, 29)])
def test_first_run_on_or_after_matches_stepping_through_the_runs(interval, anchor):
    for offset in range(0, 800, 7):
        day = date(2023, 12, 1) + timedelta(days=offset)
        stepped = next(n for n in range(2000) if run_date(anchor, interval, n) >= day)
        assert first_run_on_or_after(anchor, interval, day) == stepped, day


def test_first_run_on_or_after_is_computed_for_centuries():
    run = first_run_on_or_after(date(694, 6, 11), "monthly", date(2025, 3, 17))
    assert run_date(date(694, 6, 11), "monthly", run) == date(2025, 4, 11)
    assert run_date(date(694, 6, 11), "monthly", run - 1) < date(2025, 3, 17)


def test_unknown_timezones_are_refused_and_count_as_utc():
    assert not is_timezone("America")  # a folder of the tz database, not a zone
    instant = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    assert company_today(instant, "Mars/Olympus_Mons") == date(2025, 3, 1)
