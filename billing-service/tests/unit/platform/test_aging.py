from datetime import date

import pytest

from billing_service.platform.aging import AGE_BUCKET_NAMES, age_bucket, days_past_due


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-10, "current"),
        (0, "current"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "over_90"),
        (5000, "over_90"),
    ],
)
def test_bucket_bounds_are_inclusive_day_counts(days: int, bucket: str) -> None:
    assert age_bucket(days) == bucket


def test_due_today_is_current_and_the_day_after_is_one_day_late() -> None:
    due = date(2026, 3, 31)
    assert days_past_due(due, date(2026, 3, 31)) == 0
    assert days_past_due(due, date(2026, 4, 1)) == 1
    assert days_past_due(None, date(2026, 4, 1)) == 0


def test_buckets_are_in_age_order() -> None:
    assert AGE_BUCKET_NAMES == ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")
