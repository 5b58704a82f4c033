"""Support's customer search: by name, email, Shopify id or order number, a page at a time, from indexes.

The query is read by loyalty.domain.customer_search.parse_query. Each reading is one bounded index read:
- a name: a prefix range on customers (shop_id, name_key, id) and on (shop_id, surname_key, id);
- an email: a prefix range on the unique (shop_id, email) index (text without `@` is tried as both);
- a Shopify id: the unique (shop_id, shopify_customer_id); an order number: orders (shop_id, name).
Prefix ranges (`key >= p AND key < p || U+10FFFF`) use a btree on SQLite and PostgreSQL alike (LIKE 'p%'
does not on SQLite); the columns compare code point by code point (db.tables.SearchKey). Each range reads
at most the rows up to the requested page's end (SEARCH_MAX_RESULTS at most), so a page costs the same
whatever the shop's size.

Results are ordered by the key they matched (ids and order numbers first), then by record id; a customer
matched twice (by name and email) is listed once, at its first place.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from db.tables import customers, ledger_entries as le, orders
from loyalty.defaults import SEARCH_MAX_RESULTS, SUPPORT_PAGE_SIZE as PAGE_SIZE
from loyalty.domain.customer_search import SearchQuery, parse_query, prefix_range
from loyalty.services.shops import ShopRef

EXACT = ""
"""The sort key of a customer found by Shopify id or order number: before any prefix match."""


def search_customers(conn: Connection, shop: ShopRef, query: str, *, page: int = 1,
                     per_page: int = PAGE_SIZE) -> tuple[list[dict], bool]:
    """One page of the shop's customers matching `query` (name, email, Shopify id or order number) with
    their names, tags and balances; an empty query lists everyone by email (as before: by offset on the
(shop_id, email) index). Returns (rows, whether more follow)."""
    wanted, page = parse_query(query), max(page, 1)
    if wanted.everyone:
        ids = conn.execute(select(customers.c.id).where(customers.c.shop_id == shop.id)
                           .order_by(customers.c.email, customers.c.id)
                           .limit(per_page + 1).offset((page - 1) * per_page)).scalars().all()
        return _rows(conn, ids[:per_page]), len(ids) > per_page
    end = page * per_page
    if wanted.nothing or end - per_page >= SEARCH_MAX_RESULTS:
        return [], False
    ids = _matching(conn, shop.id, wanted, min(end + 1, SEARCH_MAX_RESULTS))  # one more tells if more follow
    return _rows(conn, ids[end - per_page:end]), len(ids) > end


def _matching(conn: Connection, shop_id: int, wanted: SearchQuery, limit: int) -> list[int]:
    """The ids of the first `limit` customers matching `wanted`, in result order."""
    found: list[tuple[str, int]] = []
    if wanted.shopify_id is not None:
        found += [(EXACT, i) for i in conn.execute(select(customers.c.id).where(
            customers.c.shop_id == shop_id, customers.c.shopify_customer_id == wanted.shopify_id)).scalars()]
    if wanted.order_names:
        found += [(EXACT, i) for i in conn.execute(select(orders.c.customer_id).where(
            orders.c.shop_id == shop_id, orders.c.name.in_(wanted.order_names),
            orders.c.customer_id.is_not(None)).limit(limit)).scalars()]
    if wanted.email:
        found += _prefixed(conn, shop_id, customers.c.email, wanted.email, limit)
    if wanted.name:
        found += _prefixed(conn, shop_id, customers.c.name_key, wanted.name, limit)
        found += _prefixed(conn, shop_id, customers.c.surname_key, wanted.name, limit)
    first: dict[int, tuple[str, int]] = {}
    for key, customer_id in sorted(found):
        first.setdefault(customer_id, (key, customer_id))
    return [customer_id for _, customer_id in sorted(first.values())][:limit]


def _prefixed(conn: Connection, shop_id: int, column, prefix: str, limit: int) -> list[tuple[str, int]]:
    """(key, id) of the first `limit` customers whose `column` starts with `prefix`, by key then id: one
    range on the (shop_id, column[, id]) index."""
    low, high = prefix_range(prefix)
    order = (column,) if column is customers.c.email else (column, customers.c.id)  # emails are unique per shop
    return [(r[0], r[1]) for r in conn.execute(
        select(column, customers.c.id).where(customers.c.shop_id == shop_id, column >= low, column < high)
        .order_by(*order).limit(limit))]


def _rows(conn: Connection, ids: list[int]) -> list[dict]:
    """The customers' rows as the admin lists them, in the order of `ids`, with their balances."""
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(select(
        customers.c.id, customers.c.shopify_customer_id, customers.c.email, customers.c.first_name,
        customers.c.last_name, customers.c.tags).where(customers.c.id.in_(ids)))}
    balances = balances_of(conn, ids)
    return [{"id": i, "shopify_customer_id": rows[i].shopify_customer_id, "email": rows[i].email,
             "first_name": rows[i].first_name, "last_name": rows[i].last_name, "tags": _tags(rows[i].tags),
             **balances.get(i, {"available": 0, "pending": 0})} for i in ids]


def _tags(stored: str | None) -> list[str]:
    """Tags as a list (stored comma-separated, as Shopify writes them)."""
    return [t.strip() for t in (stored or "").split(",") if t.strip()]


def balances_of(conn: Connection, customer_ids: list[int]) -> dict[int, dict]:
    """Available and pending points of several customers in one query."""
    if not customer_ids:
        return {}
    return {r.customer_id: {"available": int(r.available), "pending": int(r.pending)}
            for r in conn.execute(select(le.c.customer_id, func.sum(le.c.available).label("available"),
                                         func.sum(le.c.pending).label("pending"))
                                  .where(le.c.customer_id.in_(customer_ids)).group_by(le.c.customer_id))}
