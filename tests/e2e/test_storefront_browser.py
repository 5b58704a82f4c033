"""The storefront loyalty page in a real headless Chromium, as a shopper opens it through the app proxy
(a signed URL): store A's ladder in French, the shopper's points and progress; screenshots written to
test-output/screenshots/."""
from __future__ import annotations

import time
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
