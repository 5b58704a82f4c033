"""Admin GraphQL orders (bulk-operation JSONL records, reconciliation pages) -> ImportOrder commands.

The GraphQL twin of integrations/shopify/translate.py: the same facts, named as the order webhooks name them, so history and
missed orders go through the same rules. Only this module knows the GraphQL shape of an order.
"""
from __future__ import annotations

from decimal import Decimal

from integrations.shopify.translate import BadPayload, _int, _name, _tags, _time
from loyalty.domain.commands import CustomerProfile, ImportOrder, OrderFacts, OrderLine, Payment, RecordRefund
from loyalty.domain import earning

PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
"""displayFinancialStatus of an order that was paid in full at some point (what fires orders/paid)."""


def legacy_id(gid, field: str = "id") -> int:
    """123 from "gid://shopify/Order/123" (or from 123)."""
    text = str(gid or "").rsplit("/", 1)[-1].split("?", 1)[0]
    return _int({field: text}, field)


def import_order(node: dict, children: list | None = None) -> ImportOrder:
    """The ImportOrder of one GraphQL order; `children` are its bulk JSONL child lines (line items)."""
    if not isinstance(node, dict):
        raise BadPayload("order: expected an object")
    if children is not None:
        line_items = [c for c in children if c.get("__typename") == "LineItem"]
        shipping_lines = [c for c in children if c.get("__typename") == "ShippingLine"]
    else:
        line_items = (node.get("lineItems") or {}).get("nodes") or []
        shipping_lines = (node.get("shippingLines") or {}).get("nodes") or []
    customer = node.get("customer") or {}
    lines = [(item, _line(item)) for item in line_items]
    facts = OrderFacts(
        order_id=legacy_id(node.get("id")),
        name=node.get("name"),
        customer_id=legacy_id(customer["id"], "customer.id") if customer.get("id") else None,
        email=node.get("email") or customer.get("email") or None,
        customer_tags=tuple(str(t).strip() for t in customer.get("tags") or () if str(t).strip()),
        is_b2b=(node.get("purchasingEntity") or {}).get("__typename") == "PurchasingCompany",
        source_name=node.get("sourceName"),
        test=bool(node.get("test")),
        processed_at=_time(node, "processedAt", fallback="createdAt"),
        currency=node.get("currencyCode"),
        merchandise=earning.merchandise(amounts for _, amounts in lines),
        gateways=tuple(str(g) for g in node.get("paymentGatewayNames") or ()),
        discount_codes=tuple(str(c) for c in node.get("discountCodes") or () if c),
        shipping=sum((_shop_money(line, "discountedPriceSet") for line in shipping_lines), Decimal(0)),
        tax=sum((_shop_money(t, "priceSet") for item in line_items for t in item.get("taxLines") or ()), Decimal(0)),
        taxes_included=node.get("taxesIncluded") is not False,
        lines=tuple(OrderLine(_product(item), earning.line_amount(*amounts)) for item, amounts in lines),
        profile=_profile(customer),
    )
    refunds, to_fetch = [], []
    for raw in node.get("refunds") or ():
        refund_id, created_at = legacy_id(raw.get("id"), "refunds.id"), _time(raw, "createdAt")
        items = (raw.get("refundLineItems") or {}).get("nodes")
        if items is None:
            to_fetch.append((refund_id, created_at))
        else:
            refunds.append(RecordRefund(refund_id, facts.order_id, refund_merchandise(items), created_at))
    return ImportOrder(
        facts=facts,
        paid=node.get("displayFinancialStatus") in PAID_STATUSES,
        payments=tuple(_payment(t) for t in node.get("transactions") or ()),
        refunds=tuple(refunds),
        cancelled_at=_time(node, "cancelledAt") if node.get("cancelledAt") else None,
        refunds_to_fetch=tuple(to_fetch),
    )


def _profile(customer: dict) -> CustomerProfile | None:
    """The GraphQL customer's names and tags (a list); None without a customer or any of those fields."""
    if not any(key in customer for key in ("firstName", "lastName", "tags")):
        return None
    return CustomerProfile(_name(customer, "firstName"), _name(customer, "lastName"), _tags(customer.get("tags") or ()))


def refund_merchandise(refund_line_items: list) -> Decimal:
    """Merchandise a refund gives back: the sum of its lines' subtotals (shop money)."""
    return sum((_shop_money(item, "subtotalSet") for item in refund_line_items), Decimal(0))


def _line(item: dict) -> tuple[Decimal, int, Decimal]:
    """A line item's (price, quantity, discounts), as loyalty.domain.earning sums them."""
    quantity = _int(item, "quantity")
    if quantity < 0:
        raise BadPayload("lineItems.quantity: negative")
    discounts = sum((_shop_money(d, "allocatedAmountSet") for d in item.get("discountAllocations") or ()),
                    Decimal(0))
    return _shop_money(item, "originalUnitPriceSet"), quantity, discounts


def _product(item: dict) -> int | None:
    """A line item's product id (None for a custom item, or a product deleted since)."""
    product = item.get("product")
    return legacy_id(product.get("id"), "lineItems.product.id") if isinstance(product, dict) and product.get("id") else None


def _payment(raw: dict) -> Payment:
    return Payment(gateway=raw.get("gateway") or "", kind=str(raw.get("kind", "")).lower(),
                   status=str(raw.get("status", "")).lower(), amount=_shop_money(raw, "amountSet"))


def _shop_money(obj: dict, key: str) -> Decimal:
    try:
        raw = obj[key]["shopMoney"]["amount"]
        amount = Decimal(str(raw))
    except (KeyError, TypeError, ArithmeticError, ValueError):
        raise BadPayload(f"{key}.shopMoney.amount: missing or not an amount") from None
    if not amount.is_finite() or abs(amount) > Decimal("1e12"):
        raise BadPayload(f"{key}.shopMoney.amount: {raw!r} is not a plausible amount")
    return amount
