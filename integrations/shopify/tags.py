"""Customer tags over the Admin API (tagsAdd / tagsRemove): how status perks show in Shopify."""
from __future__ import annotations

from integrations.shopify import documents
from integrations.shopify.errors import raise_for_user_errors


def add_customer_tags(client, customer_id: int, tags: list[str]) -> None:
    """Add tags to a customer (tags already there stay as they are)."""
    data = client.execute(documents.TAGS_ADD, {"id": f"gid://shopify/Customer/{customer_id}", "tags": tags})
    raise_for_user_errors(data["tagsAdd"], client.shop, "TagsAdd")


def remove_customer_tags(client, customer_id: int, tags: list[str]) -> None:
    """Remove tags from a customer (tags it does not have are ignored)."""
    data = client.execute(documents.TAGS_REMOVE, {"id": f"gid://shopify/Customer/{customer_id}", "tags": tags})
    raise_for_user_errors(data["tagsRemove"], client.shop, "TagsRemove")
