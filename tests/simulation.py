"""A seeded simulation of a shop's webhook traffic, its expected ledger, and the ledger's invariants.

`story(seed, events)` writes a realistic stream for two shops (a few hundred customers): online and POS
orders, orders paid partly by gift card (their transactions are put in the Shopify emulator, where the
worker reads them), partial refunds, cancellations, guests who later open an account (their records merge),
customers without an email until a customers/update gives them one, test orders and orders with no one
to credit. Alongside, `Story.expected` computes each customer's final points with its own arithmetic, not
the app's code. `deliveries(...)` turns the story into what Shopify might really send: every event 1 to 10
times, shuffled, sometimes under a new webhook id. `check_invariants(engine)` states what must hold after
every batch, whatever has arrived so far.

A failing run prints its seed; `LOYALTY_SIM_SEED=<seed>` replays it.
"""
from __future__ import annotations

import math
import os
import random
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select

from db.tables import customers, ledger_entries as le, orders, shops
from loyalty.services.ledger import NOT_LIFETIME
from tests.factories import cancelled, money

STORE_A = "store-a.myshopify.com"
"""`negative_balance: allow` (the default); its final ledger must equal one clean, ordered delivery's."""
STORE_B = "store-b.myshopify.com"
"""`negative_balance: floor`; points are also redeemed while the stream runs, so nobody may go below zero."""
SHOPS = (STORE_A, STORE_B)
TOKEN = "shpat_simulation"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=timezone.utc)


def seed_from_env() -> int:
    """LOYALTY_SIM_SEED when set (to replay a failure), else a fresh random seed."""
    raw = os.environ.get("LOYALTY_SIM_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(2**32)


def replay_hint(seed: int) -> str:
    """What to put in a failure message."""
    return f"simulation seed {seed} (replay with LOYALTY_SIM_SEED={seed})"


@dataclass
class Person:
    """A shopper of one shop: an account (Shopify id) or a guest known only by email."""

    shop: str
    email: str
    shopify_id: int | None
    email_on_create: bool = True

    @property
    def identity(self) -> str:
        """How the final state names this person: the account id, else the normalised email."""
        return f"id:{self.shopify_id}" if self.shopify_id else f"email:{self.email.strip().lower()}"


@dataclass
class Story:
    """The events in the order they happened, and what the ledger must say once they have all arrived."""

    seed: int
    events: list = field(default_factory=list)
    """(topic, shop domain, webhook id, body)"""
    gift_card_orders: list = field(default_factory=list)
    """(shop, order id, gift card amount, other amount): to seed in the Shopify emulator"""
    order_truth: dict = field(default_factory=dict)
    """(shop, order id) -> (identity or None, award, kept after refunds/cancellation)"""

    def expected(self, shop: str) -> dict:
        """identity -> points the person holds once everything is delivered and matured."""
        held: dict = defaultdict(int)
        for (order_shop, _), (identity, _award, kept) in self.order_truth.items():
            if order_shop == shop and identity is not None:
                held[identity] += kept
        return {k: v for k, v in held.items() if v}


def story(seed: int, events: int) -> Story:
    """About `events` webhooks for two shops (one customer per 30 events, 20 at least), from `seed` alone."""
    rng = random.Random(seed)
    customers_per_shop = max(20, events // 30)
    result = Story(seed)
    ids = iter(range(10**9 + seed % 10**6 * 1000, 10**13))
    people: dict[str, list[Person]] = {}
    for shop in SHOPS:
        crowd = []
        for n in range(customers_per_shop):
            email = f"p{n}.{rng.randrange(10**6)}@example.com"
            if rng.random() < 0.75:
                crowd.append(Person(shop, email, next(ids), email_on_create=rng.random() < 0.85))
            else:
                crowd.append(Person(shop, email, None))  # a guest for good, unless below
        people[shop] = crowd
    counter = iter(range(10**9))
    when = START

    def emit(topic: str, shop: str, body: dict) -> None:
        result.events.append((topic, shop, f"sim:{seed}:{next(counter)}", body))

    announced: set = set()
    while len(result.events) < events:
        when += timedelta(minutes=rng.randint(1, 90))
        shop = rng.choice(SHOPS)
        person = rng.choice(people[shop])
        if person.shopify_id and (person.shopify_id not in announced or rng.random() < 0.05):
            first = person.shopify_id not in announced
            announced.add(person.shopify_id)
            email = person.email if (not first or person.email_on_create) else None
            emit("customers/create" if first else "customers/update", shop,
                 {"id": person.shopify_id, "email": email, "tags": rng.choice(["", "vip", "newsletter"]),
                  "first_name": "Sim", "last_name": f"Customer {person.shopify_id}"})
            if first and email is None:
                # Later Shopify tells us the email (customers/update): the guest record of it merges in.
                emit("customers/update", shop, {"id": person.shopify_id, "email": person.email, "tags": ""})
            continue
        _order_story(rng, result, emit, shop, person, when, next(ids), ids)
    return result


def _order_story(rng, result: Story, emit, shop: str, person: Person, when: datetime, order_id: int, ids) -> None:
    """One order's events (paid, maybe refunds, maybe cancelled) and the points it must end with."""
    as_guest = person.shopify_id is None or rng.random() < 0.2  # accounts check out as guests sometimes
    email = person.email if rng.random() < 0.97 else None
    if email and rng.random() < 0.2:
        email = f"  {email.upper()} "  # what customers type; the app normalises
    lines, merchandise = [], Decimal(0)
    for i in range(rng.randint(1, 4)):
        price = Decimal(rng.randint(100, 15000)) / 100
        qty = rng.randint(1, 3)
        discount = (Decimal(rng.randint(0, int(price * qty * 30))) / 100) if rng.random() < 0.2 else Decimal(0)
        merchandise += price * qty - discount
        lines.append({"id": next(ids), "price": f"{price:.2f}", "price_set": money(f"{price:.2f}"),
                      "quantity": qty, "gift_card": False, "title": f"item {i}",
                      "discount_allocations": [{"amount": f"{discount:.2f}",
                                                "amount_set": money(f"{discount:.2f}")}] if discount else []})
    source = rng.choice(["web", "web", "web", "pos", "shopify_draft_order"])
    gift_card = Decimal(0)
    gateways = ["cash"] if source == "pos" and rng.random() < 0.5 else ["shopify_payments"]
    if rng.random() < 0.12:
        total = merchandise + 5
        gift_card = min(total, Decimal(rng.randint(500, 20000)) / 100)
        gateways = ["gift_card"] + ([] if gift_card >= total else gateways)
        result.gift_card_orders.append((shop, order_id, gift_card, total - gift_card))
    test = rng.random() < 0.02
    body = {
        "id": order_id, "name": f"#{order_id % 10**6}", "email": email, "test": test, "currency": "EUR",
        "source_name": source, "processed_at": when.isoformat(), "created_at": when.isoformat(),
        "payment_gateway_names": gateways, "taxes_included": True, "line_items": lines, "cancelled_at": None,
        "customer": None if as_guest or not person.shopify_id else
        {"id": person.shopify_id, "email": person.email, "tags": ""},
        "company": None, "shipping_lines": [{"price": "5.00", "price_set": money("5.00")}],
        "total_tip_received": "0.00", "discount_codes": [],
    }
    emit("orders/paid", shop, body)
    award = 0 if test or (email is None and body["customer"] is None) else \
        math.floor(max(Decimal(0), merchandise - gift_card))
    refunded = Decimal(0)
    for n in range(rng.choice([0, 0, 0, 0, 1, 1, 2, 3])):
        index = rng.randrange(len(lines))
        line = lines[index]
        subtotal = min(Decimal(line["price"]), max(merchandise - refunded, Decimal(0)))
        if subtotal <= 0:
            break
        refunded += subtotal
        at = when + timedelta(days=1 + n, minutes=rng.randint(0, 600))
        emit("refunds/create", shop, {
            "id": next(ids), "order_id": order_id, "created_at": at.isoformat(), "order_adjustments": [],
            "transactions": [], "refund_line_items": [{
                "id": next(ids), "line_item_id": line["id"], "quantity": 1, "subtotal": float(subtotal),
                "subtotal_set": money(f"{subtotal:.2f}"), "total_tax": 0.0}]})
    is_cancelled = rng.random() < 0.06
    if is_cancelled:
        emit("orders/cancelled", shop, cancelled(body, at=(when + timedelta(hours=2)).isoformat()))
    if award and merchandise > 0:
        kept = 0 if is_cancelled else \
            math.floor(Fraction(award) * Fraction(merchandise - min(refunded, merchandise)) / Fraction(merchandise))
    else:
        kept = 0
    identity = None
    if award:
        if body["customer"]:
            identity = person.identity
        else:
            # A guest order counts for the account that owns the email, once the account says so.
            identity = person.identity if person.shopify_id else f"email:{email.strip().lower()}"
    result.order_truth[(shop, order_id)] = (identity, award, kept)


def deliveries(story_: Story, rng: random.Random, max_copies: int = 10) -> list:
    """Every event 1..max_copies times (the same webhook id, as Shopify retries; now and then a new id,
    as a replay would), all shuffled."""
    out = []
    for topic, shop, webhook_id, body in story_.events:
        for copy in range(rng.randint(1, max_copies)):
            out.append((topic, shop, webhook_id if rng.random() < 0.9 else f"{webhook_id}:replay{copy}", body))
    rng.shuffle(out)
    return out


# -- what the database must say ---------------------------------------------------------------------------


def final_state(conn) -> dict:
    """Per (shop, person): (available, pending, lifetime); per (shop, order) that earns: (person, award, held)."""
    def who(shopify_id, email):
        return f"id:{shopify_id}" if shopify_id else f"email:{email}"

    people: dict = defaultdict(lambda: [0, 0, 0])
    for domain, shopify_id, email, kind, pending, available in conn.execute(
            select(shops.c.domain, customers.c.shopify_customer_id, customers.c.email, le.c.kind, le.c.pending,
                   le.c.available)
            .select_from(le.join(customers, customers.c.id == le.c.customer_id)
                         .join(shops, shops.c.id == le.c.shop_id))):
        totals = people[(domain, who(shopify_id, email))]
        totals[0] += available
        totals[1] += pending
        totals[2] += 0 if kind in NOT_LIFETIME else pending + available
    held = dict(conn.execute(select(le.c.order_id, func.sum(le.c.pending + le.c.available))
                             .where(le.c.order_id.is_not(None)).group_by(le.c.order_id)).all())
    order_rows = {}
    for order_pk, domain, order_id, award, shopify_id, email in conn.execute(
            select(orders.c.id, shops.c.domain, orders.c.shopify_order_id, orders.c.award,
                   customers.c.shopify_customer_id, customers.c.email)
            .select_from(orders.join(shops, shops.c.id == orders.c.shop_id)
                         .outerjoin(customers, customers.c.id == orders.c.customer_id))
            .where(orders.c.award > 0)):
        order_rows[(domain, int(order_id))] = (who(shopify_id, email), int(award), int(held.get(order_pk, 0)))
    return {"people": {k: tuple(v) for k, v in people.items() if any(v)}, "orders": order_rows}


def check_invariants(conn, floor_shops=(STORE_B,)) -> None:
    """What holds after any batch, whatever has arrived: AssertionError naming the first breach."""
    # Every order entry belongs to the order's customer (merges move both together).
    stray = conn.execute(select(func.count()).select_from(le.join(orders, orders.c.id == le.c.order_id))
                         .where(le.c.customer_id != orders.c.customer_id)).scalar()
    assert stray == 0, f"{stray} ledger entries are not on their order's customer"
    # One award per order at most, equal to the order's award; nothing for an order that earns nothing.
    earns = conn.execute(select(orders.c.shopify_order_id, orders.c.award, func.count(), func.sum(le.c.pending))
                         .select_from(le.join(orders, orders.c.id == le.c.order_id)).where(le.c.kind == "earn")
                         .group_by(orders.c.id, orders.c.shopify_order_id, orders.c.award)).all()
    for order_id, award, count, pending in earns:
        assert count == 1 and pending == award and award > 0, \
            f"order {order_id}: {count} earn entries of {pending} for an award of {award}"
    # What an order holds never exceeds its award nor goes below zero; pending never below zero.
    holdings = conn.execute(select(orders.c.shopify_order_id, orders.c.award,
                                   func.sum(le.c.pending + le.c.available), func.sum(le.c.pending))
                            .select_from(le.join(orders, orders.c.id == le.c.order_id))
                            .group_by(orders.c.id, orders.c.shopify_order_id, orders.c.award)).all()
    for order_id, award, held, pending in holdings:
        assert 0 <= held <= (award or 0), f"order {order_id} holds {held} of an award of {award}"
        assert pending >= 0, f"order {order_id} has {pending} pending points"
    # A customer's balance (ledger.balance) is the sum of their orders' holdings and their other entries.
    from loyalty.services.ledger import balance
    by_customer = dict(conn.execute(select(le.c.customer_id, func.sum(le.c.pending + le.c.available))
                                    .where(le.c.customer_id.is_not(None)).group_by(le.c.customer_id)).all())
    per_orders = dict(conn.execute(select(orders.c.customer_id, func.sum(le.c.pending + le.c.available))
                                   .select_from(le.join(orders, orders.c.id == le.c.order_id))
                                   .group_by(orders.c.customer_id)).all())
    others = dict(conn.execute(select(le.c.customer_id, func.sum(le.c.pending + le.c.available))
                               .where(le.c.order_id.is_(None), le.c.customer_id.is_not(None))
                               .group_by(le.c.customer_id)).all())
    for customer_id, total in by_customer.items():
        assert total == per_orders.get(customer_id, 0) + others.get(customer_id, 0), f"customer {customer_id}"
    # Where the shop's policy is `floor`, nobody's available balance is below zero.
    floor_ids = conn.execute(select(shops.c.id).where(shops.c.domain.in_(floor_shops))).scalars().all()
    negatives = conn.execute(select(le.c.customer_id, func.sum(le.c.available)).where(le.c.shop_id.in_(floor_ids))
                             .group_by(le.c.customer_id).having(func.sum(le.c.available) < 0)).all()
    assert not negatives, f"below zero under the floor policy: {negatives[:5]}"
    for customer_id in list(by_customer)[:25]:  # the app's own balance agrees with the raw sums
        bal = balance(conn, customer_id)
        assert bal.available + bal.pending == by_customer[customer_id]


def expected_orders(story_: Story, shop: str) -> dict:
    """(shop, order id) -> (person, award, held) as final_state reports it, from the story's arithmetic."""
    return {key: (who, award, kept) for key, (who, award, kept) in story_.order_truth.items()
            if key[0] == shop and award}


# -- running it -------------------------------------------------------------------------------------------


@contextmanager
def emulator_server():
    """The Shopify Admin API emulator over real HTTP on a free port (threads), holding both shops:
    `admin_url_template` for the app's config. Worker processes can reach it too."""
    from werkzeug.serving import make_server

    from tools.shopify_emulator import Emulator

    emulator = Emulator()
    for shop in SHOPS:
        emulator.add_shop(shop, TOKEN)
    server = make_server("127.0.0.1", 0, emulator.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield emulator, f"http://127.0.0.1:{server.server_port}/{{shop}}"
    finally:
        server.shutdown()
        thread.join(10)


def install(ctx, emulator, story_: Story) -> None:
    """Both shops installed with the emulator's token, store B on the floor policy; the gift-card orders'
    transactions put in the emulator as Shopify would hold them."""
    from loyalty.services.shops import install_shop, programme, save_programme
    from integrations.crypto import encrypt_token

    with ctx.engine.begin() as conn:
        for shop in SHOPS:
            ref = install_shop(conn, shop, encrypt_token(ctx.config.encryption_keys, TOKEN), START)
            if shop == STORE_B:
                save_programme(conn, ref, programme(conn, ref.id, 1).with_changes(negative_balance="floor"), START)
    for shop, order_id, gift_card, other in story_.gift_card_orders:
        transactions = [{"gateway": "gift_card", "amount": f"{gift_card:.2f}", "kind": "SALE", "status": "SUCCESS"},
                        {"gateway": "gift_card", "amount": "1.00", "kind": "SALE", "status": "FAILURE"}]
        if other > 0:
            transactions.append({"gateway": "shopify_payments", "amount": f"{other:.2f}", "kind": "SALE"})
        emulator.add_order(shop, order_id, transactions)


def redeem_some(ctx, rng: random.Random, now: datetime) -> int:
    """Store B's customers spend points as the stream runs (the ledger half of a redemption), so refunds
    arriving later meet balances already spent. Returns the points spent."""
    from loyalty.services.shops import get_shop
    from loyalty.services.vouchers import VoucherRefused, reserve

    with ctx.engine.begin() as conn:
        shop = get_shop(conn, STORE_B)
        rows = conn.execute(select(le.c.customer_id, func.sum(le.c.available)).where(le.c.shop_id == shop.id)
                            .group_by(le.c.customer_id).having(func.sum(le.c.available) >= 10)).all()
    spent = 0
    for customer_id, available in rng.sample(rows, min(len(rows), 5)):
        points = rng.randint(10, int(available))
        with ctx.engine.begin() as conn:
            try:
                reserve(conn, shop, customer_id, points, f"sim-{rng.randrange(10**12)}", now)
                spent += points
            except VoucherRefused:
                pass
    return spent
