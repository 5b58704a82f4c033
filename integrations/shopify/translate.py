"""Shopify webhook bodies -> domain commands. Only this module knows the shape of Shopify's JSON (but the
few fields integrations.shopify.webhook_bodies checks at the door: a topic's required fields, the shop a
body names)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from loyalty.domain.commands import (
    CustomerProfile, ExportCustomerData, LinkCustomer, OrderFacts, OrderLine, RecordOrderCancelled, RecordOrderPaid,
    RecordRefund, RedactCustomer, RedactShop, ShopClaim, UninstallShop, UpdateShopFacts,
)
from loyalty.domain import earning, referrals
from loyalty.domain.errors import ImplausibleAmount
from integrations.shopify.errors import BadPayload


MAX_AMOUNT = Decimal("1e12")
"""No amount (a price, an order's total, a refund) is larger: it would not fit the Numeric(18, 4) columns."""
EMAIL_SIZE = 320
"""The customers.email column's size (the longest address RFC 5321 allows)."""


CONSENT_STATES = {"subscribed": True, "unsubscribed": False, "redacted": False, "invalid": False}
"""Shopify's `email_marketing_consent.state`, as whether the customer accepts the programme's emails."""


def to_command(topic: str, body: dict):
    """The command for one webhook, or BadPayload."""
    if not isinstance(body, dict):
        raise BadPayload("body: expected a JSON object")
    if topic == "orders/paid":
        return RecordOrderPaid(order_facts(body))
    if topic == "orders/cancelled":
        facts = order_facts(body)
        return RecordOrderCancelled(facts, _time(body, "cancelled_at", default=facts.processed_at))
    if topic == "refunds/create":
        return RecordRefund(
            refund_id=_int(body, "id"), order_id=_int(body, "order_id"),
            merchandise=_total(_money(item, "subtotal_set", "subtotal") for item in _list(body, "refund_line_items")),
            created_at=_time(body, "created_at"),
        )
    if topic in ("customers/create", "customers/update"):
        return LinkCustomer(customer_id=_int(body, "id"), email=_text(body, "email", EMAIL_SIZE),
                            birthday=_birthday(body), accepts_loyalty_emails=_email_consent(body),
                            updated_at=_time(body, "updated_at") if body.get("updated_at") else None,
                            signed_up=topic == "customers/create", profile=customer_profile(body))
    if topic == "app/uninstalled":
        return UninstallShop(_claim(body, "myshopify_domain", "id"))
    if topic == "shop/update":
        return shop_facts_update(body)
    if topic == "shop/redact":
        return RedactShop(_claim(body, "shop_domain", "shop_id"))
    if topic in ("customers/redact", "customers/data_request"):
        person = body.get("customer") or {}
        if not isinstance(person, dict):
            raise BadPayload("customer: expected an object")
        customer_id = _int(person, "id") if person.get("id") is not None else None
        if topic == "customers/redact":
            return RedactCustomer(customer_id, _text(person, "email", EMAIL_SIZE),
                                  _claim(body, "shop_domain", "shop_id"))
        request = body.get("data_request") or {}
        request_id = _int(request, "id") if isinstance(request, dict) and request.get("id") is not None else None
        return ExportCustomerData(customer_id, _text(person, "email", EMAIL_SIZE), request_id)
    raise BadPayload(f"topic {topic!r} is not handled")


def shop_facts_update(body: dict) -> UpdateShopFacts:
    """shop/update (the Shop resource): its name, IANA time zone, currency and primary locale."""
    currency = _text(body, "currency", 3)
    if currency is not None and not (currency.isascii() and currency.isalpha() and len(currency) == 3):
        raise BadPayload(f"currency: {currency!r} is not an ISO 4217 code")
    return UpdateShopFacts(
        shop=_claim(body, "myshopify_domain", "id"), name=_text(body, "name", 255),
        timezone=_text(body, "iana_timezone", 64), currency=currency and currency.upper(),
        locale=_text(body, "primary_locale", 16),
        updated_at=_time(body, "updated_at") if body.get("updated_at") else None)


def order_facts(body: dict) -> OrderFacts:
    """The facts the programme needs from an order webhook (shop money throughout)."""
    customer = body.get("customer") or {}
    if not isinstance(customer, dict):
        raise BadPayload("customer: expected an object")
    tags = customer.get("tags") or ""
    tax = Decimal(0)
    order_lines = []

    def lines():
        """Each line item checked (and its tax added) just before the merchandise adds it."""
        nonlocal tax
        for item in _list(body, "line_items"):
            if not isinstance(item, dict):
                raise BadPayload("line_items: expected objects")
            tax += _total(_money(t, "price_set", "price") for t in _list(item, "tax_lines"))
            discounts = sum((_money(d, "amount_set", "amount") for d in _list(item, "discount_allocations")),
                            Decimal(0))
            quantity = _int(item, "quantity")
            if quantity < 0:
                raise BadPayload("line_items.quantity: negative")
            price, product = _money(item, "price_set", "price"), item.get("product_id")
            if product is not None and not (type(product) is int and 0 < product < 2**63):
                product = _int(item, "product_id")  # checked (a string, a bool, out of range) only when unusual
            order_lines.append(OrderLine(product, price * quantity - discounts))  # earning.line_amount
            yield price, quantity, discounts
    try:
        merchandise = earning.merchandise(lines(), ceiling=MAX_AMOUNT)
    except ImplausibleAmount:
        raise BadPayload("line_items: the order's total is not a plausible amount") from None
    currency = _text(body, "currency", 3)
    if currency is not None and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise BadPayload(f"currency: {currency!r} is not a three-letter currency code")
    return OrderFacts(
        order_id=_int(body, "id"),
        name=_text(body, "name", 64),
        customer_id=_int(customer, "id") if customer.get("id") is not None else None,
        email=(_text(body, "email", EMAIL_SIZE) or _text(body, "contact_email", EMAIL_SIZE)
               or _text(customer, "email", EMAIL_SIZE)),
        customer_tags=tuple(t.strip() for t in str(tags).split(",") if t.strip()),
        is_b2b=bool(body.get("company")),
        source_name=_text(body, "source_name", 100),
        test=bool(body.get("test")),
        processed_at=_time(body, "processed_at", fallback="created_at"),
        currency=currency,
        merchandise=merchandise,
        gateways=tuple(str(g) for g in _list(body, "payment_gateway_names")),
        discount_codes=tuple(str(d.get("code", "")) for d in _list(body, "discount_codes")
                             if isinstance(d, dict) and d.get("code")),
        shipping=_total(_shipping_line(line) for line in _list(body, "shipping_lines")),
        tax=tax, taxes_included=body.get("taxes_included") is not False, lines=tuple(order_lines),
        profile=customer_profile(customer) if "first_name" in customer or "last_name" in customer else None,
        **_contact(body, customer),
    )


NAME_SIZE = 255
"""The customers.first_name / last_name columns' size: a longer name is cut, not refused."""


def customer_profile(customer: dict) -> CustomerProfile | None:
    """The names and tags of a REST Customer object (tags: Shopify's comma-separated string); None when it
    carries none of those fields. Nothing else of the customer is kept (minimum data)."""
    if not any(key in customer for key in ("first_name", "last_name", "tags")):
        return None
    return CustomerProfile(_name(customer, "first_name"), _name(customer, "last_name"),
                           _tags(str(customer.get("tags") or "").split(",")))


def _name(obj: dict, key: str) -> str | None:
    """A name field, trimmed and cut to NAME_SIZE; None when absent, blank or not a string."""
    value = obj.get(key)
    return (value.strip()[:NAME_SIZE] or None) if isinstance(value, str) else None


def _tags(tags) -> tuple[str, ...]:
    """Tags trimmed, blanks dropped, duplicates once, in their order."""
    return tuple(dict.fromkeys(t for t in (str(t).strip() for t in tags) if t))


def _contact(body: dict, customer: dict) -> dict:
    """The addresses and phones of the order's buyer, as the referral rules compare them (no raw text)."""
    shipping = body.get("shipping_address") if isinstance(body.get("shipping_address"), dict) else None
    default = customer.get("default_address") if isinstance(customer.get("default_address"), dict) else None
    phones = (body.get("phone"), (shipping or {}).get("phone"), customer.get("phone"))
    return {"shipping_address": referrals.address_key(shipping), "buyer_address": referrals.address_key(default),
            "phones": tuple(dict.fromkeys(k for k in map(referrals.phone_key, phones) if k))}


def _claim(body: dict, domain_key: str, id_key: str) -> ShopClaim:
    """The shop the body names (destructive commands check it against the row's shop before acting)."""
    return ShopClaim(_text(body, domain_key, 255), _int(body, id_key) if body.get(id_key) is not None else None)


BIRTHDAY_METAFIELDS = (("loyalty", "birthday"), ("facts", "birth_date"))
"""Where a customer's birthday is read from, first found wins (the webhook subscription must include the
`loyalty` and `facts` metafield namespaces)."""


def _birthday(body: dict) -> date | None:
    """The birthday from the customer's metafields; None when absent or not a date."""
    found = {(str(m.get("namespace")), str(m.get("key"))): m.get("value") for m in _list(body, "metafields")
             if isinstance(m, dict)}
    for name in BIRTHDAY_METAFIELDS:
        try:
            return date.fromisoformat(str(found[name])[:10])
        except (KeyError, ValueError):
            continue
    return None


def _email_consent(body: dict) -> bool | None:
    """Whether the customer's email consent allows loyalty emails; None when it says nothing either way."""

    consent = body.get("email_marketing_consent")
    state = consent.get("state") if isinstance(consent, dict) else None
    return CONSENT_STATES.get(state) if isinstance(state, str) else None


def _shipping_line(line: dict) -> Decimal:
    """A shipping line's price after its discount allocations."""
    if not isinstance(line, dict):
        raise BadPayload("shipping_lines: expected objects")
    discounts = sum((_money(d, "amount_set", "amount") for d in _list(line, "discount_allocations")), Decimal(0))
    return _money(line, "price_set", "price") - discounts


def _text(obj: dict, key: str, size: int) -> str | None:
    """A string field that fits its column (`size` characters); None when absent or empty."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPayload(f"{key}: expected a string")
    if len(value) > size:
        raise BadPayload(f"{key}: longer than {size} characters")
    return value


def _total(amounts) -> Decimal:
    """The sum of amounts, refused when implausibly large."""
    total = sum(amounts, Decimal(0))
    if abs(total) > MAX_AMOUNT:
        raise BadPayload("the total is not a plausible amount")
    return total


def _list(obj: dict, key: str) -> list:
    value = obj.get(key) or []
    if not isinstance(value, list):
        raise BadPayload(f"{key}: expected a list")
    return value


def _int(obj: dict, key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or value is None:
        raise BadPayload(f"{key}: missing or not an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadPayload(f"{key}: {value!r} is not an integer") from None
    if not -(2**63) < number < 2**63:
        raise BadPayload(f"{key}: {value!r} is out of range")
    return number


def _money(obj: dict, set_key: str, plain_key: str) -> Decimal:
    """Shop money from `*_set.shop_money.amount`, else the plain field (strings or JSON numbers)."""
    if not isinstance(obj, dict):
        raise BadPayload(f"{plain_key}: expected an object")
    shop_money = (obj.get(set_key) or {}).get("shop_money") if isinstance(obj.get(set_key), dict) else None
    raw = shop_money.get("amount") if isinstance(shop_money, dict) else obj.get(plain_key)
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise BadPayload(f"{plain_key}: {raw!r} is not an amount") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise BadPayload(f"{plain_key}: {raw!r} is not a plausible amount")
    return amount


def _time(obj: dict, key: str, fallback: str | None = None, default: datetime | None = None) -> datetime:
    raw = obj.get(key) or (obj.get(fallback) if fallback else None)
    if not raw:
        if default is not None:
            return default
        raise BadPayload(f"{key}: missing")
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise BadPayload(f"{key}: {raw!r} is not an ISO 8601 time") from None
    if not 1970 <= moment.year <= 2200:  # pending and expiry dates are computed from it
        raise BadPayload(f"{key}: {raw!r} is not a plausible time")
    return moment
