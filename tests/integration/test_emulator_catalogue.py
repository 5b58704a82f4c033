"""The emulator's products, collections and free shipping codes, driven by the app's real client and
documents (integrations.shopify.collections, discounts) through an in-process WSGI transport."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from integrations.shopify import collections, discounts
from integrations.shopify.errors import ShopifyUserErrors
from tests.integration.test_emulator import SHOP, admin_client, clock, emulator, session  # noqa: F401

COLLECTION_CREATE = """
mutation Make($input: CollectionInput!) {
  collectionCreate(input: $input) { collection { id } userErrors { field message } }
}
"""


@pytest.fixture
def shop_with_products(emulator):
    emulator.add_product(SHOP, 601, "Briefs", [{"id": 6011, "title": "S", "price": "35"},
                                               {"id": 6012, "title": "M", "price": "35", "compare_at_price": "50"}])
    emulator.add_product(SHOP, 604, "Jacket", [{"id": 6041, "price": "80", "compare_at_price": "120"}])
    emulator.add_product(SHOP, 605, "Cap", [{"id": 6051, "price": "15", "available": False}])
    emulator.add_collection(SHOP, 5001, [601, 605], title="Picks")
    return emulator


@pytest.fixture
def client(session, clock):  # noqa: F811
    return admin_client(session, clock)


def terms(**changes):
    given = {"code": "LOY-FREE", "title": "Loyalty voucher", "amount": Decimal("0"), "customer_id": 7,
             "starts_at": datetime(2025, 6, 1, tzinfo=timezone.utc),
             "ends_at": datetime(2025, 7, 1, tzinfo=timezone.utc)}
    return discounts.CodeTerms(**{**given, **changes})


def test_full_price_smart_collection_holds_products_with_a_variant_at_full_price(client, shop_with_products):
    """IS_PRICE_REDUCED / IS_NOT_SET: briefs (one size at full price) and the cap are in, the jacket (on sale)
    is not; the collection follows price changes, as a smart collection does."""
    made = collections.create_full_price_collection(client, "Full price")
    [smart] = [c for c in shop_with_products.collections(SHOP) if c["id"] == made]
    assert smart["smart"] and smart["product_ids"] == [601, 605]
    shop_with_products.add_product(SHOP, 604, "Jacket", [{"id": 6041, "price": "120"}])  # back to full price
    assert [c for c in shop_with_products.collections(SHOP) if c["id"] == made][0]["product_ids"] == [601, 604, 605]
    assert collections.collection_exists(client, made)
    shop_with_products.delete_collection(SHOP, made)
    assert not collections.collection_exists(client, made)


def test_collection_create_refuses_what_shopify_refuses(client, shop_with_products):
    """A blank title, a presence relation on a text column, products on a smart collection: userErrors,
    nothing made."""
    cases = [
        ({"title": " ", "ruleSet": collections.FULL_PRICE_RULES}, ["title"]),
        ({"title": "T", "ruleSet": {"appliedDisjunctively": False,
                                    "rules": [{"column": "TITLE", "relation": "IS_SET", "condition": ""}]}},
         ["ruleSet", "rules", "0", "relation"]),
        ({"title": "T", "ruleSet": collections.FULL_PRICE_RULES, "products": ["gid://shopify/Product/601"]},
         ["products"]),
        ({"title": "T", "ruleSet": {"appliedDisjunctively": False, "rules": []}}, ["ruleSet", "rules"]),
    ]
    before = len(shop_with_products.collections(SHOP))
    for data, field in cases:
        payload = client.execute(COLLECTION_CREATE, {"input": data})["collectionCreate"]
        assert payload["collection"] is None and payload["userErrors"][0]["field"] == field, data
    assert len(shop_with_products.collections(SHOP)) == before


def test_a_picked_variant_says_its_price_and_whether_it_is_in_the_selection(client, shop_with_products):
    picked = collections.picked_variant(client, 6012, 5001)
    assert (picked.title, picked.price, picked.in_selection) == ("Briefs - M", Decimal("35.00"), True)
    assert collections.picked_variant(client, 6041, 5001).in_selection is False
    assert collections.picked_variant(client, 6041, 424242).in_selection is False  # selection deleted
    assert collections.picked_variant(client, 999, 5001) is None


def test_a_selection_lists_its_variants_for_sale(client, shop_with_products):
    """The cap, not for sale, is left out; a product with several variants names each."""
    assert collections.selection_items(client, 5001) == [
        {"variant_id": 6011, "title": "Briefs - S", "price": "35.00"},
        {"variant_id": 6012, "title": "Briefs - M", "price": "35.00"}]
    assert collections.selection_items(client, 424242) == []


def test_free_shipping_and_variant_codes_are_made_and_checked(client, shop_with_products):
    """A free shipping code; a code for one variant; a code for an unknown variant or a taken code refused."""
    discounts.create_free_shipping_code(client, terms())
    discounts.create_code(client, terms(code="LOY-ITEM", amount=Decimal("35"), variant_id=6012))
    stored = {d["code"]: d for d in shop_with_products.discount_codes(SHOP)}
    assert stored["LOY-FREE"]["kind"] == "free_shipping" and stored["LOY-FREE"]["customer_ids"] == [7]
    assert stored["LOY-ITEM"]["variant_ids"] == [6012] and stored["LOY-ITEM"]["amount"] == "35.0"
    with pytest.raises(ShopifyUserErrors, match="variant"):
        discounts.create_code(client, terms(code="LOY-NONE", amount=Decimal("5"), variant_id=999))
    with pytest.raises(ShopifyUserErrors, match="unique"):
        discounts.create_free_shipping_code(client, terms())
    assert discounts.find_code(client, "loy-free") is not None


def test_a_percentage_code_is_sent_as_a_fraction(client, shop_with_products):
    discounts.create_code(client, terms(code="LOY-PCT", percentage=Decimal("15")))
    [code] = shop_with_products.discount_codes(SHOP)
    assert code["percentage"] == 0.15 and code["amount"] is None
