"""The collections the app made in a shop and maintains (`shop_collections`): today the full-price smart
collection that vouchers are limited to when the programme asks for it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from db.tables import shop_collections
from loyalty.services.shops import ShopRef

FULL_PRICE = "full_price"


def known(conn: Connection, shop: ShopRef, purpose: str = FULL_PRICE) -> int | None:
    """The Shopify id of the shop's collection for `purpose`, or None before it is made."""
    return conn.execute(select(shop_collections.c.shopify_collection_id).where(
        shop_collections.c.shop_id == shop.id, shop_collections.c.purpose == purpose)).scalar()


def remember(conn: Connection, shop: ShopRef, collection_id: int, now: datetime, purpose: str = FULL_PRICE) -> None:
    """Record the collection just made (replacing one the merchant deleted)."""
    conn.execute(delete(shop_collections).where(shop_collections.c.shop_id == shop.id,
                                                shop_collections.c.purpose == purpose))
    conn.execute(insert(shop_collections).values(shop_id=shop.id, purpose=purpose,
                                                 shopify_collection_id=collection_id, created_at=now))
