"""Root resolvers: one function per supported query or mutation field, `(info, **arguments)`.

`info.context` carries the shop's state and the request time; the request holds
the shop's lock throughout, so each function may read and change state freely.
"""
import json
import secrets
import string
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from tools.shopify_emulator import bulk, bulk_mutation, catalogue, discounts, flow, store_credit
from tools.shopify_emulator.discounts import user_error
from tools.shopify_emulator.store import GiftCard, Metafield, decimal_string, gid, parse_id
from tools.shopify_emulator.views import (
    APP_NAMESPACE,
    customer_view,
    gift_card_view,
    metafield_view,
    order_view,
    shop_locales_view,
    shop_view,
)

MAX_METAFIELDS_PER_SET = 25
"""metafieldsSet takes at most this many metafields per call."""

STALE_MESSAGE = "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value."


class Context(NamedTuple):
    """What every resolver may use: the shop's state and the request's time."""

    shop: object
    now: object
    base_url: str = ""
    """Where the emulator is reached (bulk operation URLs point back at it)."""
    bulk: bool = False
    """True inside a bulk operation: connections return every object."""


def shop(info):
    """shop: the shop the token belongs to."""
    return shop_view(info.context.shop)


def shop_locales(info, published=False):
    """shopLocales: the shop's locales (its one primary locale)."""
    return shop_locales_view(info.context.shop)


def order(info, id):
    """order(id:): null when unknown, as Shopify answers."""
    shop = info.context.shop
    found = shop.orders.get(parse_id(id, "Order"))
    return order_view(shop, found) if found else None


def nodes(info, ids):
    """nodes(ids:): each id's object in the order asked, null where unknown (orders, customers, collections,
    products)."""
    return [_node(info, each) for each in ids]


def _node(info, id):
    kind = id.split("/")[-2] if id.count("/") >= 3 else ""
    resolve = {"Order": order, "Customer": customer, "Collection": catalogue.collection,
               "Product": catalogue.product}.get(kind)
    return resolve(info, id) if resolve else None


def customer(info, id):
    """customer(id:): null when unknown; with its store credit accounts."""
    shop = info.context.shop
    found = shop.customers.get(parse_id(id, "Customer"))
    if found is None:
        return None
    return {**customer_view(shop, found), "storeCreditAccounts": store_credit.customer_accounts(shop, found.id)}


def metafields_set(info, metafields):
    """metafieldsSet: atomic, so one bad entry sets nothing; compareDigest checked when sent."""
    shop, now = info.context.shop, info.context.now
    if len(metafields) > MAX_METAFIELDS_PER_SET:
        message = f"Exceeded the maximum metafields input limit of {MAX_METAFIELDS_PER_SET}."
        return {"metafields": None, "userErrors": [user_error(["metafields"], message, "LESS_THAN_OR_EQUAL_TO")]}
    errors, planned = [], []
    for index, entry in enumerate(metafields):
        planned.append(_check_metafield(shop, index, entry, errors))
    if errors:
        return {"metafields": None, "userErrors": errors}
    written = []
    for owner, namespace, key, type_, value in planned:
        current = owner.metafields.get((namespace, key))
        if current is None:
            current = Metafield(shop.next_id(), owner.id, namespace, key, type_, value, now, now,
                                "SHOP" if owner is shop else "CUSTOMER")
            owner.metafields[(namespace, key)] = current
        else:
            current.type, current.value, current.updated_at = type_, value, now
        written.append(metafield_view(shop, current))
    return {"metafields": written, "userErrors": []}


def _check_metafield(shop, index, entry, errors):
    """Validate one metafieldsSet entry, appending userErrors; return what to write."""
    where = ["metafields", str(index)]
    owner = _metafield_owner(shop, entry["ownerId"])
    if owner is None:
        errors.append(user_error(where + ["ownerId"], "Owner does not exist.", "INVALID", elementIndex=index))
        return None
    namespace, key = entry.get("namespace") or APP_NAMESPACE, entry["key"]
    existing = owner.metafields.get((namespace, key))
    type_ = entry.get("type") or (existing.type if existing else None)
    if not type_:
        errors.append(user_error(where + ["type"], "Type can't be blank.", "BLANK", elementIndex=index))
    elif not _valid_value(type_, entry["value"]):
        message = f"Value is invalid for type {type_}."
        errors.append(user_error(where + ["value"], message, "INVALID_VALUE", elementIndex=index))
    # An explicit null digest means "must not exist yet"; an absent one opts out of the check.
    if "compareDigest" in entry and entry["compareDigest"] != (existing.digest if existing else None):
        errors.append(user_error(where + ["compareDigest"], STALE_MESSAGE, "STALE_OBJECT", elementIndex=index))
    return owner, namespace, key, type_, entry["value"]


def _metafield_owner(shop, owner_id):
    """The customer or the shop (its own id only) a metafield is set on; None when there is no such owner."""
    if str(owner_id) == gid("Shop", shop.id):
        return shop
    return shop.customers.get(parse_id(owner_id, "Customer"))


def _valid_value(type_, value):
    """Whether `value` parses as `type_`; types the emulator does not know are accepted."""
    parsers = {
        "number_integer": int,
        "number_decimal": Decimal,
        "json": json.loads,
        "date": date.fromisoformat,
        "boolean": lambda v: {"true": True, "false": False}[v],
    }
    try:
        parsers.get(type_, str)(value)
    except (ValueError, KeyError, InvalidOperation):
        return False
    return True


def tags_add(info, id, tags):
    """tagsAdd on a customer."""
    return _change_tags(info, id, tags, lambda current, given: current | given)


def tags_remove(info, id, tags):
    """tagsRemove on a customer."""
    return _change_tags(info, id, tags, lambda current, given: current - given)


def _change_tags(info, id, tags, combine):
    """Apply `combine` to a customer's tags; tags may also come as one comma-separated string."""
    shop = info.context.shop
    found = shop.customers.get(parse_id(id, "Customer"))
    if found is None:
        return {"node": None, "userErrors": [user_error(["id"], "Customer does not exist")]}
    given = {part.strip() for tag in tags for part in tag.split(",") if part.strip()}
    found.tags = combine(found.tags, given)
    return {"node": customer_view(shop, found), "userErrors": []}


def gift_card_create(info, input):
    """giftCardCreate: the full code is returned once, in `giftCardCode`."""
    shop, now = info.context.shop, info.context.now
    errors = []
    value = decimal_string(input["initialValue"])
    if value is None or Decimal(value) <= 0:
        errors.append(user_error(["input", "initialValue"], "Initial value must be greater than 0", "GREATER_THAN"))
    code = _gift_card_code(shop, input.get("code"), errors)
    customer_id = None
    if input.get("customerId") is not None:
        customer_id = parse_id(input["customerId"], "Customer")
        if customer_id not in shop.customers:
            errors.append(user_error(["input", "customerId"], "Customer could not be found", "CUSTOMER_NOT_FOUND"))
    if errors:
        return {"giftCard": None, "giftCardCode": None, "userErrors": errors}
    card = GiftCard(
        shop.next_id(), code, value, shop.currency, now,
        customer_id=customer_id, note=input.get("note"), expires_on=input.get("expiresOn"),
    )
    shop.gift_cards[card.id] = card
    return {"giftCard": gift_card_view(shop, card), "giftCardCode": card.code, "userErrors": []}


def _gift_card_code(shop, code, errors):
    """The requested code once checked (8-20 letters or digits, unique), or a fresh random one."""
    taken = {card.code.casefold() for card in shop.gift_cards.values()}
    if code is None:
        alphabet = string.ascii_lowercase + string.digits
        while True:
            fresh = "".join(secrets.choice(alphabet) for _ in range(16))
            if fresh not in taken:
                return fresh
    where = ["input", "code"]
    if len(code) < 8:
        errors.append(user_error(where, "Code is too short (minimum is 8 characters)", "TOO_SHORT"))
    elif len(code) > 20:
        errors.append(user_error(where, "Code is too long (maximum is 20 characters)", "TOO_LONG"))
    elif not code.isascii() or not code.isalnum():
        errors.append(user_error(where, "Code can only contain letters and numbers", "INVALID"))
    elif code.casefold() in taken:
        errors.append(user_error(where, "Code has already been taken", "TAKEN"))
    return code


QUERY_ROOT = {
    "shop": shop,
    "shopLocales": shop_locales,
    "order": order,
    "nodes": nodes,
    "orders": bulk.orders,
    "refund": bulk.refund,
    "node": bulk.node,
    "currentBulkOperation": bulk.current_bulk_operation,
    "customer": customer,
    "codeDiscountNodeByCode": discounts.code_discount_node_by_code,
    "collection": catalogue.collection,
    "collections": catalogue.collections,
    "products": catalogue.products,
    "productVariant": catalogue.product_variant,
    "storeCreditAccount": store_credit.store_credit_account,
}
"""Query fields the emulator answers; any other root field resolves to null."""

MUTATION_ROOT = {
    "discountCodeBasicCreate": discounts.discount_code_basic_create,
    "discountCodeDeactivate": discounts.discount_code_deactivate,
    "discountCodeFreeShippingCreate": discounts.discount_code_free_shipping_create,
    "collectionCreate": catalogue.collection_create,
    "metafieldsSet": metafields_set,
    "tagsAdd": tags_add,
    "tagsRemove": tags_remove,
    "giftCardCreate": gift_card_create,
    "storeCreditAccountCredit": store_credit.store_credit_account_credit,
    "bulkOperationRunQuery": bulk.bulk_operation_run_query,
    "bulkOperationRunMutation": bulk_mutation.bulk_operation_run_mutation,
    "stagedUploadsCreate": bulk_mutation.staged_uploads_create,
    "flowTriggerReceive": flow.flow_trigger_receive,
}
"""Mutation fields the emulator performs."""
