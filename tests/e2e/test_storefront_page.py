"""The loyalty page through the app proxy: signature checks over HTTP, anonymous and logged-in views in
HTML (inside the theme, or standalone) and JSON, for store A's French ladder and store B's conversion."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.storefront_support import BEN, NOW, VERA, apply_template, earn, proxy  # noqa: F401


@pytest.fixture
def vera(send, process, ctx, shop):
    """Store A: 350 points available (May order), 40 pending until 8 June (order of 25 May)."""
    apply_template(ctx, shop, "store-a")
    earn(send, process, ctx, VERA, "vera@example.com", 350, "2025-05-01T10:00:00+00:00")
    earn(send, process, ctx, VERA, "vera@example.com", 40, "2025-05-25T10:00:00+00:00")
    return VERA


@pytest.fixture
def ben(send, process, ctx, shop):
    """Store B: 250 points available."""
    apply_template(ctx, shop, "store-b")
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    return BEN


def test_unsigned_forged_and_stale_requests_are_refused(proxy, vera):
    """No signature, a wrong secret, a signed URL replayed after 5 minutes: 401, and no balance leaks."""
    for response in (proxy.client.get(f"/proxy?shop={proxy.shop}&logged_in_customer_id={VERA}&timestamp=0"),
                     proxy.get(VERA, secret="not-the-app-secret"),
                     proxy.get(VERA, at=NOW - timedelta(minutes=6))):
        assert response.status_code == 401
        assert b"350" not in response.data
    assert proxy.get(VERA, at=NOW - timedelta(minutes=4)).status_code == 200


def test_another_customers_id_under_a_valid_signature_is_refused(proxy, vera):
    """The signature was made for an anonymous visitor; adding Vera's id to the URL does not log in."""
    url = proxy.url().replace("logged_in_customer_id=", f"logged_in_customer_id={VERA}")
    assert proxy.client.get(url).status_code == 401


def test_unknown_and_uninstalled_shops_get_404(proxy, ctx, vera):
    """A correctly signed request for a shop we do not serve (or no longer serve) finds nothing."""
    from loyalty.services.privacy import uninstall_shop

    assert proxy.get(VERA, shop="stranger.myshopify.com").status_code == 404
    with ctx.engine.begin() as conn:
        uninstall_shop(conn, proxy.shop, NOW)
    assert proxy.get(VERA).status_code == 404


def test_anonymous_visitors_see_the_programme_and_a_sign_in_link(proxy, vera):
    """Store A's ladder in French, inside the theme (application/liquid), no balance and no form."""
    response = proxy.get()
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "application/liquid"
    assert "Connecte-toi et profite pleinement de tous les avantages" in html
    assert 'href="/account/login?return_url=/apps/loyalty"' in html
    for threshold in (150, 300, 500, 1000):
        assert f"Dès {threshold} points" in html
    assert "Une surprise pour ton anniversaire" in html and "Programme ambassadrice" in html
    assert "Non, les points cumulés sont valables à vie." in html
    assert "<form" not in html and "Points disponibles" not in html
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_logged_in_customer_sees_points_dates_progress_perks_and_rewards(proxy, vera):
    """Store A, HTML: 350 available, 40 pending until 8 June, 150 points to the 500 level (pending points
    do not count on the ladder), the 150-point perks unlocked, the 300-point rewards redeemable, the
    500-point ones not yet."""
    html = proxy.get(VERA).get_data(as_text=True)
    assert '<strong>350</strong>Points disponibles' in html and '<strong>40</strong>Points en attente' in html
    assert "40 points disponibles le 8 juin 2025" in html
    assert "Encore 150 points pour atteindre le prochain palier (500 points)" in html
    # Each entry says its own state (issue 15: no card lit on lifetime points): the two 150-point perks
    # earned, the two 300-point rewards redeemable, the 500-point ones short of available points.
    assert '<progress max="500" value="350"' in html
    assert html.count('data-state="earned"') == 2 and html.count('<span class="badge earned">Débloqué</span>') == 2
    assert html.count('data-state="redeemable"') == 2 and html.count('data-state="short"') == 2
    assert html.count("Utiliser 300 points") == 2 and "Encore 150 points" in html
    assert 'action="/apps/loyalty/redeem"' in html and 'name="token"' in html
    assert "Commande #" in html and "+350" in html and "350 points disponibles (commande #" in html


def test_json_has_balances_pending_dates_history_standing_perks_and_rewards(proxy, vera):
    """`?format=json` (and Accept: application/json): the same data, for the theme's own scripts."""
    response = proxy.get(VERA, json=True)
    assert response.mimetype == "application/json"
    customer = response.get_json()["customer"]
    assert (customer["available"], customer["pending"], customer["lifetime"]) == (350, 40, 390)
    [lot] = customer["pending_points"]
    assert lot["points"] == 40 and lot["pending_until"].startswith("2025-06-08")
    assert customer["standing"] == {"tier": 300, "next_threshold": 500, "points_to_next": 150}
    assert customer["ladder_points"] == 350
    assert [p["key"] for p in customer["unlocked_perks"]] == ["anniversaire", "avant-premiere"]
    affordable = {r["key"]: r["affordable"] for r in customer["rewards"]}
    assert affordable == {"carte-cadeau-10": True, "don-association": True, "accessoire-upcycle": False,
                          "culotte-offerte": False}
    assert [e["kind"] for e in customer["history"]] == ["earn", "mature", "earn"]  # newest first
    assert customer["vouchers"] == []
    by_accept = proxy.client.get(proxy.url(customer=VERA), headers={"Accept": "application/json"})
    assert by_accept.get_json()["customer"]["available"] == 350


def test_store_b_speaks_english_and_offers_conversion(proxy, ben):
    """Store B: "Convert your points into a voucher", 100 points minimum, its FAQ from its settings."""
    html = proxy.get(BEN, extra=(("format", "html"),)).get_data(as_text=True)
    assert html.startswith("<!doctype html>") and '<html lang="en">' in html
    assert "Convert your points into a voucher" in html and "100 points = €10.00" in html
    assert 'name="points" min="100" max="250"' in html
    assert "valid for one year after your last purchase" in html
    assert "Vouchers can be used from a minimum of €100.00" in html
    assert "excluding discounted products" in html
    data = proxy.get(BEN, json=True).get_json()
    assert data["programme"]["conversion"]["minimum_points"] == 100
    assert data["customer"]["available"] == 250 and data["customer"]["rewards"] == []


def test_a_shop_never_shows_another_shops_customer(proxy, ctx, vera):
    """Vera's id signed for another installed shop: that shop knows no such customer, shows zero."""
    from datetime import datetime, timezone
    from loyalty.services.shops import install_shop
    from integrations.crypto import encrypt_token

    with ctx.engine.begin() as conn:
        install_shop(conn, "store-b.myshopify.com", encrypt_token(ctx.config.encryption_keys, "t"),
                     datetime(2024, 1, 1, tzinfo=timezone.utc))
    data = proxy.get(VERA, json=True, shop="store-b.myshopify.com").get_json()
    assert data["shop"] == "store-b.myshopify.com"
    assert (data["customer"]["available"], data["customer"]["history"]) == (0, [])


def test_everything_printed_is_escaped_for_html_and_for_liquid(proxy, ctx, shop, send, process):
    """A reward title and an order name carrying markup or Liquid are shown as text, never run; the
    Liquid-wrapped page, rendered by a Liquid engine, still shows them as text."""
    from liquid import Environment

    apply_template(ctx, shop, "store-a")
    from loyalty.domain.programme import Reward, template
    from loyalty.services.shops import get_shop, save_programme
    hostile = Reward(key="evil", kind="perk", points=10, title='<img src=x onerror=alert(1)>{{ shop.secret }}',
                     description="{% render 'x' %}</div>")
    with ctx.engine.begin() as conn:
        save_programme(conn, get_shop(conn, shop.domain), template("store-a").with_changes(
            rewards=[*template("store-a").rewards, hostile]), NOW)
    earn(send, process, ctx, VERA, "vera@example.com", 20, "2025-05-01T10:00:00+00:00",
         name="#1<script>alert(2)</script>")
    html = proxy.get(VERA).get_data(as_text=True)
    assert "<img src=x" not in html and "<script>" not in html and "{{ shop" not in html and "{% render" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;&#123;&#123; shop.secret &#125;&#125;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    rendered = Environment().from_string(html).render(shop={"secret": "LEAKED"})
    assert "LEAKED" not in rendered and "&#123;&#123; shop.secret &#125;&#125;" in rendered


def test_the_cli_prints_a_signed_url_the_app_accepts(app, vera, monkeypatch, tmp_path):
    """`loyalty storefront url SHOP --customer ID --format json` opens the page of a running app."""
    from urllib.parse import urlsplit

    from click.testing import CliRunner

    from cli.main import main
    from tests.conftest import SECRET, SHOP

    monkeypatch.setenv("SHOPIFY_API_SECRET", SECRET)
    monkeypatch.setenv("LOYALTY_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["storefront", "url", SHOP, "--customer", str(VERA),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    url = urlsplit(result.output.strip())
    answer = app.test_client().get(f"{url.path}?{url.query}")
    assert answer.status_code == 200 and answer.get_json()["customer"]["available"] == 350
