"""The home page and the liability report in a real headless Chromium, in English and in French: figures,
charts drawn as inline SVG beside their tables, the period picker, the CSV export, and no serious
accessibility violation (axe-core). Screenshots in test-output/screenshots/."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from jobs.scheduled import mature_points
from tests.browser import DEMO_SHOP, screenshot
from tests.factories import order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"
SERIOUS = ("serious", "critical")


def days_ago(n: int) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=n)).replace(microsecond=0).isoformat()


@pytest.fixture
def month(live_app):
    """Two members' orders over a month, matured; a guest order without a customer."""
    live_app.send("orders/paid", order(lines=((120, 1),), email="shopper1@example.com", customer_id=9001,
                                       processed_at=days_ago(25)))
    live_app.send("orders/paid", order(lines=((60, 2),), email="shopper2@example.com", customer_id=9002,
                                       processed_at=days_ago(20)))
    live_app.send("orders/paid", order(lines=((45, 1),), email="shopper1@example.com", customer_id=9001,
                                       processed_at=days_ago(3)))
    live_app.send("orders/paid", order(lines=((30, 1),), email=None, customer_id=None, processed_at=days_ago(5)))
    live_app.process()
    mature_points(datetime.now(timezone.utc), live_app.ctx)


def serious_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_home_shows_the_programme_at_a_glance_and_exports_csv(browser_page, month):
    page = browser_page
    page.goto("/admin" + QUERY)
    page.wait_for_selector("#points-chart svg rect")
    assert page.locator("#members").inner_text() == "2"
    assert page.locator("#active").inner_text() == "2"
    assert page.locator("#earned").inner_text() == "285"
    assert page.locator("#outstanding").inner_text() == "285"
    assert page.locator("#liability").inner_text() == "€28.50"
    assert page.locator("#buckets tbody tr").count() == 30
    assert page.locator("#orders tbody tr").first.inner_text().split("\t")[1:3] == ["3", "2"]
    assert page.locator("#orders-chart svg rect").count() == 2
    assert page.locator("#guest-orders").inner_text() == "Of which guest orders (no customer): 1"
    screenshot(page, "admin-home-en")
    assert serious_violations(page) == []

    page.select_option("#group", "week")
    page.click("#period button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#buckets tbody tr').length <= 6")
    assert "group=week" in page.url
    with page.expect_download() as download:
        page.click("#csv")
    text = open(download.value.path(), encoding="utf-8", newline="").read()
    rows = list(csv.DictReader(io.StringIO(text.split("\r\n\r\n")[0])))
    assert sum(int(r["earned"]) for r in rows) == 285 and rows[-1]["outstanding"] == "285"


def test_home_in_french(browser_page, month):
    page = browser_page
    page.goto("/admin" + QUERY + "&locale=fr")
    page.wait_for_selector("#points-chart svg rect")
    assert "Membres" in page.locator("#stats").inner_text()
    assert page.locator("#liability").inner_text().replace("\u202f", " ").replace("\xa0", " ") == "28,50 €"
    assert page.locator("#rewards tbody").inner_text() == "Aucune récompense émise sur la période."
    assert page.locator("#guest-orders").inner_text().replace("\u202f", " ").replace("\xa0", " ") == \
        "Dont commandes d'invités (sans client) : 1"
    screenshot(page, "admin-home-fr")


def test_liability_report_in_french_by_the_shop_s_days(browser_page, month):
    page = browser_page
    page.goto("/admin/report" + QUERY + "&locale=fr")
    page.wait_for_selector("#chart svg rect")
    assert page.locator("#days thead").inner_text().startswith("Jour")
    assert page.locator("#value").inner_text().replace("\u202f", " ").replace("\xa0", " ") == "28,50 €"
    assert page.locator("#days tbody tr").count() == 30
    screenshot(page, "admin-liability-report-fr")
    assert serious_violations(page) == []
