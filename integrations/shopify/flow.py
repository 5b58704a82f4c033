"""Shopify Flow triggers over the Admin API (flowTriggerReceive)."""
from __future__ import annotations

from integrations.shopify import documents
from integrations.shopify.errors import raise_for_user_errors


def send_trigger(client, handle: str, payload: dict) -> None:
    """Run the shop's workflows that start with trigger `handle`, with `payload` (the customer reference and
    the extension's fields). ShopifyUserErrors when Flow refuses it (unknown handle, payload too large):
    sending it again would be refused again."""
    data = client.execute(documents.FLOW_TRIGGER_RECEIVE, {"handle": handle, "payload": payload})
    raise_for_user_errors(data["flowTriggerReceive"], client.shop, "FlowTriggerReceive")
