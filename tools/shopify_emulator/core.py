"""The Emulator: shops with their state and buckets, a Python API to seed and inspect them, and the app."""
import secrets
import threading
import time
from datetime import datetime, timezone

from tools.shopify_emulator import executor, oauth, store_credit
from tools.shopify_emulator.app import create_app
from tools.shopify_emulator.bucket import (
    DEFAULT_MAX_QUERY_COST,
    DEFAULT_MAXIMUM_AVAILABLE,
    DEFAULT_RESTORE_RATE,
    LeakyBucket,
)
from tools.shopify_emulator.schema import load_schema
from tools.shopify_emulator.views import shop_update_body
from tools.shopify_emulator.store import (
    TRANSACTION_KINDS,
    TRANSACTION_STATUSES,
    Collection,
    Customer,
    Order,
    Product,
    Variant,
    ShopState,
    Transaction,
    decimal_string,
    metafield_values,
    parse_id,
)

DEFAULT_SCOPES = "read_orders,read_customers,write_customers,write_discounts,write_gift_cards,read_locales"
"""Scopes the fake OAuth grant reports."""


class UnknownShop(KeyError):
    """No shop with that domain was added to the emulator."""


class Emulator:
    """A stand-in for Shopify's Admin API: `app` is the WSGI app, the methods seed and inspect it."""

    def __init__(
        self,
        *,
        clock=time.time,
        maximum_available=DEFAULT_MAXIMUM_AVAILABLE,
        restore_rate=DEFAULT_RESTORE_RATE,
        max_query_cost=DEFAULT_MAX_QUERY_COST,
        bulk_seconds_per_line=0.0,
        schema=None,
        schema_path=None,
        client_credentials=None,
        scopes=DEFAULT_SCOPES,
    ):
        """`clock` (epoch seconds) drives buckets, token expiry and timestamps; `schema` (a LoadedSchema)
        overrides loading; `client_credentials` (api key, secret), when given, are checked by OAuth;
        `bulk_seconds_per_line`: how long a bulk mutation runs per line on `clock` (0: done when first polled)."""
        self.clock = clock
        self.maximum_available = maximum_available
        self.restore_rate = restore_rate
        self.max_query_cost = max_query_cost
        self.bulk_seconds_per_line = bulk_seconds_per_line
        self._schema = schema
        self._schema_path = schema_path
        self.client_credentials = client_credentials
        self.scopes = scopes
        self._shops = {}
        self._lock = threading.Lock()
        self.app = create_app(self)

    @property
    def schema(self):
        """The LoadedSchema in use, built on first need (Shopify's takes ~2 s, then stays cached)."""
        if self._schema is None:
            self._schema = load_schema(self._schema_path)
        return self._schema

    def now(self):
        """The emulator's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    # -- seeding ---------------------------------------------------------------------------------

    def add_shop(self, domain, token=None, *, currency="USD", shop_id=None, name=None, timezone="UTC", locale="en"):
        """Register a shop answering to `token` (a random one if None), with its numeric id `shop_id` (by
        default derived from the domain: `shop(domain).id`), name, IANA time zone, currency and primary
        locale (UTC, USD and English unless told: tests' days stay UTC days); an existing shop only gets the
        new token."""
        token = token or "shpat_emulator_" + secrets.token_hex(12)
        with self._lock:
            if domain in self._shops:
                self._shops[domain].token = token
            else:
                bucket = LeakyBucket(self.clock, maximum=self.maximum_available, restore_rate=self.restore_rate)
                self._shops[domain] = ShopState(domain, token, bucket, currency, shop_id, name=name,
                                                timezone=timezone, locale=locale)
                self._shops[domain].bulk_seconds_per_line = self.bulk_seconds_per_line
        return token

    def update_shop(self, shop, **facts):
        """Change the shop's facts as a merchant does in Shopify's settings (`name`, `timezone`, `currency`,
        `locale`) and answer the body Shopify then sends as shop/update (a test or the demo signs and posts
        it)."""
        state = self.shop(shop)
        unknown = set(facts) - {"name", "timezone", "currency", "locale"}
        if unknown:
            raise ValueError(f"not a shop fact: {sorted(unknown)}")
        with state.lock:
            for key, value in facts.items():
                setattr(state, key, value)
            state.updated_at = self.now()
            return shop_update_body(state, state.updated_at)

    def uninstall_app(self, shop):
        """The merchant uninstalls the app: every token of the shop is revoked at once, as Shopify does (the
        Admin API answers 401 `Invalid API key or access token` to them, refresh tokens are refused), and the
        body Shopify then sends as app/uninstalled (the Shop resource, as shop/update's) is answered. A later
        grant (a reinstall) mints a new token."""
        state = self.shop(shop)
        with state.lock:
            state.token = None
            state.granted_tokens.clear()
            state.refresh_tokens.clear()
            return shop_update_body(state, self.now())

    def add_customer(self, shop, id, email=None, tags=(), first_name=None, last_name=None):
        """Create or update a customer (`id`: number or gid); names given replace the current ones."""
        state = self.shop(shop)
        number = _required_id(id, "Customer")
        with state.lock:
            existing = state.customers.get(number)
            if existing is None:
                existing = state.customers[number] = Customer(number, email, set(tags))
            else:
                existing.email = email if email is not None else existing.email
                existing.tags |= set(tags)
            existing.first_name = first_name if first_name is not None else existing.first_name
            existing.last_name = last_name if last_name is not None else existing.last_name
        return number

    def add_order(self, shop, order_id, transactions=(), *, customer_id=None, name="", **details):
        """Create or replace an order; each transaction is a dict: gateway, amount, kind, status, currency.
        `details` are further Order fields (email, created_at, line_items, refunds...; see store.Order)."""
        state = self.shop(shop)
        number = _required_id(order_id, "Order")
        with state.lock:
            records = [_transaction(state, t) for t in transactions]
            customer = _required_id(customer_id, "Customer") if customer_id is not None else None
            details.setdefault("created_at", self.now())
            details.setdefault("updated_at", self.now())
            state.orders[number] = Order(number, records, customer, name, **details)
        return number

    def add_product(self, shop, id, title, variants):
        """Create or replace a product and its variants: each a dict with `id`, `price`, and optionally
        `title` ("Default Title"), `compare_at_price` (None: full price), `available` (True)."""
        state = self.shop(shop)
        number = _required_id(id, "Product")
        with state.lock:
            product = Product(number, title)
            for raw in variants:
                variant = Variant(_required_id(raw["id"], "ProductVariant"), number, raw.get("title", "Default Title"),
                                  decimal_string(raw["price"]),
                                  decimal_string(raw["compare_at_price"]) if raw.get("compare_at_price") else None,
                                  raw.get("available", True))
                state.variants[variant.id] = variant
                product.variant_ids.append(variant.id)
            state.products[number] = product
        return number

    def add_collection(self, shop, id, product_ids=(), title=None):
        """Create or replace a custom collection of these products, in this order (the merchant's own
        selection, a campaign's collection); a product not added with add_product is made bare (no variants)."""
        state = self.shop(shop)
        number = _required_id(id, "Collection")
        with state.lock:
            members = [_required_id(p, "Product") for p in product_ids]
            for product in members:
                state.products.setdefault(product, Product(product, f"Product {product}"))
            state.collections[number] = Collection(number, title or f"Collection {number}", members)
        return number

    def delete_collection(self, shop, id):
        """The merchant deletes a collection in Shopify admin."""
        state = self.shop(shop)
        with state.lock:
            state.collections.pop(_required_id(id, "Collection"), None)

    def collections(self, shop):
        """Every collection with its current products: {"id", "title", "smart", "product_ids"}."""
        from tools.shopify_emulator.catalogue import members

        state = self.shop(shop)
        with state.lock:
            return [{"id": c.id, "title": c.title, "smart": c.rules is not None, "product_ids": members(state, c)}
                    for c in state.collections.values()]

    def add_rest_order(self, shop, body, transactions=(), *, financial_status="PAID"):
        """Create or replace an order from its REST/webhook JSON (and its customer), as Shopify holds it."""
        from tools.shopify_emulator.rest import order_details

        customer = body.get("customer") or {}
        if customer.get("id"):
            self.add_customer(shop, customer["id"], customer.get("email"),
                              [t.strip() for t in (customer.get("tags") or "").split(",") if t.strip()],
                              customer.get("first_name"), customer.get("last_name"))
        return self.add_order(shop, body["id"], transactions, customer_id=customer.get("id"),
                              name=body.get("name") or "", financial_status=financial_status,
                              **order_details(body, self.now()))

    def add_rest_refund(self, shop, body):
        """Add a refund (REST/webhook JSON) to its order; the order counts as updated now."""
        from tools.shopify_emulator.rest import refund_record

        state = self.shop(shop)
        with state.lock:
            order = state.orders[int(body["order_id"])]
            order.refunds = [r for r in order.refunds if r.id != int(body["id"])] + [refund_record(body)]
            order.updated_at = self.now()

    def cancel_order(self, shop, order_id, at):
        """Cancel an order at `at`; it counts as updated now."""
        state = self.shop(shop)
        with state.lock:
            order = state.orders[int(order_id)]
            order.cancelled_at, order.updated_at = at, self.now()

    # -- inspection ------------------------------------------------------------------------------

    def shop(self, domain):
        """The ShopState of `domain`; UnknownShop if it was never added."""
        with self._lock:
            try:
                return self._shops[domain]
            except KeyError:
                raise UnknownShop(domain) from None

    def find_shop(self, domain):
        """The ShopState of `domain`, or None."""
        with self._lock:
            return self._shops.get(domain)

    def discount_codes(self, shop):
        """Every code discount created in the shop, as dicts (status as of now)."""
        state, now = self.shop(shop), self.now()
        with state.lock:
            return [d.as_dict(now) for d in state.discounts.values()]

    def metafields(self, shop, customer_id):
        """A customer's metafields: {"namespace.key": {"type": ..., "value": ...}}."""
        state = self.shop(shop)
        with state.lock:
            return metafield_values(state.customers[_required_id(customer_id, "Customer")])

    def shop_metafields(self, shop):
        """The shop's own metafields: {"namespace.key": {"type": ..., "value": ...}}."""
        state = self.shop(shop)
        with state.lock:
            return metafield_values(state)

    def tags(self, shop, customer_id):
        """A customer's tags, sorted."""
        state = self.shop(shop)
        with state.lock:
            return sorted(state.customers[_required_id(customer_id, "Customer")].tags)

    def gift_cards(self, shop):
        """Every gift card created in the shop, as dicts (full codes included, for tests)."""
        state = self.shop(shop)
        with state.lock:
            return [card.as_dict() for card in state.gift_cards.values()]

    def store_credit(self, shop, customer_id=None):
        """The shop's store credit accounts (one customer's when given), as dicts with their transactions."""
        state = self.shop(shop)
        with state.lock:
            store_credit.expire_due(state, self.now())
            accounts = store_credit.snapshot(state)
        wanted = _required_id(customer_id, "Customer") if customer_id is not None else None
        return [a for a in accounts if wanted is None or a["customer_id"] == wanted]

    def debit_store_credit(self, shop, customer_id, amount):
        """Simulate a purchase paid with store credit (online or at the point of sale): spend `amount` of the
        customer's credit, soonest expiry first; returns the debit's gid, or raises store_credit.Refused."""
        state = self.shop(shop)
        with state.lock:
            return store_credit.debit(state, _required_id(customer_id, "Customer"), amount, self.now())
    def flow_triggers(self, shop):
        """The Flow triggers the shop received, in order: {"handle", "payload", "received_at"}."""
        state = self.shop(shop)
        with state.lock:
            return [dict(t) for t in state.flow_triggers]

    def state(self, shop):
        """The whole shop as plain JSON-ready data."""
        return {**self.shop(shop).snapshot(self.now()), "store_credit_accounts": self.store_credit(shop)}

    def stats(self, shop):
        """Traffic figures: served, throttled, requested/actual cost, window, utilisation, throttle status."""
        bucket = self.shop(shop).bucket
        return {**bucket.report(), "throttle_status": bucket.status()}

    # -- protocol --------------------------------------------------------------------------------

    def execute(self, shop, body, base_url=""):
        """Answer one GraphQL request body for an (authenticated) shop, as Shopify's JSON; `base_url` is
        where this emulator is reached (bulk operation URLs point back at it)."""
        return executor.run(self.schema, self.shop(shop), body, self.now(), self.max_query_cost, base_url)

    def bulk_data(self, shop, operation_id):
        """The JSONL of a bulk operation, or None."""
        state = self.shop(shop)
        with state.lock:
            found = state.bulk_operations.get(int(operation_id))
            return found.data if found else None

    def receive_upload(self, shop, form, file_bytes):
        """A staged upload's POST: (HTTP status, body); 404 for a shop never added."""
        from tools.shopify_emulator.bulk_mutation import receive_upload

        state = self.find_shop(shop)
        if state is None:
            return 404, "<Error><Code>NoSuchBucket</Code></Error>"
        with state.lock:
            return receive_upload(state, form, file_bytes)

    def bulk_operations(self, shop, type=None):
        """(id, type, status) of the shop's bulk operations, oldest first (for tests and benchmarks)."""
        state = self.shop(shop)
        with state.lock:
            return [(op.id, op.type, op.status) for op in sorted(state.bulk_operations.values(), key=lambda o: o.id)
                    if type is None or op.type == type]

    def authenticate(self, shop, token):
        """Whether `token` may call the Admin API of `shop` right now."""
        state = self.find_shop(shop)
        if state is None or not token:
            return False
        with state.lock:
            return oauth.accepts(state, token, self.clock())

    def grant_token(self, shop, params):
        """The token endpoint's answer to `params`; an unknown shop is registered on the spot (demo installs).

        Raises oauth.GrantRefused when the request is refused."""
        if self.find_shop(shop) is None:
            self.add_shop(shop)
        state = self.shop(shop)
        with state.lock:
            return oauth.grant(state, params, self.clock(), self.scopes, self.client_credentials)


def _required_id(value, kind):
    """A numeric id from a number, digit string or `kind` gid; ValueError otherwise."""
    number = parse_id(value, kind)
    if number is None:
        raise ValueError(f"not a {kind} id: {value!r}")
    return number


def _transaction(state, raw):
    """A Transaction from seed data, validating what would break the GraphQL answer later."""
    amount = decimal_string(raw["amount"])
    kind, status = str(raw.get("kind", "SALE")).upper(), str(raw.get("status", "SUCCESS")).upper()
    if amount is None:
        raise ValueError(f"transaction amount is not a decimal: {raw['amount']!r}")
    if kind not in TRANSACTION_KINDS or status not in TRANSACTION_STATUSES:
        raise ValueError(f"unknown transaction kind or status: {kind!r}, {status!r}")
    return Transaction(
        id=state.next_id(),
        gateway=str(raw.get("gateway", "manual")),
        amount=amount,
        kind=kind,
        status=status,
        currency=str(raw.get("currency") or state.currency),
    )
