"""Referrals on SQLite and PostgreSQL: idempotent claims, attribution and rewards (replays credit nothing
twice), order independence (the friend's order before the referral, refunds and cancellations before
maturity), the new-customer rule against the shop's orders, the caps, and zero-point friend codes that
expire without touching the ledger."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db.tables import ledger_entries, referrals, vouchers
from jobs.scheduled import mature_points
from loyalty.domain.programme import template
from loyalty.services import referrals as service
from loyalty.services.shops import get_shop, save_programme
from loyalty.services.vouchers import expire_unused
from tests.factories import cancelled, order, refund

NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=40)
HOME = {"address1": "12 rue des Lilas", "zip": "75011", "country_code": "FR"}


@pytest.fixture
def programme_on(ctx, shop):
    def apply(**settings):
        with ctx.engine.begin() as conn:
            prog = template("store-a").with_changes(referrals={"enabled": True, **settings})
            save_programme(conn, get_shop(conn, shop.domain), prog, NOW)
    apply()
    return apply


@pytest.fixture
def referrer(send, process, ctx, shop, programme_on):
    """Vera (Shopify 301) ordered once, shipped home; returns her referral code."""
    send("orders/paid", order(customer_id=301, email="vera@example.com", processed_at="2025-05-01T10:00:00+00:00")
         | {"shipping_address": HOME})
    process()
    with ctx.engine.connect() as conn:
        vera = conn.execute(select(func.min(ledger_entries.c.customer_id))).scalar()
    from loyalty.domain.referrals import code_for
    return code_for(shop.id, vera)


def claim(ctx, shop, code, email, at=NOW):
    with ctx.engine.begin() as conn:
        return service.claim(conn, get_shop(conn, shop.domain), code, email, at)


def friend_order(email, customer_id, code=None, at="2025-06-02T10:00:00+00:00", **extra):
    body = order(lines=((60, 1),), email=email, customer_id=customer_id, processed_at=at)
    body.update(discount_codes=[{"code": code}] if code else [], **extra)
    return body


def bonus_points(ctx) -> list[int]:
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(ledger_entries.c.available).where(ledger_entries.c.kind == "bonus")).scalars())


def statuses(ctx) -> list[tuple]:
    with ctx.engine.connect() as conn:
        return conn.execute(select(referrals.c.friend_email, referrals.c.status, referrals.c.rule)
                            .order_by(referrals.c.id)).all()


def test_a_replayed_claim_finds_the_same_referral_and_code(ctx, shop, referrer):
    first = claim(ctx, shop, referrer, "fran@example.com")
    again = claim(ctx, shop, referrer, " Fran+promo@Example.com")
    assert (first.id, first.code) == (again.id, again.code) and first.status == "invited"
    with ctx.engine.connect() as conn:
        [(points, status)] = conn.execute(select(vouchers.c.points, vouchers.c.status)).all()
        assert (points, status) == (0, "creating")
        assert conn.execute(select(func.count()).select_from(ledger_entries)
                            .where(ledger_entries.c.kind == "redeem")).scalar() == 0


def test_replayed_webhooks_and_maturity_runs_credit_the_referrer_once(ctx, shop, referrer, send, process):
    code = claim(ctx, shop, referrer, "fran@example.com").code
    body = friend_order("fran@example.com", 401, code)
    for _ in range(2):
        send("orders/paid", body)
        process()
    for _ in range(3):
        mature_points(LATER, ctx)
    assert bonus_points(ctx) == [100]
    assert statuses(ctx) == [("fran@example.com", "rewarded", None)]


def test_the_friend_attributed_by_email_without_the_code(ctx, shop, referrer, send, process):
    claim(ctx, shop, referrer, "fran.cois@gmail.com")
    send("orders/paid", friend_order("Francois+shop@googlemail.com", 401))
    process()
    mature_points(LATER, ctx)
    assert bonus_points(ctx) == [100]


def test_referral_refused_when_the_friends_order_came_before_the_referral(ctx, shop, referrer, send, process):
    """Order independence: the friend ordered (and the order was recorded) before claiming: not new."""
    send("orders/paid", friend_order("fran@example.com", 401, at="2025-05-20T10:00:00+00:00"))
    process()
    assert claim(ctx, shop, referrer, "fran@example.com").rule == "friend_not_new"
    mature_points(LATER, ctx)
    assert bonus_points(ctx) == []


def test_referral_refused_when_the_friend_ordered_before_under_their_account(ctx, shop, referrer, send, process):
    """An earlier order of the friend's account (another email) makes the first order no new customer's."""
    code = claim(ctx, shop, referrer, "fran@example.com").code
    send("orders/paid", friend_order("fran.old@example.com", 401, at="2025-06-01T13:00:00+00:00"))
    process()
    send("orders/paid", friend_order("fran@example.com", 401, code, at="2025-06-03T10:00:00+00:00"))
    process()
    assert statuses(ctx) == [("fran@example.com", "refused", "friend_not_new")]


@pytest.mark.parametrize("event", ["refund", "cancel"])
def test_a_fully_refunded_or_cancelled_first_order_earns_nothing_whatever_the_arrival_order(
        ctx, shop, referrer, send, process, event):
    code = claim(ctx, shop, referrer, "fran@example.com").code
    body = friend_order("fran@example.com", 401, code)
    undo = (("refunds/create", refund(body, lines={0: (1, 60)}, created_at="2025-06-04T10:00:00+00:00"))
            if event == "refund" else ("orders/cancelled", cancelled(body, at="2025-06-03T10:00:00+00:00")))
    send(*undo)  # before the order itself
    process()
    send("orders/paid", body)
    process()
    mature_points(LATER, ctx)
    assert bonus_points(ctx) == [] and statuses(ctx)[0][1] == "nothing"


def test_referral_refused_past_the_cap_per_period(ctx, shop, referrer, send, process, programme_on):
    programme_on(cap_per_period=1, cap_period="month")
    for n, email in enumerate(("a@example.com", "b@example.com")):
        code = claim(ctx, shop, referrer, email).code
        send("orders/paid", friend_order(email, 500 + n, code, shipping_address={"address1": f"{n} rue X", "zip": "1"}))
        process()
    mature_points(LATER, ctx)
    assert bonus_points(ctx) == [100]
    assert [s[1:] for s in statuses(ctx)] == [("rewarded", None), ("refused", "cap_per_period")]


def test_referral_refused_past_the_total_cap(ctx, shop, referrer, send, process, programme_on):
    programme_on(cap_total=1)
    for n, (email, day) in enumerate((("a@example.com", "2025-06-02"), ("b@example.com", "2025-08-02"))):
        code = claim(ctx, shop, referrer, email).code
        send("orders/paid", friend_order(email, 500 + n, code, at=f"{day}T10:00:00+00:00"))
        process()
    mature_points(LATER + timedelta(days=90), ctx)
    assert [s[1:] for s in statuses(ctx)] == [("rewarded", None), ("refused", "cap_total")]


def test_referrals_off_record_nothing_of_orders(ctx, shop, send, process):
    """store-a as seeded (referrals off): no referral_orders rows, the claim refused."""
    from db.tables import referral_orders
    send("orders/paid", friend_order("fran@example.com", 401))
    process()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(referral_orders)).scalar() == 0
    with pytest.raises(service.ReferralRefused, match="no referral programme"):
        claim(ctx, shop, "R1-0000", "fran@example.com")


def test_an_unused_friend_code_expires_without_a_ledger_entry(ctx, shop, referrer, programme_on):
    programme_on(friend_validity_days=5)
    referral = claim(ctx, shop, referrer, "fran@example.com")
    with ctx.engine.begin() as conn:
        service.friend_code_ready(conn, get_shop(conn, shop.domain), referral, "gid://shopify/DiscountCodeNode/1", NOW)
    with ctx.engine.begin() as conn:
        save_programme(conn, get_shop(conn, shop.domain), template("store-b"), NOW)  # returns points on expiry
        assert expire_unused(conn, LATER, LATER) == 1
        assert conn.execute(select(vouchers.c.status)).scalar() == "expired"
        assert conn.execute(select(func.count()).select_from(ledger_entries)
                            .where(ledger_entries.c.kind == "recredit")).scalar() == 0


def test_redacting_the_friend_or_the_referrer_erases_their_referrals(ctx, shop, referrer, send, process):
    from db.tables import customers
    from loyalty.services.privacy import redact_customer

    claim(ctx, shop, referrer, "fran@example.com")
    claim(ctx, shop, referrer, "gus@example.com")
    with ctx.engine.begin() as conn:
        redact_customer(conn, get_shop(conn, shop.domain), None, "fran@example.com")
    assert [s[0] for s in statuses(ctx)] == ["gus@example.com"]
    with ctx.engine.begin() as conn:
        redact_customer(conn, get_shop(conn, shop.domain), 301, None)
        assert conn.execute(select(func.count()).select_from(customers).where(customers.c.shopify_customer_id == 301)
                            ).scalar() == 0
    assert statuses(ctx) == []
