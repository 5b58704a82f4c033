"""One shop never reaches another's data, and hostile text in customer-visible fields is stored as text.

Two shops share a customer id and an email (Shopify ids are per shop only in our data, never global
keys); webhooks, the CLI and the privacy jobs of one shop leave the other's untouched. SQL and HTML
injection strings in names, emails, tags, order names and reasons are stored verbatim, shown verbatim
(JSON-escaped where JSON), and never executed: every query is parameterised."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, inspect, select

from db.tables import customers, ledger_entries, orders, vouchers
from jobs.scheduled import mature_points
from loyalty.services.customers import find_customer
from loyalty.services.shops import get_shop, install_shop
from loyalty.services.vouchers import reserve
from integrations.crypto import encrypt_token
from tests.conftest import KEY, SECRET, SHOP
from tests.factories import order, refund
from tests.storefront_support import proxy  # noqa: F401 - the signed app-proxy client fixture

OTHER = "store-b.myshopify.com"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
SQL = "x'); DROP TABLE ledger_entries; --"
HTML = "<script>alert('pwned')</script>"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The CLI's queries are the same SQLAlchemy statements on both engines; the storage test runs on both."""


@pytest.fixture
def two_shops(ctx, shop):
    """Store A (the `shop` fixture) and store B, each installed with its own token."""
    with ctx.engine.begin() as conn:
        install_shop(conn, OTHER, encrypt_token((KEY,), "shpat_store_b"), NOW)
    return shop.domain, OTHER


@pytest.fixture
def loyalty(ctx, tmp_path):
    """Run the `loyalty` CLI as a subprocess on the test database; returns the CompletedProcess."""
    env = dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
               REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=KEY,
               SHOPIFY_API_SECRET=SECRET, LOYALTY_VAR_DIR=str(tmp_path))
    return lambda *args: subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                                        env=env, timeout=60)


def balance(ctx, domain: str, who: str):
    with ctx.engine.connect() as conn:
        shop_ref = get_shop(conn, domain)
        row = find_customer(conn, shop_ref.id, who)
        if row is None:
            return None
        from loyalty.services.ledger import balance as ledger_balance
        return ledger_balance(conn, row.id).pending


@SQLITE_ONLY
def test_the_same_customer_id_and_email_in_two_shops_are_two_people(two_shops, ctx, send, process, loyalty):
    """Customer 555 / same@example.com in both shops: each shop's orders credit its own record, a refund
    sent to store B naming store A's order touches nothing of A, and the CLI of B shows only B."""
    send("orders/paid", order(order_id=9001, lines=((100, 1),), email="same@example.com", customer_id=555))
    send("orders/paid", order(order_id=9002, lines=((30, 1),), email="same@example.com", customer_id=555),
         shop=OTHER)
    a_order = order(order_id=9001, lines=((100, 1),))
    send("refunds/create", refund(a_order, lines={0: (1, 100)}), shop=OTHER)  # B naming A's order id
    send("customers/redact", {"shop_id": 2, "shop_domain": OTHER, "customer": {"id": 555, "email": "same@example.com"},
                              "orders_to_redact": []}, shop=OTHER)
    process()
    assert balance(ctx, SHOP, "555") == 100
    assert balance(ctx, OTHER, "same@example.com") is None, "redacted in B only"
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar() == 1
    shown = loyalty("customer", OTHER, "555", "--json")
    assert shown.returncode != 0 and "no customer 555" in shown.stderr
    shown = loyalty("customer", SHOP, "555", "--json")
    assert json.loads(shown.stdout)["pending"] == 100 and json.loads(shown.stdout)["shop"] == SHOP


@SQLITE_ONLY
def test_one_shop_cannot_cancel_or_export_anothers(two_shops, ctx, send, process, loyalty):
    """Store A's voucher code is unknown to store B (no cancel, no credit); B's privacy export lists
    nothing of A's data request."""
    send("orders/paid", order(lines=((100, 1),), email="v@example.com", customer_id=777))
    send("customers/data_request", {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 777, "email": "v@example.com"},
                                    "orders_requested": [], "data_request": {"id": 31}})
    process()
    mature_points(datetime(2030, 1, 1, tzinfo=timezone.utc), ctx)
    with ctx.engine.begin() as conn:  # the ledger half of a redemption in store A
        shop_a = get_shop(conn, SHOP)
        voucher = reserve(conn, shop_a, find_customer(conn, shop_a.id, "777").id, 50, "iso-1", NOW)
    refused = loyalty("vouchers", "cancel", OTHER, voucher.code)
    assert refused.returncode != 0 and f"no voucher {voucher.code} in {OTHER}" in refused.stderr
    with ctx.engine.connect() as conn:
        assert conn.execute(select(vouchers.c.status)).scalar() == "creating"
        assert conn.execute(select(func.count()).select_from(ledger_entries)
                            .where(ledger_entries.c.kind == "recredit")).scalar() == 0
    export_b = loyalty("privacy", "export", OTHER)
    export_a = loyalty("privacy", "export", SHOP)
    assert "v@example.com" not in export_b.stdout + export_b.stderr
    assert "v@example.com" in export_a.stdout


def test_injection_strings_are_stored_verbatim_and_never_executed(ctx, shop, send, process, summary, loyalty):
    """Order name, email, tags and source carry SQL and HTML: stored and shown exactly as sent (email only
    lower-cased and trimmed), the ledger reason quotes the name as text, every table still there."""
    name = "#1' OR '1'='1<b>"  # the longest a real order name column holds is 64
    email = "o'brien+\"--<script>@example.com"
    body = order(order_id=31337, lines=((25, 1),), email=email, customer_id=4242, tags=f"{SQL}, {HTML}")
    body.update(name=name, source_name=f"{HTML}{SQL}"[:100])
    send("orders/paid", body)
    send("customers/update", {"id": 4242, "email": email.upper(), "first_name": SQL, "last_name": HTML,
                              "tags": SQL})
    process()
    tables_before = set(inspect(ctx.engine).get_table_names())
    assert {"ledger_entries", "customers", "orders"} <= tables_before
    with ctx.engine.connect() as conn:
        stored = conn.execute(select(orders.c.name, orders.c.source_name)).one()
        stored_email = conn.execute(select(customers.c.email)).scalar()
        reasons = conn.execute(select(ledger_entries.c.reason)).scalars().all()
    assert stored == (name, f"{HTML}{SQL}"[:100])
    assert stored_email == email.lower()
    assert reasons == [f"order {name}: 25 points (pending until 2025-03-15)"]
    s = summary(email)
    assert s["customer"]["email"] == email.lower() and s["entries"][0]["reason"].startswith(f"order {name}:")
    shown = loyalty("customer", SHOP, email, "--json")
    assert json.loads(shown.stdout)["entries"][0]["reason"] == reasons[0]
    text_output = loyalty("customer", SHOP, email.upper()).stdout
    assert name in text_output and email.lower() in text_output
    assert set(inspect(ctx.engine).get_table_names()) == tables_before


@SQLITE_ONLY
def test_lookups_with_injection_strings_find_nothing_and_break_nothing(ctx, shop, send, process, loyalty):
    """Looking a customer up by an injection string is a plain miss; so is a shop domain carrying one."""
    send("orders/paid", order(lines=((10, 1),), email="real@example.com"))
    process()
    for who in ("' OR 1=1 --", "real@example.com' --", HTML, "1 OR 1=1"):
        with ctx.engine.connect() as conn:
            assert find_customer(conn, shop.id, who) is None, who
    missing = loyalty("customer", f"{SHOP}' OR '1'='1", "real@example.com")
    assert missing.returncode != 0 and "is not installed" in missing.stderr
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger_entries)).scalar() == 1


@SQLITE_ONLY
def test_a_storefront_token_of_one_shop_cannot_spend_in_another(two_shops, ctx, shop, send, process, proxy,
                                                               emulator):
    """Customer 302 exists in both shops, with points in both. The page token store A gave them, posted to
    store B's /proxy/redeem under a valid store-B signature for the same customer id: refused, nothing
    spent in either shop; store B's JSON shows only store B's points."""
    from loyalty.domain.programme import template
    from loyalty.services.shops import save_programme
    from tests.storefront_support import BEN, NOW as PROXY_NOW, apply_template
    from tests.e2e.test_storefront_redeem import available, token_of

    apply_template(ctx, shop, "store-b")  # both shops convert points into vouchers
    with ctx.engine.begin() as conn:
        save_programme(conn, get_shop(conn, OTHER), template("store-b"), NOW)
    for domain, amount in ((SHOP, 250), (OTHER, 120)):
        send("orders/paid", order(lines=((amount, 1),), email="ben@example.com", customer_id=BEN,
                                  processed_at="2025-05-01T10:00:00+00:00"), shop=domain)
    process()
    mature_points(PROXY_NOW, ctx)
    token_a = token_of(proxy.get(BEN).get_data(as_text=True))
    answer = proxy.post("/redeem", {"token": token_a, "points": "100"}, BEN, json=True, shop=OTHER)
    assert answer.status_code == 400 and answer.get_json()["result"]["error"] == "error.token"
    assert answer.get_json()["shop"] == OTHER and answer.get_json()["customer"]["available"] == 120
    assert available(proxy, BEN) == 250 and emulator.discount_codes(SHOP) == []
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(vouchers)).scalar() == 0
