"""Integration tier: services and adapters on real SQLite and PostgreSQL, Redis, the Shopify emulator in
process. The fixtures that start them come from tests/fixtures.py."""
from tests.fixtures import (  # noqa: F401 - fixtures, registered for this tier by being named here
    admin, app, calls, client, ctx, ctx_factory, database_url, emulator, factory, mail_server, postgres, process,
    redis_client, redis_url, send, shop, shopify, sqlite_template, summary,
)
