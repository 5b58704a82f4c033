"""The products a customer may pick for a free item (`customer_picks`), read from Shopify and kept briefly
in Redis (SELECTION_CACHE_SECONDS), for the loyalty page. The redemption checks the picked variant with
Shopify again, so a stale list can only offer an item that is then refused, never give a wrong one."""
from __future__ import annotations

import json
import logging
from decimal import Decimal

from redis.exceptions import RedisError

from integrations.shopify import collections
from integrations.shopify.errors import ShopifyError
from loyalty.defaults import SELECTION_CACHE_SECONDS
from loyalty.services.errors import ShopGone
from loyalty.services.shops import ShopRef, programme
from loyalty.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def selection_choices(shop: ShopRef, uow: UnitOfWork, client_factory) -> dict[str, list[dict]]:
    """{reward key: [{"variant_id", "title", "price"}, ...]} for each picked free item of the programme; a
    selection Shopify cannot list right now is [] (the page says so)."""
    with uow:
        prog = programme(uow.conn, shop.id, shop.settings_version)
        picked = [r for r in prog.redeemable if r.kind == "free_item" and r.customer_picks]
        if not picked:
            return {}
        client = None
        choices = {}
        for reward in picked:
            key = f"loyalty:selection:{shop.domain}:{reward.collection_id}"
            cached = _cached(uow.ctx.redis, key)
            if cached is None:
                try:
                    client = client or client_factory(uow.ctx, shop, uow.conn)
                    cached = collections.selection_items(client, reward.collection_id)
                except (ShopifyError, ShopGone, OSError) as exc:
                    log.warning("selection %s of %s not listed: %s", reward.collection_id, shop.domain, exc)
                    choices[reward.key] = []
                    continue
                _store(uow.ctx.redis, key, cached)
            cap = reward.amount
            choices[reward.key] = [item for item in cached if not cap or Decimal(item["price"]) <= cap]
        return choices


def _cached(redis, key: str):
    try:
        raw = redis.get(key)
    except (RedisError, OSError):
        return None
    return json.loads(raw) if raw else None


def _store(redis, key: str, items: list[dict]) -> None:
    try:
        redis.set(key, json.dumps(items), ex=SELECTION_CACHE_SECONDS)
    except (RedisError, OSError):
        pass  # Redis down: the page asks Shopify next time
