"""Points to money (loyalty.domain.money): each conversion rounds the way its use needs, to the cent."""
from __future__ import annotations

from decimal import Decimal

from loyalty.domain import money

TENTH = Decimal("0.1")  # store B: 1 point = 0.10 EUR


def test_a_conversion_pays_the_points_worth_floored_to_the_cent():
    assert money.voucher_amount(450, TENTH) == Decimal("45.00")
    assert money.voucher_amount(1, Decimal("0.015")) == Decimal("0.01")  # never more than the rate gives
    assert money.voucher_amount(999, Decimal("0.0333")) == Decimal("33.26")  # 33.2667 floored
    assert money.voucher_amount(3, Decimal("0.003")) == Decimal("0.00")  # worthless: the offer refuses it


def test_the_conversion_amount_is_a_two_decimal_amount():
    assert str(money.voucher_amount(100, TENTH)) == "10.00"


def test_the_liability_rounds_half_to_even_to_the_cent():
    assert money.liability_value(1, Decimal("0.125")) == Decimal("0.12")
    assert money.liability_value(1, Decimal("0.135")) == Decimal("0.14")
    assert money.liability_value(12345, TENTH) == Decimal("1234.50")
    assert money.liability_value(-30, TENTH) == Decimal("-3.00")  # a negative balance is owed back
    assert money.liability_value(0, TENTH) == Decimal("0.00")


def test_worth_is_exact_as_the_storefront_shows_the_minimum_conversion():
    assert str(money.worth(100, TENTH)) == "10.0"
    assert money.worth(3, Decimal("0.0333")) == Decimal("0.0999")


def test_amounts_shown_round_half_up_to_the_cent():
    assert money.shown(Decimal("10.005")) == Decimal("10.01")
    assert money.shown(Decimal("10.004")) == Decimal("10.00")
    assert money.shown(45) == Decimal("45.00")
    assert money.shown("19.9") == Decimal("19.90")


def test_amounts_are_planned_with_the_four_decimals_the_database_stores():
    assert money.stored(Decimal("19.99")) == Decimal("19.9900")
    assert money.stored(Decimal("0.123456")) == Decimal("0.1235")
    assert money.stored(Decimal("0.12345")) == Decimal("0.1234")  # halves to even, as the import always did
