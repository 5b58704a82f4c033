"""Fixtures that start things: a real Redis and PostgreSQL (once per run), a migrated database per test
(SQLite and PostgreSQL), the app's context, the Flask app and a signed-webhook sender, the Shopify emulator
and an SMTP server. The conftests of tests/integration, tests/e2e and tests/soak import them; tests/unit
does not, so a unit test asking for one fails at once instead of starting a server."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from db.migrate import upgrade
from loyalty.services.context import build_context
from tests.admin_client import admin  # noqa: F401 - the admin API fixture, shared by the admin tests
from tests.conftest import KEY, SHOP, Sender, make_config
from tools.embedded_redis import start_redis
from tools.local_services import PostgresCluster


_STARTED = pytest.StashKey[dict]()


def once_per_run(request, name: str, start):
    """What `start()` gives, started once for the whole run and stopped at its end. Each tier's conftest
    registers its own copy of these session fixtures (a conftest's fixtures are seen only below it), so
    without this `make test` would start one server per tier. `start` returns (value, stop)."""
    started = request.config.stash.setdefault(_STARTED, {})
    if name not in started:
        value, stop = start()
        started[name] = value
        request.config.add_cleanup(stop)
    return started[name]


@pytest.fixture(scope="session")
def redis_url(request, tmp_path_factory):
    """A real redis-server for the whole run."""
    def start():
        process, url = start_redis(tmp_path_factory.mktemp("redis"), persistent=False)

        def stop():
            process.terminate()
            process.wait(timeout=10)
        return url, stop
    return once_per_run(request, "redis", start)


def _start_postgres():
    """A cluster with a migrated template database, or the reason it could not start (remembered, so every
    tier skips or fails alike)."""
    try:
        cluster = PostgresCluster().start()
    except (RuntimeError, OSError) as exc:
        return exc, lambda: None
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE loyalty_template"))
    upgrade(cluster.url("loyalty_template"))
    cluster.admin = admin

    def stop():
        admin.dispose()
        cluster.stop()
    return cluster, stop


@pytest.fixture(scope="session")
def postgres(request):
    """A PostgreSQL cluster with a migrated template database; skipped (or failed in CI) when unavailable."""
    cluster = once_per_run(request, "postgres", _start_postgres)
    if isinstance(cluster, Exception):
        if os.environ.get("LOYALTY_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but could not start: {cluster}")
        pytest.skip(f"PostgreSQL unavailable: {cluster}")
    return cluster


@pytest.fixture(scope="session")
def sqlite_template(request, tmp_path_factory):
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    def start():
        path = tmp_path_factory.mktemp("sqlite") / "template.db"
        upgrade(f"sqlite:///{path}")
        return path, lambda: None
    return once_per_run(request, "sqlite_template", start)


def _new_database(backend: str, request, sqlite_template) -> str:
    """A freshly migrated, empty database URL of the given backend."""
    if backend == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="loyalty-db-")) / "loyalty.db"
        shutil.copy(sqlite_template, path)
        request.addfinalizer(lambda: shutil.rmtree(path.parent, ignore_errors=True))
        return f"sqlite:///{path}"
    return create_postgres_database(request.getfixturevalue("postgres"), "t", template="loyalty_template")


def create_postgres_database(cluster, prefix: str, template: str | None = None) -> str:
    """A new database of a unique name on the suite's cluster (a copy of `template` if given); its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with cluster.admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    return cluster.url(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, sqlite_template):
    """A freshly migrated, empty database: every ledger test runs on SQLite and on PostgreSQL."""
    return _new_database(request.param, request, sqlite_template)


@pytest.fixture
def ctx_factory(request, database_url, redis_url, redis_client, sqlite_template, tmp_path):
    """`with ctx_factory() as (send, process, summary):` a whole fresh installation (new database of
    the same backend) inside one test, for property tests that compare several runs."""
    from contextlib import contextmanager

    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"

    @contextmanager
    def fresh():
        from jobs.inbox import process_inbox
        from loyalty.services.customers import find_customer
        from loyalty.services.shops import install_shop
        from loyalty.services.read.views import customer_summary
        from integrations.crypto import encrypt_token
        from runtime.web import create_app

        context = build_context(make_config(_new_database(backend, request, sqlite_template), redis_url, tmp_path))
        with context.engine.begin() as conn:
            shop_ref = install_shop(conn, SHOP, encrypt_token((KEY,), "t"), datetime(2024, 1, 1, tzinfo=timezone.utc))

        def summary(who):
            with context.engine.connect() as conn:
                return customer_summary(conn, shop_ref, find_customer(conn, shop_ref.id, who))
        try:
            yield Sender(create_app(context).test_client()), lambda: process_inbox(ctx=context), summary
        finally:
            context.engine.dispose()
    return fresh


@pytest.fixture
def redis_client(redis_url):
    """The session's Redis, emptied for this test."""
    from loyalty.services.context import make_redis

    client = make_redis(redis_url, 2.0)
    client.flushall()
    return client


@pytest.fixture
def ctx(database_url, redis_url, redis_client, tmp_path):
    """The app's context on the test database and Redis."""
    context = build_context(make_config(database_url, redis_url, tmp_path))
    yield context
    context.engine.dispose()


@pytest.fixture
def shop(ctx):
    """Store A installed with a token (encrypted at rest) and the default programme."""
    from loyalty.services.shops import install_shop
    from integrations.crypto import encrypt_token

    with ctx.engine.begin() as conn:
        return install_shop(conn, SHOP, encrypt_token(ctx.config.encryption_keys, "shpat_store_a"),
                            datetime(2024, 1, 1, tzinfo=timezone.utc))


@pytest.fixture
def app(ctx, shop):
    """The Flask app on the test context."""
    from runtime.web import create_app

    flask_app = create_app(ctx)
    flask_app.testing = True
    return flask_app


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


@pytest.fixture
def send(client):
    """Send a signed webhook to the app: `send("orders/paid", payload)`."""
    return Sender(client)


@pytest.fixture
def process(ctx):
    """Apply everything recorded in the inbox, as the worker would."""
    from jobs.inbox import process_inbox

    return lambda: process_inbox(ctx=ctx)


@pytest.fixture
def summary(ctx, shop):
    """`summary(email_or_id)`: the customer's balances and entries, as the CLI prints them."""
    from loyalty.services.customers import find_customer
    from loyalty.services.shops import get_shop
    from loyalty.services.read.views import customer_summary

    def get(email_or_id):
        with ctx.engine.connect() as conn:
            row = find_customer(conn, shop.id, str(email_or_id))
            assert row is not None, f"no customer {email_or_id}"
            return customer_summary(conn, get_shop(conn, shop.domain), row)  # the programme in force now
    return get


@pytest.fixture
def emulator(shop):
    """The local Admin API emulator holding store A (token shpat_store_a); tests add their customers."""
    from tools.shopify_emulator import Emulator

    em = Emulator()
    em.add_shop(shop.domain, "shpat_store_a")
    return em


def shopify_emulated_by(rsps, emulator) -> None:
    """Shopify's hosts (`https://NAME.myshopify.com/admin/...`) answered by the emulator, at the HTTP
    boundary (`rsps`: a responses.RequestsMock): its OAuth token endpoint and its Admin GraphQL API."""
    import re
    from urllib.parse import urlsplit

    import responses

    web = emulator.app.test_client()

    def forward(request):
        url = urlsplit(request.url)
        answer = web.post(f"/{url.hostname}{url.path}", data=request.body,
                          headers={k: v for k, v in request.headers.items() if k.lower() != "content-length"})
        return answer.status_code, {"Content-Type": answer.content_type}, answer.data

    rsps.add_callback(responses.POST, re.compile(r"https://[a-z0-9-]+\.myshopify\.com/admin/.*"), callback=forward)


@pytest.fixture
def shopify(emulator):
    """Shopify as the worker reaches it (`https://{shop}`, the suite's Admin API address) answered by the
    emulator holding store A: `shopify.uninstall_app(SHOP)` revokes its token as Shopify's uninstall does."""
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        shopify_emulated_by(rsps, emulator)
        yield emulator


@pytest.fixture
def calls():
    """The bodies of every Admin API request the `factory` clients sent, in order."""
    return []


@pytest.fixture
def factory(emulator, calls):
    """Clients for the emulator, built as the worker builds them for Shopify (real AdminClient, no
    network), counting their requests in `calls`."""
    from integrations.shopify.client import AdminClient
    from tools.wsgi_adapter import wsgi_session

    session = wsgi_session(emulator.app)
    original = session.send

    def counting_send(request, **kw):
        calls.append(request.body)
        return original(request, **kw)
    session.send = counting_send
    return lambda ctx, shop, conn: AdminClient(shop.domain, "shpat_store_a", session=session,
                                               admin_url_template="http://shopify.test/{shop}", sleep=lambda s: None)


@pytest.fixture
def mail_server():
    """A real SMTP server on a free local port (aiosmtpd): `.url`, `.received`, `.refuse(n, reply)`."""
    from tools.mail_server import MailServer

    server = MailServer().start()
    yield server
    server.stop()
