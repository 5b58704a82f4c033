"""Queries about customers for support (the admin) and operators (the CLI): a customer's whole record,
searches and pages of customers, adjustments and vouchers. Each takes its parameters and a read-only unit
of work and opens one read transaction; the shop is a ShopRef, or a domain looked up here."""
from __future__ import annotations

from loyalty.services.adjustments import adjustments
from loyalty.services.customers import find_customer
from loyalty.services.errors import UnknownCustomer
from loyalty.services.read import customer_search, support, support_desk
from loyalty.services.read.shops import shop_of
from loyalty.services.read.views import customer_summary
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import UnitOfWork


def customer_by_reference(shop: ShopRef | str, customer: str, uow: UnitOfWork) -> dict:
    """The balances and full history of the customer with that email or Shopify id (UnknownCustomer)."""
    with uow:
        ref = shop_of(uow, shop)
        row = find_customer(uow.conn, ref.id, customer)
        if row is None:
            raise UnknownCustomer(customer, ref.domain)
        return customer_summary(uow.conn, ref, row)


def customers_page(shop: ShopRef | str, query: str, page: int, uow: UnitOfWork) -> tuple[list[dict], bool]:
    """One page of the customers matching `query` (name, email, Shopify id or order number: customer_search),
    and whether more follow."""
    with uow:
        return customer_search.search_customers(uow.conn, shop_of(uow, shop), query, page=page)


def customer_record(shop: ShopRef | str, customer_id: int, uow: UnitOfWork) -> dict | None:
    """Support's view of one customer of the shop (None when the id is not the shop's)."""
    with uow:
        ref = shop_of(uow, shop)
        customer = support.customer_of_shop(uow.conn, ref, customer_id)
        return None if customer is None else support.customer_detail(uow.conn, ref, customer, uow.now)


def customer_orders(shop: ShopRef | str, customer_id: int, page: int, uow: UnitOfWork) -> tuple[list, bool] | None:
    """One page of the customer's orders with what each earned or why not (None: not the shop's customer)."""
    with uow:
        ref = shop_of(uow, shop)
        if support.customer_of_shop(uow.conn, ref, customer_id) is None:
            return None
        return support_desk.orders_page(uow.conn, ref, customer_id, page)


def customer_entries(shop: ShopRef | str, customer_id: int, page: int, uow: UnitOfWork) -> tuple[list, bool] | None:
    """One page of the customer's ledger entries, newest first (None: not the shop's customer)."""
    with uow:
        ref = shop_of(uow, shop)
        if support.customer_of_shop(uow.conn, ref, customer_id) is None:
            return None
        return support_desk.entries_page(uow.conn, customer_id, page)


def adjustments_page(shop: ShopRef | str, page: int, uow: UnitOfWork, size: int = support.PAGE_SIZE) -> list:
    """One page of the shop's manual adjustments, newest first, and one more row when more follow."""
    with uow:
        return adjustments(uow.conn, shop_of(uow, shop), limit=size + 1, offset=(page - 1) * size)


def vouchers_page(shop: ShopRef | str, status: str | None, customer_id: int | None, page: int,
                  uow: UnitOfWork) -> tuple[list[dict], bool]:
    """One page of the shop's vouchers, newest first, filtered by status and customer; whether more follow."""
    with uow:
        return support.list_vouchers(uow.conn, shop_of(uow, shop), status=status, customer_id=customer_id, page=page)
