"""Warnings on values far from the norm (loyalty.domain.programme_warnings): one test per rule, and the
seed templates warn of nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty.domain.programme import TEMPLATES, Programme, Reward
from loyalty.domain.programme_warnings import programme_warnings
from loyalty.domain.settings.tiers import Tier, Tiers


def codes(programme: Programme) -> list[tuple[str, str]]:
    return [(w["code"], w["path"]) for w in programme_warnings(programme)]


def reward(**extra) -> Reward:
    return Reward(**{"key": "gift", "kind": "voucher", "points": 300, "title": "10 EUR", "amount": Decimal("10"),
                     **extra})


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_seed_templates_and_defaults_warn_of_nothing(name):
    assert programme_warnings(TEMPLATES[name]) == []
    assert programme_warnings(Programme()) == []


def test_earn_rate_above_10_points_per_unit_warns():
    [warning] = programme_warnings(Programme(earn_rate=Decimal("12"), conversion_enabled=False))
    assert warning == {"code": "earn_rate_high", "path": "earn_rate", "params": {"rate": "12", "limit": "10"}}
    assert codes(Programme(earn_rate=Decimal("10"), conversion_enabled=False)) == []


def test_earn_rate_below_a_hundredth_warns_but_zero_does_not():
    assert codes(Programme(earn_rate=Decimal("0.005"))) == [("earn_rate_low", "earn_rate")]
    assert codes(Programme(earn_rate=Decimal("0"))) == []


def test_pending_days_above_90_warns():
    assert codes(Programme(pending_days=91)) == [("pending_days_long", "pending_days")]
    assert codes(Programme(pending_days=90)) == []


def test_expiry_not_longer_than_the_pending_period_warns():
    """Points that expire (after_last_purchase) before they could become available: 1 month <= 40 days."""
    programme = Programme(expiry="after_last_purchase", expiry_months=1, pending_days=40)
    assert codes(programme) == [("expiry_before_pending", "expiry_months")]
    assert programme_warnings(programme)[0]["params"] == {"months": 1, "days": 40}
    assert codes(Programme(expiry="never", expiry_months=1, pending_days=40)) == []
    assert codes(Programme(expiry="after_last_purchase", expiry_months=2, pending_days=40)) == []


def test_value_per_point_giving_back_more_than_20_percent_warns():
    """The issue's case: a point worth 1000 at 1 point per unit gives back 100000 % of every purchase."""
    [warning] = programme_warnings(Programme(voucher_value_per_point=Decimal("1000")))
    assert warning["code"] == "conversion_gives_too_much" and warning["path"] == "voucher_value_per_point"
    assert warning["params"] == {"value": "1000", "percent": "100000.00", "limit": "20.00"}
    assert codes(Programme(voucher_value_per_point=Decimal("0.2"))) == []
    assert codes(Programme(voucher_value_per_point=Decimal("1000"), conversion_enabled=False)) == []


def test_reward_costing_fewer_points_than_its_money_value_implies_warns():
    """50 EUR for 100 points at 1 point per euro: 50 % of every purchase given back."""
    programme = Programme(rewards=(reward(), reward(key="cheap", points=100, amount=Decimal("50"))))
    [warning] = programme_warnings(programme)
    assert (warning["code"], warning["path"]) == ("reward_gives_too_much", "rewards[1].points")
    assert warning["params"] == {"key": "cheap", "points": 100, "amount": "50", "percent": "50.00",
                                 "limit": "20.00"}


def test_perk_and_percentage_rewards_have_no_money_value_to_compare():
    programme = Programme(rewards=(Reward(key="vip", kind="perk", points=1, title="VIP"),
                                   Reward(key="pct", kind="percentage", points=1, title="10 %",
                                          percentage=Decimal("10"))))
    assert codes(programme) == []


def test_voucher_amount_at_or_above_its_minimum_basket_warns():
    programme = Programme(voucher_minimum_subtotal=Decimal("20"),
                          rewards=(reward(points=2000, amount=Decimal("25")),))
    assert codes(programme) == [("voucher_above_minimum", "rewards[0].amount")]
    assert codes(Programme(voucher_minimum_subtotal=Decimal("0"), rewards=(reward(),))) == []


def test_percentage_reward_above_half_off_warns():
    programme = Programme(rewards=(Reward(key="pct", kind="percentage", points=500, title="60 %",
                                          percentage=Decimal("60")),))
    assert codes(programme) == [("percentage_high", "rewards[0].percentage")]


def test_voucher_valid_fewer_than_7_days_warns():
    assert codes(Programme(voucher_validity_days=3)) == [("voucher_validity_short", "voucher_validity_days")]


def ladder(*levels) -> Tiers:
    return Tiers(enabled=True, levels=tuple(Tier(key=k, name=k.title(), threshold=Decimal(t), multiplier=Decimal(m))
                                            for k, t, m in levels))


def test_tier_thresholds_not_increasing_in_the_order_listed_warns():
    programme = Programme(tiers=ladder(("gold", "500", "1.5"), ("silver", "200", "1.5")))
    assert ("tier_thresholds_not_increasing", "tiers.levels[1].threshold") in codes(programme)


def test_higher_tier_earning_less_than_a_lower_one_warns():
    programme = Programme(tiers=ladder(("silver", "200", "1.5"), ("gold", "500", "1.25")))
    [warning] = programme_warnings(programme)
    assert (warning["code"], warning["path"]) == ("tier_multiplier_decreasing", "tiers.levels[1].multiplier")
    assert warning["params"]["lower_tier"] == "Silver"


def test_tiers_switched_off_warn_of_nothing():
    programme = Programme(tiers=Tiers(enabled=False, levels=ladder(("gold", "500", "1"), ("s", "200", "2")).levels))
    assert codes(programme) == []
