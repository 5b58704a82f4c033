"""The support desk in headless Chromium, English and French: a reseller order, a test order and an order
paid by gift card, sent as signed webhooks, each say why they earned nothing; the history is newest first
with "load more"; a negative adjustment is confirmed saying the balance after; the birthday is corrected
with a reason. Screenshots in test-output/screenshots/."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import responses

from loyalty.domain.programme import template
from tests.browser import screenshot
from tests.e2e.test_admin_browser import QUERY
from tests.e2e.test_earning import transactions_response
from tests.e2e.test_storefront_browser import serious_violations
from tests.factories import order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
CLAIRE = 9101


def ago(days: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).replace(microsecond=0).isoformat()


@pytest.fixture
def claire(live_app) -> int:
    """Store A's programme; Claire's web order earns, her reseller, test and gift-card orders do not."""
    from loyalty.services.customers import find_customer
    from loyalty.services.shops import save_programme

    with live_app.ctx.engine.begin() as conn:
        save_programme(conn, live_app.shop, template("store-a"), datetime.now(timezone.utc))
    email = "claire@example.com"
    gift = order(lines=((50, 1),), email=email, customer_id=CLAIRE, gateways=("gift_card",), shipping=0,
                 processed_at=ago(4))
    for body in (order(lines=((60, 1),), email=email, customer_id=CLAIRE, processed_at=ago(20)),
                 order(lines=((90, 1),), email=email, customer_id=CLAIRE, source_name="partner_reseller",
                       processed_at=ago(8)),
                 order(lines=((40, 1),), email=email, customer_id=CLAIRE, test=True, processed_at=ago(6)), gift):
        live_app.send("orders/paid", body)
    with responses.RequestsMock() as mocked:  # Shopify's answer about the gift card's transactions
        mocked.post(re.compile(r".*/graphql\.json$"),
                    json=transactions_response(gift["id"], ("gift_card", "SALE", "SUCCESS", "50.00")))
        live_app.process()
    with live_app.ctx.engine.connect() as conn:
        return find_customer(conn, live_app.shop.id, str(CLAIRE)).id


def open_desk(page, customer_id: int, locale: str = "") -> None:
    page.goto(f"/admin/customers/{customer_id}" + QUERY + (f"&locale={locale}" if locale else ""))
    page.wait_for_selector("#orders tbody tr >> nth=3")


def test_the_desk_says_why_each_order_earned_nothing_in_english(browser_page, claire):
    page = browser_page
    open_desk(page, claire)
    codes = page.locator("#orders td.outcome")
    assert [codes.nth(i).get_attribute("data-code") for i in range(4)] == ["gift_card", "test_order",
                                                                          "excluded_channel", "pending"]
    text = page.locator("#orders tbody").inner_text()
    assert "Sales channel partner_reseller is excluded" in text and "Test order" in text
    assert "Paid wholly by gift card or store credit" in text and "50.00" in text
    assert page.locator("#page-title").inner_text() == "claire@example.com"
    assert serious_violations(page) == []
    screenshot(page, "admin-customer-desk-en")


def test_the_desk_in_french_and_the_birthday_correction(browser_page, claire):
    page = browser_page
    open_desk(page, claire, "fr")
    text = page.locator("#orders tbody").inner_text()
    assert "Le canal de vente partner_reseller est exclu du programme" in text
    assert "Commande de test" in text and "carte cadeau" in text
    page.fill("#birthday-date", "1990-07-14")
    page.fill("#birthday-reason", "La cliente a appelé")
    page.click("#birthday-submit")
    page.wait_for_selector("#banner:has-text('Anniversaire corrigé')")
    page.wait_for_selector("#birthday-now:has-text('14')")
    screenshot(page, "admin-customer-desk-fr")


def test_a_negative_adjustment_is_confirmed_with_the_balance_after(browser_page, claire, live_app):
    from jobs.scheduled import mature_points
    mature_points(datetime.now(timezone.utc), live_app.ctx)  # the web order's 60 points become available
    page = browser_page
    # The merchant's answers to window.confirm: first "cancel", then "OK" (the questions are recorded).
    page.add_init_script("window.__asked = []; window.__answers = [false, true];"
                         "window.confirm = (m) => { window.__asked.push(m); return window.__answers.shift(); };")
    open_desk(page, claire)
    page.fill("#adjust-points", "-50")
    page.fill("#adjust-reason", "Fraud: returned goods")
    page.click("#adjust-submit")  # dismissed: nothing taken
    page.wait_for_function("document.getElementById('adjust-submit').disabled === false")
    assert page.evaluate("window.__asked") == ["Take 50 points from this customer? Their available balance will be 10."]
    assert page.locator("#available").inner_text() == "60"
    page.click("#adjust-submit")  # accepted
    page.wait_for_selector("#banner:has-text('Took 50 points')")
    page.wait_for_selector("#available:has-text('10')")
    assert "Fraud: returned goods" in page.locator("#history tbody tr").first.inner_text()
    screenshot(page, "admin-customer-desk-adjustment")
