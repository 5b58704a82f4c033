"""Products and collections by title or by id over the Admin API, for the programme editor's picker.

No business rules: the caller says what to look for and how many.
"""
from __future__ import annotations

import re

from integrations.shopify import documents
from integrations.shopify.collections import gid, numeric_id

KINDS = {"collection": ("Collection", documents.COLLECTIONS_SEARCH, "collections"),
         "product": ("Product", documents.PRODUCTS_SEARCH, "products")}
"""kind -> (GraphQL type, search document, root field)."""
_SYNTAX = re.compile(r"[\\\"'():*<>=]")
"""Characters of Shopify's search syntax, dropped from what the merchant typed (so text stays text)."""


def search_query(text: str) -> str | None:
    """Shopify's search syntax for titles with words starting with each word typed (`title:lin* title:sh*`);
    None (everything) for blank text."""
    words = _SYNTAX.sub(" ", text).split()
    return " ".join(f"title:{word}*" for word in words) or None


def search(client, kind: str, text: str, first: int) -> list[dict]:
    """Up to `first` resources of `kind` whose title matches `text`, by title: [{"id", "title"}]."""
    _, document, root = KINDS[kind]
    found = client.execute(document, {"query": search_query(text), "first": first})[root]["nodes"]
    return [{"id": numeric_id(node["id"]), "title": node["title"]} for node in found]


def titles(client, kind: str, ids: list[int]) -> list[dict]:
    """Each id's {"id", "title"} in the order asked; title None when Shopify has no such resource."""
    typename = KINDS[kind][0]
    nodes = client.execute(documents.RESOURCES_BY_ID, {"ids": [gid(typename, n) for n in ids]})["nodes"]
    return [{"id": number, "title": node.get("title") if node else None} for number, node in zip(ids, nodes)]
