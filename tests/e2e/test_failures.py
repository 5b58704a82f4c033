"""Every background failure is visible, with its reason, in one read model (loyalty.services.failures) shown three
ways: the admin's Failed jobs (one shop), `loyalty failures` (every shop) and /healthz (counts only).

Found: with a customer deleted in Shopify every balance sync failed while /healthz said ok, the admin said
"Nothing failed" and `loyalty inbox status` was clean. Each kind below is made by the app's own code path
(a poison webhook, Shopify refusing a token to the worker and to the write-back, a missing import file, a
refused customer, a redemption that could not reach Shopify), except the emails, whose sender's failures are written as the sender writes them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import responses
from sqlalchemy import insert

from db.tables import flow_triggers, notifications
from tests import redemptions as voucher_jobs
from jobs.history import import_history
from jobs.inbox import process_inbox
from jobs.reconcile import reconcile
from jobs.scheduled import mature_points
from jobs.sync import sync_balances
from loyalty.services.customers import find_customer
from loyalty.services.failures import KINDS, count_failures, list_failures
from loyalty.services.shops import install_shop
from loyalty.services.tokens import TokenUnavailable
from integrations.crypto import encrypt_token
from tests.conftest import KEY, SECRET
from tests.factories import order

OTHER = "store-b.myshopify.com"
GRAPHQL = "https://store-a.myshopify.com/admin/api/2025-10/graphql.json"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def _email(conn, shop_id: int, customer_id: int, status: str, attempts: int, error: str, key: str) -> None:
    """An email as the sender leaves it after failed attempts (jobs.notify._failed)."""
    conn.execute(insert(notifications).values(
        shop_id=shop_id, customer_id=customer_id, kind="points_available", dedup_key=key, language="en",
        to_address="vera@example.com", subject="Your points", body_text="...", status=status, attempts=attempts,
        next_attempt_at=NOW + timedelta(minutes=8), last_error=error, created_at=NOW))


def _flow_trigger(conn, shop_id: int, customer_id: int, status: str, attempts: int, error: str, key: str) -> None:
    """A Flow trigger as the sender leaves it after failed attempts (jobs.flow_triggers._failed)."""
    conn.execute(insert(flow_triggers).values(
        shop_id=shop_id, customer_id=customer_id, handle="loyalty-points-earned", payload="{}", dedup_key=key,
        status=status, attempts=attempts, next_attempt_at=NOW + timedelta(minutes=8), last_error=error,
        created_at=NOW))


@pytest.fixture
def every_kind(ctx, shop, send, emulator, factory, tmp_path):
    """One failure of each kind in store A, and one failed webhook in store B."""
    with ctx.engine.begin() as conn:
        install_shop(conn, OTHER, encrypt_token(ctx.config.encryption_keys, "shpat_b"), NOW)
    emulator.add_customer(shop.domain, 301, "vera@example.com")
    send("orders/paid", {"id": 5, "line_items": [], "payment_gateway_names": 5}, webhook_id="pill")
    send("orders/paid", {"id": 6, "line_items": [], "payment_gateway_names": 5}, webhook_id="pill-b", shop=OTHER)
    send("orders/paid", order(lines=((200, 1),), email="vera@example.com", customer_id=301,
                              processed_at="2025-05-01T00:00:00+00:00"))
    send("orders/paid", order(lines=((30, 1),), email="ghost@example.com", customer_id=777))
    with responses.RequestsMock() as mock:  # Shopify refuses the stored token: no transactions, no orders
        mock.post(GRAPHQL, status=401, json={"errors": "[API] Invalid API key or access token"})
        send("orders/paid", order(lines=((40, 1),), email="gift@example.com", gateways=("gift_card",)),
             webhook_id="gift")
        process_inbox(ctx=ctx)
        with pytest.raises(Exception):
            reconcile(shop.domain, ctx=ctx, now=NOW)
    with pytest.raises(FileNotFoundError):
        import_history(shop.domain, file=str(tmp_path / "missing.jsonl"), ctx=ctx, now=NOW)
    sync_balances(ctx, client_factory=factory)  # the ghost is not a customer of the emulated shop
    mature_points(NOW, ctx)
    with responses.RequestsMock() as mock:  # ...and by the balance write-back: every balance of A waits
        mock.post(GRAPHQL, status=401, json={"errors": "[API] Invalid API key or access token"})
        sync_balances(ctx)

    with responses.RequestsMock() as mock, pytest.raises(TokenUnavailable):  # the token is refused again
        mock.post(GRAPHQL, status=401, json={"errors": "[API] Invalid API key or access token"})
        voucher_jobs.redeem_reward(ctx, shop.domain, "vera@example.com", "bon-5", "req-1", now=NOW)
    with ctx.engine.begin() as conn:
        vera = find_customer(conn, shop.id, "vera@example.com").id
        _email(conn, shop.id, vera, "failed", 6, "SMTPRecipientsRefused: 550 no such user", "e-1")
        _email(conn, shop.id, vera, "pending", 2, "SMTPServerDisconnected: timed out", "e-2")
        _flow_trigger(conn, shop.id, vera, "failed", 1, "FlowTriggerReceive: Invalid handle", "f-1")
        _flow_trigger(conn, shop.id, vera, "pending", 3, "ShopifyUnavailable: 503", "f-2")


@pytest.fixture
def shop(shop, ctx):
    """Store A with a catalogue reward to redeem (a 5 EUR code for 100 points)."""
    from loyalty.domain.programme import Reward
    from loyalty.services.shops import programme, save_programme

    with ctx.engine.begin() as conn:
        save_programme(conn, shop, programme(conn, shop.id, 1).with_changes(rewards=(
            Reward(key="bon-5", title="5 EUR", kind="voucher", points=100, amount=Decimal("5")),)), NOW)
    return shop


def test_every_kind_is_listed_with_its_reason(ctx, shop, every_kind):
    """Every kind of background failure, store A's only when asked for store A, each with its reason."""
    with ctx.engine.connect() as conn:
        found = {f.kind: f for f in list_failures(conn, shop.domain)}
        counts = count_failures(conn, shop.domain)
        everywhere = count_failures(conn)
    assert set(found) == set(KINDS), set(KINDS) - set(found)
    assert counts == {kind: 1 for kind in KINDS}
    assert everywhere == {**counts, "webhook_failed": 2}
    assert found["webhook_failed"].reason == "bad payload: processed_at: missing"
    assert found["webhook_failed"].next_attempt_at is None
    retrying = found["webhook_retrying"]
    assert retrying.subject.startswith("orders/paid gift") and retrying.next_attempt_at is not None
    assert "fetching transactions" in retrying.reason and retrying.attempts == 1
    assert "FileNotFoundError" in found["history_import"].reason
    assert found["reconciliation"].reason
    assert found["balance_sync"].reason == "MetafieldsSet: Owner does not exist."
    assert "gid://shopify/Customer/777" in found["balance_sync"].subject
    assert "loyalty shops add" in found["write_back_blocked"].reason
    assert found["email_failed"].reason.startswith("SMTPRecipientsRefused")
    assert found["email_retrying"].next_attempt_at is not None
    assert found["flow_failed"].reason == "FlowTriggerReceive: Invalid handle"
    assert found["flow_failed"].next_attempt_at is None
    assert found["flow_retrying"].next_attempt_at is not None and found["flow_retrying"].attempts == 3
    assert found["voucher_waiting"].reason.startswith(
        "waiting on Shopify: TokenUnavailable: Shopify refused the Admin API token registered for store-a")


def test_a_completed_run_clears_an_earlier_failed_one(ctx, shop, tmp_path):
    """Only the shop's latest run of a kind counts: a reconciliation that failed yesterday and succeeded
    today is not a failure any more."""
    from loyalty.services import import_runs as runs

    with ctx.engine.begin() as conn:
        failed = runs.start(conn, shop.id, "reconcile", NOW)
        runs.finish(conn, failed, NOW, error="ShopifyUnavailable: 503")
    with ctx.engine.connect() as conn:
        assert count_failures(conn) == {"reconciliation": 1}
    with ctx.engine.begin() as conn:
        runs.finish(conn, runs.start(conn, shop.id, "reconcile", NOW), NOW)
    with ctx.engine.connect() as conn:
        assert count_failures(conn) == {}


def test_the_admin_failed_jobs_page_lists_the_shop_failures(admin, every_kind):
    """GET /failed-jobs (checked against admin/openapi.json): the failed webhooks as before, and every
    failure of this shop with its reason and counts; store B's failed webhook is not shown."""
    answer = admin.get("/failed-jobs").get_json()
    assert [job["webhook_id"] for job in answer["failed_jobs"]] == ["pill"]
    assert {f["kind"] for f in answer["failures"]} == set(KINDS)
    assert answer["counts"] == {kind: 1 for kind in KINDS}
    assert all(f["shop"] == "store-a.myshopify.com" and f["reason"] for f in answer["failures"])


def test_healthz_is_degraded_with_counts_and_names_nothing(client, every_kind):
    """200 (a load balancer must not take the web out for a shop's failed email), `degraded`, counts per
    kind; no shop domain, customer or reason in an unauthenticated answer."""
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body == {"status": "degraded", "database": "ok", "redis": "ok",
                    "failures": {**{kind: 1 for kind in KINDS}, "webhook_failed": 2}}
    text = answer.get_data(as_text=True)
    assert "myshopify" not in text and "@" not in text and "Owner" not in text


def test_healthz_is_ok_when_nothing_failed_and_503_only_when_redis_is_down(client, ctx, shop, tmp_path):
    from loyalty.services.context import build_context
    from runtime.web import create_app
    from tests.conftest import make_config

    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    down = build_context(make_config(str(ctx.engine.url.render_as_string(hide_password=False)),
                                     "redis://127.0.0.1:1/0", tmp_path))
    try:
        answer = create_app(down).test_client().get("/healthz")
    finally:
        down.engine.dispose()
    assert answer.status_code == 503 and answer.get_json()["status"] == "unavailable"


@pytest.fixture
def cli(ctx, tmp_path):
    env = dict(os.environ, DATABASE_URL=ctx.engine.url.render_as_string(hide_password=False),
               REDIS_URL=ctx.config.effective_redis_url, LOYALTY_ENCRYPTION_KEYS=KEY,
               SHOPIFY_API_SECRET=SECRET, LOYALTY_VAR_DIR=str(tmp_path))

    def run(*args):
        done = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout
    return run


def test_one_cli_command_lists_every_failure_of_every_shop(cli, every_kind):
    """`loyalty failures --json`: every shop; `loyalty failures SHOP`: that shop, as text with reasons."""
    everything = json.loads(cli("failures", "--json"))
    assert everything["counts"] == {**{kind: 1 for kind in KINDS}, "webhook_failed": 2}
    assert {(f["kind"], f["shop"]) for f in everything["failures"]} >= {("webhook_failed", OTHER),
                                                                       ("balance_sync", "store-a.myshopify.com")}
    text = cli("failures", OTHER)
    assert "webhook_failed: 1" in text and "pill-b" in text and "processed_at: missing" in text
    assert "store-a" not in text


def test_inbox_status_and_failed_show_events_waiting_on_shopify(cli, every_kind):
    """The event that waits on Shopify (not failed yet, retried) is counted and listed with its reason."""
    status = json.loads(cli("inbox", "status"))
    assert status["retrying"] == 1 and status["failed"] == 2
    [(reason, n)] = status["retrying_reasons"].items()
    assert reason.startswith("fetching transactions") and n == 1
    listed = [json.loads(line) for line in cli("inbox", "failed").splitlines()]
    assert sorted((row["state"], row["webhook_id"]) for row in listed) == [
        ("failed", "pill"), ("failed", "pill-b"), ("retrying", "gift")]
    [gift] = [row for row in listed if row["state"] == "retrying"]
    assert "fetching transactions" in gift["last_error"] and gift["next_attempt_at"]
