"""Fixtures: a real Redis and PostgreSQL started by the suite, a migrated database per test (SQLite and
PostgreSQL), the Flask app and a signed-webhook sender."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from db.migrate import upgrade
from loyalty.config import Config
from loyalty.services.context import build_context
from tools.embedded_redis import start_redis
from tools.local_services import PostgresCluster
from integrations.shopify.webhook_signature import sign

SECRET = "test-webhook-secret"
SHOP = "store-a.myshopify.com"
KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server for the whole session."""
    process, url = start_redis(tmp_path_factory.mktemp("redis"), persistent=False)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A PostgreSQL cluster with a migrated template database; skipped (or failed in CI) when unavailable."""
    try:
        cluster = PostgresCluster().start()
    except (RuntimeError, OSError) as exc:
        if os.environ.get("LOYALTY_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but could not start: {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE loyalty_template"))
    upgrade(cluster.url("loyalty_template"))
    cluster.admin = admin
    yield cluster
    admin.dispose()
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


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


def make_config(database_url: str, redis_url: str | None, tmp_path: Path, **overrides) -> Config:
    """A Config for tests (no environment involved)."""
    values = dict(database_url=database_url, redis_url=redis_url, var_dir=tmp_path, api_key="test-key",
                  api_secrets=(SECRET,), encryption_keys=(KEY,), admin_url_template="https://{shop}")
    values.update(overrides)
    return Config(**values)


DEMO_ADMIN_URL = "http://127.0.0.1:9/{shop}"
"""The demo's Admin API in tests: on the loopback, as `make run`'s emulator, but a closed port."""


def demo_config(database_url: str, redis_url: str | None, var_dir: Path, **overrides) -> Config:
    """What `make run` gives its web process on a fresh clone: the key, secret and encryption key `make`
    generates in var/local.env, LOYALTY_DEMO=1, and the Admin API on the loopback (loyalty.demo)."""
    from dotenv import dotenv_values

    from tools.local_env import write_local_env

    local = dotenv_values(write_local_env(var_dir))
    values = dict(api_key=local["SHOPIFY_API_KEY"], api_secrets=(local["SHOPIFY_API_SECRET"],),
                  local_secret=local["SHOPIFY_API_SECRET"], encryption_keys=(local["LOYALTY_ENCRYPTION_KEYS"],),
                  admin_url_template=DEMO_ADMIN_URL, demo=True)
    return make_config(database_url, redis_url, var_dir, **{**values, **overrides})


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


class Sender:
    """Posts webhooks signed like Shopify signs them."""

    def __init__(self, client, shop_domain: str = SHOP, secret: str = SECRET):
        self.client, self.shop, self.secret = client, shop_domain, secret

    def __call__(self, topic: str, payload, *, webhook_id: str | None = None, shop: str | None = None,
                 secret: str | None = None, headers: dict | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        all_headers = {
            "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop or self.shop,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Hmac-Sha256": sign(secret or self.secret, body), "Content-Type": "application/json",
        }
        all_headers.update(headers or {})
        return self.client.post("/webhooks", data=body, headers=all_headers)


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


from tests.admin_client import admin  # noqa: E402,F401 - the admin API fixture, shared by the admin tests
from tests.browser import browser, browser_page, live_app  # noqa: E402,F401 - real-browser fixtures
