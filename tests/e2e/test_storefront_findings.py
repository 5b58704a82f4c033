"""Issue 15's findings about the app-proxy page, each a test named after it: states that cannot be misread
(a perk earned on lifetime points, a reward paid with available points), store B's terms where the customer
decides, the expiry date, the copy button, post/redirect/get, the branding, and the shop's /apps/loyalty
served on the app host in demo mode only. Through signed proxy requests, redemptions on the emulator."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.e2e.test_storefront_page import ben  # noqa: F401 - store B, 250 points from a purchase on 1 May 2025
from tests.storefront_support import BEN, NOW, VERA, apply_template, earn, proxy  # noqa: F401


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def entry(html: str, key: str) -> str:
    """The HTML of one ladder entry (`data-reward="KEY"`), up to the next one, entities decoded."""
    from html import unescape

    start = html.index(f'data-reward="{key}"')
    following = html.find('data-reward="', start + 1)
    return unescape(html[start:following if following > 0 else len(html)])


@pytest.fixture
def vera_referrer(send, process, ctx, shop):
    """Store A with referrals on; Vera has ordered once."""
    apply_template(ctx, shop, "store-a", referrals={"enabled": True, "friend_value": "10", "referrer_points": 100})
    earn(send, process, ctx, VERA, "vera@example.com", 80, "2025-05-01T10:00:00+00:00")
    return VERA


@pytest.fixture
def vera_220_of_520(send, process, ctx, shop, proxy):
    """Store A: Vera earned 520 points (all available), then spent 300 on the gift card: 220 available,
    520 confirmed lifetime points (the issue's example)."""
    apply_template(ctx, shop, "store-a")
    earn(send, process, ctx, VERA, "vera@example.com", 520, "2025-05-01T10:00:00+00:00")
    proxy.post("/redeem", {"token": token_of(proxy.get(VERA).get_data(as_text=True)), "reward": "carte-cadeau-10"},
               VERA)
    return VERA


def test_a_reward_card_is_judged_on_available_points_not_lifetime(proxy, vera_220_of_520):
    """220 available, 520 lifetime: the 500-point rewards are `short` of 280 available points, said in
    words (no green card, no disabled button); the 150-point perks are `earned` on lifetime points, the
    1000-point perk `ahead`; nothing at 500 lights up."""
    customer = proxy.get(VERA, json=True).get_json()["customer"]
    assert (customer["available"], customer["lifetime"]) == (220, 520)
    rewards = {r["key"]: (r["state"], r["missing"]) for r in customer["rewards"]}
    assert rewards == {"carte-cadeau-10": ("short", 80), "don-association": ("short", 80),
                       "accessoire-upcycle": ("short", 280), "culotte-offerte": ("short", 280)}
    perks = {p["key"]: (p["state"], p["points_to_go"]) for p in customer["perks"]}
    assert perks == {"anniversaire": ("earned", 0), "avant-premiere": ("earned", 0), "ambassadrice": ("ahead", 480)}
    html = proxy.get(VERA).get_data(as_text=True)
    culotte = entry(html, "culotte-offerte")
    assert 'data-state="short"' in culotte and "Encore 280 points disponibles pour l'utiliser" in culotte
    assert "<button type=\"button\" disabled" not in html and "<button" not in culotte and "badge" not in culotte
    assert 'data-state="earned"' in entry(html, "avant-premiere")
    assert "Encore 480 points cumulés pour le débloquer" in entry(html, "ambassadrice")
    assert "ils ne sont jamais dépensés" in html  # the page says which points count for what


def test_reward_buttons_appear_only_for_rewards_affordable_with_available_points(proxy, vera_220_of_520, send,
                                                                                  process, ctx):
    """A redeem button is shown exactly for the `redeemable` rewards: none at 220 available; both
    300-point ones once 100 more points are available."""
    html = proxy.get(VERA).get_data(as_text=True)
    assert 'name="reward"' not in html
    earn(send, process, ctx, VERA, "vera@example.com", 100, "2025-05-02T10:00:00+00:00", id=9_002)
    html = proxy.get(VERA).get_data(as_text=True)
    assert re.findall(r'name="reward" value="([^"]+)"', html) == ["carte-cadeau-10", "don-association"]


def test_the_convert_box_states_the_seed_terms_where_the_customer_decides(proxy, ben):
    """Store B's terms (../shared/seeds/store-b-loyalty-en.txt) are in the conversion box itself, not in
    a collapsed FAQ item: €100.00 minimum basket, full-price items only, one month (30 days), one code per
    order, points lost when the voucher is not used; the JSON carries them as contract A's `terms`."""
    html = proxy.get(BEN).get_data(as_text=True)
    box = html[html.index('<section class="convert"'):html.index("</section>")]
    for term in ("Valid for 30 days", "On orders from €100.00", "Full-price items only",
                 "One code per order", "the voucher expires and its points are lost"):
        assert term in box, term
    assert "<details" not in box
    terms = proxy.get(BEN, json=True).get_json()["programme"]["conversion"]["terms"]
    assert terms == {"validity_days": 30, "minimum_subtotal": "100.00", "full_price_only": True,
                     "one_per_order": True, "points_lost_if_unused": True, "combines_with_discounts": False}


def test_the_convert_box_is_not_prefilled_with_the_whole_balance(proxy, ben):
    """The points field is empty (a placeholder shows the minimum); the range and the balance's worth are
    said beside it."""
    html = proxy.get(BEN).get_data(as_text=True)
    field = re.search(r'<input id="loyalty-points"[^>]*>', html, re.S).group(0)
    assert "value=" not in field and 'placeholder="100"' in field and 'max="250"' in field
    assert "From 100 to 250 points (your 250 points are worth €25.00)." in html


def test_the_page_says_when_points_expire(proxy, ben):
    """Store B's points expire 12 months after the last purchase (1 May 2025): the page says the date and
    how many points; store A's never expire, and says so."""
    html = proxy.get(BEN).get_data(as_text=True)
    assert "Your 250 available points expire on May 1, 2026 unless you make a purchase before then" in html


def test_the_json_has_the_expiry(proxy, ben, ctx, shop):
    """Contract A's `customer.expiry`: policy, date, points."""
    assert proxy.get(BEN, json=True).get_json()["customer"]["expiry"] == {
        "policy": "after_last_purchase", "date": "2026-05-01", "points": 250}
    apply_template(ctx, shop, "store-a")
    assert proxy.get(BEN, json=True).get_json()["customer"]["expiry"] == {"policy": "never", "date": None,
                                                                          "points": 0}
    assert "Tes points n&#39;expirent jamais." in proxy.get(BEN).get_data(as_text=True)


def test_a_code_has_a_copy_button_and_stays_selectable_text(proxy, ben, emulator):
    """The code made is plain, selectable text (works without JavaScript) with a copy button the page's
    script reveals; the vouchers list has one per active code."""
    html = proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "150"},
                      BEN).get_data(as_text=True)
    [made] = emulator.discount_codes(proxy.shop)
    code = made["code"]
    assert f'<p class="code" data-code="{code}" id="loyalty-code">{code}</p>' in html
    assert html.count(f'class="copy secondary" data-copy="{code}"') == 2  # the result, and the vouchers list
    assert "navigator.clipboard.writeText" in html


def test_after_redeeming_a_refresh_never_reposts_the_form(proxy, ben, emulator):
    """The form is answered 303 to the page with a signed notice; the page it leads to shows the code, and
    loading it again (a refresh) spends nothing more; the same form posted again still makes nothing new
    (its token)."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    posted = proxy.post("/redeem", {"token": token, "points": "150"}, BEN, follow=False)
    assert posted.status_code == 303
    location = urlsplit(posted.headers["Location"])
    assert location.path == "/apps/loyalty" and "notice" in dict(parse_qsl(location.query))
    first, refresh = proxy.follow(posted, BEN), proxy.follow(posted, BEN)
    [made] = emulator.discount_codes(proxy.shop)
    for page in (first, refresh):
        assert page.status_code == 200 and f'data-code="{made["code"]}"' in page.get_data(as_text=True)
    again = proxy.post("/redeem", {"token": token, "points": "150"}, BEN)
    assert f'data-code="{made["code"]}"' in again.get_data(as_text=True)
    assert len(emulator.discount_codes(proxy.shop)) == 1
    assert proxy.get(BEN, json=True).get_json()["customer"]["available"] == 100


def test_the_notice_after_a_form_is_shown_only_to_its_customer_and_briefly(proxy, ben, send, process, ctx):
    """Another customer's page shows nothing of it; after STOREFRONT_NOTICE_TTL_SECONDS it shows nothing."""
    from loyalty.defaults import STOREFRONT_NOTICE_TTL_SECONDS

    earn(send, process, ctx, VERA, "vera@example.com", 120, "2025-05-01T10:00:00+00:00", id=9_003)
    posted = proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "150"},
                        BEN, follow=False)
    assert 'id="loyalty-result"' in proxy.follow(posted, BEN).get_data(as_text=True)
    assert 'id="loyalty-result"' not in proxy.follow(posted, VERA).get_data(as_text=True)
    proxy.client.application.config["LOYALTY_CLOCK"] = lambda: NOW + timedelta(
        seconds=STOREFRONT_NOTICE_TTL_SECONDS + 1)
    later = proxy.follow(posted, BEN, at=NOW + timedelta(seconds=STOREFRONT_NOTICE_TTL_SECONDS + 1))
    assert later.status_code == 200 and 'id="loyalty-result"' not in later.get_data(as_text=True)


def test_a_refused_form_is_explained_after_the_redirect(proxy, ben):
    """Asking 300 of 250 points: 303, then the page says why, in the shop's language."""
    posted = proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "300"},
                        BEN, follow=False)
    assert posted.status_code == 303
    assert 'id="loyalty-error"' in proxy.follow(posted, BEN).get_data(as_text=True)


def test_the_standalone_page_stays_standalone_after_its_form(proxy, ben):
    """A form of `?format=html` posts to `.../redeem?format=html` and comes back to a standalone page."""
    html = proxy.get(BEN, extra=(("format", "html"),)).get_data(as_text=True)
    assert 'action="/apps/loyalty/redeem?format=html"' in html
    posted = proxy.client.post(proxy.url("/redeem", customer=BEN, extra=(("format", "html"),)),
                               data={"token": token_of(html), "points": "100"})
    assert posted.status_code == 303 and "format=html" in posted.headers["Location"]
    page = proxy.follow(posted, BEN)
    assert page.mimetype == "text/html" and page.get_data(as_text=True).startswith("<!doctype html>")


def test_the_page_is_branded_from_the_programme(proxy, ben, ctx, shop):
    """`branding` colours, logo and name show on the page (inside the theme and standalone) and in the JSON;
    the defaults are today's look."""
    assert proxy.get(BEN, json=True).get_json()["branding"] == {
        "primary_color": "#1F1F1F", "accent_color": "#1E7A46", "logo_url": None, "programme_name": None}
    apply_template(ctx, shop, "store-b", branding={"primary_color": "#0b3d91", "accent_color": "#006B3C",
                                                   "logo_url": "https://cdn.example.com/club.png",
                                                   "programme_name": "The Club", "convert_title": "Turn points into savings"})
    assert proxy.get(BEN, json=True).get_json()["branding"] == {
        "primary_color": "#0B3D91", "accent_color": "#006B3C", "logo_url": "https://cdn.example.com/club.png",
        "programme_name": "The Club"}
    for html in (proxy.get(BEN).get_data(as_text=True),
                 proxy.get(BEN, extra=(("format", "html"),)).get_data(as_text=True)):
        assert "--lp:#0B3D91;--la:#006B3C" in html and '<img src="https://cdn.example.com/club.png"' in html
        assert "<h1>The Club</h1>" in html and "Turn points into savings" in html


def test_the_shops_apps_loyalty_path_is_served_on_the_app_host_in_demo_mode(live_app):
    """Demo mode: the page `loyalty storefront url` opens (a signed /proxy URL) remembers its shopper, and the
    shop's /apps/loyalty/... is then answered as Shopify's proxy would forward it, signed."""
    from tests.e2e.test_storefront_browser import signed_path

    client = live_app.client
    assert client.get("/apps/loyalty?format=json").get_json()["customer"] is None  # nobody yet
    assert client.get(signed_path(live_app.secret, 7101)).status_code == 200
    answer = client.get("/apps/loyalty?format=json&logged_in_customer_id=1&shop=evil.myshopify.com")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["shop"] == "demo.myshopify.com" and body["customer"]["shopify_customer_id"] == 7101


def test_the_apps_loyalty_path_does_not_exist_in_production(proxy, ben):
    """Without demo mode (production), the app host has no /apps/loyalty: 404, and no cookie is set."""
    assert proxy.client.get("/apps/loyalty").status_code == 404
    assert proxy.client.post("/apps/loyalty/redeem", data={"points": "100"}).status_code == 404
    assert "Set-Cookie" not in proxy.get(BEN).headers


def test_a_referred_friends_form_is_answered_by_a_redirect_too(proxy, vera_referrer, emulator):
    """The friend's email form: 303 to the referral page with the outcome; the page it leads to says the
    code is sent, and loading it again makes and sends nothing more (one code in Shopify)."""
    code = proxy.get(VERA, json=True).get_json()["customer"]["referral"]["code"]
    posted = proxy.post("/referral", {"ref": code, "email": "friend@example.com"}, follow=False)
    location = urlsplit(posted.headers["Location"])
    assert posted.status_code == 303 and location.path == "/apps/loyalty/referral"
    assert dict(parse_qsl(location.query))["ref"] == code
    for _ in range(2):  # the page, and a refresh of it
        html = proxy.follow(posted).get_data(as_text=True)
        assert "C&#39;est envoyé : ton code t&#39;attend dans ta boîte mail." in html
    assert len(emulator.discount_codes(proxy.shop)) == 1
