"""Discount codes over the Admin API: create a basic code discount (an amount or a percentage off, on
everything, a collection or one product variant) or a free shipping code, find one by code, deactivate it.

No business rules here: the caller says who, how much, for how long, with which limits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from integrations.shopify import documents
from integrations.shopify.errors import ShopifyUserErrors, raise_for_user_errors


@dataclass(frozen=True)
class CodeTerms:
    """What a single-use, customer-bound code allows: `amount` off, or `percentage` off when given."""

    code: str
    title: str
    amount: Decimal
    customer_id: int | None
    """The only customer who may use it; None: anyone holding the code (a referred friend without an
    account yet), still once."""
    starts_at: datetime
    ends_at: datetime
    minimum_subtotal: Decimal | None = None
    collection_id: int | None = None
    """Only products of this collection (e.g. the merchant's full-price items); None: every product."""
    combines: bool = False
    """Combines with other product, order and shipping discounts (False: one code per order)."""
    percentage: Decimal | None = None
    """Percentage off (1-100) instead of `amount` off."""
    variant_id: int | None = None
    """Only this product variant (a picked free item: `amount` is its price, taken once per order)."""


def _items(terms: CodeTerms) -> dict:
    """What the code applies to: one variant, a collection, or everything."""
    if terms.variant_id:
        return {"products": {"productVariantsToAdd": [f"gid://shopify/ProductVariant/{terms.variant_id}"]}}
    if terms.collection_id:
        return {"collections": {"add": [f"gid://shopify/Collection/{terms.collection_id}"]}}
    return {"all": True}


def _shared(terms: CodeTerms) -> dict:
    """What every code of ours says: its title and code, its dates, this customer only, one use, and what it
    combines with."""
    return {
        "title": terms.title, "code": terms.code,
        "startsAt": terms.starts_at.isoformat(), "endsAt": terms.ends_at.isoformat(),
        "context": ({"customers": {"add": [f"gid://shopify/Customer/{terms.customer_id}"]}}
                    if terms.customer_id is not None else {"all": "ALL"}),  # a referred friend's code: anyone holding it
        "usageLimit": 1, "appliesOncePerCustomer": True,
        "combinesWith": {"orderDiscounts": terms.combines, "productDiscounts": terms.combines,
                         "shippingDiscounts": terms.combines},
    }


def basic_code_input(terms: CodeTerms) -> dict:
    """The DiscountCodeBasicInput: one use, this customer only, combining with other discounts only when
    the terms say so."""
    # appliesOnEachItem False: the amount is taken once per order, so a picked free item is one unit free
    # however many the cart holds. Shopify takes a percentage as a fraction (0.1 for 10 %).
    value = ({"percentage": float(terms.percentage / 100)} if terms.percentage is not None
             else {"discountAmount": {"amount": str(terms.amount), "appliesOnEachItem": False}})
    data = {**_shared(terms), "customerGets": {"value": value, "items": _items(terms)}}
    if terms.minimum_subtotal:
        data["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(terms.minimum_subtotal)}}
    return data


def create_code(client, terms: CodeTerms) -> str:
    """Create the code discount; returns its id (raises ShopifyUserErrors when Shopify refuses)."""
    data = client.execute(documents.DISCOUNT_CODE_BASIC_CREATE, {"basicCodeDiscount": basic_code_input(terms)})
    result = raise_for_user_errors(data["discountCodeBasicCreate"], client.shop, "DiscountCodeBasicCreate")
    return result["codeDiscountNode"]["id"]


def create_or_find_code(client, terms: CodeTerms, create=None) -> str:
    """`create` (create_code, or create_free_shipping_code), safe to retry: when Shopify refuses it, the code
    an earlier attempt made (the code is derived from the request), else the refusal (ShopifyUserErrors)."""
    try:
        return (create or create_code)(client, terms)
    except ShopifyUserErrors:
        made_id = find_code(client, terms.code)
        if made_id is None:
            raise
        return made_id


def find_code(client, code: str) -> str | None:
    """The id of the code discount using `code`, or None."""
    node = client.execute(documents.CODE_DISCOUNT_BY_CODE, {"code": code})["codeDiscountNodeByCode"]
    return node["id"] if node else None


def deactivate_code(client, discount_id: str) -> None:
    """Deactivate a code discount so it can no longer be used."""
    data = client.execute(documents.DISCOUNT_CODE_DEACTIVATE, {"id": discount_id})
    raise_for_user_errors(data["discountCodeDeactivate"], client.shop, "DiscountCodeDeactivate")


def free_shipping_input(terms: CodeTerms) -> dict:
    """The DiscountCodeFreeShippingInput: free shipping to every destination, one use, this customer only
    (the basic code's limits, without an amount or a collection)."""
    basic = basic_code_input(terms)
    data = {key: basic[key] for key in ("title", "code", "startsAt", "endsAt", "context", "usageLimit",
                                         "appliesOncePerCustomer", "combinesWith")}
    data["destination"] = {"all": True}
    if "minimumRequirement" in basic:
        data["minimumRequirement"] = basic["minimumRequirement"]
    return data


def create_free_shipping_code(client, terms: CodeTerms) -> str:
    """Create a free shipping code discount; returns its id (raises ShopifyUserErrors when Shopify refuses)."""
    data = client.execute(documents.DISCOUNT_CODE_FREE_SHIPPING_CREATE, {"freeShippingCodeDiscount":
                                                                         free_shipping_input(terms)})
    result = raise_for_user_errors(data["discountCodeFreeShippingCreate"], client.shop,
                                   "DiscountCodeFreeShippingCreate")
    return result["codeDiscountNode"]["id"]
