"""`loyalty demo traffic`: realistic signed webhook traffic for a running demo (`make run`).
`loyalty demo order`: one paid order to post by hand (the README's first example).

Orders online and in store (POS), some paid partly by gift card (their transactions are seeded in the
local emulator first, as Shopify would hold them), refunds and cancellations, from a handful of customers.
"""
from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone

import click

from cli.common import local_app

DEMO_SHOP = "demo.myshopify.com"


def _money(amount: str) -> dict:
    return {"shop_money": {"amount": amount, "currency_code": "EUR"},
            "presentment_money": {"amount": amount, "currency_code": "EUR"}}


def _order(rng: random.Random, order_id: int, customer: tuple[int, str], when: datetime, gift_card: bool) -> dict:
    lines = []
    for i in range(rng.randint(1, 3)):
        price = f"{rng.choice([19.9, 29, 45, 59.5, 89]):.2f}"
        lines.append({"id": order_id * 10 + i, "price": price, "price_set": _money(price),
                      "quantity": rng.randint(1, 2), "gift_card": False, "discount_allocations": []})
    return {"id": order_id, "name": f"#D{order_id}", "email": customer[1], "test": False, "currency": "EUR",
            "source_name": rng.choice(["web", "web", "pos"]), "processed_at": when.isoformat(),
            "created_at": when.isoformat(), "customer": {"id": customer[0], "email": customer[1], "tags": ""},
            "payment_gateway_names": ["gift_card", "shopify_payments"] if gift_card else ["shopify_payments"],
            "taxes_included": True, "line_items": lines, "discount_codes": [], "cancelled_at": None}


@click.group()
def demo() -> None:
    """The local demo (make run with no Shopify credentials)."""


def _emulator_url(given: str | None) -> str:
    """The demo's emulator: --emulator, else where `make run` pointed the Admin API (var/demo.env)."""
    if given:
        return given.rstrip("/")
    from loyalty.config import load_config

    template = load_config().admin_url_template
    if template.startswith("http://127.0.0.1:") and template.endswith("/{shop}"):
        return template[:-len("/{shop}")]
    return "http://127.0.0.1:9000"


def _seed_emulator(emulator: str, body: dict, transactions: list[dict]) -> None:
    """Give the emulated shop the order, its transactions and its customer, as Shopify would hold them."""
    import requests

    customer = body["customer"]
    requests.post(f"{emulator}/_emulator/{DEMO_SHOP}/customers", json={"id": customer["id"],
                                                                       "email": customer["email"]}, timeout=10)
    requests.post(f"{emulator}/_emulator/{DEMO_SHOP}/orders", json={"order": body, "transactions": transactions},
                  timeout=10).raise_for_status()


SAMPLE_ORDER_ID = 4_100_000_001
"""The sample order's id: the same every time, so posting it twice credits it once."""


@demo.command("order")
@click.option("--emulator", default=None, help="The demo's emulator (default: the one `make run` started).")
def sample_order(emulator: str | None) -> None:
    """Print a paid order (orders/paid JSON) of the demo customer shopper1@example.com: 300.00 of goods,
    50.00 of it paid by gift card (which earns nothing). The demo's emulated shop is given the order, its
    transactions and the customer first, so the worker's questions to "Shopify" get answers.

        loyalty demo order > order.json
        loyalty webhook send demo.myshopify.com orders/paid order.json"""
    import requests

    when = datetime.now(timezone.utc).replace(microsecond=0)
    body = {"id": SAMPLE_ORDER_ID, "name": "#D1001", "email": "shopper1@example.com", "test": False,
            "currency": "EUR", "source_name": "web", "processed_at": when.isoformat(),
            "created_at": when.isoformat(), "customer": {"id": 900001, "email": "shopper1@example.com", "tags": ""},
            "payment_gateway_names": ["gift_card", "shopify_payments"], "taxes_included": True,
            "line_items": [
                {"id": SAMPLE_ORDER_ID * 10, "title": "Linen shirt", "price": "120.00", "price_set": _money("120.00"),
                 "quantity": 2, "gift_card": False, "discount_allocations": []},
                {"id": SAMPLE_ORDER_ID * 10 + 1, "title": "Canvas tote", "price": "60.00",
                 "price_set": _money("60.00"), "quantity": 1, "gift_card": False, "discount_allocations": []}],
            "discount_codes": [], "cancelled_at": None}
    transactions = [{"gateway": "shopify_payments", "kind": "SALE", "status": "SUCCESS", "amount": "250.00"},
                    {"gateway": "gift_card", "kind": "SALE", "status": "SUCCESS", "amount": "50.00"}]
    url = _emulator_url(emulator)
    try:
        _seed_emulator(url, body, transactions)
    except requests.RequestException as exc:
        click.echo(f"the demo's emulator at {url} did not take the order ({exc}): is `make run` running in demo "
                   "mode? Posted anyway, the order waits for its gift-card transactions (loyalty inbox status)",
                   err=True)
    click.echo(json.dumps(body, indent=2))


@demo.command("traffic")
@click.option("--orders", default=50, show_default=True, help="How many orders to send.")
@click.option("--url", default=None, help="Where the app listens [default: http://127.0.0.1:$PORT/webhooks, PORT as "
              "`make run` uses it, else 8000]")
@click.option("--emulator", default="http://127.0.0.1:9000", show_default=True)
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same traffic).")
@click.option("--days-ago", default=20, show_default=True, help="Spread order dates over this many past days.")
def traffic(orders: int, url: str, emulator: str, seed: int, days_ago: int) -> None:
    """Send signed orders/paid, refunds/create, orders/cancelled and customers/create webhooks."""
    import requests

    from loyalty.config import load_config
    from integrations.shopify.webhook_signature import sign

    secret = load_config().api_secrets[0]
    url = url or local_app("/webhooks")
    rng = random.Random(seed)
    customers = [(900000 + i, f"shopper{i}@example.com") for i in range(1, 6)]
    sent = {"orders/paid": 0, "refunds/create": 0, "orders/cancelled": 0, "customers/create": 0}

    def post(topic: str, body: dict) -> None:
        raw = json.dumps(body).encode()
        try:
            answer = requests.post(url, data=raw, timeout=10, headers={
                "Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": DEMO_SHOP,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Hmac-Sha256": sign(secret, raw)})
        except requests.ConnectionError:
            raise click.ClickException(f"could not reach the app at {url}; is `make run` running (and on which "
                                       "PORT)?") from None
        answer.raise_for_status()
        sent[topic] += 1

    for customer_id, email in customers:
        post("customers/create", {"id": customer_id, "email": email, "tags": ""})
        try:
            requests.post(f"{emulator}/_emulator/{DEMO_SHOP}/customers", json={"id": customer_id, "email": email},
                          timeout=10)
        except requests.ConnectionError:
            raise click.ClickException(f"could not reach the Shopify emulator at {emulator}; is `make run` "
                                       "running in demo mode?") from None
    start = datetime.now(timezone.utc) - timedelta(days=days_ago)
    base_id = rng.randint(10**9, 2 * 10**9)
    for n in range(orders):
        when = start + timedelta(hours=n * days_ago * 24 / max(orders, 1))
        gift_card = rng.random() < 0.2
        body = _order(rng, base_id + n, rng.choice(customers), when, gift_card)
        total = sum(float(li["price"]) * li["quantity"] for li in body["line_items"])
        paid_by_card = round(min(total, rng.choice([10, 25, 50])), 2) if gift_card else 0
        transactions = [{"gateway": "shopify_payments", "kind": "SALE", "status": "SUCCESS",
                         "amount": f"{total - paid_by_card:.2f}"}]
        if gift_card:
            transactions.append({"gateway": "gift_card", "kind": "SALE", "status": "SUCCESS",
                                 "amount": f"{paid_by_card:.2f}"})
        # The emulated shop holds what the webhooks say, so reconciliation and history imports agree with them.
        _seed_emulator(emulator, body, transactions)
        post("orders/paid", body)
        roll = rng.random()
        if roll < 0.1:
            line = body["line_items"][0]
            refund = {"id": body["id"] * 7, "order_id": body["id"], "created_at": when.isoformat(),
                      "refund_line_items": [{"quantity": 1, "line_item_id": line["id"],
                                             "subtotal_set": _money(line["price"])}]}
            requests.post(f"{emulator}/_emulator/{DEMO_SHOP}/refunds", json=refund, timeout=10)
            post("refunds/create", refund)
        elif roll < 0.15:
            cancelled = {**body, "cancelled_at": (when + timedelta(hours=1)).isoformat()}
            requests.post(f"{emulator}/_emulator/{DEMO_SHOP}/orders", timeout=10,
                          json={"order": cancelled, "transactions": transactions})
            post("orders/cancelled", cancelled)
    click.echo(json.dumps(sent))
