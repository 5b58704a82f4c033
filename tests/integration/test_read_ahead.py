"""Reading ahead: a child process reads and translates the bulk file for the history import; what it hands
over, where each chunk ends, and how its failures end the run, are those of reading in one process."""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timezone
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select

from tools.bench.history_import import generate
from db.tables import import_runs
from integrations.shopify import bulk
from jobs.history import import_history
from integrations.shopify.read_ahead import translated_chunks
from loyalty.services.history import plan_fresh
from loyalty.domain.programme import Programme
from loyalty.services.shops import ShopRef
from tests.conftest import SHOP
from tests.factories import order
from tests.integration.test_history_import import NOW, balances, history


def lines_of(path):
    return partial(bulk.file_lines, path)


def test_chunks_read_in_a_child_are_those_read_in_process(tmp_path):
    """Same ImportOrders (payments, refunds, cancellations included), same end line and byte per chunk,
    from the start and from a resumed position."""
    path = tmp_path / "orders.jsonl"
    generate(path, 230, seed=7)
    inline = list(translated_chunks(lines_of(path), (0, 0), 40, "test", ahead=0))
    ahead = list(translated_chunks(lines_of(path), (0, 0), 40, "test", ahead=2))
    assert ahead == inline and len(inline) == 6 and sum(len(c[0]) for c in inline) == 230
    assert inline[-1][1:3] == (sum(1 for _ in open(path, "rb")), path.stat().st_size)
    assert any(o.refunds for c in inline for o in c[0]) and any(o.cancelled_at for c in inline for o in c[0])
    resumed = list(translated_chunks(lines_of(path), inline[2][1:3], 40, "test", ahead=2))
    assert resumed == inline[3:]


def test_the_reader_plans_paid_orders_as_the_writer_would(tmp_path):
    """The plans made in the child are plan_fresh's own for every paid order (refunds, cancellations,
    gift-card shares, guests included), and an order that cannot be planned is left to the writer."""
    path = tmp_path / "orders.jsonl"
    generate(path, 120, seed=9)
    shop = ShopRef(7, "plan.myshopify.com", 3)
    prog = Programme(earn_rate=Decimal("1.5"), rounding="nearest", pending_days=0)
    now = datetime(2021, 1, 1, 2, tzinfo=timezone.utc)  # the file's orders are two minutes apart from midnight

    def plan(order):
        if order.facts.order_id == 10**12 + 5:
            raise ValueError("cannot be planned")
        return plan_fresh(shop, prog, order, now)
    chunks = list(translated_chunks(lines_of(path), (0, 0), 50, "test", ahead=2, plan=plan))
    orders = [o for chunk in chunks for o in chunk.orders]
    plans = {oid: p for chunk in chunks for oid, p in chunk.plans.items()}
    expected = {o.facts.order_id: plan_fresh(shop, prog, o, now) for o in orders if o.paid}
    del expected[10**12 + 5]
    assert plans == expected and len(plans) == 119
    assert any(p[3] and p[3][-1][0] == "mature" for p in plans.values())  # matured by `now`
    assert any(p[3] and p[3][-1][0] == "earn" for p in plans.values())  # still pending


def test_a_reading_error_reaches_the_writer_after_the_chunks_before_it(tmp_path):
    """A line that is not JSON: the chunks before it are handed over, then its error, raised in the writer."""
    path = tmp_path / "orders.jsonl"
    generate(path, 30, seed=3)
    lines = open(path, "rb").readlines()
    bad = [i for i, line in enumerate(lines) if b"__parentId" not in line][21]  # the 22nd order's line
    path.write_bytes(b"".join(lines[:bad] + [b"{not json\n"] + lines[bad + 1:]))
    seen = []
    with pytest.raises(bulk.BadJsonl, match=f"line {bad + 1}: not JSON"):
        for orders, *_ in translated_chunks(lines_of(path), (0, 0), 10, "test", ahead=2):
            seen.append(len(orders))
    assert seen == [10, 10]  # the third chunk holds the bad line: nothing of it is handed over


def test_the_reader_ends_with_the_writer(tmp_path):
    """A writer that stops early (its transaction failed) leaves no reading process behind."""
    path = tmp_path / "orders.jsonl"
    generate(path, 200, seed=1)
    chunks = translated_chunks(lines_of(path), (0, 0), 10, "test", ahead=1)
    next(chunks)
    assert [p.name for p in multiprocessing.active_children()] == ["history-reader"]
    chunks.close()
    assert multiprocessing.active_children() == []


def test_a_bad_line_fails_the_run_with_its_reason_and_the_next_run_resumes(ctx, shop, emulator, factory,
                                                                             tmp_path):
    """The import keeps the chunks read before a bad line, fails with the line's number; once the file is
    fixed, the next run goes on from its last chunk."""
    bodies = [order(lines=((10, 1),), email=f"j{i}@example.com", customer_id=300 + i) for i in range(5)]
    path = tmp_path / "orders.jsonl"
    good = history(bodies, emulator)
    lines = good.splitlines(keepends=True)
    assert len(lines) == 15  # an order line, its line item and shipping line, five times
    path.write_bytes(b"".join(lines[:12] + [b"[1]\n"] + lines[13:]))  # the fifth order's line
    with pytest.raises(bulk.BadJsonl, match="line 13: not a JSON object"):
        import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW, chunk=2)
    with ctx.engine.connect() as conn:
        run = conn.execute(select(import_runs)).one()
    # the fourth order ends where the fifth begins: its chunk never came, the first one is committed
    assert (run.status, run.orders_done, run.lines_done) == ("failed", 2, 6)
    assert "line 13" in run.error
    path.write_bytes(good)
    result = import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW, chunk=2)
    assert (result["id"], result["status"], result["orders_done"]) == (run.id, "completed", 5)
    assert sorted(balances(ctx, shop).values()) == [(10, 0, 10)] * 5


def test_an_order_that_does_not_translate_is_left_out_of_its_chunk(tmp_path):
    """An amount that is not one: that order is skipped (and logged), its chunk still ends where it ends."""
    path = tmp_path / "orders.jsonl"
    generate(path, 30, seed=4)
    lines = open(path, "rb").readlines()
    item = [i for i, line in enumerate(lines) if b'"LineItem"' in line][15]
    lines[item] = lines[item].replace(b'"amount":"', b'"amount":"x', 1)
    order_of_item = sum(1 for line in lines[:item] if b"__parentId" not in line)  # 1-based
    expected = [10, 10, 10]
    expected[(order_of_item - 1) // 10] -= 1
    path.write_bytes(b"".join(lines))
    inline = list(translated_chunks(lines_of(path), (0, 0), 10, "test", ahead=0))
    ahead = list(translated_chunks(lines_of(path), (0, 0), 10, "test", ahead=2))
    assert ahead == inline
    assert [len(chunk.orders) for chunk in inline] == expected
    assert all(o.facts.order_id != 10**12 + order_of_item - 1 for chunk in inline for o in chunk.orders)
    assert inline[-1][1:3] == (len(lines), path.stat().st_size)
