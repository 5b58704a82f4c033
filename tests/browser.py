"""Real-browser fixtures: the whole app served on a free loopback port against a fresh SQLite database,
and Debian's Chromium driven by Playwright. Reusable by any page test:

    def test_something(live_app, browser_page):
        live_app.send("orders/paid", payload); live_app.process()
        browser_page.goto("/admin?shop=demo.myshopify.com")
        screenshot(browser_page, "my-page")          # test-output/screenshots/my-page.png

The app runs in demo mode, configured as `make run` configures its web process on a fresh clone (the
generated var/local.env, LOYALTY_DEMO=1, the Admin API on the loopback), so its pages get session tokens
for demo.myshopify.com from the app itself, exactly where App Bridge would give them in Shopify's admin.
Without Chromium or Playwright the tests skip, saying why; with LOYALTY_REQUIRE_BROWSER=1 (CI) they fail.
"""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
DEMO_SHOP = "demo.myshopify.com"


def chromium_executable() -> str | None:
    """LOYALTY_CHROMIUM, or Debian's chromium on the PATH."""
    return os.environ.get("LOYALTY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable(reason: str, need: str = "a browser", hint: str = "apt-get install chromium"):
    """Skip the test saying why `need` is missing, or fail it when LOYALTY_REQUIRE_BROWSER is set (CI, which
    installs the browser and Node.js so that these tests cannot skip there)."""
    if os.environ.get("LOYALTY_REQUIRE_BROWSER"):
        pytest.fail(f"{need} is required here (LOYALTY_REQUIRE_BROWSER) but {reason}")
    pytest.skip(f"{need} is unavailable: {reason} ({hint})")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium for the session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    executable = chromium_executable()
    if not executable:
        unavailable("chromium is not on the PATH")
    playwright = sync_playwright().start()
    try:
        instance = playwright.chromium.launch(executable_path=executable, headless=True)
    except Exception as exc:  # noqa: BLE001 - any launch failure means no browser here
        playwright.stop()
        unavailable(f"chromium did not start: {exc}")
    yield instance
    instance.close()
    playwright.stop()


@dataclass
class LiveApp:
    """The app serving real HTTP: its URL, context and demo shop, and helpers to feed it events."""

    url: str
    ctx: object
    shop: object
    client: object

    @property
    def secret(self) -> str:
        """The app secret (generated in var/local.env): what Shopify would sign webhooks and proxy URLs with."""
        return self.ctx.config.api_secrets[0]

    def send(self, topic: str, payload, **kw):
        """Post a signed webhook (as Shopify would) and assert it was recorded."""
        from tests.conftest import Sender

        answer = Sender(self.client, DEMO_SHOP, self.secret)(topic, payload, **kw)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer

    def process(self) -> int:
        """Apply the recorded webhooks, as the worker would."""
        from jobs.inbox import process_inbox

        return process_inbox(ctx=self.ctx)


@pytest.fixture
def live_app(request, sqlite_template, redis_url, redis_client, tmp_path):
    """The whole app on http://127.0.0.1:<free port>, demo mode, demo.myshopify.com installed."""
    from werkzeug.serving import make_server

    from loyalty.services.shops import install_shop
    from loyalty.services.context import build_context
    from integrations.crypto import encrypt_token
    from runtime.web import create_app
    from tests.conftest import demo_config
    from tests.fixtures import _new_database

    ctx = build_context(demo_config(_new_database("sqlite", request, sqlite_template), redis_url, tmp_path))
    with ctx.engine.begin() as conn:
        shop = install_shop(conn, DEMO_SHOP, encrypt_token(ctx.config.encryption_keys, "demo-token"),
                            datetime(2024, 1, 1, tzinfo=timezone.utc))
    app = create_app(ctx)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveApp(f"http://127.0.0.1:{server.server_port}", ctx, shop, app.test_client())
    server.shutdown()
    thread.join(timeout=10)
    ctx.engine.dispose()


@pytest.fixture
def browser_page(browser, live_app):
    """A fresh page whose relative URLs go to `live_app`; fails the test on any JavaScript error."""
    context = browser.new_context(base_url=live_app.url, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # confirm() before destructive actions
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under test-output/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path
