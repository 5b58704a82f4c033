"""Discount codes over the Admin API: create a basic code discount, find one by code, deactivate it.

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
    """What a single-use, customer-bound, fixed-amount code allows."""

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
    """A percentage off (10 for 10 %) instead of `amount`."""


def basic_code_input(terms: CodeTerms) -> dict:
    """The DiscountCodeBasicInput: one use, this customer only, combining with other discounts only when
    the terms say so."""
    items = ({"collections": {"add": [f"gid://shopify/Collection/{terms.collection_id}"]}}
             if terms.collection_id else {"all": True})
    data = {
        "title": terms.title, "code": terms.code,
        "startsAt": terms.starts_at.isoformat(), "endsAt": terms.ends_at.isoformat(),
        "context": ({"customers": {"add": [f"gid://shopify/Customer/{terms.customer_id}"]}}
                    if terms.customer_id is not None else {"all": "ALL"}),
        "customerGets": {"value": ({"percentage": float(terms.percentage / 100)} if terms.percentage else
                                   {"discountAmount": {"amount": str(terms.amount), "appliesOnEachItem": False}}),
                         "items": items},
        "usageLimit": 1, "appliesOncePerCustomer": True,
        "combinesWith": {"orderDiscounts": terms.combines, "productDiscounts": terms.combines,
                         "shippingDiscounts": terms.combines},
    }
    if terms.minimum_subtotal:
        data["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": str(terms.minimum_subtotal)}}
    return data


def create_code(client, terms: CodeTerms) -> str:
    """Create the code discount; returns its id (raises ShopifyUserErrors when Shopify refuses)."""
    data = client.execute(documents.DISCOUNT_CODE_BASIC_CREATE, {"basicCodeDiscount": basic_code_input(terms)})
    result = raise_for_user_errors(data["discountCodeBasicCreate"], client.shop, "DiscountCodeBasicCreate")
    return result["codeDiscountNode"]["id"]


def create_or_find_code(client, terms: CodeTerms) -> str:
    """create_code, safe to retry: when Shopify refuses it, the code an earlier attempt made (the code is
    derived from the request), else the refusal (ShopifyUserErrors)."""
    try:
        return create_code(client, terms)
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
