"""Customer metafields over the Admin API (metafieldsSet: at most 25 per call)."""
from __future__ import annotations

from integrations.shopify import documents
from integrations.shopify.errors import raise_for_user_errors

MAX_PER_CALL = 25
"""Shopify's limit of metafields in one metafieldsSet call."""


def integer_metafield(customer_id: int, namespace: str, key: str, value: int) -> dict:
    """One MetafieldsSetInput: an integer on a customer."""
    return {"ownerId": f"gid://shopify/Customer/{customer_id}", "namespace": namespace, "key": key,
            "type": "number_integer", "value": str(int(value))}


def set_metafields(client, metafields: list[dict]) -> int:
    """Write metafields in calls of 25; returns how many calls were made."""
    calls = 0
    for start in range(0, len(metafields), MAX_PER_CALL):
        data = client.execute(documents.METAFIELDS_SET, {"metafields": metafields[start:start + MAX_PER_CALL]})
        raise_for_user_errors(data["metafieldsSet"], client.shop, "MetafieldsSet")
        calls += 1
    return calls
