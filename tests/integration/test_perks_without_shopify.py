"""Perks are decided when the ledger changes, in its transaction, not by the Shopify write-back: a shop whose
Shopify client cannot be built (no token) still grants its perks and records their email; the tags wait
for the write-back, which only writes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from db.tables import notifications, shops
from jobs.scheduled import mature_points
from jobs.sync import sync_balances
from loyalty.domain.programme import template
from loyalty.services.adjustments import Adjustment, adjust
from loyalty.services.customers import find_customer
from loyalty.services.perks import grants_of
from loyalty.services.shops import save_programme
from tests.factories import order

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)


def store_a_without_token(ctx, shop):
    """Store A's programme (perks at 150 confirmed points); its token is gone, so no Shopify client."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), T0 - timedelta(days=1))
        conn.execute(update(shops).where(shops.c.id == shop.id).values(access_token=None))


def customer_id(ctx, shop, who: str) -> int:
    with ctx.engine.connect() as conn:
        return find_customer(conn, shop.id, who).id


def perks_of(ctx, customer: int) -> list[tuple[str, bool, bool]]:
    """(perk, revoked, tag written) of the customer's grants."""
    with ctx.engine.connect() as conn:
        return sorted((g.reward_key, g.revoked_at is not None, g.tag_synced) for g in grants_of(conn, customer))


def threshold_emails(ctx, customer: int) -> list[tuple[str, str]]:
    with ctx.engine.connect() as conn:
        return [(r.status, r.subject) for r in conn.execute(select(notifications).where(
            notifications.c.customer_id == customer, notifications.c.kind == "threshold_reached"))]


def test_an_order_that_matures_past_a_threshold_grants_its_perks_without_a_shopify_client(send, process, ctx, shop):
    """160 points mature: the two 150 perks are granted and their email recorded by the maturity run, though
    the write-back cannot reach Shopify (it is blocked, and their tags wait for it)."""
    store_a_without_token(ctx, shop)
    send("orders/paid", order(lines=((80, 2),), email="claire@example.com", customer_id=3,
                              processed_at=T0.isoformat()))
    process()
    claire = customer_id(ctx, shop, "claire@example.com")
    assert perks_of(ctx, claire) == [] and threshold_emails(ctx, claire) == []  # pending points do not count

    mature_points(T0 + timedelta(days=14), ctx)
    granted = [("anniversaire", False, False), ("avant-premiere", False, False)]
    assert perks_of(ctx, claire) == granted
    assert threshold_emails(ctx, claire) == [("pending", "2 nouveaux avantages fidélité")]

    assert sync_balances(ctx) == 0  # the client cannot be built: nothing is written, the shop is blocked
    with ctx.engine.connect() as conn:
        assert conn.execute(select(shops.c.write_back_error).where(shops.c.id == shop.id)).scalar()
    assert perks_of(ctx, claire) == granted  # the tags still wait to be written
    assert len(threshold_emails(ctx, claire)) == 1


def test_an_adjustment_past_a_threshold_grants_at_once_and_one_back_below_revokes(send, process, ctx, shop):
    """A manual adjustment is a ledger change like any other: its transaction grants and revokes perks."""
    store_a_without_token(ctx, shop)
    send("orders/paid", order(lines=((10, 1),), email="dan@example.com", customer_id=4, processed_at=T0.isoformat()))
    process()
    dan = customer_id(ctx, shop, "dan@example.com")

    def booked(points: int, token: str):
        with ctx.engine.begin() as conn:
            adjust(conn, shop, Adjustment(dan, points, "goodwill", "staff@example.com", token), T0)
    booked(200, "adjust-token-1")
    assert perks_of(ctx, dan) == [("anniversaire", False, False), ("avant-premiere", False, False)]
    assert len(threshold_emails(ctx, dan)) == 1
    booked(-100, "adjust-token-2")
    assert perks_of(ctx, dan) == [("anniversaire", True, False), ("avant-premiere", True, False)]
    assert len(threshold_emails(ctx, dan)) == 1
