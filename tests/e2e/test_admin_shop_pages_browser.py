"""The vouchers, failed jobs and emails pages in English and French, in a real headless Chromium: every text
from the page's catalogue, amounts in the shop's currency, days in the shop's time zone, gift cards and
donations without an end date (they have none). Screenshots: test-output/screenshots/admin-vouchers-*.png,
admin-jobs-fr.png, admin-emails-fr.png."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from jobs.scheduled import mature_points
from loyalty.domain.offers import Offer
from loyalty.services import vouchers
from loyalty.services.customers import find_customer
from loyalty.services.shops import set_shop_facts
from tests.browser import DEMO_SHOP, screenshot
from tests.factories import order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"


@pytest.fixture
def paris_shop(live_app):
    """The demo shop as Shopify describes it: in Paris, in euros, French."""
    with live_app.ctx.engine.begin() as conn:
        set_shop_facts(conn, DEMO_SHOP, datetime.now(timezone.utc), name="Maison Démo", timezone="Europe/Paris",
                       currency="EUR", locale="fr")
    return live_app


@pytest.fixture
def three_vouchers(paris_shop):
    """A shopper's discount code ending 23:30 UTC on 10 June (11 June in Paris), a gift card and a donation."""
    live_app = paris_shop
    live_app.send("orders/paid", order(lines=((500, 1),), email="lena@example.com", customer_id=9101,
                                       processed_at=(datetime.now(timezone.utc) - timedelta(days=40)).isoformat()))
    live_app.process()
    mature_points(datetime.now(timezone.utc), live_app.ctx)
    made = datetime(2026, 6, 10, 23, 30, tzinfo=timezone.utc) - timedelta(days=30)
    with live_app.ctx.engine.begin() as conn:
        customer_id = find_customer(conn, live_app.shop.id, "9101").id
        for number, (kind, amount) in enumerate((("discount", "5"), ("gift_card", "10"), ("donation", "2"))):
            offer = Offer(points=100, amount=Decimal(amount), kind=kind, title=f"{kind} {amount}", validity_days=30)
            voucher = vouchers.reserve(conn, live_app.shop, customer_id, offer, f"browser-{number}", made)
            if kind != "donation":
                vouchers.activate(conn, voucher.id, f"gid://shopify/DiscountCodeNode/{number + 1}", made, notify=False)
    return live_app


def rows(page) -> dict:
    """Each voucher row's cells by kind column text."""
    found = {}
    for row in page.locator("#vouchers tbody tr").all():
        cells = [cell.inner_text().strip() for cell in row.locator("td").all()]
        found[cells[2]] = cells
    return found


def test_vouchers_page_in_english_shows_money_days_and_no_end_for_gift_cards(browser_page, three_vouchers):
    page = browser_page
    page.goto("/admin/vouchers" + QUERY + "&locale=en")
    page.wait_for_selector("#vouchers tbody tr:has-text('Gift card')")
    got = rows(page)
    assert got["Discount code"][4] == "€5.00" and got["Discount code"][6] == "Jun 11, 2026"  # Paris' day
    assert got["Gift card"][4] == "€10.00" and got["Gift card"][6] == "No end date"
    assert got["Donation"][5] == "donated" and got["Donation"][6] == "No end date"
    assert page.locator("#vouchers thead").inner_text().split("\t")[:3] == ["Code", "Customer", "Kind"]
    screenshot(page, "admin-vouchers-en")


def test_vouchers_page_in_french(browser_page, three_vouchers):
    page = browser_page
    page.goto("/admin/vouchers" + QUERY + "&locale=fr")
    page.wait_for_selector("#vouchers tbody tr:has-text('Carte cadeau')")
    got = rows(page)
    assert got["Code de réduction"][4].replace("\u202f", " ").replace("\xa0", " ") == "5,00 €"
    assert got["Code de réduction"][6] == "11 juin 2026"
    assert got["Carte cadeau"][6] == "Sans date de fin" and got["Don"][5] == "donné"
    assert got["Code de réduction"][7] == "Annuler et recréditer"
    assert "Les codes obtenus" in page.locator("#page-subtitle").inner_text()
    page.select_option("#status", "donated")
    page.wait_for_function("document.querySelectorAll('#vouchers tbody tr').length === 1")
    screenshot(page, "admin-vouchers-fr")


def test_failed_jobs_page_in_french_retries(browser_page, paris_shop):
    live_app = paris_shop
    live_app.send("orders/paid", {"id": 1, "line_items": [{"price": "not-a-number"}]}, webhook_id="broken-fr")
    live_app.process()
    page = browser_page
    page.goto("/admin/jobs" + QUERY + "&locale=fr")
    page.wait_for_selector("#jobs tbody tr:has-text('broken-fr')")
    page.wait_for_selector("#failures tbody tr:has-text('Aucun autre échec')")
    assert page.locator("#retry-all").inner_text() == "Tout relancer"
    assert page.locator("#jobs thead").inner_text().startswith("Événement")
    screenshot(page, "admin-jobs-fr")
    page.click("#jobs tbody tr button")
    page.wait_for_selector("#banner:has-text('1 relancé(s)')")
    page.wait_for_selector("#jobs tbody tr:has-text('Aucun échec')")


def test_emails_page_in_french(browser_page, paris_shop):
    page = browser_page
    page.goto("/admin/emails" + QUERY + "&locale=fr")
    page.wait_for_selector("#state:has-text(\"Texte d'origine\")")
    assert page.locator("#kind option").first.inner_text() == "Points disponibles"
    assert page.locator("label[for=subject]").inner_text() == "Objet"
    assert page.locator("#variables").inner_text().startswith("Variables :")
    page.select_option("#kind", "birthday")
    page.select_option("#language", "fr")
    page.click("#preview")
    page.wait_for_selector("#preview-card:not([hidden])")
    screenshot(page, "admin-emails-fr")
    page.click("#save")
    page.wait_for_selector("#banner:has-text('Enregistré')")
    assert page.locator("#state").inner_text() == "Votre texte"
