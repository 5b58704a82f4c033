"""The admin's Emails page in a real headless Chromium against the running app: a merchant picks the perk
email in French, sees the built-in text and its variables, mistypes a variable (refused, named, the field
marked), previews the corrected text, sends a test (captured under var/mail/ in demo mode), saves, and
goes back to the built-in text. Screenshot: test-output/screenshots/admin-emails.png."""
from __future__ import annotations

import pytest

from tests.browser import DEMO_SHOP, screenshot

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
QUERY = f"?shop={DEMO_SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"


def test_emails_page_edits_previews_tests_and_saves_a_text(browser_page, live_app):
    page = browser_page
    page.goto("/admin/emails" + QUERY)
    page.wait_for_selector("#state:has-text('Built-in text')")
    page.select_option("#kind", "threshold_reached")
    page.select_option("#language", "fr")
    assert "{% for perk in perks %}" in page.locator("#body").input_value()
    assert "{{ perks }}" in page.locator("#variables").inner_text()

    page.fill("#subject", "Nouveaux avantages chez {{ shop_name }}")
    page.fill("#body", "Bravo !\n\n{% for perk in perks %}\n- {{ perk.titel }}\n{% endfor %}\n\n{{ lifetim|points }}")
    page.click("#save")
    page.wait_for_selector("#banner:has-text('unknown variable {{ lifetim }}')")
    assert "invalid" in page.locator("#body").get_attribute("class")

    page.fill("#body", "Bravo, {{ lifetime|points }} !\n\n{% for perk in perks %}\n- {{ perk.title }}\n{% endfor %}")
    page.click("#preview")
    page.wait_for_selector("#preview-subject:has-text('Nouveaux avantages chez demo')")
    frame = page.frame_locator("#preview-html")
    assert frame.locator("li").count() == 2
    assert "/apps/loyalty" in frame.locator("body").inner_text()
    screenshot(page, "admin-emails")

    page.fill("#test-to", "owner@demo.example")
    page.click("#send-test")
    page.wait_for_selector("#banner:has-text('Test email sent to owner@demo.example')")
    captured = list((live_app.ctx.config.var_dir / "mail" / DEMO_SHOP).glob("test-threshold_reached-fr.eml"))
    assert len(captured) == 1 and b"[TEST] Nouveaux avantages chez demo" in captured[0].read_bytes()

    page.click("#save")
    page.wait_for_selector("#banner:has-text('Saved')")
    assert page.locator("#state").inner_text() == "Your text"
    page.reload()
    page.wait_for_selector("#state:has-text('Built-in text')")  # the first kind, points available
    page.select_option("#kind", "threshold_reached")
    assert page.locator("#subject").input_value() == "Nouveaux avantages chez {{ shop_name }}"
    page.click("#reset")
    page.wait_for_selector("#banner:has-text('Back to the built-in text')")
    assert page.locator("#state").inner_text() == "Built-in text"
