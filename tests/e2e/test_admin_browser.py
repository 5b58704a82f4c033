"""The merchant admin in a real headless Chromium, against the real app on a loopback port: the pages
load with no CDN, get their session token, and do what a merchant does. Screenshots are written to
test-output/screenshots/ (settings with the store-a template, a customer's record, the liability chart)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from jobs.scheduled import mature_points
from tests.browser import DEMO_SHOP, screenshot
from tests.factories import order, refund

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"


def days_ago(n: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=n)).replace(microsecond=0).isoformat()


@pytest.fixture
def activity(live_app):
    """A month of a small shop: three shoppers' orders, a refund, points matured."""
    first = order(lines=((120, 1),), email="shopper1@example.com", customer_id=9001, processed_at=days_ago(25))
    live_app.send("orders/paid", first)
    live_app.send("orders/paid", order(lines=((60, 2),), email="shopper2@example.com", customer_id=9002,
                                       processed_at=days_ago(20)))
    live_app.send("orders/paid", order(lines=((45, 1),), email="shopper1@example.com", customer_id=9001,
                                       processed_at=days_ago(3)))
    live_app.send("refunds/create", refund(first, lines={0: (1, 20)}, created_at=days_ago(15)))
    live_app.process()
    mature_points(datetime.now(timezone.utc), live_app.ctx)


def test_settings_editor_applies_a_template_and_shows_field_errors(browser_page):
    page = browser_page
    page.goto("/admin/settings" + QUERY)
    page.wait_for_selector("#version:has-text('version 1')")
    page.select_option("#template", "store-a")
    page.click("#apply-template")
    page.wait_for_selector("#banner:has-text('Template store-a applied')")
    assert page.locator("#version").inner_text() == "version 2"
    assert page.locator("#rewards [data-reward]").count() == 7
    assert page.locator("#f-language").input_value() == "fr"
    screenshot(page, "admin-settings-store-a")

    # A gift card reward with no amount: refused, the field marked, nothing saved.
    amount = page.locator("#rewards [data-reward]").nth(2).locator("[data-reward-field=amount]")
    amount.fill("")
    page.click("#save")
    page.wait_for_selector("#banner:has-text('rewards[2].amount')")
    assert "invalid" in amount.get_attribute("class")
    assert page.locator("#version").inner_text() == "version 2"

    amount.fill("15")
    page.fill("#f-pending_days", "7")
    page.click("#save")
    page.click("#confirm-save")  # fewer pending days move customers' points: confirmed first
    page.wait_for_selector("#banner:has-text('Programme saved')")
    assert page.locator("#version").inner_text() == "version 3"
    page.reload()
    page.wait_for_selector("#version:has-text('version 3')")
    assert page.locator("#f-pending_days").input_value() == "7"


def test_customer_search_record_and_manual_adjustment(browser_page, activity):
    page = browser_page
    page.goto("/admin/customers" + QUERY)
    page.wait_for_selector("#customers tbody tr >> nth=1")
    page.fill("#q", "shopper1")
    page.click("#search button")
    page.wait_for_function("document.querySelectorAll('#customers tbody tr').length === 1")
    assert "shopper1@example.com" in page.locator("#customers tbody tr").inner_text()
    page.click("text=shopper1@example.com")
    page.wait_for_selector("#page-title:has-text('shopper1@example.com')")
    assert "shop=demo.myshopify.com" in page.url  # links keep App Bridge's parameters
    assert page.locator("#available").inner_text() == "100"  # 120 earned, 20 refunded
    assert page.locator("#pending").inner_text() == "45"
    assert page.locator("#pending-lots tbody tr").count() == 1
    assert page.locator("#history tbody tr").count() == 4  # earn, claw back, mature, earn

    page.fill("#adjust-points", "25")
    page.fill("#adjust-reason", "Goodwill: parcel arrived late")
    page.click("#adjust-submit")
    page.wait_for_selector("#banner:has-text('Added 25 points')")
    page.wait_for_selector("#available:has-text('125')")
    top = page.locator("#history tbody tr").first
    assert "Goodwill: parcel arrived late" in top.inner_text() and "staff demo-staff" in top.inner_text()
    screenshot(page, "admin-customer-detail")

    page.fill("#adjust-points", "-5")
    page.click("#adjust-submit")  # no reason: the browser's own required check stops it
    assert page.locator("#available").inner_text() == "125"

    page.goto("/admin/customers" + QUERY)
    page.wait_for_selector("#adjustments tbody tr:has-text('staff demo-staff')")


def test_liability_report_draws_the_chart_and_exports_csv(browser_page, live_app, activity):
    page = browser_page
    page.goto("/admin/report" + QUERY)
    page.wait_for_selector("#chart svg rect")
    assert page.locator("#outstanding").inner_text() == "265"  # 100 + 45 (shopper1) + 120 (shopper2)
    assert page.locator("#value").inner_text() == "€26.50"  # Loyalty.money: the shop's currency (EUR)
    assert page.locator("#days tbody tr").count() == 30
    assert page.locator("#chart svg polyline").count() == 1
    screenshot(page, "admin-liability-report")

    with page.expect_download() as download:
        page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(rows) == 30 and rows[-1]["outstanding"] == "265"
    assert sum(int(r["earned"]) for r in rows) == 285 and sum(int(r["clawed_back"]) for r in rows) == 20


def test_failed_jobs_page_retries(browser_page, live_app):
    """A webhook that cannot be read fails for good; the page lists it and retries it."""
    live_app.send("orders/paid", {"id": 1, "line_items": [{"price": "not-a-number"}]}, webhook_id="broken-1")
    live_app.process()
    page = browser_page
    page.goto("/admin/jobs" + QUERY)
    page.wait_for_selector("#jobs tbody tr:has-text('broken-1')")
    page.wait_for_selector("#failures tbody tr:has-text('Nothing else failed')")  # the other kinds' table
    page.click("#jobs tbody tr button")
    page.wait_for_selector("#banner:has-text('1 queued')")
    page.wait_for_selector("#jobs tbody tr:has-text('Nothing failed')")


def test_pages_need_no_network_but_the_app(browser_page, live_app):
    """Every request the pages make goes to the app itself (no CDN, no fonts from elsewhere)."""
    seen = []
    browser_page.on("request", lambda r: seen.append(r.url))
    for name in ("", "/settings", "/customers", "/vouchers", "/report", "/audit", "/emails", "/jobs"):
        browser_page.goto(f"/admin{name}" + QUERY)
        browser_page.wait_for_load_state("networkidle")
    assert seen and all(url.startswith(live_app.url) or url.startswith("blob:") for url in seen), seen
