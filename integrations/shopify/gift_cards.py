"""Gift cards over the Admin API (giftCardCreate), for rewards paid as a gift card.

No business rules: the caller gives the code (derived from its request key, so a retry finds it taken
instead of issuing a second card), the value and the customer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from integrations.shopify import documents
from integrations.shopify.errors import ShopifyUserErrors, raise_for_user_errors


@dataclass(frozen=True)
class GiftCardTerms:
    code: str
    """8-20 letters and digits."""
    value: Decimal
    customer_id: int
    note: str
    expires_on: date | None = None


def create_gift_card(client, terms: GiftCardTerms) -> str | None:
    """Issue the card; returns its id, or None when this code exists already (an earlier attempt made it).

    Other refusals raise ShopifyUserErrors.
    """
    card = {"code": terms.code, "initialValue": str(terms.value), "note": terms.note,
            "customerId": f"gid://shopify/Customer/{terms.customer_id}"}
    if terms.expires_on:
        card["expiresOn"] = terms.expires_on.isoformat()
    data = client.execute(documents.GIFT_CARD_CREATE, {"input": card})
    try:
        result = raise_for_user_errors(data["giftCardCreate"], client.shop, "GiftCardCreate")
    except ShopifyUserErrors as exc:
        if [e.code for e in exc.user_errors] == ["TAKEN"]:
            return None
        raise
    return result["giftCard"]["id"]
