"""The customers page in a real headless Chromium: one search box finds a customer by name (accents and case
ignored), email, Shopify id or order number, and lists names, emails, tags and balances, in English and in
French (`?locale=fr`). Screenshots: admin-customers-search-en, admin-customers-search-fr."""
from __future__ import annotations

import pytest

from tests.browser import DEMO_SHOP, screenshot
from tests.factories import customer, order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"
SERIOUS = {"serious", "critical"}


@pytest.fixture
def named(live_app):
    """Three customers with names and tags; Élodie bought order #4242."""
    for shopify_id, email, first, last, tags in ((9101, "elodie@example.com", "Élodie", "Martin", "vip, newsletter"),
                                                 (9102, "marc@example.com", "Marc", "Dupont", ""),
                                                 (9103, "zoe@example.com", "Zoé", "Marchand", "wholesale")):
        live_app.send("customers/create", {**customer(shopify_id, email), "first_name": first, "last_name": last,
                                           "tags": tags, "updated_at": "2025-03-01T10:00:00Z"})
    live_app.send("orders/paid", order(order_id=4242, lines=((80, 1),), email="elodie@example.com",
                                       customer_id=9101))
    live_app.process()


def search(page, text: str, rows: int, shows: str) -> str:
    """Search for `text`; the table's text once it shows `shows` in exactly `rows` rows (fails on timeout)."""
    page.fill("#q", text)
    page.click("#search button")
    page.wait_for_function("([n, name]) => document.querySelectorAll('#customers tbody tr:not(:has(.Empty))').length "
                           "=== n && document.querySelector('#customers tbody').innerText.includes(name)",
                           arg=[rows, shows])
    return page.locator("#customers tbody").inner_text()


def serious_violations(page) -> list:
    """axe-core's violations of serious or critical impact on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in Axe().run(page).response["violations"]
            if v["impact"] in SERIOUS]


def test_support_finds_a_customer_by_name_email_id_or_order_number(browser_page, named):
    page = browser_page
    page.goto("/admin/customers" + QUERY)
    page.wait_for_selector("#customers tbody tr >> nth=2")
    found = search(page, "elo", 1, "Élodie Martin")
    assert "Élodie Martin" in found and "elodie@example.com" in found and "vip" in found and "newsletter" in found
    assert "80" in found  # the order's points, pending
    search(page, "ZOE", 1, "Zoé Marchand")  # case and accents ignored
    search(page, "martin", 1, "Élodie Martin")  # last name
    search(page, "marc@", 1, "Marc Dupont")  # email prefix
    search(page, "9102", 1, "Marc Dupont")  # Shopify id
    search(page, "#4242", 1, "Élodie Martin")  # order number
    listed = search(page, "mar", 3, "Zoé Marchand")
    assert all(name in listed for name in ("Élodie Martin", "Marc Dupont", "Zoé Marchand"))
    assert serious_violations(page) == []
    screenshot(page, "admin-customers-search-en")
    page.click("text=Zoé Marchand")
    page.wait_for_url("**/admin/customers/*")
    assert "shop=demo.myshopify.com" in page.url


def test_the_customers_page_speaks_french(browser_page, named):
    page = browser_page
    page.goto("/admin/customers" + QUERY + "&locale=fr")
    page.wait_for_selector("#customers tbody tr >> nth=2")
    assert page.locator("#q").get_attribute("placeholder").startswith("Nom, e-mail")
    assert "Balises" in page.locator("#customers thead").inner_text()
    page.fill("#q", "personne")
    page.click("#search button")
    page.wait_for_selector("#customers tbody td.Empty:has-text('Aucun client ne correspond à « personne »')")
    search(page, "élodie", 1, "Élodie Martin")
    assert serious_violations(page) == []
    screenshot(page, "admin-customers-search-fr")
