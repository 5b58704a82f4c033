"""The pure checks of requests (loyalty.domain.requests): what an adjustment must carry, and which birthday
a form's day and month give. No database, no app."""
from __future__ import annotations

from datetime import date

import pytest

from loyalty.domain.errors import AdjustmentRefused
from loyalty.domain.requests import MAX_ADJUSTMENT, MAX_REASON, Adjustment, birthday_from_form

GOOD = dict(customer_id=7, points=50, reason="  goodwill: late parcel ", actor="42", client_token="form-0001")


def _refused_field(**changes) -> str:
    with pytest.raises(AdjustmentRefused) as refused:
        Adjustment(**{**GOOD, **changes}).checked()
    return refused.value.field


def test_an_adjustment_keeps_its_reason_trimmed():
    """Rule: the reason is kept as typed, without the surrounding blanks; the rest is unchanged."""
    assert Adjustment(**GOOD).checked() == Adjustment(7, 50, "goodwill: late parcel", "42", "form-0001")


@pytest.mark.parametrize("points", [0, MAX_ADJUSTMENT + 1, -MAX_ADJUSTMENT - 1, "50", 1.5, True, None])
def test_adjustment_points_are_a_whole_nonzero_number_within_bounds(points):
    """Rule: points are an int (not a bool, text or float), not 0, at most MAX_ADJUSTMENT either way."""
    assert _refused_field(points=points) == "points"


def test_the_largest_adjustments_either_way_are_accepted():
    """Rule: the bounds themselves are allowed."""
    assert Adjustment(**{**GOOD, "points": -MAX_ADJUSTMENT}).checked().points == -MAX_ADJUSTMENT
    assert Adjustment(**{**GOOD, "points": MAX_ADJUSTMENT}).checked().points == MAX_ADJUSTMENT


@pytest.mark.parametrize("reason", [None, "", "   ", 12, "x" * (MAX_REASON + 1)])
def test_an_adjustment_needs_a_reason_of_bounded_length(reason):
    """Rule: a reason is required (it is shown in the customer's history) and at most MAX_REASON long."""
    assert _refused_field(reason=reason) == "reason"


@pytest.mark.parametrize("token", [None, "short", "x" * 101, 12345678])
def test_an_adjustment_token_is_8_to_100_characters(token):
    """Rule: the client_token (one per submitted form, the idempotency of the adjustment) is 8-100 chars."""
    assert _refused_field(client_token=token) == "client_token"


def test_an_adjustment_names_its_staff_member():
    """Rule: who adjusts is recorded, so an adjustment without one is refused."""
    assert _refused_field(actor="") == "actor"


@pytest.mark.parametrize("day, month, expected", [
    ("14", "7", date(2000, 7, 14)),
    (" 29 ", "2", date(2000, 2, 29)),   # kept on the leap year 2000, so 29 February exists
    ("31", "12", date(2000, 12, 31)),
])
def test_a_birthday_form_gives_the_day_and_month(day, month, expected):
    """Rule: a birthday is a day and a month (the year is not kept)."""
    assert birthday_from_form(day, month) == expected


@pytest.mark.parametrize("day, month", [
    ("31", "4"), ("30", "2"), ("0", "5"), ("5", "13"), ("", "5"), ("5", None), ("x", "1"),
    ("9" * 40, "1"), ("-1", "3"),
])
def test_a_birthday_form_without_such_a_day_gives_nothing(day, month):
    """Rule: a day the calendar lacks, a blank, or a field that is no number in range gives no birthday
    (never an error: a huge number once overflowed into a 500)."""
    assert birthday_from_form(day, month) is None
