"""Replaying recorded orders under two programmes (loyalty.domain.simulation): each rule named."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty.domain.earning import order_award
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template
from loyalty.domain.simulation import Awards, Replay, draft_from, recorded_facts, tier_rule

UTC = timezone.utc
START = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2025, 6, 30, tzinfo=UTC)
STORE_A = template("store-a")


def at(month: int, day: int = 1) -> datetime:
    return datetime(2025, month, day, 12, tzinfo=UTC)


def replay(draft: Programme = STORE_A, in_force: Programme = STORE_A, until: datetime = UNTIL) -> Replay:
    return Replay(in_force, draft, START, until)


def by_month(months, side="in_force"):
    return {m.month: m.sides[side] for m in months}


def test_each_order_earns_exactly_the_domains_order_award():
    """The replay's award is earning.order_award of the recorded facts, to the point, for any amounts,
    gift-card shares and rates (the cache by distinct input changes nothing)."""
    rng = random.Random(14)
    for rate in ("1", "1.5", "0.3333", "2"):
        prog = Programme(earn_rate=Decimal(rate), rounding=rng.choice(("floor", "nearest")))
        awards = Awards(prog)
        for _ in range(300):
            merchandise = Decimal(rng.randint(0, 50000)) / 100
            paid = min(merchandise, Decimal(rng.choice((0, 0, 500, 2000))) / 100)
            facts = recorded_facts(7, START, merchandise, "web", None)
            assert awards(7, START, merchandise, paid, "web", None) == order_award(facts, paid, prog)


def test_an_order_excluded_for_a_channel_the_draft_still_excludes_earns_nothing():
    """Store A excludes partner resellers; a draft that stops excluding them would have them earn."""
    reseller = "sales channel partner_reseller is excluded"
    assert Awards(STORE_A)(7, START, Decimal(80), Decimal(0), "partner_reseller", reseller) == 0
    opened = STORE_A.with_changes(excluded_source_names=[])
    assert Awards(opened)(7, START, Decimal(80), Decimal(0), "partner_reseller", reseller) == 80


def test_customer_tag_and_test_order_exclusions_are_known_from_the_recorded_reason():
    """Tags are no column: an order recorded as excluded for tag `revendeur` stays excluded while the draft
    excludes that tag, and earns once it does not; a test order never earns."""
    tagged = "customer tag revendeur is excluded"
    assert Awards(STORE_A)(7, START, Decimal(80), Decimal(0), "web", tagged) == 0
    assert Awards(STORE_A.with_changes(excluded_customer_tags=[]))(7, START, Decimal(80), Decimal(0), "web", tagged) == 80
    assert Awards(Programme())(7, START, Decimal(80), Decimal(0), "web", "test order") == 0


def test_points_are_pending_for_the_return_window_then_available():
    """Paid on 25 January, 14 days pending: pending at the end of January, available at the end of February."""
    r = replay()
    r.order(1, at(1, 25), Decimal("120"), Decimal(0), "web", None, None)
    months = by_month(r.finish())
    assert (months["2025-01"].issued, months["2025-01"].pending, months["2025-01"].outstanding) == (120, 120, 120)
    assert (months["2025-02"].pending, months["2025-02"].outstanding, months["2025-02"].issued) == (0, 120, 0)


def test_refunds_keep_the_cumulative_share_as_the_live_claw_back():
    """Three refunds of a third of 90 EUR take 30, 30 and 30 of 90 points: nothing is left, no drift."""
    r = replay()
    refunds = [(at(2, 2), Decimal(30)), (at(3, 2), Decimal(30)), (at(4, 2), Decimal(30))]
    r.order(1, at(1, 10), Decimal(90), Decimal(0), "web", None, None, refunds)
    months = by_month(r.finish())
    assert [months[m].taken_back for m in ("2025-02", "2025-03", "2025-04")] == [30, 30, 30]
    assert months["2025-04"].outstanding == 0
    assert r.totals(0) == (0, 0, 0)


def test_a_refund_within_the_return_window_takes_pending_points():
    """Refunded 5 days after payment: 40 of the pending points are taken; 60 become available in February."""
    r = replay()
    r.order(1, at(1, 20), Decimal(100), Decimal(0), "web", None, None, [(at(1, 25), Decimal(40))])
    months = by_month(r.finish())
    assert (months["2025-01"].pending, months["2025-01"].outstanding, months["2025-01"].taken_back) == (60, 60, 40)
    assert (months["2025-02"].pending, months["2025-02"].outstanding) == (0, 60)
    assert r.totals(0) == (60, 0, 60)


def test_a_cancellation_takes_back_what_is_left():
    r = replay()
    r.order(1, at(1, 10), Decimal(100), Decimal(0), "web", None, at(3, 1), [(at(2, 1), Decimal(25))])
    months = by_month(r.finish())
    assert (months["2025-02"].taken_back, months["2025-03"].taken_back, months["2025-03"].outstanding) == (25, 75, 0)


def test_what_happens_after_now_has_not_happened():
    """Paid two days before `until`: still pending at the end; a refund dated after `until` is not taken."""
    r = replay(until=at(6, 28))
    r.order(1, at(6, 26), Decimal(50), Decimal(0), "web", None, None, [(at(7, 2), Decimal(50))])
    months = by_month(r.finish())
    assert (months["2025-06"].pending, months["2025-06"].outstanding) == (50, 50)
    assert list(months)[-1] == "2025-06"


def test_customers_per_tier_follow_the_perk_ladder_on_confirmed_points():
    """Store A's thresholds 150/300/500/1000: a customer with 320 confirmed points is in tier 300."""
    r = replay()
    r.order(1, at(1, 2), Decimal(320), Decimal(0), "web", None, None)
    r.order(2, at(1, 2), Decimal(90), Decimal(0), "web", None, None)
    months = by_month(r.finish())
    assert months["2025-01"].tiers == {"none": 1, "150": 0, "300": 1, "500": 0, "1000": 0}
    assert tier_rule(STORE_A)(1000) == "1000" and tier_rule(Programme())(10**6) == "none"


def test_customers_whose_tier_would_change_are_counted_and_listed():
    """A draft doubling the rate lifts a 320-point customer (300) to 640 (500); the 90-point one to 180 (150)."""
    r = replay(draft=STORE_A.with_changes(earn_rate="2"))
    r.order(1, at(1, 2), Decimal(320), Decimal(0), "web", None, None)
    r.order(2, at(1, 2), Decimal(90), Decimal(0), "web", None, None)
    months = r.finish()
    assert months[-1].standing_changed == 2
    assert r.standing_changes() == [(1, "300", "500", 320, 640), (2, "none", "150", 90, 180)]
    assert months[0].sides["draft"].issued == 820 and months[0].sides["in_force"].issued == 410


def test_rewards_redeemable_count_what_available_points_pay_for_at_the_cheapest_price():
    """Store A's cheapest reward costs 300 points: 650 available points pay for 2; store B converts from
    100 points: 6."""
    r = replay(draft=template("store-b"))
    r.order(1, at(1, 2), Decimal(650), Decimal(0), "web", None, None)
    last = r.finish()[-1]
    assert (last.sides["in_force"].rewards_redeemable, last.sides["draft"].rewards_redeemable) == (2, 6)
    assert (last.sides["in_force"].liability, last.sides["draft"].liability) == (Decimal("21.67"), Decimal("65.00"))


def test_recorded_points_before_the_start_and_entries_not_replayed_count_for_both_programmes():
    """Opening balances and a redemption are the same under both programmes."""
    r = replay(draft=STORE_A.with_changes(earn_rate="2"))
    r.opening(1, available=400, pending=0, lifetime=400)
    r.recorded(at(2, 1), 1, available=-300, pending=0, lifetime=0)  # a redemption: lifetime unchanged
    months = r.finish()
    feb = months[1]
    assert feb.sides["in_force"].outstanding == feb.sides["draft"].outstanding == 100
    assert feb.sides["in_force"].tiers["300"] == 1


def test_a_draft_document_is_the_programme_as_show_json_prints_it():
    document = {"version": 7, **STORE_A.to_dict()}
    assert draft_from(document) == STORE_A
    with pytest.raises(ProgrammeError):
        draft_from({"earn_rate": "-1"})
    with pytest.raises(ProgrammeError):
        draft_from([1, 2])


def test_months_run_from_the_start_to_now_even_without_orders():
    months = replay(until=START + timedelta(days=70)).finish()
    assert [m.month for m in months] == ["2025-01", "2025-02", "2025-03"]
