"""Refunds claw back in proportion to merchandise refunded; cancellations take back the rest."""
from __future__ import annotations

from tests.factories import cancelled, order, refund
from tests.conftest import SHOP
from tests.samples import sample


def balances(summary, who="alice@example.com"):
    s = summary(who)
    return s["available"], s["pending"], s["lifetime"]


def test_sample_refund_with_line_items_claws_back_by_subtotal(send, process, summary):
    """The sample refund returns one line item; the merchandise refunded is its `subtotal_set`.
    Shopify's sample says 0.00 there (nothing refunded for that line: no points taken); with the line's
    real value (199.00 - 3.33 discount = 195.67) the order keeps floor(587 x 391.33 / 587) = 391."""
    body = sample("order_single_richest.json", SHOP)
    body["payment_gateway_names"] = ["bogus"]
    ref = sample("refund_single_line_items.json")
    ref["order_id"] = body["id"]
    assert [i["subtotal_set"]["shop_money"]["amount"] for i in ref["refund_line_items"]] == ["0.00"]
    send("orders/paid", body)
    send("refunds/create", ref)
    assert process() == 2
    assert balances(summary, body["email"]) == (0, 587, 587)

    valued = dict(ref, id=ref["id"] + 1)
    valued["refund_line_items"] = [dict(ref["refund_line_items"][0], subtotal=195.67, subtotal_set={
        "shop_money": {"amount": "195.67", "currency_code": "USD"},
        "presentment_money": {"amount": "195.67", "currency_code": "USD"}})]
    send("refunds/create", valued)
    assert process() == 1
    assert balances(summary, body["email"]) == (0, 391, 391)
    kinds = [(e["kind"], e["points"]) for e in summary(body["email"])["entries"]]
    assert kinds == [("earn", 587), ("claw_back", -196)]


def test_shipping_only_refund_takes_nothing(send, process, summary):
    """The sample shipping-only refund has no refund line items: points unchanged, no entry."""
    body = order(lines=((100, 1),))
    ref = sample("refund_single_shipping_refund.json")
    ref["order_id"] = body["id"]
    assert ref["refund_line_items"] == []
    send("orders/paid", body)
    send("refunds/create", ref)
    assert process() == 2
    assert balances(summary) == (0, 100, 100)
    assert len(summary("alice@example.com")["entries"]) == 1


def test_successive_refunds_never_drift(send, process, summary):
    """Three refunds of a third each: cumulative computation lands exactly on zero."""
    body = order(lines=((10, 3),))  # 30 points, 30.00 of merchandise
    send("orders/paid", body)
    for i in range(3):
        send("refunds/create", refund(body, lines={0: (1, 10)}, created_at=f"2025-03-0{5 + i}T10:00:00+00:00"))
    process()
    assert balances(summary) == (0, 0, 0)
    assert [e["points"] for e in summary("alice@example.com")["entries"]] == [30, -10, -10, -10]


def test_rounding_is_on_the_cumulative_refund(send, process, summary):
    """7 points over 3 equal refunds: keeps floor(7x2/3)=4, floor(7x1/3)=2, then 0 (not 3 x -2 = -6)."""
    body = order(lines=((7, 3),))  # merchandise 21.00, earn 21 points
    send("orders/paid", body)
    process()
    for i in range(3):
        send("refunds/create", refund(body, lines={0: (1, 7)}, created_at=f"2025-03-0{5 + i}T10:00:00+00:00"))
        process()
    points = [e["points"] for e in summary("alice@example.com")["entries"]]
    assert points == [21, -7, -7, -7]
    assert sum(points) == 0


def test_refund_takes_pending_points_first(send, process, summary, ctx):
    """Refund after the points matured: taken from available. Before: from pending."""
    from datetime import datetime, timezone

    from jobs.scheduled import mature_points

    early = order(lines=((100, 1),), processed_at="2025-01-01T10:00:00+00:00")
    late = order(lines=((100, 1),), processed_at="2025-03-01T10:00:00+00:00")
    send("orders/paid", early)
    send("orders/paid", late)
    process()
    mature_points(datetime(2025, 2, 1, tzinfo=timezone.utc), ctx)
    assert balances(summary) == (100, 100, 200)
    send("refunds/create", refund(early, lines={0: (1, 50)}))
    send("refunds/create", refund(late, lines={0: (1, 50)}))
    process()
    assert balances(summary) == (50, 50, 100)


def test_cancellation_takes_back_whatever_the_order_still_holds(send, process, summary):
    """orders/cancelled after a partial refund voids the remainder."""
    body = order(lines=((40, 2),))
    send("orders/paid", body)
    send("refunds/create", refund(body, lines={0: (1, 40)}, created_at="2025-03-05T10:00:00+00:00"))
    send("orders/cancelled", cancelled(body, at="2025-03-06T10:00:00+00:00"))
    process()
    assert balances(summary) == (0, 0, 0)
    assert [e["kind"] for e in summary("alice@example.com")["entries"]] == ["earn", "claw_back", "void"]


def test_a_refund_applied_after_the_cancellation_takes_nothing_more(send, process, summary):
    """The same order's refund and cancellation applied the other way round (a second worker may commit them
    so): the void takes everything and the refund finds nothing left; the points are the same as above, by
    one entry fewer (the scale-out benchmark compares points per order, not entry counts, for this)."""
    body = order(lines=((40, 2),))
    send("orders/paid", body)
    send("orders/cancelled", cancelled(body, at="2025-03-06T10:00:00+00:00"))
    process()
    send("refunds/create", refund(body, lines={0: (1, 40)}, created_at="2025-03-05T10:00:00+00:00"))
    process()
    assert balances(summary) == (0, 0, 0)
    assert [e["kind"] for e in summary("alice@example.com")["entries"]] == ["earn", "void"]


def test_refund_may_leave_a_negative_balance_when_allowed(send, process, summary, ctx, shop):
    """Points already spent (here: expired) and then refunded: the balance goes negative by default."""
    _refund_after_points_left(send, process, ctx, shop)
    assert summary("alice@example.com")["available"] == -50


def test_floor_policy_never_goes_below_zero(send, process, summary, ctx, shop):
    """With negative_balance=floor the claw-back stops at zero."""
    from datetime import datetime, timezone

    from loyalty.services.shops import programme, save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 1).with_changes(negative_balance="floor"),
                       datetime.now(timezone.utc))
    _refund_after_points_left(send, process, ctx, shop)
    assert summary("alice@example.com")["available"] == 0


def _refund_after_points_left(send, process, ctx, shop):
    """Earn 100, mature, lose them all to an adjustment, then refund half the order."""
    from datetime import datetime, timezone

    from jobs.scheduled import mature_points
    from loyalty.services import ledger
    from loyalty.services.customers import find_customer

    body = order(lines=((100, 1),), processed_at="2025-01-01T10:00:00+00:00")
    send("orders/paid", body)
    process()
    mature_points(datetime(2025, 2, 1, tzinfo=timezone.utc), ctx)
    now = datetime.now(timezone.utc)
    with ctx.engine.begin() as conn:
        customer = find_customer(conn, shop.id, "alice@example.com")
        ledger.write_entry(conn, shop_id=shop.id, customer_id=customer.id, kind="adjust", available=-100,
                           key="test:spent", reason="spent", effective_at=now, now=now)
    send("refunds/create", refund(body, lines={0: (1, 50)}))
    process()
