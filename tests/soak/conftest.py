"""Soak tier: the long fault and load runs (`make soak`, pytest -m soak) and their short versions, which run
in `make test`. The fixtures that start services come from tests/fixtures.py."""
from tests.fixtures import (  # noqa: F401 - fixtures, registered for this tier by being named here
    admin, app, calls, client, ctx, ctx_factory, database_url, emulator, factory, mail_server, postgres, process,
    redis_client, redis_url, send, shop, sqlite_template, summary,
)
