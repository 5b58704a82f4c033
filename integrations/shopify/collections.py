"""Collections over the Admin API: the app's full-price smart collection (made, found again), a
selection's products and variants for a free item the customer picks, and every product of a collection
(campaigns limited to a collection multiply its products' lines).

No business rules: the caller says which collection and when to make one.
"""
from __future__ import annotations

from decimal import Decimal

from integrations.shopify import documents
from integrations.shopify.errors import raise_for_user_errors
from integrations.shopify.translate_graphql import legacy_id
from loyalty.domain.offers import PickedItem

FULL_PRICE_RULES = {"appliedDisjunctively": False,
                    "rules": [{"column": "IS_PRICE_REDUCED", "relation": "IS_NOT_SET", "condition": ""}]}
"""Products with at least one variant whose compare-at price is not set (Shopify's own wording of the
IS_PRICE_REDUCED / IS_NOT_SET rule): a smart collection, so Shopify keeps it up to date as prices change."""


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def numeric_id(value: str) -> int:
    """The number at the end of a gid."""
    return int(str(value).rsplit("/", 1)[-1])


def create_full_price_collection(client, title: str) -> int:
    """Make the smart collection of full-price products; returns its numeric id."""
    data = client.execute(documents.COLLECTION_CREATE, {"input": {"title": title, "ruleSet": FULL_PRICE_RULES}})
    result = raise_for_user_errors(data["collectionCreate"], client.shop, "CollectionCreate")
    return numeric_id(result["collection"]["id"])


def collection_exists(client, collection_id: int) -> bool:
    """Whether the collection is still there (the merchant may have deleted it)."""
    return client.execute(documents.COLLECTION_BY_ID, {"id": gid("Collection", collection_id)})["collection"] is not None


def picked_variant(client, variant_id: int, collection_id: int) -> PickedItem | None:
    """The variant a customer picked, its price, and whether it belongs to the selection; None if unknown."""
    node = client.execute(documents.VARIANT_IN_SELECTION, {"id": gid("ProductVariant", variant_id),
                                                           "collection": gid("Collection", collection_id)})
    variant = node["productVariant"]
    if variant is None:
        return None
    return PickedItem(variant_id=variant_id, title=variant["displayName"], price=Decimal(str(variant["price"])),
                      in_selection=bool(variant["product"]["inCollection"]))


def selection_items(client, collection_id: int) -> list[dict]:
    """The variants for sale in a selection, as {"variant_id", "title", "price"} (price a decimal string);
    [] when the collection is gone."""
    collection = client.execute(documents.SELECTION_PRODUCTS, {"id": gid("Collection", collection_id)})["collection"]
    if collection is None:
        return []
    items = []
    for product in collection["products"]["nodes"]:
        variants = [v for v in product["variants"]["nodes"] if v["availableForSale"]]
        for variant in variants:
            title = product["title"] if len(product["variants"]["nodes"]) == 1 else variant["displayName"]
            items.append({"variant_id": numeric_id(variant["id"]), "title": title, "price": str(variant["price"])})
    return items


def fetch_collection_products(client, collection_id: int) -> list[int] | None:
    """The ids of every product in the collection (all pages); None when Shopify has no such collection."""
    products, after = [], None
    while True:
        found = client.execute(documents.COLLECTION_PRODUCTS, {"id": gid("Collection", collection_id), "after": after})
        collection = found.get("collection")
        if collection is None:
            return None
        page = collection["products"]
        products += [legacy_id(node["id"], "products.id") for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return products
        after = page["pageInfo"]["endCursor"]
