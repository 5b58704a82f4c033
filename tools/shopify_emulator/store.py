"""The state of one emulated shop: plain records, ids, and the lock that makes each request atomic."""
import hashlib
import itertools
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

GID_PREFIX = "gid://shopify/"


def gid(kind, number):
    """Shopify's global id: gid("Customer", 7) -> "gid://shopify/Customer/7"."""
    return f"{GID_PREFIX}{kind}/{number}"


def parse_id(value, kind):
    """The numeric id in a `kind` gid, a bare number or a digit string; None if it is not one."""
    if isinstance(value, int):
        return value
    text = str(value)
    if text.startswith(GID_PREFIX):
        found_kind, _, number = text[len(GID_PREFIX):].partition("/")
        if found_kind != kind:
            return None
        text = number.split("?", 1)[0]
    return int(text) if text.isdigit() else None


def decimal_string(value):
    """A Decimal scalar as Shopify prints it ("10.00" -> "10.0"); None for anything unparseable."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    text = format(number.normalize(), "f")
    return text if "." in text else text + ".0"


def iso(moment):
    """DateTime scalar text, UTC with a Z, as Shopify writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


TRANSACTION_KINDS = frozenset({"AUTHORIZATION", "CAPTURE", "CHANGE", "EMV_AUTHORIZATION", "REFUND", "SALE",
                               "SUGGESTED_REFUND", "VOID"})
"""OrderTransactionKind values: seeding anything else would only fail later, inside a response."""

TRANSACTION_STATUSES = frozenset({"AWAITING_RESPONSE", "ERROR", "FAILURE", "PENDING", "SUCCESS", "UNKNOWN"})
"""OrderTransactionStatus values."""


@dataclass
class Transaction:
    """One payment transaction on an order (gift_card, shopify_payments, manual...)."""

    id: int
    gateway: str
    amount: str
    kind: str = "SALE"
    status: str = "SUCCESS"
    currency: str = "USD"


@dataclass
class Order:
    """An order, reduced to what the app asks about it."""

    id: int
    transactions: list
    customer_id: int | None = None
    name: str = ""
    email: str | None = None
    created_at: datetime | None = None
    processed_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None
    test: bool = False
    source_name: str | None = "web"
    currency: str | None = None
    financial_status: str = "PAID"
    gateways: tuple = ()
    discount_codes: tuple = ()
    b2b: bool = False
    line_items: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    shipping_lines: list = field(default_factory=list)
    """(id, price after discounts) of each shipping line."""
    taxes_included: bool = True


@dataclass
class LineItem:
    """One line of an order: unit price, quantity and the discounts allocated to it (decimal strings)."""

    id: int
    quantity: int
    price: str
    discounts: tuple = ()
    taxes: tuple = ()
    product_id: int | None = None
    """The product sold (None: a custom item)."""


@dataclass
class Refund:
    """A refund of an order: its lines' subtotals (decimal strings)."""

    id: int
    created_at: datetime
    subtotals: tuple = ()


@dataclass
class BulkOperation:
    """A bulk query (finished at once here) or a bulk mutation (finished at `finishes_at`); its result JSONL
    kept in memory and served by the emulator."""

    id: int
    query: str
    created_at: datetime
    status: str = "COMPLETED"
    data: bytes = b""
    object_count: int = 0
    root_object_count: int = 0
    type: str = "QUERY"
    completed_at: datetime | None = None
    variables: list = field(default_factory=list)
    """A bulk mutation's input: the variables of each line, dropped once run."""
    finishes_at: datetime | None = None


@dataclass
class StagedUpload:
    """A staged upload target: the policy its POST must carry, then the file it received."""

    policy: str
    data: bytes | None = None


@dataclass
class Metafield:
    """A metafield value on a customer (or, `owner_type` "SHOP", on the shop)."""

    id: int
    owner_id: int
    namespace: str
    key: str
    type: str
    value: str
    created_at: datetime
    updated_at: datetime
    owner_type: str = "CUSTOMER"

    @property
    def digest(self):
        """compareDigest: changes exactly when the stored value or type changes."""
        return hashlib.sha256(f"{self.type}\0{self.value}".encode()).hexdigest()


@dataclass
class Customer:
    """A customer with tags and metafields keyed by (namespace, key)."""

    id: int
    email: str | None = None
    tags: set = field(default_factory=set)
    metafields: dict = field(default_factory=dict)
    first_name: str | None = None
    last_name: str | None = None


@dataclass
class DiscountCode:
    """A basic (amount or percentage off) code discount with one code."""

    id: int
    redeem_code_id: int
    code: str
    title: str
    starts_at: datetime
    created_at: datetime
    amount: str | None = None
    percentage: float | None = None
    minimum_subtotal: str | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    applies_once_per_customer: bool = False
    customer_ids: tuple = ()
    combines_with: dict = field(default_factory=dict)
    deactivated_at: datetime | None = None
    collection_ids: tuple = ()
    variant_ids: tuple = ()
    """Product variants the code is limited to (customerGets.items.products.productVariantsToAdd)."""
    kind: str = "basic"
    """basic (an amount or a percentage off) or free_shipping."""

    def status(self, now):
        """ACTIVE, EXPIRED (ended or deactivated) or SCHEDULED, as of `now`."""
        if self.ends_at is not None and self.ends_at <= now:
            return "EXPIRED"
        return "SCHEDULED" if self.starts_at > now else "ACTIVE"

    def as_dict(self, now):
        """Plain, JSON-ready view for inspection."""
        return {
            "id": gid("DiscountCodeNode", self.id),
            "code": self.code,
            "title": self.title,
            "amount": self.amount,
            "percentage": self.percentage,
            "minimum_subtotal": self.minimum_subtotal,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "usage_limit": self.usage_limit,
            "applies_once_per_customer": self.applies_once_per_customer,
            "customer_ids": list(self.customer_ids),
            "combines_with": dict(self.combines_with),
            "collection_ids": list(self.collection_ids),
            "variant_ids": list(self.variant_ids),
            "kind": self.kind,
            "status": self.status(now),
            "deactivated": self.deactivated_at is not None,
        }


@dataclass
class Variant:
    """A product variant: its price and compare-at price (decimal strings; no compare-at: full price)."""

    id: int
    product_id: int
    title: str
    price: str
    compare_at_price: str | None = None
    available: bool = True


@dataclass
class Product:
    """A product and the ids of its variants, in order."""

    id: int
    title: str
    variant_ids: list = field(default_factory=list)
    tags: set = field(default_factory=set)


@dataclass
class Collection:
    """A custom collection (its product ids) or a smart one (its rules, evaluated when read)."""

    id: int
    title: str
    product_ids: list = field(default_factory=list)
    rules: tuple | None = None
    """((column, relation, condition), ...) for a smart collection; None for a custom one."""
    disjunctive: bool = False


@dataclass
class GiftCard:
    """An issued gift card; the full code is only ever shown at creation, as in Shopify."""

    id: int
    code: str
    initial_value: str
    currency: str
    created_at: datetime
    customer_id: int | None = None
    note: str | None = None
    expires_on: str | None = None

    @property
    def masked_code(self):
        """Shopify's masked form: bullets, then the last four characters."""
        return "•••• •••• •••• " + self.code[-4:]

    def as_dict(self):
        """Plain, JSON-ready view for inspection."""
        return {
            "id": gid("GiftCard", self.id),
            "code": self.code,
            "initial_value": self.initial_value,
            "currency": self.currency,
            "customer_id": self.customer_id,
            "note": self.note,
            "expires_on": self.expires_on,
        }


class ShopState:
    """Everything one emulated shop holds; callers hold `lock` while reading or changing it."""

    def __init__(self, domain, token, bucket, currency="USD", shop_id=None, *, name=None, timezone="UTC",
                 locale="en"):
        """An empty shop answering to `token`; `shop_id` is its numeric id (by default one derived from the
        domain, so a shop keeps its id across emulator restarts, as a real shop does). Its name (by default
        the domain's first label), IANA time zone and primary locale are what `shop` and `shopLocales`
        answer and what shop/update's body says (`shop_update_body`)."""
        self.domain = domain
        self.id = shop_id if shop_id is not None else 10_000_000_000 + zlib.crc32(domain.encode())
        self.token = token
        self.bucket = bucket
        self.currency = currency
        self.name = name or domain.split(".")[0]
        self.timezone = timezone
        self.locale = locale
        self.updated_at = None  # when the facts last changed (update_shop): shop/update's `updated_at`
        # Re-entrant: a request holds it for its whole execution, and resolvers take it again.
        self.lock = threading.RLock()
        self.granted_tokens = {}  # expiring access token -> expiry (epoch seconds)
        self.refresh_tokens = {}  # unused refresh token -> expiry (epoch seconds)
        self.orders = {}
        self.customers = {}
        self.metafields = {}  # the shop's own metafields, keyed by (namespace, key)
        self.discounts = {}
        self.gift_cards = {}
        self.products = {}
        self.variants = {}
        self.collections = {}
        self.store_credit_accounts = {}  # account id -> store_credit.Account
        self.bulk_operations = {}
        self.staged_uploads = {}  # staged path (the `key` parameter) -> StagedUpload
        self.flow_triggers = []  # Flow triggers received (flowTriggerReceive), in order
        self.bulk_seconds_per_line = 0.0  # how long a bulk mutation takes per line, on the emulator's clock
        self._ids = itertools.count(1001)

    def next_id(self):
        """A fresh id for a created object (ids share one sequence, like Shopify's are unrelated)."""
        return next(self._ids)

    def discount_by_code(self, code):
        """The discount owning `code`, compared case-insensitively as Shopify does; or None."""
        wanted = code.casefold()
        return next((d for d in self.discounts.values() if d.code.casefold() == wanted), None)

    def snapshot(self, now):
        """The whole shop as plain data, for the demo's state endpoint."""
        with self.lock:
            return {
                "shop": self.domain,
                "orders": [
                    {"id": o.id, "customer_id": o.customer_id, "transactions": [vars(t).copy() for t in o.transactions]}
                    for o in self.orders.values()
                ],
                "customers": [
                    {
                        "id": c.id,
                        "email": c.email,
                        "tags": sorted(c.tags),
                        "metafields": metafield_values(c),
                    }
                    for c in self.customers.values()
                ],
                "discount_codes": [d.as_dict(now) for d in self.discounts.values()],
                "gift_cards": [g.as_dict() for g in self.gift_cards.values()],
                "flow_triggers": [dict(t) for t in self.flow_triggers],
            }


def metafield_values(owner):
    """A customer's (or the shop's) metafields as {"namespace.key": {"type": ..., "value": ...}}."""
    return {
        f"{m.namespace}.{m.key}": {"type": m.type, "value": m.value}
        for m in sorted(owner.metafields.values(), key=lambda m: (m.namespace, m.key))
    }
