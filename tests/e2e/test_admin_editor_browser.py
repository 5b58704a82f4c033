"""The programme editor in a real headless Chromium against the app on a loopback port (demo mode, no App
Bridge): each reward kind shows only its fields, a collection is picked with the app's own picker (the
Admin API emulator answering), and the editor's refusals: a field error, a stale save showing what changed,
warnings confirmed, a risky change confirmed with the simulation one click away. Screenshots in English and
French under test-output/screenshots/admin-editor-*.png; axe finds no serious violation."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loyalty.domain.requests import ChangeProgramme
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.programme import change_programme
from tests.browser import DEMO_SHOP, screenshot
from tests.factories import order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"
SERIOUS = ("serious", "critical")


def serious_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
            if v["impact"] in SERIOUS]


def open_editor(page, locale: str = "en", version: int = 1):
    page.goto("/admin/settings" + QUERY + (f"&locale={locale}" if locale != "en" else ""))
    page.wait_for_selector(f"#version:has-text('version {version}')")


def apply_template(page, name: str, version: int):
    page.select_option("#template", name)
    page.click("#apply-template")
    page.wait_for_selector(f"#version:has-text('version {version}')")


def card(page, key: str):
    """The reward card whose key field holds `key` (typed values are properties, not attributes)."""
    keys = page.locator("#rewards [data-reward] [data-reward-field=key]").evaluate_all("els => els.map(e => e.value)")
    return page.locator("#rewards [data-reward]").nth(keys.index(key))


def fields_of(reward) -> set[str]:
    return set(reward.locator("[data-reward-field]").evaluate_all("els => els.map(e => e.dataset.rewardField)"))


@pytest.fixture
def collections(live_app):
    """The demo shop's collections in the Admin API emulator, the app's Shopify client pointed at it."""
    from integrations.shopify.client import AdminClient
    from tools.shopify_emulator import Emulator
    from tools.shopify_emulator.schema import load_schema
    from tools.wsgi_adapter import wsgi_session

    load_schema()  # built once per process (seconds): before the page asks, not while the browser waits
    emulator = Emulator()
    emulator.add_shop(DEMO_SHOP, "demo-token")
    emulator.add_collection(DEMO_SHOP, 1001, [], title="Upcycled accessories")
    emulator.add_collection(DEMO_SHOP, 1002, [], title="Briefs selection")
    emulator.add_collection(DEMO_SHOP, 2001, [], title="Full price")
    session = wsgi_session(emulator.app)
    live_app.client.application.config["LOYALTY_CLIENT_FACTORY"] = lambda ctx, shop, conn: AdminClient(
        shop.domain, "demo-token", session=session, admin_url_template="http://shopify.test/{shop}",
        sleep=lambda s: None)
    return emulator


def test_each_reward_kind_shows_only_its_fields_in_french(browser_page, collections):
    page = browser_page
    open_editor(page, "fr")
    apply_template(page, "store-a", 2)
    assert page.locator("#page-subtitle").inner_text().startswith("Comment les clients")
    perk, gift, item = card(page, "anniversaire"), card(page, "carte-cadeau-10"), card(page, "accessoire-upcycle")
    common = {"key", "kind", "points", "title", "description"}
    assert fields_of(perk) == common | {"tag", "birthday"}
    assert fields_of(gift) == common | {"amount"}
    assert fields_of(item) == common | {"amount", "collection_id", "customer_picks"}
    # Titles are whole, and a collection is shown by its title, never as a number to type.
    assert perk.locator("[data-reward-field=title]").input_value() == "Une surprise pour ton anniversaire"
    page.wait_for_selector("#rewards .Picked-title:has-text('Upcycled accessories')")
    assert page.locator("#f-shop_name").count() == 1 and page.locator("#f-emails").is_checked()
    # Another kind: its own fields, the values typed so far kept.
    gift.locator("[data-reward-field=kind]").select_option("donation")
    assert fields_of(gift) == common | {"amount", "cause"}
    assert gift.locator("[data-reward-field=amount]").input_value() == "10"
    screenshot(page, "admin-editor-fr")
    assert serious_violations(page) == []


def test_a_collection_is_picked_with_the_fallback_picker_and_shown_by_its_title(browser_page, live_app, collections):
    page = browser_page
    open_editor(page)
    assert page.locator("#f-voucher_collection_id .Picked-title").inner_text() == "None"
    page.click("#f-voucher_collection_id [data-pick]")
    page.wait_for_selector("#picker-results button:has-text('Full price')")
    page.fill("#picker-search", "brief")
    page.wait_for_selector("#picker-results li:only-child button:has-text('Briefs selection')")
    screenshot(page, "admin-editor-picker")
    page.click("#picker-results button:has-text('Briefs selection')")
    assert page.locator("#f-voucher_collection_id .Picked-title").inner_text() == "Briefs selection"
    page.click("#save")
    page.wait_for_selector("#banner:has-text('Programme saved')")
    page.reload()
    page.wait_for_selector("#f-voucher_collection_id .Picked-title:has-text('Briefs selection')")
    assert page.locator("#f-voucher_collection_id").get_attribute("data-value") == "1002"


def test_a_field_error_is_refused_naming_the_field_in_french(browser_page):
    page = browser_page
    open_editor(page, "fr")
    page.fill("#f-voucher_validity_days", "0")
    page.click("#save")
    page.wait_for_selector("#banner:has-text('voucher_validity_days')")
    assert "invalid" in page.locator("#f-voucher_validity_days").get_attribute("class")
    assert not page.locator("#confirm-dialog").is_visible()
    screenshot(page, "admin-editor-field-error-fr")
    assert page.locator("#version").inner_text() == "version 1"


def test_a_stale_save_shows_what_changed_and_offers_to_reload(browser_page, live_app):
    """Someone else saves while the page is open: the save is refused, the diff shown, nothing saved; the
    reload brings the version in force."""
    page = browser_page
    open_editor(page)
    change_programme(ChangeProgramme(DEMO_SHOP, {"voucher_validity_days": 45}), UnitOfWork(live_app.ctx))
    page.fill("#f-shop_name", "Maison Ada")
    page.click("#save")
    page.wait_for_selector("#stale:not([hidden])")
    row = page.locator("#stale-diff tbody tr")
    assert row.count() == 1 and row.locator("td").all_inner_texts() == ["voucher_validity_days", "30", "45"]
    assert "2" in page.locator("#stale-help").inner_text()
    screenshot(page, "admin-editor-stale")
    page.click("#stale-reload")
    page.wait_for_selector("#version:has-text('version 2')")
    assert page.locator("#f-voucher_validity_days").input_value() == "45"
    assert page.locator("#f-shop_name").input_value() == ""
    assert page.locator("#stale").is_hidden()


def test_warnings_are_confirmed_before_saving_in_french(browser_page):
    """A point worth 1000: the dialog names the warning; cancelled, nothing saved; confirmed, saved, and the
    warning stays shown beside the field."""
    page = browser_page
    open_editor(page, "fr")
    page.fill("#f-voucher_value_per_point", "1000")
    page.click("#save")
    page.wait_for_selector("#confirm-dialog[open] #confirm-warnings li:has-text('rend 100000.00 %')")
    assert page.locator("#confirm-risky").is_hidden()
    screenshot(page, "admin-editor-warning-fr")
    page.click("#confirm-cancel")
    assert page.locator("#version").inner_text() == "version 1"
    page.click("#save")
    page.click("#confirm-save")
    page.wait_for_selector("#version:has-text('version 2')")
    assert page.locator("#warnings [data-warning=conversion_gives_too_much]").count() == 1
    assert "warned" in page.locator("#f-voucher_value_per_point").get_attribute("class")


def test_a_risky_change_is_confirmed_with_the_simulation_one_click_away(browser_page, live_app):
    """Doubling the earn rate and removing a reward: listed in the dialog; the simulation replays the shop's
    orders (months, points issued now -> draft); cancelled, nothing saved."""
    when = (datetime.now(timezone.utc) - timedelta(days=20)).isoformat()
    live_app.send("orders/paid", order(lines=((100, 1),), email="ada@example.com", customer_id=9101,
                                       processed_at=when))
    live_app.process()
    page = browser_page
    open_editor(page)
    apply_template(page, "store-a", 2)
    page.fill("#f-earn_rate", "2")
    card(page, "ambassadrice").locator("button:has-text('Remove')").click()
    page.click("#save")
    page.wait_for_selector("#confirm-dialog[open]")
    risky = page.locator("#confirm-risky li").all_inner_texts()
    assert risky == ["Points per currency unit: 1 → 2", "Reward ambassadrice removed"]
    page.click("#confirm-simulate")
    page.wait_for_selector("#simulation-note:has-text('orders replayed')")
    issued = page.locator("#simulation-months tbody tr td:nth-child(2)").all_inner_texts()
    assert "100 → 200" in issued
    screenshot(page, "admin-editor-risky")
    page.click("#confirm-cancel")
    assert page.locator("#version").inner_text() == "version 2"
