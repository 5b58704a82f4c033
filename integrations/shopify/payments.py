"""Read orders' payment transactions; parsing only, no loyalty rules."""
from dataclasses import dataclass
from decimal import Decimal

from integrations.shopify.documents import ORDER_TRANSACTIONS, ORDERS_TRANSACTIONS

ORDERS_PER_REQUEST = 16
"""Orders whose transactions one request reads: 16 x (1 order + 20 x 3 transaction objects) = 976 points,
under Shopify's single-query maximum of 1,000."""
TRANSACTIONS_PER_ORDER = 20
"""ORDERS_TRANSACTIONS' `first`: an order answered with this many may have more, and is read alone."""


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


def fetch_orders_transactions(client, order_ids):
    """Return {order id: its transactions} for every id, ORDERS_PER_REQUEST orders a request (one round
    trip instead of one per order); an order Shopify cannot find has none. An error raises for the whole
    call, as fetch_order_transactions does for one order."""
    wanted = list(dict.fromkeys(int(i) for i in order_ids))
    found = {}
    for first in range(0, len(wanted), ORDERS_PER_REQUEST):
        chunk = wanted[first:first + ORDERS_PER_REQUEST]
        nodes = client.execute(ORDERS_TRANSACTIONS, {"ids": [order_gid(i) for i in chunk]}).get("nodes")
        if not isinstance(nodes, list) or len(nodes) != len(chunk):
            raise ValueError(f"OrdersTransactions answered {len(chunk)} ids with {nodes!r:.80}")
        for order_id, node in zip(chunk, nodes):
            raw = (node or {}).get("transactions") or []
            if len(raw) >= TRANSACTIONS_PER_ORDER:  # perhaps cut short: read this one whole
                found[order_id] = fetch_order_transactions(client, order_id)
            else:
                found[order_id] = [_parse_transaction(t) for t in raw]
    return found


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
