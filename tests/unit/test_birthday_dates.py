"""The day a birthday is celebrated (loyalty.domain.birthdays.celebrates_on), split from
tests/e2e/test_birthdays.py, which gives the presents through the app."""
from __future__ import annotations

from datetime import date

import pytest

from loyalty.domain import birthdays


@pytest.mark.parametrize("birthday, day, expected", [
    (date(1990, 5, 17), date(2026, 5, 17), True),
    (date(1990, 5, 17), date(2026, 5, 18), False),
    (date(2000, 2, 29), date(2027, 2, 28), True),
    (date(2000, 2, 29), date(2028, 2, 28), False),
    (date(2000, 2, 29), date(2028, 2, 29), True),
    (date(2001, 2, 28), date(2028, 2, 28), True),
])
def test_celebration_days(birthday, day, expected):
    """The anniversary of the date; 29 February falls on 28 February outside leap years."""
    assert birthdays.celebrates_on(birthday, day) is expected
