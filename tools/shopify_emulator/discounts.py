"""Root resolvers for code discounts: create (basic), deactivate, look up by code."""
from datetime import datetime, timezone
from decimal import Decimal

from tools.shopify_emulator.store import DiscountCode, decimal_string, parse_id
from tools.shopify_emulator.views import discount_node_view

DUPLICATE_CODE_MESSAGE = "Code must be unique. Please try a different code."
"""Shopify's exact wording when a code is already taken in the shop."""

_INPUT = "basicCodeDiscount"


def user_error(field, message, code=None, **extra):
    """One userErrors entry; `field` is the input path as Shopify gives it."""
    return {"field": list(field) if field else None, "message": message, "code": code, **extra}


def parse_datetime(value):
    """A DateTime argument as an aware UTC datetime; None if absent; ValueError if malformed."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    # Shopify reads a DateTime without an offset as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def discount_code_basic_create(info, basicCodeDiscount):
    """discountCodeBasicCreate: validate like Shopify, then store the code discount."""
    return _create(info, basicCodeDiscount, _INPUT, free_shipping=False)


def discount_code_free_shipping_create(info, freeShippingCodeDiscount):
    """discountCodeFreeShippingCreate: validate like Shopify (code, title, dates, customers; no value), then
    store the free shipping code discount. Nothing is stored when any check fails (atomic, as in Shopify)."""
    return _create(info, freeShippingCodeDiscount, "freeShippingCodeDiscount", free_shipping=True)


def _create(info, data, where, free_shipping):
    shop, now = info.context.shop, info.context.now
    errors = []
    code = (data.get("code") or "").strip()
    if not code:
        errors.append(user_error([where, "code"], "Code can't be blank", "BLANK"))
    elif shop.discount_by_code(code) is not None:
        errors.append(user_error([where, "code"], DUPLICATE_CODE_MESSAGE, "TAKEN"))
    title = (data.get("title") or "").strip()
    if not title:
        errors.append(user_error([where, "title"], "Title can't be blank", "BLANK"))
    starts_at, ends_at = _period(data, now, errors)
    amount, percentage = (None, None) if free_shipping else _value(data, errors)
    minimum = ((data.get("minimumRequirement") or {}).get("subtotal") or {}).get("greaterThanOrEqualToSubtotal")
    customer_ids = _customer_ids(data, errors)
    if errors:
        return {"codeDiscountNode": None, "userErrors": errors}
    discount = DiscountCode(
        id=shop.next_id(),
        redeem_code_id=shop.next_id(),
        code=code,
        title=title,
        starts_at=starts_at,
        created_at=now,
        amount=amount,
        percentage=percentage,
        minimum_subtotal=decimal_string(minimum) if minimum is not None else None,
        ends_at=ends_at,
        usage_limit=data.get("usageLimit"),
        applies_once_per_customer=bool(data.get("appliesOncePerCustomer")),
        customer_ids=customer_ids,
        combines_with=dict(data.get("combinesWith") or {}),
        collection_ids=() if free_shipping else _collection_ids(data),
        free_shipping=free_shipping,
    )
    shop.discounts[discount.id] = discount
    return {"codeDiscountNode": discount_node_view(shop, discount, now), "userErrors": []}


def discount_code_deactivate(info, id):
    """discountCodeDeactivate: end the discount now; its code stays taken, as in Shopify."""
    shop, now = info.context.shop, info.context.now
    discount = shop.discounts.get(parse_id(id, "DiscountCodeNode"))
    if discount is None:
        return {"codeDiscountNode": None, "userErrors": [user_error(["id"], "Discount does not exist", "INVALID")]}
    if discount.deactivated_at is None:
        discount.deactivated_at = now
        if discount.ends_at is None or discount.ends_at > now:
            discount.ends_at = now
    return {"codeDiscountNode": discount_node_view(shop, discount, now), "userErrors": []}


def code_discount_node_by_code(info, code):
    """codeDiscountNodeByCode: case-insensitive, expired discounts included."""
    shop = info.context.shop
    discount = shop.discount_by_code(code)
    return discount_node_view(shop, discount, info.context.now) if discount else None


def _period(data, now, errors):
    """(starts_at, ends_at) from the input; starts now when not given."""
    try:
        starts_at = parse_datetime(data.get("startsAt")) or now
        ends_at = parse_datetime(data.get("endsAt"))
    except ValueError:
        errors.append(user_error([_INPUT, "startsAt"], "Dates must be ISO 8601 date-times", "INVALID"))
        return now, None
    if ends_at is not None and ends_at <= starts_at:
        message = "Ends at needs to be after starts_at"
        errors.append(user_error([_INPUT, "endsAt"], message, "END_DATE_BEFORE_START_DATE"))
    return starts_at, ends_at


def _value(data, errors):
    """(amount, percentage) the customer gets: exactly one of them is set."""
    value = (data.get("customerGets") or {}).get("value") or {}
    raw_amount = (value.get("discountAmount") or {}).get("amount")
    percentage = value.get("percentage")
    where = [_INPUT, "customerGets", "value"]
    if raw_amount is not None:
        amount = decimal_string(raw_amount)
        if amount is None or Decimal(amount) <= 0:
            errors.append(user_error(where + ["discountAmount", "amount"], "Amount must be greater than 0", "INVALID"))
        return amount, None
    if percentage is not None:
        if not 0 < percentage <= 1:  # Shopify takes 0.1 for 10 %
            errors.append(user_error(where + ["percentage"], "Percentage must be between 0 and 1", "INVALID"))
        return None, percentage
    errors.append(user_error(where, "Value can't be blank", "BLANK"))
    return None, None


def _collection_ids(data):
    """Collections the code is limited to; () when it applies to every product."""
    items = (data.get("customerGets") or {}).get("items") or {}
    added = (items.get("collections") or {}).get("add") or []
    return tuple(parse_id(value, "Collection") for value in added)


def _customer_ids(data, errors):
    """Customer ids the code is restricted to (context, or the deprecated customerSelection); () for all."""
    for name in ("context", "customerSelection"):
        added = ((data.get(name) or {}).get("customers") or {}).get("add") or []
        ids = tuple(parse_id(value, "Customer") for value in added)
        if None in ids:
            message = "Customer ids must be Customer gids"
            errors.append(user_error([_INPUT, name, "customers", "add"], message, "INVALID"))
            return ()
        if ids:
            return ids
    return ()
