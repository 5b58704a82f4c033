"""The audit page in a real headless Chromium: the events staff made (a template applied, a setting
changed, an adjustment), a programme version's changes as a table, filters, the programme's versions and
the CSV, in English and French; screenshots in test-output/screenshots/ (admin-audit-*)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from loyalty.domain.programme import template
from loyalty.domain.requests import Adjustment, AdjustPoints, ChangeProgramme, SaveProgramme
from loyalty.services.customers import resolve_customer
from loyalty.services.shops import set_shop_facts
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.customers import adjust_points
from loyalty.services.use_cases.programme import change_programme, save_programme
from tests.browser import DEMO_SHOP, screenshot

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"
SERIOUS = ("serious", "critical")


@pytest.fixture
def history(live_app):
    """A shop in Paris: staff applied store-a, then changed the pending days and the gift card's points,
    then adjusted a customer's points; the CLI changed the earn rate."""
    ctx = live_app.ctx
    with ctx.engine.begin() as conn:
        set_shop_facts(conn, DEMO_SHOP, datetime.now(timezone.utc), name="Maison A", timezone="Europe/Paris",
                       currency="EUR", locale="fr")
        ada = resolve_customer(conn, live_app.shop.id, 9001, "ada@example.com", datetime.now(timezone.utc))
    save_programme(SaveProgramme(DEMO_SHOP, template("store-a"), actor="demo-staff", template="store-a"),
                   UnitOfWork(ctx))
    change_programme(ChangeProgramme(DEMO_SHOP, {"pending_days": 7, "rewards.carte-cadeau-10.points": 350},
                                     actor="demo-staff"), UnitOfWork(ctx))
    adjust_points(AdjustPoints(DEMO_SHOP, Adjustment(ada, 25, "parcel lost", "demo-staff", "browser-token-1")),
                  UnitOfWork(ctx))
    change_programme(ChangeProgramme(DEMO_SHOP, {"earn_rate": "2"}), UnitOfWork(ctx))
    return ada


def serious_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"]) for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_the_audit_page_shows_who_changed_what_with_a_programme_diff(browser_page, history):
    page = browser_page
    page.goto("/admin/audit" + QUERY)
    page.wait_for_selector("#events tbody tr[data-action]")
    rows = page.locator("#events tbody tr[data-action]")
    assert rows.count() == 4
    assert rows.nth(0).locator("td").nth(1).inner_text() == "Command line (CLI)"
    assert "staff demo-staff" in rows.nth(1).inner_text() and "ada@example.com" in rows.nth(1).inner_text()
    assert "Points adjusted" in rows.nth(1).inner_text()
    changed = rows.nth(2)
    changed.get_by_role("button", name="Show changes").click()
    diff = page.locator("#events .Audit-diff")
    diff.wait_for()
    assert diff.locator("tbody tr").count() == 2
    assert diff.locator("tbody tr").nth(0).inner_text().split("\t") == ["pending_days", "14", "7"]
    assert diff.locator("tbody tr").nth(1).inner_text().split("\t") == ["rewards[carte-cadeau-10].points", "300", "350"]
    page.wait_for_selector("#versions tbody tr[data-version='4']")
    assert page.locator("#versions tbody tr[data-version]").count() == 4
    assert serious_violations(page) == []
    screenshot(page, "admin-audit-diff-en")

    page.select_option("#f-action", "points_adjusted")
    page.click("#filters button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#events tbody tr[data-action]').length === 1")
    assert "action=points_adjusted" in page.url and "shop=demo.myshopify.com" in page.url
    with page.expect_download() as download:
        page.click("#csv")
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0] == "at,actor,action,customer_id,customer_email,subject,summary,details"
    assert len(text.splitlines()) == 2 and "parcel lost" in text


def test_the_audit_page_in_french_with_a_version_diff(browser_page, history):
    page = browser_page
    page.goto("/admin/audit" + QUERY + "&locale=fr")
    page.wait_for_selector("#versions tbody tr[data-version='3']")
    assert page.locator("#page-title").inner_text() == "Journal d'audit"
    first = page.locator("#events tbody tr[data-action]").nth(0)
    assert "Ligne de commande (CLI)" in first.inner_text() and "Programme enregistré" in first.inner_text()
    version = page.locator("#versions tbody tr[data-version='3']")
    version.get_by_role("button", name="Voir les changements").click()
    diff = page.locator("#versions .Audit-diff")
    diff.wait_for()
    assert "Changements de la version 3" in diff.inner_text()
    assert [c.inner_text() for c in diff.locator("thead th").all()] == ["Réglage", "Avant", "Après"]
    assert diff.locator("tbody tr").count() == 2
    assert serious_violations(page) == []
    screenshot(page, "admin-audit-diff-fr")
