"""Synthetic Shopify payloads shaped like the real ones (see ../shared/shopify/samples)."""
from __future__ import annotations

import itertools

_ids = itertools.count(5_000_000_001)


def money(amount) -> dict:
    """A Shopify *_set money bag."""
    value = f"{amount:.2f}" if not isinstance(amount, str) else amount
    return {"shop_money": {"amount": value, "currency_code": "EUR"},
            "presentment_money": {"amount": value, "currency_code": "EUR"}}


def order(*, order_id=None, lines=((50, 1),), email="alice@example.com", customer_id=None, tags="",
          source_name="web", gateways=("shopify_payments",), test=False, processed_at="2025-03-01T10:00:00+01:00",
          company=None, discounts=None, shipping=5, products=None):
    """An orders/paid body: `lines` are (unit price, quantity); `discounts` per line; `products`: the product
    id of each line (none by default)."""
    order_id = order_id or next(_ids)
    line_items = []
    for i, (price, qty) in enumerate(lines):
        discount = (discounts or {}).get(i, 0)
        line_items.append({
            "id": next(_ids), "price": f"{price:.2f}", "price_set": money(price), "quantity": qty,
            "gift_card": False, "title": f"item {i}", **({"product_id": products[i]} if products else {}),
            "discount_allocations": [{"amount": f"{discount:.2f}", "amount_set": money(discount)}] if discount else [],
        })
    customer = {"id": customer_id, "email": email, "tags": tags} if customer_id else None
    return {
        "id": order_id, "name": f"#{order_id % 100000}", "email": email, "test": test, "currency": "EUR",
        "source_name": source_name, "processed_at": processed_at, "created_at": processed_at,
        "payment_gateway_names": list(gateways), "customer": customer, "company": company,
        "taxes_included": True, "line_items": line_items, "cancelled_at": None,
        "shipping_lines": [{"price": f"{shipping:.2f}", "price_set": money(shipping)}],
        "total_tip_received": "0.00",
    }


def refund(order_body: dict, *, refund_id=None, lines=None, created_at="2025-03-05T10:00:00+01:00"):
    """A refunds/create body refunding `lines`: {line index: (quantity, subtotal)}."""
    items = []
    for index, (qty, subtotal) in (lines or {}).items():
        line = order_body["line_items"][index]
        items.append({"id": next(_ids), "line_item_id": line["id"], "quantity": qty,
                      "subtotal": float(subtotal), "subtotal_set": money(subtotal), "total_tax": 0.0,
                      "line_item": line})
    return {"id": refund_id or next(_ids), "order_id": order_body["id"], "created_at": created_at,
            "refund_line_items": items, "transactions": [], "order_adjustments": []}


def cancelled(order_body: dict, at="2025-03-02T10:00:00+01:00") -> dict:
    """The orders/cancelled body for an order."""
    return {**order_body, "cancelled_at": at}


def customer(customer_id: int, email: str, tags: str = "") -> dict:
    """A customers/create or customers/update body."""
    return {"id": customer_id, "email": email, "tags": tags, "first_name": "Test", "last_name": "Customer"}
