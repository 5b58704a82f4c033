"""Worker processes (three here) redeeming the same customer's points at the same instant cannot spend
them twice: real processes, each with its own engine and connections, on SQLite and PostgreSQL, creating
codes in the Shopify emulator over HTTP. (tests/e2e/test_vouchers.py races two threads of one process.)"""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone

import pytest

from jobs.scheduled import mature_points
from tests import simulation as sim
from tests.factories import order

SHOP = "store-a.myshopify.com"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
RACERS = 3


def redeem_in_a_process(config, barrier, results, key: str) -> None:
    """Child process: build the app's context from scratch, wait for the others, redeem 150 points."""
    from tests import redemptions as voucher_jobs
    from loyalty.services.vouchers import VoucherRefused
    from loyalty.services.context import build_context

    ctx = build_context(config)
    try:
        barrier.wait(timeout=60)
        voucher = voucher_jobs.redeem(ctx, SHOP, "racer@example.com", 150, key, now=NOW)
        results.put((key, voucher.status))
    except VoucherRefused as exc:
        results.put((key, f"refused: {exc}"))
    except Exception as exc:  # noqa: BLE001 - a lock timeout also means "nothing spent"; reported as such
        results.put((key, f"error: {type(exc).__name__}"))
    finally:
        ctx.engine.dispose()


@pytest.mark.slow
def test_processes_redeeming_at_once_spend_the_points_once(ctx, shop, send, process, summary, tmp_path):
    """Three processes each ask for 150 of the customer's 200 points at the same moment: exactly one code is
    made, the balance is 50, and every other attempt is refused (or failed) having spent nothing."""
    from dataclasses import replace

    with sim.emulator_server() as (emulator, admin_url):
        emulator.add_shop(SHOP, "shpat_store_a")
        emulator.add_customer(SHOP, 401, "racer@example.com")
        send("orders/paid", order(lines=((200, 1),), email="racer@example.com", customer_id=401,
                                  processed_at="2025-05-01T00:00:00+00:00"))
        process()
        mature_points(NOW, ctx)
        assert summary("racer@example.com")["available"] == 200

        procs = multiprocessing.get_context("fork")  # each child opens its own engine; nothing shared is used
        barrier, results = procs.Barrier(RACERS), procs.Queue()
        config = replace(ctx.config, admin_url_template=admin_url)
        racers = [procs.Process(target=redeem_in_a_process, args=(config, barrier, results, f"race-{i}"))
                  for i in range(RACERS)]
        for p in racers:
            p.start()
        outcomes = dict(results.get(timeout=120) for _ in racers)
        for p in racers:
            p.join(30)
        statuses = sorted(outcomes.values())
        assert [s for s in statuses if s == "active"] == ["active"], outcomes
        assert all(s == "active" or s.startswith(("refused: not enough points", "error:")) for s in statuses)
        assert len(emulator.discount_codes(SHOP)) == 1
    s = summary("racer@example.com")
    assert s["available"] == 50
    assert [e["kind"] for e in s["entries"]].count("redeem") == 1
