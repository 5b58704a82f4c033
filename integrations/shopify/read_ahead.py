"""Reading ahead for the history import: while the importing process writes a chunk, a child process (the
second core) reads, regroups and translates the next ones, and hands them over as plain tuples, which cost
far less to pickle than the command dataclasses; they are rebuilt here as the same ImportOrders.

Each chunk says where its last record ends in the file (line and byte), so a run's progress, and where a
resumed run starts, are exactly what reading in one process gives. At most READ_AHEAD chunks wait in the
queue, so memory stays constant however large the file.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue as queues
from dataclasses import fields
from functools import partial
from decimal import Decimal
from itertools import islice
from operator import attrgetter
from typing import Callable, Iterator, NamedTuple

from integrations.shopify import bulk
from integrations.shopify.translate import BadPayload
from integrations.shopify.translate_graphql import import_order
from loyalty.domain.commands import ImportOrder, OrderFacts, Payment, RecordRefund
from integrations.shopify.errors import ReaderDied
from loyalty.defaults import READ_AHEAD_POLL_SECONDS as POLL_SECONDS

log = logging.getLogger(__name__)

READ_AHEAD = int(os.environ.get("LOYALTY_IMPORT_READ_AHEAD", "3"))
"""Chunks a child process may read and translate ahead of the writer; 0 reads in the importing process."""

_facts = attrgetter(*OrderFacts.__dataclass_fields__)
_payment = attrgetter(*Payment.__dataclass_fields__)
_refund = attrgetter(*RecordRefund.__dataclass_fields__)
_AMOUNTS = tuple(i for i, f in enumerate(fields(OrderFacts)) if f.type in ("Decimal", Decimal))


class Chunk(NamedTuple):
    """A chunk's orders, where its last record ends, and the plans the reader made of its orders."""

    orders: list[ImportOrder]
    end_line: int
    end_byte: int
    plans: dict
    """`plan(order)` by order id, for the paid orders the reader could plan (the writer plans the others)."""


def translated_chunks(lines: Callable[[int], Iterator[bytes]], position: tuple[int, int], size: int,
                      label: str, ahead: int = READ_AHEAD, plan: Callable | None = None) -> Iterator[Chunk]:
    """Chunks of `size` records read from `lines(byte offset)` after `position` (lines, bytes done), as
    ImportOrders; records that do not translate are logged under `label` and left out. With `ahead` > 0
    the reading happens in a child process, which also makes `plan(order)` of each paid order."""
    if ahead <= 0:
        for orders, end_line, end_byte in _chunks(lines, position, size, label):
            yield Chunk(orders, end_line, end_byte, {})
        return
    context = multiprocessing.get_context("fork")  # the child inherits `lines` (an HTTP session, a file)
    handover = context.Queue(maxsize=ahead)
    reader = context.Process(target=_read, args=(handover, lines, position, size, label, plan), daemon=True,
                             name="history-reader")
    reader.start()
    try:
        while True:
            kind, *content = _next(handover, reader)
            if kind == "done":
                return
            if kind == "error":
                raise content[0]
            packed, end_line, end_byte = content
            orders, plans = [], {}
            for packed_order, order_plan in packed:
                orders.append(_unpack(packed_order))
                if order_plan is not None:
                    plans[orders[-1].facts.order_id] = order_plan
            yield Chunk(orders, end_line, end_byte, plans)
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()
        handover.close()
        handover.cancel_join_thread()


def _chunks(lines, position, size, label, keep=lambda order: order):
    """Chunks of `keep(order)`s; each record is translated as soon as it is read, so only what is kept of a
    chunk is held, not its parsed JSON."""
    records = bulk.records(lines(position[1]), *position)
    while True:
        kept, last = [], None
        for last in islice(records, size):
            try:
                kept.append(keep(import_order(last.node, last.children)))
            except BadPayload as exc:
                log.error("history of %s: order %s skipped: %s", label, last.node.get("id"), exc)
        if last is None:
            return
        yield kept, last.end_line, last.end_byte


def _read(handover, lines, position, size, label, plan) -> None:
    """The child: every chunk, packed with its plans, then "done"; or the error that stopped the reading."""
    try:
        for packed, end_line, end_byte in _chunks(lines, position, size, label, keep=partial(_planned, plan)):
            handover.put(("chunk", packed, end_line, end_byte))
        handover.put(("done",))
    except BaseException as exc:  # noqa: BLE001 - handed to the writer, which fails the run with it
        try:
            exc = pickle.loads(pickle.dumps(exc))  # the queue pickles in a thread that would only print a failure
        except Exception:  # noqa: BLE001 - an exception that does not make the trip goes as its text
            exc = ReaderDied(f"{type(exc).__name__}: {exc}")
        handover.put(("error", exc))
    finally:
        handover.close()
        handover.join_thread()


def _next(handover, reader):
    while True:
        try:
            return handover.get(timeout=POLL_SECONDS)
        except queues.Empty:
            if not reader.is_alive():
                try:
                    return handover.get(timeout=POLL_SECONDS)
                except queues.Empty:
                    raise ReaderDied(f"the history reader exited with code {reader.exitcode}") from None


def _planned(plan, order: ImportOrder) -> tuple:
    """(the order packed, its plan or None). Orders with refunds still to fetch change before they are
    applied: not planned; nor is one whose planning fails (the writer meets the failure in its own time)."""
    made = None
    if plan is not None and order.paid and not order.refunds_to_fetch:
        try:
            made = plan(order)
        except Exception:  # noqa: BLE001 - planned again, and raised, by the writer
            made = None
    return _pack(order), made


def _pack(order: ImportOrder) -> tuple:
    """Plain values; amounts as their exact text (a Decimal pickles several times slower than a str)."""
    facts = list(_facts(order.facts))
    for i in _AMOUNTS:
        facts[i] = str(facts[i])
    return (facts, order.paid, tuple((g, k, s, str(a)) for g, k, s, a in map(_payment, order.payments)),
            tuple((r, o, str(m), c) for r, o, m, c in map(_refund, order.refunds)), order.cancelled_at,
            order.refunds_to_fetch)


def _unpack(packed: tuple) -> ImportOrder:
    facts, paid, payments, refunds, cancelled_at, to_fetch = packed
    for i in _AMOUNTS:
        facts[i] = Decimal(facts[i])
    return ImportOrder(OrderFacts(*facts), paid, tuple([Payment(g, k, s, Decimal(a)) for g, k, s, a in payments]),
                       tuple([RecordRefund(r, o, Decimal(m), c) for r, o, m, c in refunds]), cancelled_at, to_fetch)
