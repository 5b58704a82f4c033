"""The programme as the theme block reads it (loyalty.domain.theme_block): the shop's `loyalty.programme`
metafield, from which the block chooses ladder or conversion wording without a request to the app."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from loyalty.domain.programme import Programme, template
from loyalty.domain.theme_block import programme_summary


def test_store_a_is_a_ladder_without_conversion():
    """Store A: perks and rewards at 150/300/500/1000 points, no conversion, 1 point per euro."""
    summary = programme_summary(template("store-a"))
    assert summary["ladder"] == {"thresholds": [150, 300, 500, 1000]}
    assert summary["conversion"] is None
    assert (summary["earn_rate"], summary["language"], summary["version"]) == (1, "fr", 1)


def test_store_b_is_a_conversion_at_ten_cents_a_point_from_100_points():
    """Store B: 0.10 EUR a point (10 cents / 1 point), converted from 100 points, worth 10.00 EUR; no ladder."""
    summary = programme_summary(template("store-b"))
    assert summary["conversion"] == {"cents": 10, "per_points": 1, "minimum_points": 100, "minimum_cents": 1000}
    assert summary["ladder"] is None and summary["language"] == "en"


def test_a_rate_below_a_cent_is_an_exact_fraction_of_whole_numbers():
    """0.003 EUR a point is 3 cents per 10 points (Liquid has no decimals to spare); the minimum's worth is
    floored to the cent as a conversion pays it (7 points: 2.1 cents -> 2)."""
    prog = template("store-b").with_changes(voucher_value_per_point="0.003", conversion_minimum_points=7)
    conversion = programme_summary(prog)["conversion"]
    assert Fraction(conversion["cents"], conversion["per_points"]) == Fraction(3, 10)
    assert (conversion["cents"], conversion["per_points"], conversion["minimum_cents"]) == (3, 10, 2)


def test_a_fractional_earn_rate_is_a_decimal_number_and_a_whole_one_an_integer():
    """1.5 points per unit stays 1.5 (the pitch says so); 2 is 2, not 2.0."""
    assert programme_summary(Programme(earn_rate=Decimal("1.5")))["earn_rate"] == 1.5
    assert type(programme_summary(Programme(earn_rate=Decimal("2")))["earn_rate"]) is int


def test_a_programme_with_both_a_ladder_and_a_conversion_has_both():
    """`vip-tiers` converts points and has a reward at 500: the block shows both parts."""
    summary = programme_summary(template("vip-tiers"))
    assert summary["ladder"] == {"thresholds": [500]}
    assert summary["conversion"]["cents"] == 5 and summary["conversion"]["per_points"] == 1
