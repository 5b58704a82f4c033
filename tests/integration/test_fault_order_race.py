"""Found by the soak (PostgreSQL, two workers): a refund applied by one worker while another worker's
transaction was recording the same order's payment was never clawed back - each transaction missed the
other's uncommitted row. Every event of one order now takes the order's row lock first (creating the row
when the order is new), so the second transaction waits for the first and reads what it wrote.

Found again by the soak: a batch reads hints at its start (which of its orders are new, which have no
refund). On PostgreSQL another worker can commit a refund of one of those orders after the hints were read
(and before the batch takes the order's lock); the batch then paid the order believing it had no refund,
and the refund was never clawed back. The `batch` tests apply the events as a batch does, hints and all."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from db.engine import make_engine
from integrations.shopify.translate import to_command
from loyalty.services import orders as order_service
from loyalty.services.shops import get_shop
from tests.factories import cancelled, order, refund

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def race(ctx, shop, first, second, then=None) -> dict:
    """Record `first` in a transaction that stays open while `second` is recorded in another thread's
    transaction (on SQLite the second waits at BEGIN); `then`, when given, is recorded in the first
    transaction after that, just before it commits. Returns how the second one ended.

    Both run as workers do, with the workers' database timeout (LOYALTY_WORKER_DB_TIMEOUT): with the web's
    0.8 s, the second's wait for SQLite's lock failed ("database is locked") on a loaded machine."""
    outcome = {}
    engine = make_engine(ctx.engine.url.render_as_string(hide_password=False), ctx.config.worker_db_timeout_seconds)

    def apply_second():
        try:
            with engine.begin() as conn:
                second(conn, get_shop(conn, shop.domain), NOW)
            outcome["second"] = "committed"
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcome["second"] = repr(exc)

    try:
        with engine.begin() as conn:
            shop_ref = get_shop(conn, shop.domain)
            first(conn, shop_ref, NOW)
            other = threading.Thread(target=apply_second)
            other.start()
            time.sleep(0.3)  # the second runs while the first is uncommitted
            if then is not None:
                then(conn, shop_ref, NOW)
        other.join(60)
    finally:
        engine.dispose()
    return outcome


class Batch:
    """Events of one order applied as a worker's batch applies them: hints read once, when the batch's
    transaction begins (`begin`), then passed to every event."""

    def __init__(self, order_id: int):
        self.order_id, self.hints = order_id, None

    def begin(self, conn, shop_ref, now) -> None:
        """Read the hints, as a worker's batch does first."""
        self.hints = order_service.BatchHints.read(conn, {(shop_ref.id, self.order_id)})

    def __call__(self, record):
        """`record` applied within this batch (hints read at its start, unless read already)."""
        def apply(conn, shop_ref, now):
            if self.hints is None:
                self.begin(conn, shop_ref, now)
            record(conn, shop_ref, now, self.hints)
        return apply


def commands(order_id: int, email: str):
    """The orders/paid, refunds/create (half the order) and orders/cancelled of one order, as record
    functions taking hints."""
    body = order(order_id=order_id, lines=((50, 2),), email=email)
    paid, refunded = to_command("orders/paid", body), to_command("refunds/create", refund(body, lines={0: (1, 50)}))
    cancel = to_command("orders/cancelled", cancelled(body))
    return (lambda conn, shop_ref, now, hints=None: order_service.record_order_paid(conn, shop_ref, paid, now, hints),
            lambda conn, shop_ref, now, hints=None: order_service.record_refund(conn, shop_ref, refunded, now, hints),
            lambda conn, shop_ref, now, hints=None: order_service.record_order_cancelled(conn, shop_ref, cancel, now,
                                                                                         hints))


def applied(record, batch: bool, order_id: int):
    """`record` on its own (no hints) or as the first event of a batch."""
    return Batch(order_id)(record) if batch else record


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "batch"])
def test_a_refund_racing_its_orders_payment_is_clawed_back(ctx, shop, summary, batch):
    """Transaction A records orders/paid (100 points) and stays open; transaction B, in another thread,
    records a refund of half the order. Once both commit, the order holds 50 whichever came first."""
    pay, refund_half, _ = commands(4711, "race@example.com")
    assert race(ctx, shop, applied(pay, batch, 4711), applied(refund_half, batch, 4711)) == {"second": "committed"}
    s = summary("race@example.com")
    assert (s["pending"], [e["kind"] for e in s["entries"]]) == (50, ["earn", "claw_back"])


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "batch"])
def test_a_payment_racing_its_orders_refund_sees_it(ctx, shop, summary, batch):
    """The other way round: the refund's transaction is open when the payment is recorded (in a batch,
    whose hints were read before the refund committed: they say the order is new and has no refund)."""
    pay, refund_half, _ = commands(4712, "race2@example.com")
    assert race(ctx, shop, applied(refund_half, batch, 4712), applied(pay, batch, 4712)) == {"second": "committed"}
    assert summary("race2@example.com")["pending"] == 50


@pytest.mark.parametrize("claw_back, kept", [("refund", 50), ("cancellation", 0)])
def test_a_payment_in_a_batch_begun_before_a_claw_back_committed_honours_it(ctx, shop, summary, claw_back, kept):
    """Worker A's batch begins (its hints: order 4713 is new, no refund); worker B records a refund of half
    the order, or its cancellation, and commits (the order is not paid: nothing to claw back yet); then A's
    batch records the payment. The order keeps 50 points after the refund, none after the cancellation,
    not 100. (On SQLite B waits for A's batch to commit.)"""
    pay, refund_half, cancel = commands(4713, "race3@example.com")
    batch = Batch(4713)
    second = refund_half if claw_back == "refund" else cancel
    assert race(ctx, shop, batch.begin, second, then=batch(pay)) == {"second": "committed"}
    s = summary("race3@example.com")
    assert (s["pending"], [e["kind"] for e in s["entries"]]) == (
        kept, ["earn", "claw_back" if claw_back == "refund" else "void"])
