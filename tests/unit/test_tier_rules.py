"""VIP tier rules (loyalty.domain.tiers) and their settings (loyalty.domain.settings.tiers), one test per rule."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from loyalty.domain.emails import render
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template
from loyalty.domain.settings.tiers import Tier, Tiers
from loyalty.domain.standing import Balance, standing
from loyalty.domain.tiers import (
    DOWN, RENEWED, UP, Membership, decide, kept_until, may_redeem, multiplier, next_step, period_end, reached,
    required_tier, window_start,
)

UTC = timezone.utc
NOW = datetime(2026, 5, 14, 10, 30, tzinfo=UTC)


def ladder(**settings) -> Tiers:
    return Tiers(**{"enabled": True, "basis": "spent", "window": "rolling_12_months", "levels": (
        Tier(key="silver", name="Silver", threshold=Decimal("300"), multiplier=Decimal("1.25")),
        Tier(key="gold", name="Gold", threshold=Decimal("750"), multiplier=Decimal("1.5"),
             exclusive_rewards=("gold-gift",)),
        Tier(key="bronze", name="Bronze", threshold=Decimal("100")),
    ), **settings})


def test_tiers_are_off_by_default_and_in_both_seed_templates():
    assert Programme().tiers.enabled is False
    assert template("store-a").tiers == Tiers() and template("store-b").tiers == Tiers()
    assert "tiers" in Programme().to_dict()


def test_the_highest_threshold_reached_is_the_tier_whatever_the_order_of_the_levels():
    tiers = ladder()
    assert reached(tiers, Decimal("99.99")) is None
    assert reached(tiers, Decimal("100")).key == "bronze"
    assert reached(tiers, Decimal("749.99")).key == "silver"
    assert reached(tiers, Decimal("5000")).key == "gold"


def test_window_lifetime_counts_everything_calendar_year_from_1_january_rolling_from_12_months_ago():
    assert window_start(ladder(window="lifetime"), NOW) is None
    assert window_start(ladder(window="calendar_year"), NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert window_start(ladder(window="rolling_12_months"), NOW) == datetime(2025, 5, 14, 10, 30, tzinfo=UTC)


def test_period_ends_at_the_next_month_or_the_next_year_for_a_calendar_year_window():
    assert period_end(ladder(), NOW) == datetime(2026, 6, 1, tzinfo=UTC)
    assert period_end(ladder(), datetime(2026, 12, 31, 23, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    assert period_end(ladder(window="calendar_year"), NOW) == datetime(2027, 1, 1, tzinfo=UTC)


def test_retention_keeps_a_tier_n_months_after_qualifying_then_to_the_period_end():
    assert kept_until(ladder(retention_months=12), NOW) == datetime(2027, 6, 1, tzinfo=UTC)
    assert kept_until(ladder(retention_months=0), NOW) == datetime(2026, 6, 1, tzinfo=UTC)


def test_entry_moves_up_at_once_when_a_higher_threshold_is_reached():
    decision = decide(ladder(), Membership("bronze", NOW, NOW), Decimal("300"), NOW)
    assert decision.change == UP
    assert decision.membership == Membership("silver", NOW, datetime(2026, 6, 1, tzinfo=UTC))
    assert "spent 300.00 over the last 12 months" in decision.reason and "Silver from 300.00" in decision.reason


def test_entry_from_no_tier_and_nothing_below_the_first_threshold():
    assert decide(ladder(), Membership(), Decimal("99"), NOW).change is None
    assert decide(ladder(), Membership(), Decimal("120"), NOW).membership.tier == "bronze"


def test_retained_tier_is_not_lost_before_its_until_even_below_the_threshold():
    current = Membership("gold", datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    assert decide(ladder(), current, Decimal("10"), NOW).change is None


def test_downgrade_only_at_period_end_to_the_tier_the_figure_reaches():
    current = Membership("gold", datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    at_end = datetime(2026, 6, 1, tzinfo=UTC)
    decision = decide(ladder(), current, Decimal("320"), at_end)
    assert decision.change == DOWN and decision.membership.tier == "silver"
    assert "below Gold's 750.00 at the period's end" in decision.reason
    assert decide(ladder(), current, Decimal("0"), at_end).membership == Membership()


def test_qualifying_again_renews_the_retention():
    current = Membership("silver", datetime(2026, 1, 3, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    decision = decide(ladder(), current, Decimal("400"), NOW)
    assert decision.change == RENEWED
    assert decision.membership == Membership("silver", current.since, datetime(2026, 6, 1, tzinfo=UTC))
    assert decide(ladder(), decision.membership, Decimal("400"), NOW).change is None


def test_tier_removed_from_the_settings_moves_its_customers_at_once():
    current = Membership("platinum", NOW, datetime(2030, 1, 1, tzinfo=UTC))
    decision = decide(ladder(), current, Decimal("800"), NOW)
    assert decision.change == DOWN and decision.membership.tier == "gold"
    assert "'platinum' removed" in decision.reason


def test_tiers_turned_off_take_every_tier_away_at_once():
    current = Membership("gold", NOW, datetime(2030, 1, 1, tzinfo=UTC))
    decision = decide(ladder(enabled=False), current, Decimal("800"), NOW)
    assert decision.change == DOWN and decision.membership == Membership() and decision.reason == "tiers turned off"
    assert decide(ladder(enabled=False), Membership(), Decimal("800"), NOW).change is None


def test_multiplier_of_the_tier_held_and_one_without_tier_or_with_tiers_off():
    assert multiplier(ladder(), "gold") == Decimal("1.5")
    assert multiplier(ladder(), None) == Decimal("1")
    assert multiplier(ladder(), "bronze") == Decimal("1")
    assert multiplier(ladder(enabled=False), "gold") == Decimal("1")


def test_exclusive_reward_is_for_its_tier_and_those_above_it():
    tiers = ladder()
    assert may_redeem(tiers, "gold-gift", "gold")
    assert not may_redeem(tiers, "gold-gift", "silver") and not may_redeem(tiers, "gold-gift", None)
    assert may_redeem(tiers, "any-other", None)
    assert may_redeem(ladder(enabled=False), "gold-gift", None)


def test_the_tier_an_exclusive_reward_requires_is_the_lowest_holding_it():
    tiers = ladder(levels=ladder().levels + (
        Tier(key="platinum", name="Platinum", threshold=Decimal("2000"), exclusive_rewards=("gold-gift",)),))
    assert required_tier(tiers, "gold-gift").key == "gold"
    assert required_tier(tiers, "any-other") is None and required_tier(ladder(enabled=False), "gold-gift") is None


def test_next_tier_needs_its_threshold_less_the_figure():
    step = next_step(ladder(), "silver", Decimal("420.50"))
    assert (step.tier.key, step.remaining) == ("gold", Decimal("329.50"))
    assert next_step(ladder(), None, Decimal("0")).tier.key == "bronze"


def test_next_tier_is_above_a_tier_kept_by_retention():
    """Silver kept while the figure fell to Bronze's: the next tier is Gold, not Silver."""
    step = next_step(ladder(), "silver", Decimal("150"))
    assert (step.tier.key, step.remaining) == ("gold", Decimal("600"))


def test_next_tier_is_above_the_tier_the_figure_reaches_before_it_is_decided():
    assert next_step(ladder(), "bronze", Decimal("310")).tier.key == "gold"


def test_no_next_tier_at_the_top_or_without_tiers():
    assert next_step(ladder(), "gold", Decimal("800")) is None
    assert next_step(ladder(), None, Decimal("900")) is None
    assert next_step(ladder(enabled=False), None, Decimal("0")) is None


def test_settings_refused_naming_the_field():
    base = {"enabled": True, "levels": [{"key": "a", "name": "A", "threshold": "10"}]}
    for change, where in (({"basis": "visits"}, r"tiers\.basis"), ({"window": "week"}, r"tiers\.window"),
                          ({"retention_months": 121}, r"tiers\.retention_months"),
                          ({"levels": []}, r"tiers\.levels: tiers are enabled"),
                          ({"levels": [{"key": "a", "name": "A", "threshold": "1"}] * 2}, r"levels\[1\]\.key"),
                          ({"levels": [{"key": "a", "name": "A", "threshold": "1", "multiplier": "0"}]},
                           r"levels\[0\]\.multiplier"),
                          ({"basis": "orders", "levels": [{"key": "a", "name": "A", "threshold": "1.5"}]},
                           r"levels\[0\]\.threshold"),
                          ({"levels": [{"key": "a", "name": "A", "threshold": "1", "exclusive_rewards": ["x"]}]},
                           r"levels\[0\]\.exclusive_rewards: 'x'")):
        with pytest.raises(ProgrammeError, match=where):
            Programme.from_dict({"tiers": {**base, **change}})


def test_tier_settings_change_by_dotted_path():
    prog = template("vip-tiers").with_paths({"tiers.basis": "orders", "tiers.levels.gold.threshold": "10",
                                             "tiers.levels.silver.threshold": "5", "tiers.levels.bronze.threshold": "1"})
    assert prog.tiers.basis == "orders" and prog.tiers.tier("gold").threshold == Decimal("10")


def test_vip_tiers_template_survives_storage():
    prog = template("vip-tiers")
    assert Programme.from_dict(prog.to_dict()) == prog
    assert [t.key for t in prog.tiers.ladder] == ["bronze", "silver", "gold"]
    assert prog.tiers.tier("gold").exclusive_rewards == ("gold-gift",) and prog.tiers.basis == "spent"


def test_store_a_ladder_stays_expressible_as_tiers():
    """Store A's perk thresholds by confirmed lifetime points, as tiers by points over the whole lifetime: the
    tier a figure reaches is the highest perk threshold the same points unlock, at every figure."""
    store_a = template("store-a")
    thresholds = sorted({p.points for p in store_a.perks})
    tiers = Tiers(enabled=True, basis="points", window="lifetime", levels=tuple(
        Tier(key=f"t{points}", name=f"{points}", threshold=Decimal(points),
             tag=",".join(p.tag for p in store_a.perks if p.points == points and not p.birthday)[:40])
        for points in thresholds))
    Programme.from_dict({**store_a.to_dict(), "tiers": tiers.to_dict()})
    for lifetime in range(0, 1200, 7):
        unlocked = standing(store_a, Balance(available=lifetime, pending=0, lifetime=lifetime)).unlocked
        tier = reached(tiers, Decimal(lifetime))
        assert (tier.threshold if tier else 0) == max((p.points for p in unlocked), default=0)


@pytest.mark.parametrize("language, expected", [
    ("en", ["Welcome to Gold", "you have reached the Gold tier", "1.5 times the points", '"A 30 € Gold voucher"']),
    ("fr", ["Bienvenue au niveau Gold", "tu as atteint le niveau Gold", "1.5 fois plus", "« A 30 € Gold voucher »"]),
])
def test_tier_changed_email_states_the_new_tier_and_what_it_gives(language, expected):
    email = render("tier_changed", language, {
        "shop_name": "Maison Lune", "to_address": "a@example.com", "tier": "Gold", "previous": "Silver", "up": True,
        "multiplier": Decimal("1.5"), "reason": "spent 800.00", "exclusive": ["A 30 € Gold voucher"]})
    whole = f"{email.subject}\n{email.text}"
    assert all(fragment in whole for fragment in expected), whole
    left = render("tier_changed", language, {"shop_name": "M", "to_address": "a@example.com", "tier": None,
                                              "previous": "Silver", "up": False, "multiplier": Decimal(1),
                                              "reason": "", "exclusive": []})
    assert "Silver" in left.text and "\n\n\n" not in left.text
