"""The reward catalogue: store A's ladder (gift card or donation at 300, free items at 500, perks that are not
spent) and store B's conversion of points into a voucher, redeemed against the local Shopify emulator."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests import redemptions as voucher_jobs
from jobs.scheduled import mature_points
from loyalty.domain.programme import template
from loyalty.services.vouchers import VoucherRefused
from tests.factories import order

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def emulator(emulator, shop):
    emulator.add_customer(shop.domain, 401, "lea@example.com")
    return emulator


def customer_with(send, process, ctx, shop, name, points, *, programme="store-a", customer_id=401):
    """Apply a template and give the customer `points` available points."""
    from loyalty.services.shops import save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template(programme), NOW - timedelta(days=60))
    send("orders/paid", order(lines=((points, 1),), email=f"{name}@example.com", customer_id=customer_id,
                              processed_at="2025-05-01T00:00:00+00:00", shipping=0))
    process()
    mature_points(NOW, ctx)
    return f"{name}@example.com"


def test_store_a_300_points_buy_a_10_eur_gift_card(ctx, shop, send, process, factory, emulator, summary):
    """« 10€ en carte cadeau, dès 300 points »: a Shopify gift card of 10 for that customer, 300 points spent."""
    lea = customer_with(send, process, ctx, shop, "lea", 320)
    voucher = voucher_jobs.redeem_reward(ctx, shop.domain, lea, "carte-cadeau-10", "r1", now=NOW,
                                         client_factory=factory)
    assert (voucher.kind, voucher.status, voucher.amount, voucher.points) == ("gift_card", "active", 10, 300)
    [card] = emulator.gift_cards(shop.domain)
    assert card["code"] == voucher.code and Decimal(card["initial_value"]) == 10 and card["customer_id"] == 401
    assert summary(lea)["available"] == 20


def test_a_retried_gift_card_redemption_issues_one_card(ctx, shop, send, process, factory, emulator, summary):
    """The job died after Shopify issued the card: the retry finds its code taken and adopts it."""
    from integrations.shopify import gift_cards
    from loyalty.domain import offers
    from loyalty.services import vouchers
    from loyalty.services.customers import find_customer
    from loyalty.services.shops import get_shop, programme

    lea = customer_with(send, process, ctx, shop, "lea", 650)
    with ctx.engine.begin() as conn:
        ref = get_shop(conn, shop.domain)
        offer = offers.reward_offer(programme(conn, ref.id, ref.settings_version), "carte-cadeau-10")
        row = vouchers.reserve(conn, ref, find_customer(conn, ref.id, lea).id, offer, "r2", NOW)
        client = factory(ctx, ref, conn)
    gift_cards.create_gift_card(client, gift_cards.GiftCardTerms(row.code, row.amount, 401, "first attempt"))
    voucher = voucher_jobs.redeem_reward(ctx, shop.domain, lea, "carte-cadeau-10", "r2", now=NOW,
                                         client_factory=factory)
    assert voucher.status == "active" and len(emulator.gift_cards(shop.domain)) == 1
    assert summary(lea)["available"] == 350
    again = voucher_jobs.redeem_reward(ctx, shop.domain, lea, "carte-cadeau-10", "r2", now=NOW,
                                       client_factory=factory)
    assert again.id == voucher.id and len(emulator.gift_cards(shop.domain)) == 1
    assert summary(lea)["available"] == 350


def test_store_a_300_points_can_go_to_a_cause_instead(ctx, shop, send, process, factory, calls, summary):
    """« ou don à une asso »: the donation is recorded for the merchant, points spent, nothing asked of Shopify."""
    lea = customer_with(send, process, ctx, shop, "lea", 300)
    calls.clear()
    voucher = voucher_jobs.redeem_reward(ctx, shop.domain, lea, "don-association", "r3", now=NOW,
                                         client_factory=factory)
    assert (voucher.kind, voucher.status, voucher.amount) == ("donation", "donated", 10)
    assert calls == [] and summary(lea)["available"] == 0
    with pytest.raises(VoucherRefused, match="donation"):
        voucher_jobs.cancel(ctx, shop.domain, voucher.code, client_factory=factory)


def test_store_a_500_points_buy_a_free_item_from_the_selection(ctx, shop, send, process, factory, emulator):
    """« Une culotte offerte parmi une sélection, dès 500 points »: a code worth the item, on that
    collection only, no minimum basket."""
    lea = customer_with(send, process, ctx, shop, "lea", 510)
    voucher = voucher_jobs.redeem_reward(ctx, shop.domain, lea, "culotte-offerte", "r4", now=NOW,
                                         client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert code["code"] == voucher.code and code["collection_ids"] == [1002]
    assert Decimal(code["amount"]) == 35 and code["minimum_subtotal"] is None and code["customer_ids"] == [401]


@pytest.mark.parametrize("reward, message", [
    ("avant-premiere", "status perk"), ("ambassadrice", "status perk"), ("no-such-thing", "no reward"),
    ("accessoire-upcycle", "not enough points"),
])
def test_what_cannot_be_redeemed_is_refused_and_spends_nothing(ctx, shop, send, process, factory, summary,
                                                               reward, message):
    """Perks are unlocked, not bought; unknown rewards and short balances are refused with the reason."""
    lea = customer_with(send, process, ctx, shop, "lea", 320)
    with pytest.raises(VoucherRefused, match=message):
        voucher_jobs.redeem_reward(ctx, shop.domain, lea, reward, "r5", now=NOW, client_factory=factory)
    assert summary(lea)["available"] == 320


def test_store_a_does_not_convert_points_into_arbitrary_vouchers(ctx, shop, send, process, factory):
    lea = customer_with(send, process, ctx, shop, "lea", 320)
    with pytest.raises(VoucherRefused, match="does not convert"):
        voucher_jobs.redeem(ctx, shop.domain, lea, 100, "r6", now=NOW, client_factory=factory)


def test_store_b_points_are_converted_into_a_voucher_from_the_account(ctx, shop, send, process, factory,
                                                                       emulator, summary):
    """Store B: a voucher valid one month, from a 100 EUR basket, on full-price products only (the
    full-price collection), one code per order (combines with nothing)."""
    bob = customer_with(send, process, ctx, shop, "bob", 250, programme="store-b")
    voucher = voucher_jobs.redeem(ctx, shop.domain, bob, 200, "r7", now=NOW, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert voucher.amount == Decimal("20.00") and Decimal(code["amount"]) == 20
    assert float(code["minimum_subtotal"]) == 100 and code["collection_ids"] == [2001]
    assert not any(code["combines_with"].values()) and code["usage_limit"] == 1
    assert code["ends_at"].startswith((NOW + timedelta(days=30)).date().isoformat())
    assert summary(bob)["available"] == 50
    with pytest.raises(VoucherRefused, match="at least 100"):
        voucher_jobs.redeem(ctx, shop.domain, bob, 50, "r8", now=NOW, client_factory=factory)


def test_store_b_cancelling_a_voucher_re_credits_its_points(ctx, shop, send, process, factory, emulator, summary):
    """« contact our customer service so that we can cancel the voucher and re-credit your loyalty points »"""
    bob = customer_with(send, process, ctx, shop, "bob", 250, programme="store-b")
    voucher = voucher_jobs.redeem(ctx, shop.domain, bob, 200, "r9", now=NOW, client_factory=factory)
    voucher_jobs.cancel(ctx, shop.domain, voucher.code, client_factory=factory)
    [code] = emulator.discount_codes(shop.domain)
    assert code["deactivated"] and summary(bob)["available"] == 250
