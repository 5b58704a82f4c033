"""VIP tiers on the loyalty page, through the signed app proxy: the customer's tier, its multiplier and what
the next tier needs; a reward exclusive to a higher tier shown locked ("For Gold members") instead of a redeem
button, and its redemption refused with a translated message, points untouched; a Gold member redeems it.
The `vip-tiers` template: Bronze from 100, Silver from 300 (x1.25), Gold from 750 (x1.5) spent; `gold-gift`
(500 points) is Gold's. The page's clock is pinned to 1 June 2025, while the inbox decides tiers on the real
clock: the window is made `lifetime` so that both count the same orders."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from db.tables import tier_members
from loyalty.domain.programme import template
from loyalty.domain.times import iso
from storefront import texts
from storefront.render import parse_iso
from tests.e2e.test_storefront_redeem import available, token_of
from tests.storefront_support import BEN, VERA, apply_template, earn, proxy  # noqa: F401


def vip_tiers(ctx, shop, language="en"):
    apply_template(ctx, shop, "vip-tiers", language=language,
                   tiers=replace(template("vip-tiers").tiers, window="lifetime"))


def kept_until(ctx):
    """When the only membership ends (retention counted from when the inbox decided it)."""
    with ctx.engine.connect() as conn:
        return iso(conn.execute(select(tier_members.c.until)).scalar_one())


def silver(send, process, ctx, shop, language="en"):
    """Vera: 400 spent in April (no tier yet: 400 points), 200 in May as Silver (x1.25: 250 points), all
    available by 1 June: 650 points, Silver, 150.00 more to spend for Gold."""
    vip_tiers(ctx, shop, language)
    earn(send, process, ctx, VERA, "vera@example.com", 400, "2025-04-01T10:00:00+00:00")
    earn(send, process, ctx, VERA, "vera@example.com", 200, "2025-05-01T10:00:00+00:00")


def test_the_page_shows_the_tier_its_multiplier_and_what_the_next_tier_needs(proxy, send, process, ctx, shop):
    silver(send, process, ctx, shop)
    customer = proxy.get(VERA, json=True).get_json()["customer"]
    assert customer["available"] == 650
    assert customer["tier"] == {
        "key": "silver", "name": "Silver", "multiplier": "1.25", "until": kept_until(ctx),
        "basis": "spent", "window": "lifetime", "figure": "600.00",
        "next": {"key": "gold", "name": "Gold", "threshold": "750.00", "remaining": "150.00"}}
    html = proxy.get(VERA).get_data(as_text=True)
    until = texts.date("en", parse_iso(customer["tier"]["until"]))
    assert f"You are a Silver member. Your orders earn 1.25x the points. Tier kept until {until}." in html
    assert "Spend €150.00 more to become a Gold member." in html


def test_a_reward_of_a_higher_tier_is_locked_and_its_redemption_refused(proxy, send, process, ctx, shop, emulator):
    """Vera (Silver) has the 500 points of Gold's reward: it is shown "For Gold members", without a form; a
    redemption sent anyway is refused with a clear message and costs nothing."""
    silver(send, process, ctx, shop)
    customer = proxy.get(VERA, json=True).get_json()["customer"]
    assert customer["locked_rewards"] == {"gold-gift": "Gold"}
    rewards = [(r["key"], r["affordable"], r["tier_required"]) for r in customer["rewards"]]
    assert rewards == [("gold-gift", True, "Gold")]
    html = proxy.get(VERA).get_data(as_text=True)
    assert '<small class="tier-locked">For Gold members</small>' in html
    assert 'name="reward" value="gold-gift"' not in html and "Use 500 points" not in html

    refused = proxy.post("/redeem", {"token": token_of(html), "reward": "gold-gift"}, VERA, json=True)
    assert refused.status_code == 422
    assert refused.get_json()["result"]["error"] == "error.tier_required"
    assert refused.get_json()["result"]["message"] == ("This reward is for Gold members: it was not redeemed and "
                                                       "your points are untouched.")
    assert available(proxy, VERA) == 650 and emulator.discount_codes(proxy.shop) == []


def test_in_french_the_tier_and_the_refusal_are_in_french(proxy, send, process, ctx, shop):
    silver(send, process, ctx, shop, language="fr")
    html = proxy.get(VERA).get_data(as_text=True)
    assert "Tu es membre Silver. Tes commandes te rapportent 1,25 fois plus de points." in html
    assert "Encore 150,00\u00a0€ d&#39;achats pour devenir membre Gold." in html
    assert '<small class="tier-locked">Réservé aux membres Gold</small>' in html
    refused = proxy.post("/redeem", {"token": token_of(html), "reward": "gold-gift"}, VERA).get_data(as_text=True)
    assert "Cette récompense est réservée aux membres Gold : elle n&#39;a pas été utilisée" in refused


def test_a_gold_member_redeems_the_gold_reward_and_is_at_the_top(proxy, send, process, ctx, shop, emulator):
    """Ben spent 800 in April: Gold at once, 800 points (earned before the tier); the reward has its form."""
    vip_tiers(ctx, shop)
    earn(send, process, ctx, BEN, "ben@example.com", 800, "2025-04-01T10:00:00+00:00")
    html = proxy.get(BEN).get_data(as_text=True)
    assert "You are a Gold member. Your orders earn 1.5x the points." in html
    assert "You have reached the top VIP tier." in html and "For Gold members" not in html
    made = proxy.post("/redeem", {"token": token_of(html), "reward": "gold-gift"}, BEN, json=True).get_json()
    assert made["result"]["voucher"]["status"] == "active" and made["result"]["voucher"]["amount"] == "30.00"
    assert available(proxy, BEN) == 300 and len(emulator.discount_codes(proxy.shop)) == 1


def test_anonymous_visitors_see_which_tier_a_reward_is_for(proxy, ctx, shop):
    vip_tiers(ctx, shop)
    html = proxy.get().get_data(as_text=True)
    assert '<small class="tier-locked">For Gold members</small>' in html and "VIP tier" not in html


def test_without_tiers_the_page_has_no_tier(proxy, send, process, ctx, shop):
    """Store B's programme has no tiers: no tier in the data, no tier on the page."""
    apply_template(ctx, shop, "store-b")
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    customer = proxy.get(BEN, json=True).get_json()["customer"]
    assert customer["tier"] is None and customer["locked_rewards"] == {}
    assert 'id="loyalty-tier"' not in proxy.get(BEN).get_data(as_text=True)
