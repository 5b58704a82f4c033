"""Read an order's payment transactions; parsing only, no loyalty rules."""
from dataclasses import dataclass
from decimal import Decimal

from integrations.shopify.documents import ORDER_TRANSACTIONS


@dataclass(frozen=True)
class Transaction:
    """One order transaction, amounts in the shop's currency."""

    gateway: str
    kind: str
    status: str
    amount: Decimal
    currency: str


def order_gid(order_id):
    """The Admin GraphQL global id of a REST/webhook order id."""
    return f"gid://shopify/Order/{int(order_id)}"


def fetch_order_transactions(client, order_id):
    """Return the order's transactions; an order Shopify cannot find has none."""
    data = client.execute(ORDER_TRANSACTIONS, {"id": order_gid(order_id)})
    order = data.get("order")
    if order is None:
        return []
    return [_parse_transaction(raw) for raw in order.get("transactions") or []]


def _parse_transaction(raw):
    """Build a Transaction from one GraphQL node; money comes as a decimal string."""
    money = raw["amountSet"]["shopMoney"]
    return Transaction(
        # `gateway` is nullable in the schema; "" keeps the field a plain str.
        gateway=raw.get("gateway") or "",
        kind=raw["kind"].lower(),
        status=raw["status"].lower(),
        amount=Decimal(money["amount"]),
        currency=money["currencyCode"],
    )
