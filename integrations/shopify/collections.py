"""Read the products of a collection (campaigns limited to a collection multiply its products' lines)."""
from __future__ import annotations

from integrations.shopify.documents import COLLECTION_PRODUCTS
from integrations.shopify.translate_graphql import legacy_id


def collection_gid(collection_id: int) -> str:
    """The Admin GraphQL global id of a collection id."""
    return f"gid://shopify/Collection/{int(collection_id)}"


def fetch_collection_products(client, collection_id: int) -> list[int] | None:
    """The ids of every product in the collection (all pages); None when Shopify has no such collection."""
    products, after = [], None
    while True:
        found = client.execute(COLLECTION_PRODUCTS, {"id": collection_gid(collection_id), "after": after})
        collection = found.get("collection")
        if collection is None:
            return None
        page = collection["products"]
        products += [legacy_id(node["id"], "products.id") for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return products
        after = page["pageInfo"]["endCursor"]
