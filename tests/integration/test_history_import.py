"""History import: past orders from a bulk operation's JSONL into the ledger by the webhook rules, streamed,
resumable, idempotent with webhooks in either order; dry run; the emulator's bulk operations end to end."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import responses
from sqlalchemy import func, select

from db.tables import customers, import_runs, ledger_entries, orders as orders_table
from integrations.shopify import bulk
from integrations.shopify.documents import BULK_OPERATION_RUN_QUERY, HISTORY_ORDERS_BULK_QUERY
from jobs.history import import_history
from jobs.scheduled import mature_points
from loyalty.domain.programme import Programme
from loyalty.services.shops import save_programme
from tests.conftest import SHOP
from tests.factories import cancelled, order, refund
from tests.samples import sample
from tools.wsgi_adapter import wsgi_session

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
TOKEN = "shpat_store_a"


@pytest.fixture
def http(emulator):
    """A requests session whose calls reach the emulator (conftest's, holding store A): its bulk files."""
    return wsgi_session(emulator.app)


def history(bodies, emulator, refunds=(), cancels=()):
    """Put REST orders (and refunds, cancellations) in the emulated shop; the bulk JSONL of all of them."""
    for body in bodies:
        emulator.add_rest_order(SHOP, body, body.pop("_transactions", ()))
    for body in refunds:
        emulator.add_rest_refund(SHOP, body)
    for body in cancels:
        emulator.cancel_order(SHOP, body["id"], datetime.fromisoformat(body["cancelled_at"]))
    query = HISTORY_ORDERS_BULK_QUERY.replace("FILTER", "created_at:<'2030-01-01T00:00:00Z'")
    answer = emulator.execute(SHOP, {"query": BULK_OPERATION_RUN_QUERY, "variables": {"query": query}})
    operation = answer["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"].rsplit("/", 1)[1]
    return emulator.bulk_data(SHOP, operation)


def scenario():
    """Orders of store A's life before the programme: refunds, a cancellation, a test order, a guest."""
    a = order(lines=((50, 1), (20, 2)), email="alice@example.com", customer_id=11,
              processed_at="2025-01-10T10:00:00+00:00")
    b = order(lines=((100, 1),), email="bob@example.com", customer_id=12, processed_at="2025-05-25T10:00:00+00:00")
    c = order(lines=((30, 3),), email="Alice@Example.com ", customer_id=None, processed_at="2025-02-01T10:00:00Z")
    d = order(lines=((80, 1),), email="bob@example.com", customer_id=12, processed_at="2025-02-02T10:00:00Z")
    e = order(lines=((500, 1),), email="carol@example.com", customer_id=13, test=True)
    refunds = [refund(a, lines={1: (1, 20)}, created_at="2025-01-12T10:00:00+00:00"),
               refund(b, lines={0: (1, 100)}, created_at="2025-05-28T10:00:00+00:00")]
    cancels = [cancelled(d, at="2025-02-03T10:00:00+00:00")]
    return [a, b, c, d, e], refunds, cancels


def balances(ctx, shop):
    """Each customer's (available, pending, lifetime), by email."""
    from loyalty.services.ledger import balance
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(customers.c.id, customers.c.email).where(customers.c.shop_id == shop.id)).all()
        return {r.email: tuple(vars(balance(conn, r.id)).values()) for r in rows}


def count(ctx, table):
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def deliver(send, process, bodies, refunds, cancels):
    for body in bodies:
        send("orders/paid", body)
    for body in refunds:
        send("refunds/create", body)
    for body in cancels:
        send("orders/cancelled", body)
    process()


@pytest.fixture
def fresh(request, database_url, redis_url, redis_client, sqlite_template, tmp_path):
    """Another installation (empty database of the same backend, store A installed), to compare with."""
    from loyalty.services.shops import install_shop
    from loyalty.services.context import build_context
    from integrations.crypto import encrypt_token
    from tests.conftest import KEY, make_config
    from tests.fixtures import _new_database

    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    context = build_context(make_config(_new_database(backend, request, sqlite_template), redis_url, tmp_path))
    with context.engine.begin() as conn:
        ref = install_shop(conn, SHOP, encrypt_token((KEY,), TOKEN), datetime(2024, 1, 1, tzinfo=timezone.utc))
    yield context, ref
    context.engine.dispose()


def entries(ctx):
    """Every ledger entry as (email, kind, key, pending, available, effective_at), sorted."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(customers.c.email, ledger_entries.c.kind, ledger_entries.c.idempotency_key,
                                   ledger_entries.c.pending, ledger_entries.c.available,
                                   ledger_entries.c.effective_at)
                            .join(customers, customers.c.id == ledger_entries.c.customer_id)).all()
    return sorted((r[0], r[1], r[2].split(":", 1)[1], r[3], r[4], r[5].replace(tzinfo=None)) for r in rows)


@pytest.mark.parametrize("settings", [{}, {"earn_on_shipping": True, "rounding": "nearest", "earn_rate": "1.5"}])
def test_a_generated_file_imports_entry_for_entry_like_the_webhooks(ctx, shop, send, process, emulator, factory,
                                                                     tmp_path, fresh, settings):
    """The same orders give the same entries (kind, key, points, dates) by import as by webhooks + maturing,
    whatever the programme says of shipping, rounding and rate."""
    other, other_shop = fresh
    for context, ref in ((ctx, shop), (other, other_shop)):
        with context.engine.begin() as conn:
            save_programme(conn, ref, Programme().with_changes(**settings), NOW)
    bodies, refunds, cancels = scenario()
    bodies[0]["line_items"][0]["tax_lines"] = [{"price": "8.33", "price_set": {"shop_money": {"amount": "8.33"}}}]
    deliver(send, process, bodies, refunds, cancels)
    mature_points(NOW, ctx)
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history(json.loads(json.dumps(bodies)), emulator, refunds, cancels))
    result = import_history(SHOP, file=str(path), ctx=other, client_factory=factory, now=NOW, chunk=2)
    assert result["status"] == "completed" and result["orders_done"] == 5
    assert entries(other) == entries(ctx)
    if settings:
        return
    # alice: order a 90 - refund of 20 = 70, then her guest order c 90 (same email): 160 available;
    # bob: order b refunded whole, order d cancelled; carol: a test order earns nothing.
    assert balances(other, other_shop) == balances(ctx, shop)
    assert balances(other, other_shop)["alice@example.com"] == (160, 0, 160)
    assert balances(other, other_shop)["bob@example.com"][:2] == (0, 0)
    assert balances(other, other_shop)["carol@example.com"] == (0, 0, 0)


def test_gift_card_share_earns_nothing_and_old_points_are_available_at_once(ctx, shop, emulator, factory, tmp_path):
    """The amount paid by gift card (from the order's transactions) is not earned; an order whose pending
    period ended before the import is available at once, a recent one stays pending."""
    old = order(lines=((60, 1),), email="gc@example.com", customer_id=21, gateways=("gift_card", "shopify_payments"),
                processed_at="2025-03-01T00:00:00Z")
    old["_transactions"] = [{"gateway": "gift_card", "amount": "25.00"}, {"gateway": "shopify_payments", "amount": "40"}]
    recent = order(lines=((10, 1),), email="gc@example.com", customer_id=21, processed_at="2025-05-30T00:00:00Z")
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history([old, recent], emulator))
    import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    assert balances(ctx, shop)["gc@example.com"] == (35, 10, 45)


@pytest.mark.parametrize("webhooks_first", [True, False])
def test_an_order_imported_and_delivered_by_webhook_counts_once(ctx, shop, send, process, emulator, factory,
                                                                  tmp_path, webhooks_first):
    """Webhooks then import, or import then webhooks: the same entries, nothing twice."""
    bodies, refunds, cancels = scenario()
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history(json.loads(json.dumps(bodies)), emulator, refunds, cancels))
    if webhooks_first:
        deliver(send, process, bodies, refunds, cancels)
    import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    if not webhooks_first:
        deliver(send, process, bodies, refunds, cancels)
    once = entries(ctx)
    mature_points(NOW, ctx)
    assert entries(ctx) == once  # everything due was matured by the import already, once
    assert balances(ctx, shop)["alice@example.com"] == (160, 0, 160)
    import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    deliver(send, process, bodies, refunds, cancels)
    assert entries(ctx) == once


def test_a_crashed_import_resumes_after_its_last_chunk(ctx, shop, emulator, factory, tmp_path, monkeypatch):
    """A run that dies mid-file keeps its committed chunks; the next run starts after them, and ends with
    what one clean run gives."""
    import loyalty.services.history
    bodies = [order(lines=((10, 1),), email=f"r{i}@example.com", customer_id=100 + i) for i in range(7)]
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history(bodies, emulator))
    real, calls = loyalty.services.history.apply_orders, []

    def dying(conn, shop_ref, batch, now, plans=None):
        calls.append([o.facts.order_id for o in batch])
        if len(calls) == 3:
            raise ConnectionError("database went away")
        return real(conn, shop_ref, batch, now, plans)
    monkeypatch.setattr("jobs.history.apply_orders", dying)
    with pytest.raises(ConnectionError):
        import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW, chunk=2)
    with ctx.engine.connect() as conn:
        run = conn.execute(select(import_runs)).one()
    assert (run.status, run.orders_done, run.lines_done) == ("failed", 4, 12)  # 2 chunks of 2 orders, 3 lines each
    assert "database went away" in run.error
    assert len(balances(ctx, shop)) == 4
    calls.clear()
    result = import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW, chunk=2)
    assert [i for chunk in calls for i in chunk] == [b["id"] for b in bodies[4:]]
    assert (result["id"], result["status"], result["orders_done"]) == (run.id, "completed", 7)
    assert all(value == (10, 0, 10) for value in balances(ctx, shop).values()) and len(balances(ctx, shop)) == 7


def test_a_dry_run_shows_the_credits_and_writes_nothing(ctx, shop, emulator, factory, tmp_path):
    """--dry-run reports per-customer points exactly as the import then credits them, and writes nothing."""
    bodies, refunds, cancels = scenario()
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history(bodies, emulator, refunds, cancels))
    before = [count(ctx, t) for t in (customers, orders_table, ledger_entries, import_runs)]
    shown = import_history(SHOP, file=str(path), dry_run=True, ctx=ctx, client_factory=factory, now=NOW, chunk=2)
    assert [count(ctx, t) for t in (customers, orders_table, ledger_entries, import_runs)] == before
    assert shown["customers"]["alice@example.com"] == {"points": 180, "pending": 0, "available": 160}
    assert shown["orders"] == 5 and shown["points_credited"] == 90 + 100 + 90 + 80  # earned, before claw-backs
    assert shown["customers"]["bob@example.com"] == {"points": 180, "pending": 0, "available": 0}
    result = import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    assert result["points_credited"] == shown["points_credited"]
    assert balances(ctx, shop)["alice@example.com"][0] == shown["customers"]["alice@example.com"]["available"]


def test_the_import_runs_a_bulk_operation_on_the_emulator(ctx, shop, emulator, factory, http):
    """No file: the job starts a bulk query of the orders created before the install, polls it, streams
    its JSONL and asks for refund lines; an order placed after the install is left to its webhooks."""
    from sqlalchemy import update

    from db.tables import shops
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.id == shop.id).values(installed_at=NOW))
    bodies, refunds, cancels = scenario()
    later = order(lines=((70, 1),), email="alice@example.com", customer_id=11, processed_at="2025-07-01T00:00:00Z")
    history(bodies + [later], emulator, refunds, cancels)
    result = import_history(SHOP, ctx=ctx, client_factory=factory, now=NOW, http=http)
    assert result["status"] == "completed" and result["orders_done"] == 5
    assert result["bulk_operation_id"].startswith("gid://shopify/BulkOperation/")
    assert result["source"].startswith("http://shopify.test/_emulator/")
    assert balances(ctx, shop)["alice@example.com"] == (160, 0, 160)


def test_store_b_points_expire_as_of_their_dates(ctx, shop, emulator, factory, tmp_path):
    """Rolling expiry: points of a purchase followed by more than 12 months without one expired then,
    before the next purchase; the recent purchase's points stay."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, Programme(expiry="after_last_purchase", expiry_months=12), NOW)
    bodies = [order(lines=((40, 1),), email="b@example.com", customer_id=31, processed_at="2022-01-10T00:00:00Z"),
              order(lines=((25, 1),), email="b@example.com", customer_id=31, processed_at="2024-09-10T00:00:00Z")]
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history(bodies, emulator))
    import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    with ctx.engine.connect() as conn:
        expired = conn.execute(select(ledger_entries.c.available, ledger_entries.c.effective_at)
                               .where(ledger_entries.c.kind == "expire")).all()
    assert [(e.available, e.effective_at.replace(tzinfo=None)) for e in expired] == [
        (-40, datetime(2023, 1, 10))]
    assert balances(ctx, shop)["b@example.com"] == (25, 0, 65)


def test_a_shopify_sample_order_imports_with_its_customer(ctx, shop, emulator, factory, tmp_path):
    """Shopify's own REST order sample, held by the emulator and imported: its customer earns its lines."""
    body = sample("order_single_richest.json")
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history([body], emulator))
    result = import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    assert result["orders_done"] == 1 and result["points_credited"] > 0


def test_a_running_import_is_not_run_twice_but_a_stale_one_is_resumed(ctx, shop, emulator, factory, tmp_path):
    """A run still making progress refuses a second runner; one silent for longer than STALE_SECONDS (its
    process died) is resumed."""
    from datetime import timedelta

    from sqlalchemy import update

    from jobs.history import STALE_SECONDS, ImportBusy
    from loyalty.services.import_runs import start
    path = tmp_path / "orders.jsonl"
    path.write_bytes(history([order(lines=((10, 1),), email="s@example.com", customer_id=51)], emulator))
    with ctx.engine.begin() as conn:
        run_id = start(conn, shop.id, "history", datetime.now(timezone.utc), source=str(path))
    with pytest.raises(ImportBusy):
        import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    with ctx.engine.begin() as conn:
        conn.execute(update(import_runs).values(
            updated_at=datetime.now(timezone.utc) - timedelta(seconds=STALE_SECONDS + 1)))
    result = import_history(SHOP, file=str(path), ctx=ctx, client_factory=factory, now=NOW)
    assert (result["id"], result["status"], result["orders_done"]) == (run_id, "completed", 1)


def test_a_bulk_file_is_read_again_from_a_byte_offset(emulator, http):
    """Resuming a download asks for the rest of the file only (a range request), line boundaries intact."""
    data = history([order(lines=((10, 1),), email=f"o{i}@example.com", customer_id=60 + i) for i in range(3)],
                   emulator)
    operation = max(emulator.shop(SHOP).bulk_operations)
    url = f"http://shopify.test/_emulator/{SHOP}/bulk/{operation}.jsonl"
    first = next(bulk.records(bulk.url_lines(url, session=http)))
    rest = list(bulk.records(bulk.url_lines(url, first.end_byte, session=http), first.end_line, first.end_byte))
    assert [r.node["id"] for r in rest] == [json.loads(line)["id"] for line in data.splitlines()
                                            if b"__parentId" not in line][1:]
    assert rest[-1].end_byte == len(data)
    answer = http.get(url, headers={"Range": f"bytes={first.end_byte}-"})
    assert answer.status_code == 206 and answer.content == data[first.end_byte:]


# -- a token Shopify will not take: what to do, for each kind of token ---------------------------------

GRAPHQL = f"https://{SHOP}/admin/api/2025-10/graphql.json"


def failed_run(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(import_runs)).one()


def oauth_grant(ctx, scope: str, issued: datetime) -> None:
    """Store A installed through OAuth: an expiring token (1 h) and its refresh token (90 days)."""
    from integrations.shopify.oauth import TokenGrant
    from loyalty.services.tokens import store_grant

    with ctx.engine.begin() as conn:
        store_grant(conn, SHOP, TokenGrant("shpat_oauth", scope, 3600, "shprt_1", 90 * 86400),
                    ctx.config.encryption_keys, issued)


def test_a_revoked_custom_app_token_says_to_register_a_new_one(ctx, shop):
    """Store A's token was registered with `loyalty shops add` (no expiry, no refresh token). Shopify
    refusing it used to be reported as "the merchant must open the app", which cannot help a custom app:
    the run now says to register a new token with that command."""
    with responses.RequestsMock() as mock:
        mock.post(GRAPHQL, status=401, json={"errors": "[API] Invalid API key or access token"})
        with pytest.raises(Exception):
            import_history(SHOP, ctx=ctx, now=NOW)
    run = failed_run(ctx)
    assert run.status == "failed"
    assert run.error.startswith(f"Shopify refused the Admin API token registered for {SHOP} with `loyalty shops add`")
    assert f"register it with `loyalty shops add {SHOP} --token shpat_... --replace`" in run.error
    assert "opens the app" not in run.error


def test_an_oauth_token_past_refreshing_says_to_open_the_app(ctx, shop):
    """An OAuth token that expired, with a refresh token past its 90 days: the merchant opening the app
    gets a new one (or installs it again); nothing is asked of Shopify."""
    oauth_grant(ctx, "read_orders,read_all_orders", datetime.now(timezone.utc) - timedelta(days=91))
    with responses.RequestsMock() as mock:
        with pytest.raises(Exception):
            import_history(SHOP, ctx=ctx, now=NOW)
        assert len(mock.calls) == 0
    error = failed_run(ctx).error
    assert error.startswith(f"the app's OAuth token for {SHOP} expired and could not be refreshed")
    assert "the merchant opens the app from the shop's admin" in error and f"/auth/install?shop={SHOP}" in error
    assert "loyalty shops add" not in error


def test_a_grant_without_read_all_orders_is_refused_before_a_partial_import(ctx, shop):
    """Without read_all_orders Shopify returns only the last 60 days of orders: the import would miss the
    older ones without a word. It stops first and says how the scope is granted (OAuth: request it, the
    merchant approves it by opening the app)."""
    oauth_grant(ctx, "read_orders,read_customers", datetime.now(timezone.utc))
    with responses.RequestsMock() as mock:
        with pytest.raises(Exception, match="60 days"):
            import_history(SHOP, ctx=ctx, now=NOW)
        assert len(mock.calls) == 0
    error = failed_run(ctx).error
    assert error.startswith(f"the app's access to {SHOP} lacks the read_all_orders scope (granted: read_orders,")
    assert "the merchant approves it by opening the app" in error and "60 days" in error


def test_a_custom_app_token_without_read_orders_says_which_scope_to_add(ctx, shop):
    """Shopify answers ACCESS_DENIED naming the scope: for a custom app, add it to the app's scopes and
    register the new token."""
    denied = {"errors": [{"message": "Access denied for bulkOperationRunQuery field. Required access: "
                                     "`read_orders` access scope.", "extensions": {"code": "ACCESS_DENIED"}}]}
    with responses.RequestsMock() as mock:
        mock.post(GRAPHQL, json=denied)
        with pytest.raises(Exception):
            import_history(SHOP, ctx=ctx, now=NOW)
    error = failed_run(ctx).error
    assert error.startswith(f"the custom app's Admin API token for {SHOP} lacks the read_orders scope")
    assert "Develop apps" in error and "--replace" in error
