"""Real Shopify payloads from ../shared/shopify/samples (never copied into the repo)."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "shopify" / "samples"


@lru_cache(maxsize=None)
def _load(name: str):
    path = SAMPLES / name
    if not path.exists():
        return None
    return json.loads(path.read_text())


def sample(name: str, shop: str | None = None, shop_id: int | None = None) -> dict:
    """A fresh copy of a sample, unwrapped from its {"order": {...}} envelope; skips when ../shared is absent.
    With `shop` (and `shop_id`), the body as Shopify would send it for that shop (`for_shop`)."""
    data = _load(name)
    if data is None:
        pytest.skip(f"../shared/shopify/samples/{name} is not available")
    data = copy.deepcopy(data)
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        data = next(iter(data.values()))
    return for_shop(data, shop, shop_id) if shop else data


def for_shop(body: dict, shop: str, shop_id: int | None = None) -> dict:
    """`body` with the fields that name its shop naming `shop` (and its numeric id `shop_id`, when given):
    compliance topics' shop_domain/shop_id, a Shop's myshopify_domain/id, an order's status URL."""
    if "shop_domain" in body:
        body["shop_domain"] = shop
        if shop_id is not None:
            body["shop_id"] = shop_id
    if "myshopify_domain" in body:
        body["myshopify_domain"] = shop
        if shop_id is not None:
            body["id"] = shop_id
    url = body.get("order_status_url")
    if isinstance(url, str):
        parts = urlsplit(url)
        _, number, rest = parts.path.split("/", 2)
        body["order_status_url"] = urlunsplit(parts._replace(
            netloc=shop, path=f"/{shop_id if shop_id is not None else number}/{rest}"))
    return body
