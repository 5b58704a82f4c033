"""Reconciliation: orders and refunds the webhooks missed are applied once, from the Admin API."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from db.tables import import_runs
from jobs.reconcile import reconcile
from tests.factories import order, refund
from tests.integration.test_history_import import NOW, SHOP, balances, entries


def test_reconciliation_applies_a_missed_order_and_refund_once(ctx, shop, send, process, emulator, factory):
    """Order 1 arrived by webhook, order 2 and a refund of order 1 did not: a run applies them; a second
    run and the late webhooks change nothing."""
    first = order(lines=((40, 1), (10, 1)), email="rec@example.com", customer_id=41)
    missed = order(lines=((60, 1),), email="rec@example.com", customer_id=41, processed_at="2025-05-20T00:00:00Z")
    lost_refund = refund(first, lines={1: (1, 10)}, created_at="2025-05-21T00:00:00Z")
    for body in (first, missed):
        emulator.add_rest_order(SHOP, json.loads(json.dumps(body)))
    emulator.add_rest_refund(SHOP, lost_refund)
    send("orders/paid", first)
    process()
    assert balances(ctx, shop)["rec@example.com"] == (0, 50, 50)
    result = reconcile(SHOP, ctx=ctx, client_factory=factory, now=NOW)
    assert result["status"] == "completed" and result["orders_done"] == 2 and result["points_credited"] == 60
    assert balances(ctx, shop)["rec@example.com"] == (40, 60, 100)  # order 1 matured less its refund
    once = entries(ctx)
    second = reconcile(SHOP, ctx=ctx, client_factory=factory, now=NOW)
    assert second["points_credited"] == 0
    send("orders/paid", missed)
    send("refunds/create", lost_refund)
    process()
    assert entries(ctx) == once


def test_the_watermark_moves_to_the_latest_change_applied(ctx, shop, emulator, factory):
    """A run remembers the latest `updatedAt` it applied; the next one asks only from there (less a margin)."""
    body = order(lines=((5, 1),), email="w@example.com", customer_id=42)
    body["updated_at"] = "2025-05-30T12:00:00Z"
    emulator.add_rest_order(SHOP, body)
    reconcile(SHOP, ctx=ctx, client_factory=factory, now=NOW)
    later = reconcile(SHOP, ctx=ctx, client_factory=factory, now=NOW)
    with ctx.engine.connect() as conn:
        marks = conn.execute(select(import_runs.c.watermark).order_by(import_runs.c.id)).scalars().all()
    assert [m.replace(tzinfo=None) for m in marks] == [datetime(2025, 5, 30, 12)] * 2
    assert "2025-05-30T11:50:00Z" in later["source"]
    since = reconcile(SHOP, since=datetime(2025, 6, 1, tzinfo=timezone.utc), ctx=ctx, client_factory=factory, now=NOW)
    assert since["orders_done"] == 0
