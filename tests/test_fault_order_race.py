"""Found by the soak (PostgreSQL, two workers): a refund applied by one worker while another worker's
transaction was recording the same order's payment was never clawed back - each transaction missed the
other's uncommitted row. Every event of one order now takes the order's row lock first (creating the row
when the order is new), so the second transaction waits for the first and reads what it wrote."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from jobs.translate import to_command
from loyalty import orders as order_service
from loyalty.shops import get_shop
from tests.factories import order, refund

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def race(ctx, shop, first, second) -> dict:
    """Record `first` in a transaction that stays open while `second` is recorded in another thread's
    transaction (on SQLite the second waits at BEGIN); returns how the second one ended."""
    outcome = {}

    def apply_second():
        try:
            with ctx.engine.begin() as conn:
                second(conn, get_shop(conn, shop.domain), NOW)
            outcome["second"] = "committed"
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["second"] = repr(exc)

    with ctx.engine.begin() as conn:
        first(conn, get_shop(conn, shop.domain), NOW)
        other = threading.Thread(target=apply_second)
        other.start()
        time.sleep(0.3)  # the second runs while the first is uncommitted
    other.join(30)
    return outcome


def commands(order_id: int, email: str):
    """The orders/paid and refunds/create (half the order) of one order, as record functions."""
    body = order(order_id=order_id, lines=((50, 2),), email=email)
    paid, refunded = to_command("orders/paid", body), to_command("refunds/create", refund(body, lines={0: (1, 50)}))
    return (lambda conn, shop_ref, now: order_service.record_order_paid(conn, shop_ref, paid, now),
            lambda conn, shop_ref, now: order_service.record_refund(conn, shop_ref, refunded, now))


def test_a_refund_racing_its_orders_payment_is_clawed_back(ctx, shop, summary):
    """Transaction A records orders/paid (100 points) and stays open; transaction B, in another thread,
    records a refund of half the order. Once both commit, the order holds 50 whichever came first."""
    pay, refund_half = commands(4711, "race@example.com")
    assert race(ctx, shop, pay, refund_half) == {"second": "committed"}
    s = summary("race@example.com")
    assert (s["pending"], [e["kind"] for e in s["entries"]]) == (50, ["earn", "claw_back"])


def test_a_payment_racing_its_orders_refund_sees_it(ctx, shop, summary):
    """The other way round: the refund's transaction is open when the payment is recorded."""
    pay, refund_half = commands(4712, "race2@example.com")
    assert race(ctx, shop, refund_half, pay) == {"second": "committed"}
    assert summary("race2@example.com")["pending"] == 50
