"""fetch_order_transactions: the query it sends and how it parses the answer."""
import json
from decimal import Decimal

import responses

from integrations.shopify.client import AdminClient
from integrations.shopify.payments import Transaction, fetch_order_transactions

SHOP = "demo.myshopify.com"
URL = f"https://{SHOP}/admin/api/2025-10/graphql.json"


def _transaction(gateway, kind, status, amount, currency="EUR"):
    """One transaction node as the Admin API returns it."""
    return {
        "gateway": gateway,
        "kind": kind,
        "status": status,
        "amountSet": {"shopMoney": {"amount": amount, "currencyCode": currency}},
    }


def _client():
    """A client that never really sleeps."""
    return AdminClient(SHOP, "t", sleep=lambda seconds: None)


@responses.activate
def test_transactions_are_parsed_with_decimal_amounts_and_lowercase_enums():
    """Amounts become exact Decimals from their strings; kind/status enums are lower-cased."""
    order = {"id": "gid://shopify/Order/450789469", "transactions": [
        _transaction("gift_card", "SALE", "SUCCESS", "10.10"),
        _transaction("shopify_payments", "SALE", "SUCCESS", "89.90"),
        _transaction("shopify_payments", "REFUND", "FAILURE", "5.00"),
        _transaction(None, "CAPTURE", "PENDING", "0.1"),
    ]}
    responses.post(URL, json={"data": {"order": order}})
    transactions = fetch_order_transactions(_client(), 450789469)
    assert transactions == [
        Transaction("gift_card", "sale", "success", Decimal("10.10"), "EUR"),
        Transaction("shopify_payments", "sale", "success", Decimal("89.90"), "EUR"),
        Transaction("shopify_payments", "refund", "failure", Decimal("5.00"), "EUR"),
        Transaction("", "capture", "pending", Decimal("0.1"), "EUR"),
    ]


@responses.activate
def test_the_order_id_is_sent_as_a_global_id():
    """The numeric order id is sent as gid://shopify/Order/{id} with the OrderTransactions query."""
    responses.post(URL, json={"data": {"order": {"id": "x", "transactions": []}}})
    assert fetch_order_transactions(_client(), 450789469) == []
    body = json.loads(responses.calls[0].request.body)
    assert body["variables"] == {"id": "gid://shopify/Order/450789469"}
    assert "query OrderTransactions(" in body["query"]


@responses.activate
def test_an_order_shopify_cannot_find_has_no_transactions():
    """A null order (deleted, or not visible to the app) gives an empty list."""
    responses.post(URL, json={"data": {"order": None}})
    assert fetch_order_transactions(_client(), 1) == []
