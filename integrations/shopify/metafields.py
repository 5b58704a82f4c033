"""Customer metafields over the Admin API (metafieldsSet: at most 25 per call, atomic)."""
from __future__ import annotations

import json

from integrations.shopify import documents
from integrations.shopify.errors import ShopifyUserErrors, raise_for_user_errors, user_errors_reason

MAX_PER_CALL = 25
"""Shopify's limit of metafields in one metafieldsSet call."""


def integer_metafield(customer_id: int, namespace: str, key: str, value: int) -> dict:
    """One MetafieldsSetInput: an integer on a customer."""
    return {"ownerId": f"gid://shopify/Customer/{customer_id}", "namespace": namespace, "key": key,
            "type": "number_integer", "value": str(int(value))}


def shop_json_metafield(shop_id: int, namespace: str, key: str, value) -> dict:
    """One MetafieldsSetInput: a JSON document on the shop (`shop_id`: Shopify's numeric id of the shop),
    which Liquid reads as `shop.metafields.<namespace>.<key>.value`. Canonical JSON (sorted keys), so the
    same document is the same value."""
    return {"ownerId": f"gid://shopify/Shop/{shop_id}", "namespace": namespace, "key": key, "type": "json",
            "value": json.dumps(value, sort_keys=True, separators=(",", ":"))}


def set_metafields(client, metafields: list[dict]) -> int:
    """Write metafields in calls of 25; returns how many calls were made."""
    calls = 0
    for start in range(0, len(metafields), MAX_PER_CALL):
        data = client.execute(documents.METAFIELDS_SET, {"metafields": metafields[start:start + MAX_PER_CALL]})
        raise_for_user_errors(data["metafieldsSet"], client.shop, "MetafieldsSet")
        calls += 1
    return calls


def set_metafields_by_owner(client, by_owner: dict) -> dict:
    """Write each owner's metafields (`{key: [MetafieldsSetInput]}`), 25 per call, and return the owners
    Shopify refused, `{key: reason}`. metafieldsSet is atomic (one bad owner fails the whole call, the
    others unwritten), so an owner named by a userError's field (`["metafields", "3", "ownerId"]`) is left
    out and the rest of its call sent again; a refusal that names no entry is narrowed owner by owner.
    Errors other than userErrors (throttling, outages, a refused token) concern every owner and go up."""
    entries = [(key, metafield) for key, metafields in by_owner.items() for metafield in metafields]
    work = [entries[start:start + MAX_PER_CALL] for start in range(0, len(entries), MAX_PER_CALL)]
    refused: dict = {}
    while work:
        chunk = work.pop(0)
        try:
            set_metafields(client, [metafield for _, metafield in chunk])
            continue
        except ShopifyUserErrors as exc:
            blamed = _blamed_owners(exc, chunk)
            owners = list(dict.fromkeys(key for key, _ in chunk))
            if blamed:
                refused.update(blamed)
                rest = [entry for entry in chunk if entry[0] not in blamed]
                work[:0] = [rest] if rest else []
            elif len(owners) > 1:
                work[:0] = [[entry for entry in chunk if entry[0] == owner] for owner in owners]
            else:
                refused[owners[0]] = user_errors_reason(exc)
    return refused


def _blamed_owners(exc: ShopifyUserErrors, chunk: list) -> dict:
    """The owners whose entries the userErrors point at (`metafields.<index>...`), with the messages."""
    messages: dict = {}
    for error in exc.user_errors:
        field = error.field or ()
        if len(field) >= 2 and field[0] == "metafields" and field[1].isdigit() and int(field[1]) < len(chunk):
            messages.setdefault(chunk[int(field[1])][0], {})[error.message] = None  # each message once, in order
    return {key: f"{exc.operation}: " + "; ".join(found) for key, found in messages.items()}
