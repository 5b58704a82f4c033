"""What a point is worth (loyalty.domain.valuation): each rule named, on the seed stores' templates; and the
breakage forecast's arithmetic."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from loyalty.domain.programme import Programme, template
from loyalty.domain.valuation import Breakage, point_value


def test_store_a_points_are_valued_at_its_cheapest_reward_not_at_a_conversion_it_does_not_have():
    """Store A converts nothing: 10 EUR for 300 points (gift card or donation) is the least a point buys,
    1/30 EUR, not voucher_value_per_point's 0.1 (three times too high)."""
    value = point_value(template("store-a"))
    assert value.rule == "cheapest_reward" and value.per_point == Fraction(1, 30)
    assert value.reward_key in ("carte-cadeau-10", "don-association")
    assert value.value_of(300) == Decimal("10.00")
    assert value.value_of(1000) == Decimal("33.33")
    assert value.to_dict()["value_per_point"] == "0.033333"
    assert "300 points" in value.describe()


def test_store_b_points_are_valued_at_its_conversion_rate():
    """Store B converts points into a voucher at 0.1 EUR a point: that is what a point buys."""
    value = point_value(template("store-b"))
    assert (value.rule, value.per_point_text()) == ("conversion", "0.1")
    assert value.value_of(110) == Decimal("11.00")


def test_a_programme_with_nothing_to_redeem_values_points_at_zero():
    """No conversion and no reward with an amount (perks only): points buy nothing, so they owe nothing."""
    perks_only = Programme(conversion_enabled=False, rewards=template("store-a").perks)
    value = point_value(perks_only)
    assert value.rule == "none" and value.value_of(5000) == Decimal("0.00")
    assert "valued at 0" in value.describe()


def test_with_a_conversion_and_rewards_the_lowest_value_per_point_is_taken():
    """A conversion at 0.05 beside store A's rewards (1/30 a point at best): the reward is the lower."""
    both = template("store-a").with_changes(conversion_enabled=True, voucher_value_per_point="0.05")
    assert point_value(both).rule == "cheapest_reward"
    cheap = template("store-a").with_changes(conversion_enabled=True, voucher_value_per_point="0.02")
    assert point_value(cheap).rule == "conversion"


def test_money_is_rounded_once_halves_to_even():
    """15 points at 1/30 EUR are exactly 0.50; 3 points at 0.005 are 0.015, rounded to even: 0.02."""
    assert point_value(template("store-a")).value_of(15) == Decimal("0.50")
    assert point_value(Programme(voucher_value_per_point=Decimal("0.005"))).value_of(3) == Decimal("0.02")


def test_breakage_takes_dormant_points_as_never_used_and_the_expired_share_off_the_rest():
    """1,000 points earned, 200 expired (20%); 500 owed of which 100 by dormant customers: 400 active
    points, 80% of them expected to be used: 320; breakage 180 of 500 (36%)."""
    b = Breakage(earned=1000, expired=200, outstanding=500, dormant=100, dormant_months=12)
    assert b.expired_share == Fraction(1, 5)
    assert b.expected_used == 320 and b.rate == Fraction(180, 500)
    figures = b.to_dict(point_value(template("store-b")))
    assert figures["liability"] == "50.00" and figures["forecast_liability"] == "32.00"
    assert figures["rate"] == "36.0%" and "12 months" in figures["method"]


def test_breakage_of_a_shop_with_no_history_is_zero():
    b = Breakage(earned=0, expired=0, outstanding=0, dormant=0, dormant_months=12)
    assert b.rate == 0 and b.expected_used == 0
