"""Queries about privacy requests: the customer data exports made for customers/data_request."""
from __future__ import annotations

from sqlalchemy import select

from db.tables import data_exports
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork


def data_exports_of(shop: str, request_id: int | None, uow: UnitOfWork) -> list[str]:
    """The installed shop's stored exports (JSON documents), oldest first; only that data request's when
    `request_id` is given."""
    with uow:
        query = (select(data_exports.c.body).where(data_exports.c.shop_id == get_shop(uow.conn, shop).id)
                 .order_by(data_exports.c.id))
        if request_id is not None:
            query = query.where(data_exports.c.data_request_id == request_id)
        return list(uow.conn.execute(query).scalars().all())
