"""Products and collections to pick in the programme editor, read from the shop's Admin API as the merchant
types (the picker used outside Shopify's admin, where App Bridge's resource picker is not available), and
the titles of those a programme names, through the caller's `client_factory(ctx, shop, conn)`. Nothing is stored: Shopify is asked each time, outside any
transaction; its refusals (ShopifyError) and an unusable token (ShopGone) reach the caller."""
from __future__ import annotations

from integrations.shopify import resources
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import UnitOfWork

RESOURCE_KINDS = tuple(resources.KINDS)
"""`collection`, `product`."""
SEARCH_LIMIT = 20
"""Resources a search answers: a picker's list, the merchant narrows it by typing."""
IDS_LIMIT = 50
"""Ids whose titles one request may ask (a programme names a few collections)."""


def _client(shop: ShopRef, uow: UnitOfWork, client_factory):
    with uow:
        return client_factory(uow.ctx, shop, uow.conn)


def find_resources(shop: ShopRef, kind: str, text: str, uow: UnitOfWork, client_factory) -> list[dict]:
    """Up to SEARCH_LIMIT resources of `kind` whose title has words starting with the words of `text`."""
    return resources.search(_client(shop, uow, client_factory), kind, text, SEARCH_LIMIT)


def resource_titles(shop: ShopRef, kind: str, ids: list[int], uow: UnitOfWork,
                    client_factory) -> list[dict]:
    """[{"id", "title"}] for each id asked (title None: not in the shop, deleted since)."""
    if not ids:
        return []
    return resources.titles(_client(shop, uow, client_factory), kind, ids)
