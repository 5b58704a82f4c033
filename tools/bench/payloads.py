"""Webhook traffic for the pipeline benchmark (`--payload real|trimmed`).

- `real` (the default): orders of Shopify's real shape and size, built at run time from the payload samples
  in ../shared/shopify/samples (never copied into the repo; BENCH_SHOPIFY_SAMPLES names another folder):
  every full order sample (tax lines, discount allocations, customer objects, shipping lines, addresses;
  5-20 KB compact), given fresh ids, dates and customers, in a mix like a shop's day (MIX): customer
  accounts and guests, gift-card splits whose transactions the worker fetches from the Admin API emulator
  (seeded with them first, as Shopify holds them), POS orders, refunds, cancellations and duplicate
  deliveries (the same order again under another webhook id);
- `trimmed`: the earlier figures' bodies (235 bytes, guests, orders/paid only), to reproduce them.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from tools.bench.load import order_bodies

SAMPLES_ENV = "BENCH_SHOPIFY_SAMPLES"
REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "shopify" / "samples"
"""Where tests/samples.py finds them too: ../shared beside the checkout."""

MIX = {"refund": 0.04, "cancel": 0.02, "duplicate": 0.03}
"""Share of deliveries that are not a new paid order (the rest are)."""
ORDER_MIX = {"account": 0.75, "gift_card": 0.12, "pos": 0.10}
"""Of new orders: with a customer account (else a guest checkout), paid partly by gift card, sold in store."""
CUSTOMERS = 2_000
"""Distinct customer accounts the orders come from (repeat buyers, as in a shop)."""
TEMPLATE_SIZES = (4_000, 30_000)
"""Compact JSON sizes of the samples used as templates, in bytes."""


@dataclass
class Deliveries:
    """Deliveries in order, and what the emulated shop must hold for the worker's questions."""

    deliveries: list[tuple[str, bytes]] = field(default_factory=list)
    """(topic, body) as Shopify sends them."""
    seeds: list[dict] = field(default_factory=list)
    """Gift-card orders with their transactions, for the emulator (POST /_emulator/SHOP/orders)."""
    customers: set[tuple[int, str]] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)

    def bodies(self) -> tuple[bytes, ...]:
        """The bodies alone."""
        return tuple(body for _, body in self.deliveries)

    def topics(self) -> tuple[str, ...]:
        """Each body's topic."""
        return tuple(topic for topic, _ in self.deliveries)

    def describe(self) -> str:
        """The mix and the sizes, for a figure's note."""
        sizes = sorted(len(b) for _, b in self.deliveries)
        total = len(sizes) or 1
        mix = ", ".join(f"{name} {n / total:.0%}" for name, n in sorted(self.counts.items(), key=lambda kv: -kv[1]))
        return (f"{mix}; body median {sizes[len(sizes) // 2] / 1000:.1f} KB" if sizes else mix)


def deliveries(kind: str, count: int, first_id: int, shop: str, seed: int = 13) -> Deliveries:
    """`count` deliveries of `kind` ('real' or 'trimmed'); order ids from `first_id`."""
    if kind == "trimmed":
        bodies = order_bodies(count, first_id, accounts=False)
        return Deliveries([("orders/paid", b) for b in bodies], counts={"guest order (trimmed)": count})
    return _Generator(load_templates(), shop, random.Random(seed + first_id)).run(count, first_id)


def samples_dir() -> Path:
    """The samples folder, or a clear error saying where it was looked for."""
    folder = Path(os.environ.get(SAMPLES_ENV) or SAMPLES)
    if not (folder / "order_mock_responses.json").exists():
        raise SystemExit(f"the pipeline benchmark's real-shaped payloads need Shopify's samples in {folder} "
                         f"(../shared/shopify/samples beside the checkout, or {SAMPLES_ENV}=FOLDER); "
                         "or run it with --payload trimmed")
    return folder


def load_templates() -> "Templates":
    """Every full order sample and the refund sample, unwrapped."""
    folder = samples_dir()
    orders = [item["order"] for item in json.loads((folder / "order_mock_responses.json").read_text())
              if isinstance(item, dict) and isinstance(item.get("order"), dict)]
    for name in ("order_single_richest.json", "order_with_gift_card_payment.json"):
        if (folder / name).exists():
            orders.append(json.loads((folder / name).read_text())["order"])
    low, high = TEMPLATE_SIZES
    orders = [o for o in orders if o.get("line_items") and low <= len(json.dumps(o)) <= high]
    refund = json.loads((folder / "refund_single_line_items.json").read_text())["refund"]
    if not orders:
        raise SystemExit(f"no full order sample of {low:,}-{high:,} bytes in {folder}")
    return Templates(tuple(json.dumps(o) for o in orders), json.dumps(refund))


@dataclass(frozen=True)
class Templates:
    """The samples as JSON text (each use parses a fresh copy: cheaper than a deep copy)."""

    orders: tuple[str, ...]
    refund: str


class _Generator:
    """Builds one run's deliveries."""

    def __init__(self, templates: Templates, shop: str, rng: random.Random):
        self.templates, self.shop, self.rng = templates, shop, rng
        self.start = datetime.now(timezone.utc) - timedelta(hours=1)
        self.paid: list[tuple[dict, bytes]] = []
        self.cancelled: set[int] = set()

    def run(self, count: int, first_id: int) -> Deliveries:
        out = Deliveries()
        next_id = first_id
        while len(out.deliveries) < count:
            roll = self.rng.random()
            older = self._earlier_order()
            if older is not None and roll < MIX["refund"]:
                out.deliveries.append(("refunds/create", self._refund(older, next_id)))
                kind = "refund"
            elif older is not None and roll < MIX["refund"] + MIX["cancel"] and older[0]["id"] not in self.cancelled:
                self.cancelled.add(older[0]["id"])
                out.deliveries.append(("orders/cancelled", self._cancelled(older[0])))
                kind = "cancellation"
            elif older is not None and roll < sum(MIX.values()):
                out.deliveries.append(("orders/paid", older[1]))
                kind = "duplicate delivery"
            else:
                body, kind = self._order(next_id, out)
                raw = json.dumps(body, separators=(",", ":")).encode()
                self.paid.append((body, raw))
                out.deliveries.append(("orders/paid", raw))
            next_id += 1
            out.counts[kind] = out.counts.get(kind, 0) + 1
        return out

    def _earlier_order(self):
        """A paid order sent at least 20 deliveries ago (its webhook is applied first), if any."""
        if len(self.paid) < 40:
            return None
        return self.paid[self.rng.randrange(len(self.paid) - 20)]

    def _order(self, order_id: int, out: Deliveries) -> tuple[dict, str]:
        rng = self.rng
        body = json.loads(rng.choice(self.templates.orders))
        when = (self.start + timedelta(milliseconds=order_id % 3_600_000)).isoformat()
        body.update(id=order_id, name=f"#B{order_id}", order_number=order_id, number=order_id, test=False,
                    created_at=when, processed_at=when, updated_at=when, cancelled_at=None, cancel_reason=None,
                    financial_status="paid", admin_graphql_api_id=f"gid://shopify/Order/{order_id}",
                    refunds=[], source_name="web", payment_gateway_names=["shopify_payments"])
        for n, item in enumerate(body["line_items"]):
            item["id"] = order_id * 100 + n
        url = body.get("order_status_url")
        if isinstance(url, str) and "//" in url:  # as Shopify sends it for this shop
            body["order_status_url"] = f"https://{self.shop}/{url.split('//', 1)[1].split('/', 1)[1]}"
        pick = rng.random()
        if rng.random() < ORDER_MIX["account"]:
            number = rng.randrange(CUSTOMERS)
            email = f"c{number}@example.com"
            customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
            body["customer"] = {**customer, "id": 700_000 + number, "email": email, "tags": "",
                                "admin_graphql_api_id": f"gid://shopify/Customer/{700_000 + number}"}
            out.customers.add((700_000 + number, email))
            kind = "account"
        else:
            email = f"guest{order_id}@example.com"
            body["customer"] = None
            kind = "guest"
        body["email"] = body["contact_email"] = email
        if pick < ORDER_MIX["pos"]:
            body.update(source_name="pos", location_id=48_000_000 + rng.randrange(3), shipping_lines=[])
            kind += ", POS"
        elif pick < ORDER_MIX["pos"] + ORDER_MIX["gift_card"]:
            body["payment_gateway_names"] = ["gift_card", "shopify_payments"]
            total = Decimal(str(body.get("total_price") or "0"))
            card = min(total, Decimal(rng.choice([10, 25, 50])))
            out.seeds.append({"order": body, "transactions": [
                {"gateway": "gift_card", "kind": "SALE", "status": "SUCCESS", "amount": f"{card:.2f}"},
                {"gateway": "shopify_payments", "kind": "SALE", "status": "SUCCESS", "amount": f"{total - card:.2f}"}]})
            kind += ", gift-card split"
        return body, kind

    def _refund(self, older: tuple[dict, bytes], refund_id: int) -> bytes:
        order = older[0]
        body = json.loads(self.templates.refund)
        item = self.rng.choice(order["line_items"])
        subtotal = f"{Decimal(str(item.get('price') or '0')):.2f}"
        money = {"shop_money": {"amount": subtotal, "currency_code": order.get("currency") or "USD"},
                 "presentment_money": {"amount": subtotal, "currency_code": order.get("currency") or "USD"}}
        template_line = (body.get("refund_line_items") or [{}])[0]
        when = (datetime.fromisoformat(order["processed_at"]) + timedelta(minutes=5)).isoformat()
        body.update(id=refund_id, order_id=order["id"], created_at=when, processed_at=when,
                    admin_graphql_api_id=f"gid://shopify/Refund/{refund_id}",
                    refund_line_items=[{**template_line, "id": refund_id, "line_item_id": item["id"], "line_item": item,
                                        "quantity": 1, "subtotal": subtotal, "subtotal_set": money}])
        for transaction in body.get("transactions") or ():
            transaction.update(order_id=order["id"], amount=subtotal)
        return json.dumps(body, separators=(",", ":")).encode()

    def _cancelled(self, order: dict) -> bytes:
        when = (datetime.fromisoformat(order["processed_at"]) + timedelta(minutes=10)).isoformat()
        return json.dumps({**order, "cancelled_at": when, "cancel_reason": "customer", "updated_at": when},
                          separators=(",", ":")).encode()
