"""Commands: what a Shopify event asks the domain to do, already parsed and typed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple


class OrderLine(NamedTuple):
    """One line item as campaigns see it: its product (None for a custom item) and what it contributes to
    the merchandise (price x quantity less its discounts). A named tuple: made for every line of every
    order webhook, it is built several times faster than a frozen dataclass."""

    product_id: int | None
    amount: Decimal


@dataclass(frozen=True)
class CustomerProfile:
    """What support shows and searches of a customer (protected customer data: nothing more is kept)."""

    first_name: str | None
    last_name: str | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderFacts:
    """What we know of an order from any order webhook."""

    order_id: int
    name: str | None
    customer_id: int | None
    email: str | None
    customer_tags: tuple[str, ...]
    is_b2b: bool
    source_name: str | None
    test: bool
    processed_at: datetime
    currency: str | None
    merchandise: Decimal
    gateways: tuple[str, ...]
    discount_codes: tuple[str, ...] = ()
    shipping: Decimal = Decimal(0)
    """Shipping charged, after its discounts."""
    tax: Decimal = Decimal(0)
    """Tax on the line items."""
    taxes_included: bool = True
    """Line prices include `tax` (Shopify's `taxes_included`)."""
    lines: tuple[OrderLine, ...] = ()
    """The line items, in the order's order (collection campaigns multiply the lines of their collection)."""
    shipping_address: str | None = None
    """The shipping address as the referral rules compare it (loyalty.domain.referrals.address_key)."""
    buyer_address: str | None = None
    """The customer's default address, compared the same way."""
    phones: tuple[str, ...] = ()
    """The order's phones (its own, the shipping address's, the customer's), as compared (phone_key)."""
    profile: CustomerProfile | None = None
    """The customer's names and tags as the order gives them; None when it gives none."""


@dataclass(frozen=True)
class RecordOrderPaid:
    """orders/paid: the order earns (once its non-earning payments are known)."""

    facts: OrderFacts
    non_earning_paid: Decimal | None = None
    """Amount paid by non-earning gateways, fetched from the order's transactions; None if not needed."""


@dataclass(frozen=True)
class RecordOrderCancelled:
    """orders/cancelled: the order keeps nothing."""

    facts: OrderFacts
    cancelled_at: datetime


@dataclass(frozen=True)
class RecordRefund:
    """refunds/create: the order keeps points in proportion to the merchandise not refunded."""

    refund_id: int
    order_id: int
    merchandise: Decimal
    created_at: datetime


@dataclass(frozen=True)
class Payment:
    """One payment transaction of an order (shop money): what tells the gift-card share of a payment."""

    gateway: str
    kind: str
    status: str
    amount: Decimal


@dataclass(frozen=True)
class ImportOrder:
    """A past order as Shopify holds it now (history import, reconciliation): paid or not, its payments,
    refunds and cancellation, applied with the same rules and idempotency keys as its webhooks."""

    facts: OrderFacts
    paid: bool
    payments: tuple[Payment, ...]
    refunds: tuple[RecordRefund, ...]
    cancelled_at: datetime | None
    refunds_to_fetch: tuple[tuple[int, datetime], ...] = ()
    """(refund id, created at) of refunds whose line items the bulk file cannot carry; fetched before applying."""


@dataclass(frozen=True)
class LinkCustomer:
    """customers/create, customers/update: a Shopify customer id and their email are the same person."""

    customer_id: int
    email: str | None
    birthday: date | None = None
    """From the customer metafield `facts.birth_date` (Shopify's standard definition) or `loyalty.birthday`."""
    accepts_loyalty_emails: bool | None = None
    """From `email_marketing_consent.state` (integrations.shopify.translate.CONSENT_STATES); None: unchanged."""
    updated_at: datetime | None = None
    """Shopify's `updated_at` of the customer: an update older than one already applied changes nothing."""
    signed_up: bool = False
    """customers/create: the account was just made (sign-up points, once per account)."""
    profile: CustomerProfile | None = None
    """Names and tags; None when the body carries none of them (then they stay as they are)."""


@dataclass(frozen=True)
class ShopClaim:
    """The shop a webhook body says it is about. The body is signed, the header naming the shop is not (and
    the signing secret is the same for every shop), so destructive work checks the one against the other."""

    domain: str | None
    shopify_id: int | None = None
    """Shopify's numeric id of the shop, when the body carries it."""


@dataclass(frozen=True)
class UninstallShop:
    """app/uninstalled: stop work for the shop, drop its tokens."""

    shop: ShopClaim = ShopClaim(None)
    """The Shop object of the body (`myshopify_domain`, `id`)."""
    confirmed: bool = False
    """Shopify refused the shop's token when asked (loyalty.services.uninstalls): the app is really uninstalled.
    The body is the Shop resource shop/update carries too, and the topic header is not signed, so the body
    alone proves nothing; an unconfirmed uninstall is refused (UninstallNotConfirmed)."""


@dataclass(frozen=True)
class UpdateShopFacts:
    """shop/update: what Shopify now says of the shop (a None leaves that fact as stored)."""

    shop: ShopClaim
    """The Shop object of the body (`myshopify_domain`, `id`): bound to the row's shop at the door."""
    name: str | None = None
    timezone: str | None = None
    """IANA name (`Europe/Paris`): the shop's calendar for birthdays, reports and valid-until days."""
    currency: str | None = None
    locale: str | None = None
    updated_at: datetime | None = None
    """Shopify's `updated_at` of the shop: an update older than the facts stored changes nothing."""


@dataclass(frozen=True)
class ExportCustomerData:
    """customers/data_request: store what we know of the customer for the merchant."""

    customer_id: int | None
    email: str | None
    data_request_id: int | None


@dataclass(frozen=True)
class RedactCustomer:
    """customers/redact: erase the customer's personal data."""

    customer_id: int | None
    email: str | None
    shop: ShopClaim = ShopClaim(None)
    """The body's `shop_domain` and `shop_id`."""


@dataclass(frozen=True)
class RedactShop:
    """shop/redact: erase the shop's data."""

    shop: ShopClaim = ShopClaim(None)
    """The body's `shop_domain` and `shop_id`."""
