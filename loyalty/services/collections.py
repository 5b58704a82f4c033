"""The products of the collections campaigns are limited to: kept in `collection_products` (refreshed from
Shopify by `jobs.collections` when the programme is saved and daily), read in bulk for a batch of orders.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from db import rows as rows_db
from db.tables import collection_products
from loyalty.domain.campaigns import collections_of
from loyalty.domain.commands import OrderFacts
from loyalty.domain.programme import Programme


def members(conn: Connection, shop_id: int, prog: Programme, orders: Iterable[OrderFacts]) -> frozenset:
    """The (collection id, product id) pairs of the programme's campaign collections among these orders'
    products: one query for all of them, none when no campaign names a collection."""
    wanted = collections_of(prog.campaigns)
    if not wanted:
        return frozenset()
    products = {line.product_id for facts in orders for line in facts.lines if line.product_id is not None}
    return frozenset(rows_db.select_in(
        conn, "SELECT collection_id, product_id FROM collection_products WHERE shop_id = {p} "
              f"AND collection_id IN ({', '.join(str(int(c)) for c in sorted(wanted))}) AND product_id {{IN}}",
        (shop_id,), sorted(products)))


def all_members(conn: Connection, shop_id: int, prog: Programme) -> frozenset:
    """Every (collection id, product id) pair of the programme's campaign collections (the history import
    plans its orders ahead, before knowing which products they hold)."""
    wanted = collections_of(prog.campaigns)
    if not wanted:
        return frozenset()
    return frozenset(tuple(r) for r in conn.execute(select(
        collection_products.c.collection_id, collection_products.c.product_id).where(
        collection_products.c.shop_id == shop_id, collection_products.c.collection_id.in_(sorted(wanted)))))


def replace_members(conn: Connection, shop_id: int, collection_id: int, product_ids: Iterable[int],
                    now: datetime) -> int:
    """The collection's products as Shopify lists them now (those it no longer holds are dropped); returns
    how many it holds."""
    conn.execute(delete(collection_products).where(collection_products.c.shop_id == shop_id,
                                                   collection_products.c.collection_id == collection_id))
    rows = [(shop_id, collection_id, product, now) for product in sorted(set(product_ids))]
    rows_db.insert_rows(conn, collection_products, ("shop_id", "collection_id", "product_id", "refreshed_at"), rows)
    return len(rows)


def forget_others(conn: Connection, shop_id: int, keep: Iterable[int]) -> None:
    """Drop the products of collections no campaign of the shop names any more."""
    conn.execute(delete(collection_products).where(collection_products.c.shop_id == shop_id,
                                                   collection_products.c.collection_id.not_in(sorted(set(keep)))))
