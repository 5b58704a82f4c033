"""VIP tiers in the database (loyalty.services.tiers, jobs.tiers) on SQLite and PostgreSQL: orders move a
customer up in the webhook's transaction (history, tag grant, email), a refund below the threshold keeps
the tier until the period's end and the scheduled pass then moves it down, new tier settings recalculate
every customer of the shop set-based in a background job, and the multipliers the awards will use."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from db.tables import notifications, perk_grants, tier_recalculations
from jobs.tiers import recalculate_tiers, tiers_at_period_end
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.offers import reward_offer
from loyalty.domain.programme import template
from loyalty.domain.requests import ChangeProgramme, RedeemReward
from loyalty.services.customers import find_customer
from loyalty.services.shops import get_shop, save_programme
from loyalty.services.tiers import check_exclusive, tier_multipliers
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.programme import change_programme
from loyalty.services.use_cases.vouchers import redeem_reward
from tests.factories import order, refund

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def vip(ctx, shop, **tier_changes):
    """The vip-tiers template (Bronze 100, Silver 300, Gold 750 spent over 12 months), maybe changed."""
    prog = template("vip-tiers")
    if tier_changes:
        prog = prog.with_paths({f"tiers.{k}": v for k, v in tier_changes.items()})
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, prog, NOW - timedelta(days=30))


def paid(send, amount, who="alice@example.com", customer_id=7, days_ago=1):
    body = order(lines=((amount, 1),), email=who, customer_id=customer_id,
                 processed_at=(NOW - timedelta(days=days_ago)).isoformat())
    send("orders/paid", body)
    return body


def tag_grants(ctx, customer: int) -> list[tuple[str, str, bool]]:
    """(tier, tag, revoked) of the customer's tier tags."""
    with ctx.engine.connect() as conn:
        return sorted((g.reward_key, g.tag, g.revoked_at is not None) for g in conn.execute(
            select(perk_grants).where(perk_grants.c.customer_id == customer, perk_grants.c.period == "tier")))


def tier_emails(ctx, customer: int) -> list[str]:
    with ctx.engine.connect() as conn:
        return [r.subject for r in conn.execute(select(notifications).where(
            notifications.c.customer_id == customer, notifications.c.kind == "tier_changed")
            .order_by(notifications.c.id))]


def cid(ctx, shop, who) -> int:
    with ctx.engine.connect() as conn:
        return find_customer(conn, shop.id, who).id


def test_orders_move_a_customer_up_with_history_tag_email_and_multiplier(ctx, shop, send, process, summary):
    vip(ctx, shop)
    paid(send, 120)
    process()
    alice = cid(ctx, shop, "alice@example.com")
    assert summary("alice@example.com")["tiers"]["current"]["tier"] == "bronze"
    paid(send, 200)
    process()
    record = summary("alice@example.com")["tiers"]
    assert record["current"]["tier"] == "silver"
    assert [(h["from"], h["to"]) for h in record["history"]] == [(None, "bronze"), ("bronze", "silver")]
    assert "spent 320.00 over the last 12 months: Silver from 300.00" in record["history"][1]["reason"]
    assert tag_grants(ctx, alice) == [("bronze", "vip-bronze", True), ("silver", "vip-silver", False)]
    assert tier_emails(ctx, alice) == ["Welcome to Bronze", "Welcome to Silver"]
    with ctx.engine.connect() as conn:
        assert tier_multipliers(conn, shop.id, [alice, alice + 999]) == {alice: Decimal("1.25"),
                                                                         alice + 999: Decimal("1")}


def test_a_refund_keeps_the_tier_until_the_period_end_then_the_scheduled_pass_moves_it_down(
        ctx, shop, send, process, summary):
    vip(ctx, shop)
    body = paid(send, 320)
    process()
    alice = cid(ctx, shop, "alice@example.com")
    send("refunds/create", refund(body, lines={0: (1, 250)}, created_at=NOW.isoformat()))
    process()
    current = summary("alice@example.com")["tiers"]["current"]
    assert current["tier"] == "silver"  # retained: 70 spent now, but retention runs to the period's end
    until = datetime.fromisoformat(current["until"])
    assert until > NOW + timedelta(days=365)  # 12 months of retention, then the month's end

    assert tiers_at_period_end(as_of=until - timedelta(seconds=1), ctx=ctx) == 0
    assert tiers_at_period_end(as_of=until, ctx=ctx) == 1
    record = summary("alice@example.com")["tiers"]
    assert record["current"] is None  # 70 spent (the order now counts for 70): below Bronze too
    assert record["history"][-1]["from"] == "silver" and record["history"][-1]["to"] is None
    assert "below Silver's 300.00 at the period's end" in record["history"][-1]["reason"]
    assert tag_grants(ctx, alice) == [("silver", "vip-silver", True)]
    assert tier_emails(ctx, alice)[-1] == "Your loyalty tier has changed"


def test_new_tier_settings_recalculate_every_customer_in_a_set_based_background_job(ctx, shop, send, process,
                                                                                  summary):
    vip(ctx, shop)
    for n in range(7):  # 7 customers, n + 1 orders of 60 each
        for _ in range(n + 1):
            paid(send, 60, who=f"c{n}@example.com", customer_id=100 + n)
    process()
    assert summary("c6@example.com")["tiers"]["current"]["tier"] == "silver"  # 420 spent

    uow = UnitOfWork(ctx, clock=lambda: NOW)
    change_programme(ChangeProgramme(shop.domain, {
        "tiers.basis": "orders", "tiers.levels.bronze.threshold": "2", "tiers.levels.silver.threshold": "4",
        "tiers.levels.gold.threshold": "6"}), uow)
    with ctx.engine.connect() as conn:
        state = conn.execute(select(tier_recalculations)).one()
        assert state.finished_at is None and state.settings_version == get_shop(conn, shop.domain).settings_version

    statements = []
    event.listen(ctx.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert recalculate_tiers(shop.id, ctx, batch=3) is True  # three batches of customers
    tiers_now = {n: (summary(f"c{n}@example.com")["tiers"]["current"] or {}).get("tier") for n in range(7)}
    assert tiers_now == {0: None, 1: "bronze", 2: "bronze", 3: "silver", 4: "silver", 5: "gold", 6: "gold"}
    # a downgrade waits for the retention to end: c6 (Silver by amount) is Gold by orders, c0 had nothing
    aggregates = [s for s in statements if "GROUP BY" in s]
    assert len(aggregates) == 3  # one aggregate per batch of customers, none per customer
    record = summary("c5@example.com")["tiers"]["history"]
    assert record[-1]["to"] == "gold" and "6 orders over the last 12 months: Gold from 6" in record[-1]["reason"]
    with ctx.engine.connect() as conn:
        assert conn.execute(select(tier_recalculations.c.finished_at)).scalar() is not None


def test_tiers_turned_off_take_every_tier_and_tag_away(ctx, shop, send, process, summary):
    vip(ctx, shop)
    paid(send, 800)
    process()
    alice = cid(ctx, shop, "alice@example.com")
    assert summary("alice@example.com")["tiers"]["current"]["tier"] == "gold"
    change_programme(ChangeProgramme(shop.domain, {"tiers.enabled": "false"}), UnitOfWork(ctx, clock=lambda: NOW))
    recalculate_tiers(shop.id, ctx)
    record = summary("alice@example.com")["tiers"]
    assert record["current"] is None and record["history"][-1]["reason"] == "tiers turned off"
    assert tag_grants(ctx, alice) == [("gold", "vip-gold", True)]
    with ctx.engine.connect() as conn:
        assert tier_multipliers(conn, shop.id, [alice]) == {alice: Decimal("1")}


def test_settings_unrelated_to_tiers_ask_for_no_recalculation(ctx, shop):
    vip(ctx, shop)
    change_programme(ChangeProgramme(shop.domain, {"pending_days": "7"}), UnitOfWork(ctx, clock=lambda: NOW))
    with ctx.engine.connect() as conn:
        assert conn.execute(select(tier_recalculations)).first() is None


def test_exclusive_reward_refused_below_its_tier(ctx, shop, send, process):
    vip(ctx, shop)
    paid(send, 120, who="bronze@example.com", customer_id=31)
    paid(send, 800, who="gold@example.com", customer_id=32)
    process()
    with pytest.raises(VoucherRefused, match="'gold-gift' is for Gold members and above") as refused:
        redeem_reward(RedeemReward(shop.domain, "bronze@example.com", "gold-gift", "r-1"), UnitOfWork(ctx))
    assert refused.value.reason == "tier_required"
    prog = template("vip-tiers")
    with ctx.engine.connect() as conn:
        check_exclusive(conn, shop.id, cid(ctx, shop, "gold@example.com"), prog, reward_offer(prog, "gold-gift"))


def test_a_tier_multiplies_what_later_orders_earn_on_every_order_path(ctx, shop, send, process):
    """Silver (x1.25) makes a 100.00 order earn 125 points: an order new to the app (set-based batch), one
    whose payment repeats in the batch (known_orders) and one paid on its own (event by event). Orders paid
    before the customer reached the tier keep what they earned."""
    from db.tables import orders
    from loyalty.domain.commands import RecordOrderPaid
    from loyalty.services.orders import record_order_paid
    from integrations.shopify.translate import order_facts

    vip(ctx, shop)
    first = paid(send, 320)
    process()
    paid(send, 100, days_ago=0)
    repeated = paid(send, 100, days_ago=0)
    send("orders/paid", repeated)
    process()
    single = order(lines=((100, 1),), email="alice@example.com", customer_id=7, processed_at=NOW.isoformat())
    with ctx.engine.begin() as conn:
        record_order_paid(conn, get_shop(conn, shop.domain), RecordOrderPaid(order_facts(single), None), NOW)
    with ctx.engine.connect() as conn:
        awards = dict(conn.execute(select(orders.c.shopify_order_id, orders.c.award)).all())
    assert awards.pop(first["id"]) == 320
    assert sorted(awards.values()) == [125, 125, 125]
