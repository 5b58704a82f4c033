"""No cheap request can starve webhooks: a flood of /auth/install costs no database write and is cut to a
per-client limit (429 with Retry-After) while signed webhooks keep being recorded; the other
unauthenticated endpoints are limited per client too, POST /webhooks never."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select

from db.tables import oauth_states, webhook_inbox
from loyalty.services.context import build_context
from tests.conftest import SECRET, SHOP, Sender, make_config
from tests.factories import order

INSTALLS, INSTALL_THREADS = 320, 8
WEBHOOKS, WEBHOOK_THREADS = 60, 4


class StatementLog:
    """Every SQL statement the engine runs, with the name of the thread that ran it."""

    def __init__(self, engine):
        self.engine, self.seen, self.lock = engine, [], threading.Lock()
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        with self.lock:
            self.seen.append((threading.current_thread().name, statement))

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._record)

    def writes_by(self, prefix: str) -> list[str]:
        """The statements that write (anything but a SELECT) run by threads whose name starts with `prefix`."""
        return [s for name, s in self.seen if name.startswith(prefix)
                and s.lstrip().split(None, 1)[0].upper() not in ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")]


def test_an_install_flood_writes_nothing_is_limited_and_webhooks_pass(app, ctx):
    """320 /auth/install from 8 threads while 60 signed orders/paid webhooks are sent from 4 others: every
    webhook is recorded (200); the flood runs no write statement and never touches the state table;
    the first 20 installs (LOYALTY_RATE_LIMIT_AUTH) are redirected to Shopify, every later one is 429
    with a Retry-After. (Before the signed state each install INSERTed a row and DELETEd old ones.)"""
    statements = StatementLog(ctx.engine)
    start = threading.Barrier(INSTALL_THREADS + WEBHOOK_THREADS)
    installs, webhooks = [], []

    def install(_):
        threading.current_thread().name = "install-" + threading.current_thread().name
        client = app.test_client()
        start.wait(timeout=30)
        for i in range(INSTALLS // INSTALL_THREADS):
            answer = client.get("/auth/install", query_string={"shop": f"flood-{i}.myshopify.com"})
            installs.append((answer.status_code, answer.headers.get("Retry-After")))

    def webhook(_):
        send = Sender(app.test_client())
        start.wait(timeout=30)
        for _ in range(WEBHOOKS // WEBHOOK_THREADS):
            webhooks.append(send("orders/paid", order(email=f"{uuid.uuid4().hex}@example.com")).status_code)

    try:
        with ThreadPoolExecutor(INSTALL_THREADS + WEBHOOK_THREADS) as pool:
            done = [pool.submit(install, n) for n in range(INSTALL_THREADS)]
            done += [pool.submit(webhook, n) for n in range(WEBHOOK_THREADS)]
            [f.result(timeout=120) for f in done]
    finally:
        statements.close()

    assert webhooks == [200] * WEBHOOKS
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_inbox)).scalar() == WEBHOOKS
        assert conn.execute(select(func.count()).select_from(oauth_states)).scalar() == 0
    assert statements.writes_by("install-") == []
    assert not [s for _, s in statements.seen if "oauth_states" in s]
    statuses = sorted(status for status, _ in installs)
    assert statuses == [302] * 20 + [429] * (INSTALLS - 20)
    assert all(int(retry) >= 1 for status, retry in installs if status == 429)


def test_the_limits_are_per_client_and_webhooks_are_never_limited(app, ctx, shop):
    """Bad app-proxy signatures and admin API calls without a token are refused 401 up to
    LOYALTY_RATE_LIMIT_REFUSED (30 a minute), then 429; a good request from the same address is then 429
    too, until the window passes. POST /webhooks with a bad signature stays 401 however often."""
    client = app.test_client()
    proxy = [client.get("/proxy", query_string={"shop": SHOP, "signature": "0" * 64}).status_code
             for _ in range(35)]
    assert proxy == [401] * 30 + [429] * 5
    api = [client.get("/admin/api/programme").status_code for _ in range(32)]
    assert api == [401] * 30 + [429] * 2
    send = Sender(client, secret="not-the-secret")
    assert {send("orders/paid", order()).status_code for _ in range(120)} == {401}
    assert Sender(client)("orders/paid", order()).status_code == 200


@pytest.mark.parametrize("trusted", [0, 1])
def test_the_client_is_the_socket_unless_proxies_are_trusted(database_url, redis_url, redis_client, tmp_path,
                                                             trusted):
    """With no trusted proxy a client cannot escape its limit by sending X-Forwarded-For (every request
    counts against the socket's address); behind one trusted proxy (LOYALTY_TRUSTED_PROXIES=1) each
    forwarded address has its own limit."""
    from runtime.web import create_app

    context = build_context(make_config(database_url, redis_url, tmp_path, trusted_proxies=trusted))
    try:
        client = create_app(context).test_client()
        statuses = [client.get("/auth/install", query_string={"shop": "a.myshopify.com"},
                               headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(25)]
    finally:
        context.engine.dispose()
    assert statuses == ([302] * 25 if trusted else [302] * 20 + [429] * 5)


def test_with_redis_down_the_limits_hold_in_memory(database_url, tmp_path):
    """Redis unreachable: the limiter falls back to each process's memory (the limit still holds) and the
    requests are answered, never a 500."""
    from runtime.web import create_app
    from tools.local_services import free_port

    context = build_context(make_config(database_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path))
    try:
        client = create_app(context).test_client()
        statuses = [client.get("/auth/install", query_string={"shop": "a.myshopify.com"}).status_code
                    for _ in range(22)]
    finally:
        context.engine.dispose()
    assert statuses == [302] * 20 + [429] * 2
