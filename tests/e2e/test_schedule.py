"""Pending points mature after 14 days; expiry follows the shop's policy (never, or 12 months rolling)."""
from __future__ import annotations

from datetime import datetime, timezone

from jobs.scheduled import expire_points, mature_points
from tests.factories import order


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def balances(summary, who="alice@example.com"):
    s = summary(who)
    return s["available"], s["pending"], s["lifetime"]


def use_rolling_expiry(ctx, shop):
    from loyalty.services.shops import programme, save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 1).with_changes(expiry="after_last_purchase"),
                       datetime.now(timezone.utc))


def test_points_mature_after_14_days_and_only_once(send, process, summary, ctx):
    """Pending until processed_at + 14 days; maturing twice changes nothing."""
    send("orders/paid", order(lines=((80, 1),), processed_at="2025-03-01T12:00:00+00:00"))
    process()
    assert mature_points(at("2025-03-15T11:59:59"), ctx) == 0
    assert balances(summary) == (0, 80, 80)
    assert mature_points(at("2025-03-15T12:00:00"), ctx) == 1
    assert balances(summary) == (80, 0, 80)
    assert mature_points(at("2025-04-15T00:00:00"), ctx) == 0
    assert [e["kind"] for e in summary("alice@example.com")["entries"]] == ["earn", "mature"]


def test_partially_refunded_order_matures_what_it_still_holds(send, process, summary, ctx):
    """A refund inside the return window reduces what later becomes available."""
    from tests.factories import refund

    body = order(lines=((50, 2),), processed_at="2025-03-01T12:00:00+00:00")
    send("orders/paid", body)
    send("refunds/create", refund(body, lines={0: (1, 50)}, created_at="2025-03-03T00:00:00+00:00"))
    process()
    mature_points(at("2025-03-20T00:00:00"), ctx)
    assert balances(summary) == (50, 0, 50)


def test_points_never_expire_by_default(send, process, summary, ctx):
    """Store A: points are valid for life."""
    send("orders/paid", order(processed_at="2020-01-01T00:00:00+00:00"))
    process()
    mature_points(at("2021-01-01T00:00:00"), ctx)
    assert expire_points(at("2030-01-01T00:00:00"), ctx) == 0
    assert balances(summary) == (50, 0, 50)


def test_points_expire_12_months_after_the_last_purchase(send, process, summary, ctx, shop):
    """Store B: one year after the last purchase, available points expire."""
    use_rolling_expiry(ctx, shop)
    send("orders/paid", order(processed_at="2025-01-10T00:00:00+00:00"))
    process()
    mature_points(at("2025-02-01T00:00:00"), ctx)
    assert expire_points(at("2026-01-09T23:59:59"), ctx) == 0
    assert expire_points(at("2026-01-10T00:00:00"), ctx) == 1
    assert balances(summary) == (0, 0, 50)
    assert expire_points(at("2026-06-01T00:00:00"), ctx) == 0  # once


def test_any_purchase_extends_all_points(send, process, summary, ctx, shop):
    """Store B: a purchase in November keeps January's points alive until next November."""
    use_rolling_expiry(ctx, shop)
    send("orders/paid", order(lines=((30, 1),), processed_at="2025-01-10T00:00:00+00:00"))
    send("orders/paid", order(lines=((20, 1),), processed_at="2025-11-20T00:00:00+00:00"))
    process()
    mature_points(at("2025-12-31T00:00:00"), ctx)
    assert expire_points(at("2026-01-10T00:00:00"), ctx) == 0
    assert balances(summary) == (50, 0, 50)
    assert expire_points(at("2026-11-20T00:00:00"), ctx) == 1
    assert balances(summary) == (0, 0, 50)


def test_processed_webhooks_are_deleted_after_the_retention_period(send, process, summary, ctx):
    """Raw bodies (personal data) go after LOYALTY_INBOX_RETENTION_DAYS (30); failed and waiting ones
    stay; the ledger is untouched."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from db.tables import webhook_bodies, webhook_inbox
    from jobs.scheduled import inbox_counts, purge_inbox

    send("orders/paid", order(lines=((20, 1),)))
    process()
    send("orders/paid", order(lines=((30, 1),)))  # recorded, not yet processed
    now = datetime.now(timezone.utc)
    assert purge_inbox(ctx, now + timedelta(days=29)) == 0
    assert purge_inbox(ctx, now + timedelta(days=31)) == 1
    assert inbox_counts(ctx) == {"processed": 0, "waiting": 1, "failed": 0}
    assert summary("alice@example.com")["lifetime"] == 20
    with ctx.engine.connect() as conn:  # the purged row's body went with it (webhook_bodies); the waiting one's stays
        left = conn.execute(select(webhook_bodies.c.body).join_from(webhook_inbox, webhook_bodies)).scalars().all()
        assert conn.execute(select(func.count()).select_from(webhook_bodies)).scalar() == 1
    assert b'"price": "30' in bytes(left[0])
