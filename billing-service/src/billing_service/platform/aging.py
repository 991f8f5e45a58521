"""Age of money owed: the buckets of the ageing report and of a customer's statement.

One definition for both, so a statement's "owed by age" and the ageing report's row for that
customer always agree. A balance is `current` until its due date has passed; the day after the
due date it is one day past due. The bounds are inclusive day counts past due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class AgeBucket:
    name: str
    first_day: int | None  # None: not yet due (or due today)
    last_day: int | None  # None: no upper bound


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("current", None, 0),
    AgeBucket("days_1_30", 1, 30),
    AgeBucket("days_31_60", 31, 60),
    AgeBucket("days_61_90", 61, 90),
    AgeBucket("over_90", 91, None),
)
AGE_BUCKET_NAMES: tuple[str, ...] = tuple(bucket.name for bucket in AGE_BUCKETS)


def days_past_due(due_date: date | None, as_of: date) -> int:
    """Whole days past due on `as_of`; 0 or less while not yet overdue (no due date: due at once)."""
    if due_date is None:
        return 0
    return (as_of - due_date).days


def age_bucket(days_overdue: int) -> str:
    """The bucket of a balance `days_overdue` days past its due date."""
    for bucket in AGE_BUCKETS:
        if bucket.last_day is None or days_overdue <= bucket.last_day:
            return bucket.name
    raise AssertionError("the last bucket has no upper bound")
