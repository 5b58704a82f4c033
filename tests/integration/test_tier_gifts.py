"""A VIP tier's free shipping codes in the database (loyalty.services.tier_gifts, jobs.tiers.give_tier_gifts)
on SQLite and PostgreSQL: reserved at no cost for the members due one, made in the Shopify emulator by the
real AdminClient, emailed once; once per entry or per month, whatever how often the job runs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from db.tables import ledger_entries, notifications, vouchers
from jobs.tiers import give_tier_gifts
from loyalty.domain.programme import template
from loyalty.domain.tiers import gift_period_start
from loyalty.services.customers import find_customer
from loyalty.services.shops import get_shop, programme, save_programme
from loyalty.services.tiers import assign
from tests.factories import order

NOW = datetime.now(timezone.utc).replace(microsecond=0)
NEXT_MONTH = gift_period_start("month", NOW) + timedelta(days=33)


def vip(ctx, shop, **paths):
    """The vip-tiers template (Gold from 750 spent: a free shipping code a month), maybe changed."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("vip-tiers").with_paths(paths), NOW - timedelta(days=30))


def gold(send, process, emulator, shop, customer_id=7, who="alice@example.com", account=True):
    if account:
        emulator.add_customer(shop.domain, customer_id, who)
    send("orders/paid", order(lines=((800, 1),), email=who, customer_id=customer_id if account else None,
                              processed_at=(NOW - timedelta(days=1)).isoformat()))
    process()
    return datetime.now(timezone.utc)  # the job's run after the entry


def codes(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(vouchers).order_by(vouchers.c.id)).all()


def gift_emails(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(notifications.c.subject, notifications.c.body_text).where(
            notifications.c.kind == "voucher_created").order_by(notifications.c.id)).all()


def test_a_monthly_free_shipping_code_is_made_once_a_month_at_no_cost(ctx, shop, send, process, emulator, factory,
                                                                     summary):
    vip(ctx, shop)
    now = gold(send, process, emulator, shop)
    points = summary("alice@example.com")["available"], summary("alice@example.com")["pending"]
    assert give_tier_gifts(NOW, ctx, client_factory=factory) == 0  # as of before the entry: nothing due yet
    assert give_tier_gifts(now, ctx, client_factory=factory) == 1
    assert give_tier_gifts(now + timedelta(minutes=10), ctx, client_factory=factory) == 0  # the job runs again
    [code] = codes(ctx)
    assert (code.kind, code.points, code.status, code.reward_key) == ("free_shipping", 0, "active", "@tier")
    made = emulator.discount_codes(shop.domain)
    assert [(d["code"], d["kind"], d["customer_ids"]) for d in made] == [(code.code, "free_shipping", [7])]
    assert (summary("alice@example.com")["available"], summary("alice@example.com")["pending"]) == points
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_entries).where(
            ledger_entries.c.kind == "redeem")).scalar() == 0
    [email] = gift_emails(ctx)
    assert email.subject == "Your free shipping code" and "As a Gold member" in email.body_text

    assert give_tier_gifts(NEXT_MONTH, ctx, client_factory=factory) == 1  # a new month, a new code
    assert give_tier_gifts(NEXT_MONTH, ctx, client_factory=factory) == 0
    assert len(codes(ctx)) == 2 and len(emulator.discount_codes(shop.domain)) == 2 and len(gift_emails(ctx)) == 2


def test_an_entry_free_shipping_code_is_given_once_per_entry(ctx, shop, send, process, emulator, factory):
    vip(ctx, shop, **{"tiers.levels.gold.free_shipping.every": "entry"})
    now = gold(send, process, emulator, shop)
    assert give_tier_gifts(now, ctx, client_factory=factory) == 1
    assert give_tier_gifts(NEXT_MONTH, ctx, client_factory=factory) == 0  # still the same entry
    with ctx.engine.begin() as conn:  # down to Silver, then back in Gold: a new entry
        ref = get_shop(conn, shop.domain)
        alice = find_customer(conn, shop.id, "alice@example.com").id
        prog = programme(conn, shop.id, ref.settings_version)
        assign(conn, ref, prog, alice, "silver", "support", NEXT_MONTH)
        assign(conn, ref, prog, alice, "gold", "support", NEXT_MONTH + timedelta(hours=1))
    assert give_tier_gifts(NEXT_MONTH + timedelta(hours=2), ctx, client_factory=factory) == 1
    assert len(emulator.discount_codes(shop.domain)) == 2


def test_no_free_shipping_code_for_a_guest_a_lower_tier_or_a_tier_without_the_perk(ctx, shop, send, process,
                                                                                 emulator, factory):
    vip(ctx, shop)
    gold(send, process, emulator, shop, customer_id=None, who="guest@example.com", account=False)  # no account
    emulator.add_customer(shop.domain, 8, "bob@example.com")
    send("orders/paid", order(lines=((400, 1),), email="bob@example.com", customer_id=8,  # Silver: no perk
                              processed_at=(NOW - timedelta(days=1)).isoformat()))
    process()
    assert give_tier_gifts(datetime.now(timezone.utc), ctx, client_factory=factory) == 0
    assert codes(ctx) == [] and emulator.discount_codes(shop.domain) == []


def test_shops_without_tiers_give_no_free_shipping_code(ctx, shop, send, process, emulator, factory):
    now = gold(send, process, emulator, shop)  # the default programme: tiers off
    assert give_tier_gifts(now, ctx, client_factory=factory) == 0
    assert codes(ctx) == []


def test_the_pass_reserves_in_batches_until_every_due_member_has_a_code(ctx, shop, send, process, emulator, factory):
    """`limit` codes a transaction: the job calls again while a batch is full, and every member gets one."""
    from loyalty.services import tier_gifts

    vip(ctx, shop)
    for n in range(3):
        now = gold(send, process, emulator, shop, customer_id=20 + n, who=f"g{n}@example.com")
    sizes = []
    while True:
        with ctx.engine.begin() as conn:
            ref = get_shop(conn, shop.domain)
            sizes.append(tier_gifts.reserve_due(conn, ref, programme(conn, shop.id, ref.settings_version), now,
                                                limit=2))
        if sizes[-1] < 2:
            break
    assert sizes == [2, 1]
    with ctx.engine.connect() as conn:
        assert len(tier_gifts.waiting(conn, shop.id)) == 3
    assert give_tier_gifts(now, ctx, client_factory=factory) == 0  # all reserved: the job only makes them
    assert sorted(d["customer_ids"][0] for d in emulator.discount_codes(shop.domain)) == [20, 21, 22]
