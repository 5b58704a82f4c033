"""fetch_order_transactions and fetch_orders_transactions: the queries they send and how they parse the answer."""
import json
from decimal import Decimal

import responses

from integrations.shopify.client import AdminClient
from integrations.shopify.payments import (ORDERS_PER_REQUEST, TRANSACTIONS_PER_ORDER, Transaction,
                                           fetch_order_transactions, fetch_orders_transactions)

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


def _node(order_id, *transactions):
    return {"id": f"gid://shopify/Order/{order_id}", "transactions": list(transactions)}


@responses.activate
def test_many_orders_are_read_a_few_per_request_in_the_order_asked():
    """20 orders take two OrdersTransactions requests (16 ids, then 4); each answer is matched to its id by
    position, and an order Shopify cannot find (a null node) has no transactions."""
    ids = list(range(1, 21))

    def answer(request):
        asked = json.loads(request.body)["variables"]["ids"]
        nodes = [None if gid.endswith("/7") else _node(gid.rsplit("/", 1)[1], _transaction(
            "gift_card", "SALE", "SUCCESS", gid.rsplit("/", 1)[1])) for gid in asked]
        return 200, {}, json.dumps({"data": {"nodes": nodes}})

    responses.add_callback(responses.POST, URL, callback=answer)
    found = fetch_orders_transactions(_client(), ids + [3])  # a repeated id is asked once
    sent = [json.loads(call.request.body) for call in responses.calls]
    assert [len(body["variables"]["ids"]) for body in sent] == [ORDERS_PER_REQUEST, 4]
    assert all("query OrdersTransactions(" in body["query"] for body in sent)
    assert set(found) == set(ids)
    assert found[7] == []
    assert found[12] == [Transaction("gift_card", "sale", "success", Decimal("12"), "EUR")]


@responses.activate
def test_an_order_that_fills_the_page_is_read_again_whole():
    """An order answered with TRANSACTIONS_PER_ORDER transactions may have more: it is read alone with
    OrderTransactions (first: 100), whose answer is the one kept."""
    full = [_transaction("gift_card", "SALE", "SUCCESS", "1.00")] * TRANSACTIONS_PER_ORDER
    whole = full + [_transaction("shopify_payments", "SALE", "SUCCESS", "5.00")]
    responses.post(URL, json={"data": {"nodes": [_node(1, *full), _node(2)]}})
    responses.post(URL, json={"data": {"order": _node(1, *whole)}})
    found = fetch_orders_transactions(_client(), [1, 2])
    assert len(found[1]) == TRANSACTIONS_PER_ORDER + 1 and found[2] == []
    assert json.loads(responses.calls[1].request.body)["variables"] == {"id": "gid://shopify/Order/1"}
