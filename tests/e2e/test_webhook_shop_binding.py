"""A signed body cannot act on another shop.

Shopify signs only the body, with the app's one secret for every shop; the shop and topic headers are not
signed. A body captured from shop A and replayed with `X-Shopify-Shop-Domain: B` (any topic, any webhook id)
used to be accepted: as shop/redact it erased B, as app/uninstalled it dropped B's token, as orders/paid it
credited A's order to a new customer of B. Now every body must have its topic's shape and name no other shop
than the header's (by domain, and by Shopify's numeric shop id once the app has read it at install); the
worker checks destructive bodies again before acting (rows recorded before the check existed). The same
deliveries through the inbox writer: tests/e2e/test_inbox_writer.py
(test_the_writer_refuses_what_the_web_refuses_with_the_same_answers).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone

import pytest
import responses
from sqlalchemy import select, update

from db.inbox import insert_webhooks
from db.tables import customers, ledger_entries, orders, shops, webhook_inbox
from loyalty.services.shops import install_shop
from integrations.crypto import decrypt_token, encrypt_token
from tests.conftest import KEY, SECRET, SHOP
from tests.fixtures import shopify_emulated_by
from tests.factories import cancelled, order
from tests.samples import for_shop, sample

B = "store-b.myshopify.com"
A_ID, B_ID = 548380009, 87296377148
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)

# The suite's secret is shorter than the 32 bytes PyJWT recommends (session tokens); Shopify's app secrets are not.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def set_shop_ids(ctx, **ids) -> None:
    """Store Shopify's numeric id of each shop ({domain: id}), as the install would have read it."""
    with ctx.engine.begin() as conn:
        for domain, shop_id in ids.items():
            conn.execute(update(shops).where(shops.c.domain == domain).values(shopify_shop_id=shop_id))


@pytest.fixture(params=["ids known", "ids not read yet"])
def two_shops(request, ctx, shop, send, process):
    """Store A and store B installed (with Shopify's shop ids stored, or not yet read); B has a customer,
    191167 / john@example.com (the compliance samples' customer), with points and an order."""
    with ctx.engine.begin() as conn:
        install_shop(conn, B, encrypt_token((KEY,), "shpat_store_b"), NOW)
    if request.param == "ids known":
        set_shop_ids(ctx, **{SHOP: A_ID, B: B_ID})
    assert send("orders/paid", order(order_id=7001, lines=((80, 1),), email="john@example.com",
                                     customer_id=191167), shop=B).headers["X-Loyalty-Webhook"] == "recorded"
    assert process() == 1
    return request.param


def state_of(ctx, domain: str) -> dict:
    """Everything stored about a shop: its row (token included), customers, orders, ledger."""
    with ctx.engine.connect() as conn:
        row = conn.execute(select(shops).where(shops.c.domain == domain)).one()._asdict()
        shop_id = row["id"]
        return {"shop": row, **{table.name: [r._asdict() for r in conn.execute(
            select(table).where(table.c.shop_id == shop_id).order_by(table.c.id))]
            for table in (customers, orders, ledger_entries)}}


def inbox_rows(ctx) -> list:
    with ctx.engine.connect() as conn:
        return conn.execute(select(webhook_inbox).order_by(webhook_inbox.c.id)).all()


def bodies_of_a() -> dict:
    """Genuine bodies Shopify sent for store A (its samples, naming A and A's id), one per topic."""
    paid = sample("order_single_richest.json", SHOP, A_ID)
    return {
        "shop/redact": sample("webhook_shop_redact_docs_sample.json", SHOP, A_ID),
        "customers/redact": sample("webhook_customers_redact_docs_sample.json", SHOP, A_ID),
        "customers/data_request": sample("webhook_customers_data_request_docs_sample.json", SHOP, A_ID),
        "app/uninstalled": sample("shop_single.json", SHOP, A_ID),
        "orders/paid": paid,
        "orders/cancelled": cancelled(paid),
    }


REPLAYED = ("shop/redact", "customers/redact", "app/uninstalled", "orders/paid", "orders/cancelled")


@pytest.mark.parametrize("topic", REPLAYED)
def test_a_body_of_shop_a_replayed_for_shop_b_is_refused(two_shops, ctx, send, process, topic, caplog):
    """A's body with B's header (a fresh webhook id): 403, logged at WARNING, nothing recorded; B's shop,
    token, customers, orders and ledger are as they were, after the worker has run too."""
    before = state_of(ctx, B)
    answer = send(topic, bodies_of_a()[topic], shop=B)
    assert (answer.status_code, answer.headers["X-Loyalty-Webhook"].split(" (")[0]) == (
        403, "body names another shop than X-Shopify-Shop-Domain")
    assert any(r.levelname == "WARNING" and SHOP in r.getMessage() and B in r.getMessage() for r in caplog.records)
    assert [row.topic for row in inbox_rows(ctx)] == ["orders/paid"]  # B's own order only
    process()
    assert state_of(ctx, B) == before
    with ctx.engine.connect() as conn:
        assert decrypt_token((KEY,), conn.execute(select(shops.c.access_token).where(
            shops.c.domain == B)).scalar()) == "shpat_store_b"


def test_a_body_naming_the_right_domain_but_another_shop_id_is_refused(ctx, shop, send):
    """Once the shop's Shopify id is known, the id a body names is compared on its own: a body naming the
    header's domain with another shop's id is refused, for each field that carries an id (compliance
    `shop_id`, app/uninstalled's `id`, the order status URL's path)."""
    set_shop_ids(ctx, **{SHOP: A_ID})
    other = {"shop/redact": sample("webhook_shop_redact_docs_sample.json", SHOP, B_ID),
             "app/uninstalled": sample("shop_single.json", SHOP, B_ID),
             "orders/paid": sample("order_single_richest.json", SHOP, B_ID)}
    answers = {topic: send(topic, body).headers["X-Loyalty-Webhook"] for topic, body in other.items()}
    assert answers == {"shop/redact": "body names another shop than X-Shopify-Shop-Domain (shop_id)",
                       "app/uninstalled": "body names another shop than X-Shopify-Shop-Domain (myshopify_domain)",
                       "orders/paid": "body names another shop than X-Shopify-Shop-Domain (order_status_url)"}
    assert inbox_rows(ctx) == []


def test_an_order_status_url_on_a_custom_domain_is_bound_by_its_shop_id(ctx, shop, send):
    """A shop's order status URL may be on its own domain (anyone's): the host is not compared, the shop id
    in the path is, once known. Before the id is known such a body is accepted (inherent, see README)."""
    body = sample("order_single_richest.json", SHOP, A_ID)
    body["order_status_url"] = body["order_status_url"].replace(SHOP, "shop.example.com")
    elsewhere = dict(body, id=body["id"] + 1, order_status_url=body["order_status_url"].replace(str(A_ID), "42"))
    assert send("orders/paid", elsewhere).headers["X-Loyalty-Webhook"] == "recorded"  # id not known yet
    set_shop_ids(ctx, **{SHOP: A_ID})
    from runtime.web import create_app
    from tests.conftest import Sender

    fresh = Sender(create_app(ctx).test_client())  # a new process: the directory reads the id
    assert fresh("orders/paid", body).headers["X-Loyalty-Webhook"] == "recorded"
    assert fresh("orders/paid", dict(elsewhere, id=body["id"] + 2)).status_code == 403


def wrong_shapes() -> dict:
    """Signed bodies of store A sent for store A, each as a topic it is not a body of."""
    a = bodies_of_a()
    return {
        "customers/redact as shop/redact": ("shop/redact", a["customers/redact"]),
        "data_request as customers/redact": ("customers/redact", a["customers/data_request"]),
        "customers/redact as data_request": ("customers/data_request", a["customers/redact"]),
        "order as app/uninstalled": ("app/uninstalled", a["orders/paid"]),
        "order as shop/redact": ("shop/redact", a["orders/paid"]),
        "shop as customers/create": ("customers/create", a["app/uninstalled"]),
        "order as customers/update": ("customers/update", a["orders/paid"]),
        "refund as orders/paid": ("orders/paid", sample("refund_single_line_items.json")),
        "order as refunds/create": ("refunds/create", a["orders/paid"]),
        "customer as orders/cancelled": ("orders/cancelled", sample("customer_single.json")),
        "shop/redact without shop_domain": ("shop/redact", {"shop_id": A_ID}),
        "shop_id as a string": ("shop/redact", {"shop_id": str(A_ID), "shop_domain": SHOP}),
        "uninstalled without a Shop": ("app/uninstalled", {"id": 1}),
        "order id as a string": ("orders/paid", {"id": "1", "line_items": []}),
        "line_items not a list": ("orders/paid", {"id": 1, "line_items": {"0": {}}}),
        "not an object": ("customers/create", [1, 2]),
    }


def test_bodies_not_of_their_topics_shape_are_refused(ctx, shop, send, process):
    """Each body sent as a topic it is not a body of: 400 naming the field, nothing recorded; a customers/
    redact body cannot erase the shop, a data request cannot erase the customer."""
    before = state_of(ctx, SHOP)
    answers = {name: send(topic, body) for name, (topic, body) in wrong_shapes().items()}
    for name, answer in answers.items():
        assert answer.status_code == 400, (name, answer.headers)
        assert answer.headers["X-Loyalty-Webhook"].startswith("body is not of the shape of "), name
    assert inbox_rows(ctx) == []
    assert state_of(ctx, SHOP) == before


def test_genuine_bodies_are_recorded_and_applied(two_shops, ctx, send, process, shopify):
    """Shopify's real samples, naming the shop they are sent for: each recorded and applied without a
    failure; then app/uninstalled (A uninstalled in Shopify) stops A and shop/redact erases A; B keeps
    everything."""
    a = bodies_of_a()
    refund = sample("refund_single_line_items.json")
    refund["order_id"] = a["orders/paid"]["id"]
    person = sample("customer_single.json")
    first = {"orders/paid": a["orders/paid"], "refunds/create": refund, "customers/create": person,
             "customers/update": person, "customers/data_request": a["customers/data_request"],
             "orders/cancelled": dict(sample("order_with_gift_card_payment.json", SHOP, A_ID), id=9,
                                      cancelled_at="2025-01-02T00:00:00Z"),
             "customers/redact": a["customers/redact"]}
    for topic, body in first.items():
        assert send(topic, body).headers["X-Loyalty-Webhook"] == "recorded", topic
    process()
    assert [(r.topic, r.last_error) for r in inbox_rows(ctx) if r.processed_at is None] == []
    b_before = state_of(ctx, B)
    shopify.uninstall_app(SHOP)
    assert send("app/uninstalled", a["app/uninstalled"]).headers["X-Loyalty-Webhook"] == "recorded"
    assert send("shop/redact", a["shop/redact"]).headers["X-Loyalty-Webhook"] == "recorded"
    process()
    with ctx.engine.connect() as conn:
        assert conn.execute(select(shops.c.domain)).scalars().all() == [B]
    assert [(r.topic, r.shop_domain, r.failed_at) for r in inbox_rows(ctx)] == [
        ("orders/paid", B, None), ("shop/redact", SHOP, None)]
    assert state_of(ctx, B) == b_before


# -- the worker checks again -----------------------------------------------------------------------------

def record_as_an_older_web_process(ctx, shop_domain: str, topic: str, body: dict) -> str:
    """An inbox row recorded without the door's check (before it existed, or by an older web process)."""
    webhook_id = str(uuid.uuid4())
    with ctx.engine.begin() as conn:
        insert_webhooks(conn, [dict(webhook_id=webhook_id, shop_domain=shop_domain, topic=topic,
                                    body=json.dumps(body).encode(), received_at=NOW)])
    return webhook_id


def test_the_worker_refuses_destructive_rows_whose_body_names_another_shop(two_shops, ctx, process):
    """Rows already in the inbox for B whose body names A (or names no shop, or B's domain with A's id
    once B's id is known): each fails with its reason and does nothing; B is untouched. A row naming B
    itself is applied."""
    a = bodies_of_a()
    before = state_of(ctx, B)
    legacy = {
        "shop/redact": a["shop/redact"], "customers/redact": a["customers/redact"],
        "app/uninstalled": a["app/uninstalled"],
    }
    ids = {record_as_an_older_web_process(ctx, B, topic, body): topic for topic, body in legacy.items()}
    ids[record_as_an_older_web_process(ctx, B, "shop/redact", {"shop_id": B_ID})] = "shop/redact, no domain"
    ids[record_as_an_older_web_process(ctx, B, "app/uninstalled", {"id": B_ID})] = "app/uninstalled, no Shop"
    if two_shops == "ids known":
        ids[record_as_an_older_web_process(ctx, B, "shop/redact", {"shop_id": A_ID, "shop_domain": B})] = "A's id"
    process()
    failed = {r.webhook_id: r.last_error for r in inbox_rows(ctx) if r.webhook_id in ids}
    assert all(error and error.startswith("refused: ShopMismatch: the body names shop")
               for error in failed.values()), failed
    assert len(failed) == len(ids)
    assert state_of(ctx, B) == before
    own = for_shop(sample("webhook_customers_redact_docs_sample.json"), B, B_ID)
    record_as_an_older_web_process(ctx, B, "customers/redact", own)
    process()
    assert state_of(ctx, B)["customers"] == []  # B's own redaction is done


# -- the install learns the shop's id -------------------------------------------------------------------

def shopify_id_of(ctx, domain: str):
    with ctx.engine.connect() as conn:
        return conn.execute(select(shops.c.shopify_shop_id).where(shops.c.domain == domain)).scalar()


def test_the_oauth_install_stores_the_shops_id(client, ctx):
    """The authorization code flow against the emulated Shopify: the shop is installed with its token, and
    Shopify's id of the shop (`shop { id }`, asked with that token) is stored."""
    from tools.shopify_emulator import Emulator
    from tests.e2e.test_oauth import NEW_SHOP, callback_params, start_install

    emulator = Emulator()
    with responses.RequestsMock() as rsps:
        shopify_emulated_by(rsps, emulator)
        answer = client.get("/auth/callback", query_string=callback_params(start_install(client)))
    assert answer.status_code == 302
    assert shopify_id_of(ctx, NEW_SHOP) == emulator.shop(NEW_SHOP).id


def test_token_exchange_stores_the_shops_id(client, ctx):
    """Managed installation (a session token exchanged for an offline token) stores the id as well."""
    from tools.shopify_emulator import Emulator
    from tests.e2e.test_oauth import NEW_SHOP, session_token

    emulator = Emulator()
    with responses.RequestsMock() as rsps:
        shopify_emulated_by(rsps, emulator)
        answer = client.post("/auth/session", headers={"Authorization": f"Bearer {session_token()}"})
    assert answer.json == {"shop": NEW_SHOP}
    assert shopify_id_of(ctx, NEW_SHOP) == emulator.shop(NEW_SHOP).id


def test_an_install_whose_id_cannot_be_read_still_succeeds(client, ctx, caplog):
    """The Admin API fails the `shop { id }` query: the install succeeds all the same, the id stays unknown
    (NULL) and that is logged; the daily reconciliation reads it later."""
    from tests.e2e.test_oauth import GRANT, NEW_SHOP, TOKEN_URL, callback_params, start_install

    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, json=GRANT)
        rsps.post(re.compile(r"https://new-shop\.myshopify\.com/admin/api/.*"), status=503)
        answer = client.get("/auth/callback", query_string=callback_params(start_install(client)))
    assert answer.status_code == 302
    with ctx.engine.connect() as conn:
        row = conn.execute(select(shops).where(shops.c.domain == NEW_SHOP)).one()
    assert row.access_token is not None and row.shopify_shop_id is None
    assert any(r.levelname == "WARNING" and "could not be read" in r.getMessage() for r in caplog.records)


def test_reconciliation_reads_an_id_the_install_missed(ctx, shop, emulator, factory):
    """A shop whose id is unknown gets it from the daily reconciliation (one query with its client)."""
    from jobs.reconcile import reconcile

    assert shopify_id_of(ctx, SHOP) is None
    reconcile(SHOP, ctx=ctx, client_factory=factory, now=NOW)
    assert shopify_id_of(ctx, SHOP) == emulator.shop(SHOP).id


@pytest.fixture
def served_emulator():
    """The emulator over real HTTP on a free local port (the CLI runs in another process)."""
    from werkzeug.serving import make_server

    from tools.shopify_emulator import Emulator

    emulator = Emulator()
    server = make_server("127.0.0.1", 0, emulator.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield emulator, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_shops_add_stores_the_shops_id(ctx, served_emulator, tmp_path):
    """`loyalty shops add` against the emulator: the shop's id is read with the pasted token and stored;
    with a token the shop refuses, the shop is still added, without its id, and the command says so."""
    emulator, url = served_emulator
    emulator.add_shop("new-shop.myshopify.com", "shpat_pasted")
    env = dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
               REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=KEY, SHOPIFY_API_SECRET=SECRET,
               LOYALTY_VAR_DIR=str(tmp_path), SHOPIFY_ADMIN_URL=url + "/{shop}")

    def loyalty(*args):
        return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env,
                              timeout=60)

    added = loyalty("shops", "add", "new-shop.myshopify.com", "--token", "shpat_pasted", "--no-import-history")
    assert added.returncode == 0, added.stderr
    shop_id = emulator.shop("new-shop.myshopify.com").id
    assert f"Shopify shop id {shop_id}" in added.stdout
    assert shopify_id_of(ctx, "new-shop.myshopify.com") == shop_id
    emulator.add_shop("wrong-token.myshopify.com", "shpat_real")
    refused = loyalty("shops", "add", "wrong-token.myshopify.com", "--token", "shpat_typo", "--no-import-history")
    assert refused.returncode == 0, refused.stderr
    assert "Shopify shop id not read" in refused.stdout and "could not be read" in refused.stderr
    with ctx.engine.connect() as conn:
        row = conn.execute(select(shops).where(shops.c.domain == "wrong-token.myshopify.com")).one()
    assert row.access_token is not None and row.shopify_shop_id is None
