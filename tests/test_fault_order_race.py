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


def test_a_refund_racing_its_orders_payment_is_clawed_back(ctx, shop, summary):
    """Transaction A records orders/paid (100 points) and stays open; transaction B, in another thread,
    records a refund of half the order. Once both commit, the order holds 50 whichever came first."""
    body = order(order_id=4711, lines=((50, 2),), email="race@example.com")
    paid, refunded = to_command("orders/paid", body), to_command("refunds/create", refund(body, lines={0: (1, 50)}))
    outcome = {}

    def apply_refund():
        try:
            with ctx.engine.begin() as conn:
                order_service.record_refund(conn, get_shop(conn, shop.domain), refunded, NOW)
            outcome["refund"] = "committed"
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["refund"] = repr(exc)

    with ctx.engine.begin() as conn:
        order_service.record_order_paid(conn, get_shop(conn, shop.domain), paid, NOW)
        other = threading.Thread(target=apply_refund)
        other.start()
        time.sleep(0.3)  # B runs while A's payment is uncommitted (on SQLite B waits at BEGIN)
    other.join(30)
    assert outcome == {"refund": "committed"}
    s = summary("race@example.com")
    assert (s["pending"], [e["kind"] for e in s["entries"]]) == (50, ["earn", "claw_back"])


def test_a_payment_racing_its_orders_refund_sees_it(ctx, shop, summary):
    """The other way round: the refund's transaction is open when the payment is recorded."""
    body = order(order_id=4712, lines=((50, 2),), email="race2@example.com")
    paid, refunded = to_command("orders/paid", body), to_command("refunds/create", refund(body, lines={0: (1, 50)}))
    outcome = {}

    def apply_payment():
        try:
            with ctx.engine.begin() as conn:
                order_service.record_order_paid(conn, get_shop(conn, shop.domain), paid, NOW)
            outcome["paid"] = "committed"
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["paid"] = repr(exc)

    with ctx.engine.begin() as conn:
        order_service.record_refund(conn, get_shop(conn, shop.domain), refunded, NOW)
        other = threading.Thread(target=apply_payment)
        other.start()
        time.sleep(0.3)
    other.join(30)
    assert outcome == {"paid": "committed"}
    assert summary("race2@example.com")["pending"] == 50
