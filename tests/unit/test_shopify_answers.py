"""Reading the Admin API's answers without a request: userErrors and operation names
(integrations.shopify), split from tests/integration/test_shopify_client.py, which drives the client."""
from __future__ import annotations

import pytest

from integrations.shopify.client import operation_name
from integrations.shopify.errors import ShopifyUserErrors, raise_for_user_errors

SHOP = "demo.myshopify.com"


def test_operation_name_is_parsed_from_the_document():
    """The operation name comes from the document; unnamed documents are 'anonymous'."""
    assert operation_name("\n  query OrderTransactions($id: ID!) { x }") == "OrderTransactions"
    assert operation_name("# why\nmutation DiscountCreate { x }") == "DiscountCreate"
    assert operation_name("{ shop { id } }") == "anonymous"


def test_raise_for_user_errors_returns_a_clean_payload():
    """A payload with an empty userErrors list is returned unchanged."""
    payload = {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}
    assert raise_for_user_errors(payload, SHOP, "DiscountCreate") is payload


def test_raise_for_user_errors_lists_fields_and_messages():
    """userErrors in a mutation payload raise ShopifyUserErrors with field paths and messages."""
    payload = {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "code"], "message": "Code must be unique", "code": "TAKEN"},
    ]}
    with pytest.raises(ShopifyUserErrors) as caught:
        raise_for_user_errors(payload, SHOP, "DiscountCreate")
    error = caught.value.user_errors[0]
    assert error.field == ("basicCodeDiscount", "code") and error.message == "Code must be unique"
    assert "basicCodeDiscount.code: Code must be unique" in str(caught.value)
    assert SHOP in str(caught.value) and "DiscountCreate" in str(caught.value)
