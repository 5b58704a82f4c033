"""The storefront loyalty page in a real headless Chromium, as a shopper opens it through the app proxy
(a signed URL): store A's ladder in French, the shopper's points and progress; screenshots written to
test-output/screenshots/."""
from __future__ import annotations

import time

import pytest
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from jobs.scheduled import mature_points
from loyalty.domain.programme import template
from integrations.shopify.app_proxy import PROXY_PATH
from integrations.shopify.app_proxy import sign
from tests.browser import DEMO_SHOP, screenshot
from tests.factories import order


def signed_path(secret: str, customer_id: int | None) -> str:
    pairs = [("shop", DEMO_SHOP), ("logged_in_customer_id", "" if customer_id is None else str(customer_id)),
             ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(time.time()))), ("format", "html")]
    return f"{PROXY_PATH}?" + urlencode(pairs + [("signature", sign(secret, pairs))])


def test_the_loyalty_page_shows_points_and_the_ladder(live_app, browser_page):
    from loyalty.services.shops import save_programme

    with live_app.ctx.engine.begin() as conn:
        save_programme(conn, live_app.shop, template("store-a"), datetime(2024, 1, 2, tzinfo=timezone.utc))
    when = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat()
    live_app.send("orders/paid", order(lines=((320, 1),), email="ines@example.com", customer_id=7101,
                                       processed_at=when, shipping=0))
    recent = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    live_app.send("orders/paid", order(lines=((40, 1),), email="ines@example.com", customer_id=7101,
                                       processed_at=recent, shipping=0))
    live_app.process()
    mature_points(datetime.now(timezone.utc), live_app.ctx)

    page = browser_page
    page.goto(signed_path(live_app.secret, 7101))
    text = page.inner_text("body")
    assert "320" in text and "40" in text  # available, and pending for 14 days
    assert "Dès 150 points" in text and "Encore 180 points pour atteindre le prochain palier" in text
    assert "10 € en carte cadeau" in text
    screenshot(page, "storefront-store-a-logged-in")

    page.goto(signed_path(live_app.secret, None))
    assert "Connecte-toi" in page.inner_text("body")
    screenshot(page, "storefront-store-a-anonymous")

    page.goto(signed_path(live_app.secret, 7101).replace("timestamp=", "timestamp=1"))  # tampered: the signature no longer holds
    assert "320" not in page.inner_text("body")


# Issue 15: the rebuilt page, as shoppers of store A and store B see it, in French and in English, on a phone
# (390 px) and a desktop (1280 px); opened with `loyalty storefront url`, whose forms then work locally.

SERIOUS = ("serious", "critical")


def cli_url(live_app, monkeypatch, tmp_path, customer: int | None) -> str:
    """What `loyalty storefront url demo.myshopify.com --customer ID` prints for this app."""
    from click.testing import CliRunner

    from cli.main import main

    monkeypatch.setenv("SHOPIFY_API_SECRET", live_app.secret)
    monkeypatch.setenv("LOYALTY_VAR_DIR", str(tmp_path))
    args = ["storefront", "url", DEMO_SHOP, "--base", live_app.url]
    result = CliRunner().invoke(main, args + (["--customer", str(customer)] if customer else []))
    assert result.exit_code == 0, result.output
    return result.output.strip()


def serious_violations(page) -> list:
    """axe-core's violations of serious or critical impact on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def run_shop(live_app, store: str, language: str, customer: int, email: str) -> None:
    """The demo shop on a seed programme in `language`; the customer bought 30 days ago (available) and 2
    days ago (pending)."""
    from loyalty.services.shops import save_programme

    with live_app.ctx.engine.begin() as conn:
        save_programme(conn, live_app.shop, template(store).with_changes(language=language),
                       datetime.now(timezone.utc))
    for days, amount in ((30, 320), (2, 40)):
        when = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
        live_app.send("orders/paid", order(lines=((amount, 1),), email=email, customer_id=customer,
                                           processed_at=when, shipping=0))
    live_app.process()
    mature_points(datetime.now(timezone.utc), live_app.ctx)


def redeeming_on_the_emulator(live_app, customer: int, email: str):
    """Redemptions made in the Admin API emulator (the demo shop's token), as `make run` would."""
    from integrations.shopify.client import AdminClient
    from tools.shopify_emulator import Emulator
    from tools.shopify_emulator.schema import load_schema
    from tools.wsgi_adapter import wsgi_session

    load_schema()  # built once per process (seconds): before the shopper clicks, not while the browser waits
    emulator = Emulator()
    emulator.add_shop(DEMO_SHOP, "demo-token")
    emulator.add_customer(DEMO_SHOP, customer, email)
    session = wsgi_session(emulator.app)
    live_app.client.application.config["LOYALTY_CLIENT_FACTORY"] = lambda ctx, shop, conn: AdminClient(
        shop.domain, "demo-token", session=session, admin_url_template="http://shopify.test/{shop}",
        sleep=lambda s: None)
    return emulator


@pytest.mark.parametrize("store,language", [("store-a", "fr"), ("store-a", "en"), ("store-b", "en"),
                                            ("store-b", "fr")])
def test_the_page_fits_a_phone_and_a_desktop_and_passes_axe(live_app, browser_page, monkeypatch, tmp_path,
                                                            store, language):
    """At 390 px and 1280 px: no sideways scroll, no serious or critical axe violation, for a signed-in
    shopper and a visitor; screenshots storefront-<store>-<language>-<width>[-visitor].png."""
    run_shop(live_app, store, language, 7101, "ines@example.com")
    page = browser_page
    for customer, suffix in ((7101, ""), (None, "-visitor")):
        url = cli_url(live_app, monkeypatch, tmp_path, customer)
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            assert page.locator("h1").count() == 1
            assert no_sideways_scroll(page), f"{store} {language} {width}px scrolls sideways"
            assert serious_violations(page) == []
            screenshot(page, f"storefront-{store}-{language}-{width}{suffix}")
    page.goto(cli_url(live_app, monkeypatch, tmp_path, 7101))
    text = page.inner_text("body")
    if store == "store-b":
        assert ("expire on" if language == "en" else "expirent le") in text
        assert ("On orders from €100.00" if language == "en" else "Dès 100,00\u00a0€ d'achat") in text


def test_the_page_opened_by_the_cli_converts_points_by_keyboard_and_copies_the_code(live_app, browser_page,
                                                                                   monkeypatch, tmp_path):
    """Store B on a phone: the CLI's page, the points typed into the (empty) field reached with Tab, Enter;
    the form posts to the shop's /apps/loyalty/redeem (served here in demo mode), the page it redirects to
    shows the code with a working copy button, and reloading it spends nothing more."""
    run_shop(live_app, "store-b", "en", 7202, "ben@example.com")
    emulator = redeeming_on_the_emulator(live_app, 7202, "ben@example.com")
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app.url)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(cli_url(live_app, monkeypatch, tmp_path, 7202))
    assert page.input_value("#loyalty-points") == ""
    for _ in range(60):  # the field is reachable by keyboard
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "loyalty-points":
            break
    assert page.evaluate("document.activeElement.id") == "loyalty-points"
    page.keyboard.type("150")
    page.keyboard.press("Enter")
    page.wait_for_selector("#loyalty-code")
    assert "/apps/loyalty?" in page.url and "notice=" in page.url
    [made] = emulator.discount_codes(DEMO_SHOP)
    assert page.inner_text("#loyalty-code") == made["code"]
    copy = page.locator("#loyalty-result button.copy")
    assert copy.is_visible()
    copy.click()
    assert page.evaluate("navigator.clipboard.readText()") == made["code"]
    assert no_sideways_scroll(page) and serious_violations(page) == []
    screenshot(page, "storefront-store-b-en-390-converted")
    page.reload()
    assert page.inner_text("#loyalty-code") == made["code"]
    assert len(emulator.discount_codes(DEMO_SHOP)) == 1
    assert "170" in page.inner_text("#loyalty-available")  # 320 - 150, spent once
