"""End-to-end tier: HTTP through the Flask app or gunicorn, real worker processes, the browser, `make run`.
The fixtures that start services come from tests/fixtures.py, the real-browser ones from tests/browser.py."""
from tests.fixtures import (  # noqa: F401 - fixtures, registered for this tier by being named here
    admin, app, calls, client, ctx, ctx_factory, database_url, emulator, factory, mail_server, postgres, process,
    redis_client, redis_url, send, shop, shopify, sqlite_template, summary,
)
from tests.browser import browser, browser_page, live_app  # noqa: F401 - real-browser fixtures
