"""Balances of many waiting customers go to Shopify by one bulk mutation (jobs.bulk_sync), resumed after a
crash without a second operation; few go by metafieldsSet calls. Against the emulator, both backends."""
from __future__ import annotations

import json
import logging
import time

import orjson
import pytest
from sqlalchemy import func, select

from db.tables import bulk_writes, customer_sync
from tools.shopify_emulator import Emulator
from jobs import bulk_sync
from jobs.sync import sync_balances
from jobs.write_back import balance_metafields
from loyalty.domain.standing import Balance, Standing
from tests.factories import order
from tests.integration.test_emulator import FakeClock

CUSTOMERS = 12


@pytest.fixture
def clock():
    """Shopify's clock, moved by hand; it starts at this host's time, as Shopify's is close to it (the app
    recognises an operation it started by its creation time)."""
    return FakeClock(start=time.time())


@pytest.fixture
def emulator(shop, clock):
    """Store A's emulator on a fake clock; a bulk mutation takes it 1 s per line (so it can be seen
    running); customers 1..CUSTOMERS exist in Shopify."""
    em = Emulator(clock=clock, bulk_seconds_per_line=1.0)
    em.add_shop(shop.domain, "shpat_store_a")
    for i in range(1, CUSTOMERS + 1):
        em.add_customer(shop.domain, i, f"c{i}@example.com")
    return em


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch):
    """Ten waiting customers make a bulk write; a job without a slice polls once, without sleeping."""
    monkeypatch.setattr(bulk_sync, "THRESHOLD", 10)
    monkeypatch.setattr(bulk_sync, "WAIT_SECONDS", 0.0)


def earn(send, process, customers, amount=10):
    """One paid order (`amount` points) for each Shopify customer id in `customers`."""
    for i in customers:
        send("orders/paid", order(lines=((amount, 1),), email=f"c{i}@example.com", customer_id=i))
    process()


def waiting(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(customer_sync)).scalar()


def metafields_set_calls(calls):
    """Requests that were ordinary metafieldsSet calls (not the bulk mutation naming the same document)."""
    graphql = [json.loads(body) for body in calls if body and body[:1] in (b"{", "{")]
    return [body for body in graphql if body["query"].lstrip().startswith("mutation MetafieldsSet")]


def lifetime(emulator, shop, customer):
    return emulator.metafields(shop.domain, customer).get("loyalty.lifetime", {}).get("value")


def test_many_waiting_customers_are_written_by_one_bulk_mutation(send, process, ctx, shop, emulator, factory,
                                                                  calls, clock):
    """12 customers above the threshold: one bulk mutation writes every one's five metafields; no
    metafieldsSet call; nobody waits after; the operation's requests cost ~30 points, not 12 x 2 calls."""
    earn(send, process, range(1, CUSTOMERS + 1))
    assert sync_balances(ctx, client_factory=factory) == 0  # staged, started, still running
    assert emulator.bulk_operations(shop.domain, "MUTATION")[0][2] in ("CREATED", "RUNNING")
    clock.advance(CUSTOMERS)
    assert sync_balances(ctx, client_factory=factory) == CUSTOMERS
    assert [op[2] for op in emulator.bulk_operations(shop.domain, "MUTATION")] == ["COMPLETED"]
    for i in range(1, CUSTOMERS + 1):
        fields = emulator.metafields(shop.domain, i)
        assert {k: v["value"] for k, v in fields.items()} == {
            "loyalty.available": "0", "loyalty.pending": "10", "loyalty.lifetime": "10",
            "loyalty.tier": "0", "loyalty.next_threshold": "0"}
    assert metafields_set_calls(calls) == []
    assert waiting(ctx) == 0
    stats = emulator.stats(shop.domain)
    assert stats["actual_cost"] <= 40  # stage 10 + start 10 + polls 1 each (the lines cost nothing)


def test_few_waiting_customers_are_written_by_calls(send, process, ctx, shop, emulator, factory, calls):
    """Below the threshold nothing goes by bulk: 5 customers x 5 metafields in one metafieldsSet call."""
    earn(send, process, range(1, 6))
    assert sync_balances(ctx, client_factory=factory) == 5
    assert emulator.bulk_operations(shop.domain) == []
    assert len(metafields_set_calls(calls)) == 1
    assert lifetime(emulator, shop, 5) == "10" and waiting(ctx) == 0


def test_a_line_shopify_rejects_leaves_its_customer_waiting(send, process, ctx, shop, emulator, factory, clock,
                                                            caplog):
    """Customer 99 does not exist in Shopify: its line fails (Owner does not exist), every other line is
    written, and 99 still waits, set aside with the reason (listed as a failure, retried after its backoff)."""
    earn(send, process, [*range(1, CUSTOMERS + 1), 99])
    assert bulk_sync.write_in_bulk(ctx, shop.id, factory) == (0, True)
    clock.advance(CUSTOMERS + 1)
    with caplog.at_level(logging.WARNING, logger="jobs.bulk_sync"):
        assert bulk_sync.write_in_bulk(ctx, shop.id, factory) == (CUSTOMERS, False)
    assert all(lifetime(emulator, shop, i) == "10" for i in range(1, CUSTOMERS + 1))
    with ctx.engine.connect() as conn:
        still = conn.execute(select(customer_sync.c.customer_id)).scalars().all()
        row = conn.execute(select(bulk_writes)).one()
    assert len(still) == 1 and (row.status, row.written, row.rejected) == ("done", CUSTOMERS, 1)
    assert any("Shopify customer 99" in r.message and "Owner does not exist" in r.message for r in caplog.records)
    # Set aside like a refused call, visible with its reason, and not made into a line again before its backoff.
    from loyalty.services.failures import list_failures
    with ctx.engine.connect() as conn:
        listed = [f for f in list_failures(conn, shop.domain) if f.kind == "balance_sync"]
        assert len(listed) == 1 and "Owner does not exist" in listed[0].reason
        assert not bulk_sync.enough_waiting(conn, shop.id)


def test_a_crash_after_the_start_resumes_the_operation_instead_of_starting_another(
        send, process, ctx, shop, emulator, factory, clock, monkeypatch):
    """The job dies right after Shopify accepted the bulk mutation, before recording its id: the next job
    finds it (the app's current bulk mutation), polls it and applies its results; one operation in all."""
    earn(send, process, range(1, CUSTOMERS + 1))
    recorded = bulk_sync._running

    def crash(*args):
        raise RuntimeError("worker killed")
    monkeypatch.setattr(bulk_sync, "_running", crash)
    with pytest.raises(RuntimeError):
        sync_balances(ctx, client_factory=factory)
    monkeypatch.setattr(bulk_sync, "_running", recorded)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(bulk_writes.c.status, bulk_writes.c.bulk_operation_id)).one() == ("starting", None)
    assert sync_balances(ctx, client_factory=factory) == 0  # adopted, still running: not started again
    clock.advance(CUSTOMERS)
    assert sync_balances(ctx, client_factory=factory) == CUSTOMERS
    assert len(emulator.bulk_operations(shop.domain, "MUTATION")) == 1
    assert all(lifetime(emulator, shop, i) == "10" for i in range(1, CUSTOMERS + 1)) and waiting(ctx) == 0


def test_a_balance_changed_while_the_operation_ran_is_written_after_it(send, process, ctx, shop, emulator, factory,
                                                                       clock, calls):
    """Customer 3 earns again while its line (10 points) is in the running operation: the operation's
    result does not count for it, and the same job then writes 30 by a call."""
    earn(send, process, range(1, CUSTOMERS + 1))
    assert sync_balances(ctx, client_factory=factory) == 0
    earn(send, process, [3], amount=20)
    clock.advance(CUSTOMERS)
    assert sync_balances(ctx, client_factory=factory) == CUSTOMERS - 1 + 1
    assert lifetime(emulator, shop, 3) == "30" and lifetime(emulator, shop, 4) == "10"
    assert len(metafields_set_calls(calls)) == 1 and waiting(ctx) == 0


def test_the_next_bulk_write_waits_for_the_running_one(send, process, ctx, shop, emulator, factory, clock,
                                                        monkeypatch):
    """A file holds about half the customers here: twelve take two operations, one after the other, never two
    at once (the six or so left after the first still make a bulk write)."""
    line = len(orjson.dumps({"metafields": balance_metafields(10, Balance(0, 10, 10), Standing(0, None, None, (), ()))}))
    monkeypatch.setattr(bulk_sync, "MAX_BYTES", int(6.5 * line))
    monkeypatch.setattr(bulk_sync, "THRESHOLD", 3)
    earn(send, process, range(1, CUSTOMERS + 1))
    sync_balances(ctx, client_factory=factory)
    first = emulator.bulk_operations(shop.domain, "MUTATION")
    assert len(first) == 1
    sync_balances(ctx, client_factory=factory)
    assert emulator.bulk_operations(shop.domain, "MUTATION") == first  # running: no second one
    for _ in range(3):
        clock.advance(CUSTOMERS)
        sync_balances(ctx, client_factory=factory)
    operations = emulator.bulk_operations(shop.domain, "MUTATION")
    assert [op[2] for op in operations] == ["COMPLETED", "COMPLETED"]
    assert all(lifetime(emulator, shop, i) == "10" for i in range(1, CUSTOMERS + 1)) and waiting(ctx) == 0
