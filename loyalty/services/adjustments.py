"""Manual adjustments: a staff member adds or takes points, with a reason, and the ledger remembers who.

An adjustment is one `adjust` entry (available points, never pending). Its idempotency key comes from the
client's token for the submission, so a form submitted twice adjusts once. Under the shop's `floor`
policy an adjustment may not take a customer below zero.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from db.tables import customers, ledger_entries as le
from loyalty.services import ledger
from loyalty.services.shops import ShopRef, programme
from loyalty.domain import keys
from loyalty.domain.errors import AdjustmentRefused
from loyalty.domain.requests import Adjustment


def adjust(conn: Connection, shop: ShopRef, request: Adjustment, now: datetime):
    """Book the adjustment once (the same client_token returns the first booking) and return its entry."""
    return book(conn, shop, request, now)[0]


def book(conn: Connection, shop: ShopRef, request: Adjustment, now: datetime):
    """As adjust, and whether this call booked it (False on a replay, or when a racing one won): what the
    audit log records once."""
    request = request.checked()
    key = keys.adjust(shop.id, request.client_token)
    existing = _entry(conn, key)
    if existing is not None:
        return _same_request(existing, request), False
    # The lock serialises this with redemptions and other adjustments of the customer (PostgreSQL; SQLite
    # writers are serialised by BEGIN IMMEDIATE), so the floor check below cannot be raced.
    owner = conn.execute(select(customers.c.shop_id).where(customers.c.id == request.customer_id)
                         .with_for_update()).scalar()
    if owner != shop.id:
        raise AdjustmentRefused(f"no customer {request.customer_id} in {shop.domain}", "customer_id")
    available = ledger.balance(conn, request.customer_id).available
    if request.points < 0 and available + request.points < 0:
        if programme(conn, shop.id, shop.settings_version).negative_balance == "floor":
            raise AdjustmentRefused(
                f"the customer has {available} points available: taking {-request.points} would make the "
                "balance negative, which this programme does not allow (negative_balance: floor)", "points")
    savepoint = conn.begin_nested()
    try:
        ledger.write_entry(conn, shop_id=shop.id, customer_id=request.customer_id, kind="adjust", key=key,
                           available=request.points, reason=request.reason, effective_at=now, now=now,
                           settings_version=shop.settings_version, actor=request.actor)
        savepoint.commit()
    except IntegrityError:  # the same submission, racing this one, was booked first
        savepoint.rollback()
        return _same_request(_entry(conn, key), request), False
    return _entry(conn, key), True


def _entry(conn: Connection, key: str):
    return conn.execute(select(le).where(le.c.idempotency_key == key)).first()


def _same_request(entry, request: Adjustment):
    """A replayed token must carry the same adjustment; anything else is a client bug, said clearly."""
    if entry.customer_id != request.customer_id or entry.available != request.points:
        raise AdjustmentRefused("this client_token was already used for another adjustment", "client_token")
    return entry


def adjustments(conn: Connection, shop: ShopRef, *, customer_id: int | None = None, limit: int = 50,
                offset: int = 0) -> list:
    """The shop's manual adjustments, newest first, with who made them and when (the audit trail)."""
    query = (select(le.c.id, le.c.customer_id, customers.c.email, customers.c.shopify_customer_id,
                    le.c.available.label("points"), le.c.reason, le.c.actor, le.c.created_at)
             .select_from(le.outerjoin(customers, customers.c.id == le.c.customer_id))
             .where(le.c.shop_id == shop.id, le.c.kind == "adjust")
             .order_by(le.c.created_at.desc(), le.c.id.desc()).limit(limit).offset(offset))
    if customer_id is not None:
        query = query.where(le.c.customer_id == customer_id)
    return conn.execute(query).all()
