"""Birthdays as the programme celebrates them."""
from __future__ import annotations

import calendar
from datetime import date


def celebrates_on(birthday: date, day: date) -> bool:
    """True when `day` is the birthday's anniversary; 29 February is celebrated on 28 February in other years."""
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    return (birthday.month, birthday.day) == (2, 29) and (day.month, day.day) == (2, 28) \
        and not calendar.isleap(day.year)
