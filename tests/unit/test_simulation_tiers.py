"""VIP tiers and campaigns in a replay (loyalty.domain.simulation, loyalty.domain.simulation_tiers): each
rule named. Store A's programme (1 point per euro, 14 days pending) with tiers or campaigns added."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from loyalty.domain.programme import Programme, template
from loyalty.domain.simulation import Replay

UTC = timezone.utc
START = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2025, 6, 30, tzinfo=UTC)
STORE_A = template("store-a")


def at(month: int, day: int = 1) -> datetime:
    return datetime(2025, month, day, 12, tzinfo=UTC)


def with_tiers(basis="spent", window="lifetime", retention=0, silver=("100", "1"), gold=("300", "2")) -> Programme:
    levels = [{"key": "silver", "name": "Silver", "threshold": silver[0], "multiplier": silver[1]},
              {"key": "gold", "name": "Gold", "threshold": gold[0], "multiplier": gold[1]}]
    return Programme.from_dict({**STORE_A.to_dict(), "tiers": {
        "enabled": True, "basis": basis, "window": window, "retention_months": retention, "levels": levels}})


def with_campaigns(*campaigns) -> Programme:
    return Programme.from_dict({**STORE_A.to_dict(), "campaigns": list(campaigns)})


def pay(replay: Replay, customer: int, when: datetime, amount: str, cancelled_at=None, refunds=()) -> None:
    replay.order(customer, when, Decimal(amount), Decimal(0), "web", None, cancelled_at, list(refunds))


def months(replay: Replay, side="draft") -> dict:
    return {m.month: m.sides[side] for m in replay.finish()}


def test_customers_are_counted_per_vip_tier_by_amount_spent():
    """Ada spends 350 (gold from 300), Bob 120 (silver from 100), Cy 50 (none)."""
    replay = Replay(STORE_A, with_tiers(), START, UNTIL)
    for customer, when, amount in ((1, at(1, 5), "200"), (2, at(1, 9), "120"), (1, at(2, 5), "150"),
                                   (3, at(3, 1), "50")):  # in order of payment
        pay(replay, customer, when, amount)
    by_month = months(replay)
    assert by_month["2025-01"].tiers == {"none": 0, "silver": 2, "gold": 0}
    assert by_month["2025-06"].tiers == {"none": 1, "silver": 1, "gold": 1}


def test_the_tier_multiplier_applies_to_orders_paid_once_in_the_tier():
    """Gold x2 from 300 spent: the order that reaches gold earns at x1 (150 + 200), the next at x2 (2 x 50)."""
    replay = Replay(STORE_A, with_tiers(), START, UNTIL)
    pay(replay, 1, at(1, 5), "150")
    pay(replay, 1, at(1, 6), "200")
    pay(replay, 1, at(2, 7), "50")
    finished = {m.month: m for m in replay.finish()}
    assert (finished["2025-01"].sides["draft"].issued, finished["2025-02"].sides["draft"].issued) == (350, 100)
    assert finished["2025-02"].sides["in_force"].issued == 50  # no tiers in force: x1 throughout


def test_vip_tiers_by_points_count_confirmed_points_only():
    """Tiers by points: 150 points paid on 25 January are pending 14 days; silver (100) only once they are
    confirmed, in February."""
    replay = Replay(STORE_A, with_tiers(basis="points"), START, UNTIL)
    pay(replay, 1, at(1, 25), "150")
    by_month = months(replay)
    assert by_month["2025-01"].tiers["silver"] == 0 and by_month["2025-02"].tiers["silver"] == 1


def test_a_tier_is_retained_until_the_period_end_then_downgraded():
    """Tiers by orders, gold at 2 orders, kept 1 month: two orders in January (gold), one cancelled on 10
    February; gold is kept until the end of February (the period in which a month after qualifying falls),
    and lost from 1 March."""
    tiers = with_tiers(basis="orders", retention=1, silver=("1", "1"), gold=("2", "1"))
    replay = Replay(STORE_A, tiers, START, UNTIL)
    pay(replay, 1, at(1, 5), "80")
    pay(replay, 1, at(1, 15), "90", cancelled_at=at(2, 10))
    by_month = months(replay)
    assert by_month["2025-02"].tiers["gold"] == 1
    assert (by_month["2025-03"].tiers["gold"], by_month["2025-03"].tiers["silver"]) == (0, 1)


def test_a_rolling_window_forgets_orders_older_than_twelve_months():
    """Tiers by amount spent over a rolling 12 months: a 120 order of January 2025 makes silver until the
    period end after it leaves the window (replayed up to February 2026)."""
    replay = Replay(STORE_A, with_tiers(window="rolling_12_months"), START, datetime(2026, 3, 15, tzinfo=UTC))
    pay(replay, 1, at(1, 10), "120")
    by_month = {m.month: m.sides["draft"] for m in replay.finish()}
    assert by_month["2025-12"].tiers["silver"] == 1
    assert by_month["2026-02"].tiers["silver"] == 0


def test_customers_whose_tier_would_change_are_listed_with_the_vip_tier():
    """In force: no VIP tiers (store A's perk ladder); the draft's VIP tiers put Ada in gold."""
    replay = Replay(STORE_A, with_tiers(), START, UNTIL)
    pay(replay, 1, at(1, 5), "350")
    replay.finish()
    [(customer, in_force, draft, _, _)] = replay.standing_changes()
    assert (customer, in_force, draft) == (1, "300", "gold")


def test_campaigns_apply_by_paid_time_in_a_replay():
    """Double points in March (from 1 March included to 1 April excluded) and +50 on orders over 100 in
    April: February earns 100, March 200, April 150 + 50."""
    draft = with_campaigns(
        {"key": "march", "title": "Double March", "kind": "multiplier", "factor": "2",
         "starts_at": "2025-03-01T00:00:00+00:00", "ends_at": "2025-04-01T00:00:00+00:00"},
        {"key": "april", "title": "+50", "kind": "bonus", "bonus": 50, "minimum_amount": "100",
         "starts_at": "2025-04-01T00:00:00+00:00", "ends_at": "2025-05-01T00:00:00+00:00"})
    replay = Replay(STORE_A, draft, START, UNTIL)
    for month, amount in ((2, "100"), (3, "100"), (4, "150"), (4, "90")):
        pay(replay, 1, at(month, 3), amount)
    by_month = months(replay)
    assert [by_month[f"2025-0{m}"].issued for m in (2, 3, 4)] == [100, 200, 150 + 50 + 90]


def test_a_collection_campaign_cannot_apply_in_a_replay():
    """Orders keep no lines: x3 on a collection adds nothing to a replayed order."""
    draft = with_campaigns({"key": "coll", "title": "x3", "kind": "multiplier", "factor": "3", "collection_id": 42,
                            "starts_at": "2025-01-01T00:00:00+00:00", "ends_at": "2025-12-01T00:00:00+00:00"})
    replay = Replay(STORE_A, draft, START, UNTIL)
    pay(replay, 1, at(2, 3), "100")
    assert months(replay)["2025-02"].issued == 100
