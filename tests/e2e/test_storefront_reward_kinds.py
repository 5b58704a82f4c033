"""Rewards done the Shopify way, from the loyalty page to an order: a free shipping code, a percentage off, a
free item the customer picks from the selection (one unit of that variant free), and store B's vouchers on
the app's own full-price collection (made in Shopify, made again once deleted). An order using a code
(signed webhook) marks it used. Redemptions go to the Admin API emulator through the app's real client."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from loyalty.domain.programme import Reward
from loyalty.domain.settings.full_price import FullPrice
from tests.storefront_support import BEN, NOW, apply_template, earn, proxy  # noqa: F401

SELECTION = 5001
REWARDS = (
    Reward(key="livraison", kind="free_shipping", points=100, title="Free shipping"),
    Reward(key="quinze", kind="percentage", points=150, title="15 % off", percentage=Decimal("15")),
    Reward(key="article", kind="free_item", points=200, title="A free item", collection_id=SELECTION,
           customer_picks=True, amount=Decimal("40")),
)


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def available(proxy, customer) -> int:
    return proxy.get(customer, json=True).get_json()["customer"]["available"]


@pytest.fixture
def catalogue(emulator, shop):
    """A selection of two products: briefs (two sizes at 35.00), a jumper at 120.00 (above the reward's 40.00
    cap); socks outside the selection; a jacket on sale (compare-at price set)."""
    emulator.add_product(shop.domain, 601, "Briefs", [{"id": 6011, "title": "S", "price": "35.00"},
                                                      {"id": 6012, "title": "M", "price": "35.00"}])
    emulator.add_product(shop.domain, 602, "Jumper", [{"id": 6021, "price": "120.00"}])
    emulator.add_product(shop.domain, 603, "Socks", [{"id": 6031, "price": "9.00"}])
    emulator.add_product(shop.domain, 604, "Jacket", [{"id": 6041, "price": "80.00", "compare_at_price": "120.00"}])
    emulator.add_collection(shop.domain, SELECTION, [601, 602], title="Picks")
    return emulator


@pytest.fixture
def ben(send, process, ctx, shop, catalogue):
    """Store B with the three new rewards in its catalogue: 250 points available."""
    apply_template(ctx, shop, "store-b", rewards=REWARDS)
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    return BEN


def redeem(proxy, reward, **fields):
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    return proxy.post("/redeem", {"token": token, "reward": reward, **fields}, BEN)


def test_a_free_shipping_reward_gives_a_free_shipping_code(proxy, ben, emulator):
    """100 points -> a free shipping code for Ben only, shown at once; 150 points left."""
    html = redeem(proxy, "livraison").get_data(as_text=True)
    [code] = emulator.discount_codes(proxy.shop)
    assert code["kind"] == "free_shipping" and code["customer_ids"] == [BEN] and code["usage_limit"] == 1
    assert "Your free shipping code" in html and f'data-code="{code["code"]}"' in html
    assert available(proxy, BEN) == 150


def test_a_percentage_reward_gives_a_percentage_code(proxy, ben, emulator):
    """150 points -> 15 % off (Shopify's 0.15), with store B's voucher terms (100 EUR basket)."""
    html = redeem(proxy, "quinze").get_data(as_text=True)
    [code] = emulator.discount_codes(proxy.shop)
    assert code["percentage"] == 0.15 and code["amount"] is None and code["minimum_subtotal"] == "100.0"
    assert "Your 15 % voucher" in html and available(proxy, BEN) == 100


def test_the_page_lists_the_selection_within_the_rewards_cap(proxy, ben):
    """The picked free item lists the selection's variants from Shopify, those above its 40.00 cap left out."""
    html = proxy.get(BEN).get_data(as_text=True)
    assert 'name="variant"' in html
    assert 'value="6011"' in html and 'value="6012"' in html and "Briefs - M" in html
    assert 'value="6021"' not in html and 'value="6031"' not in html


def test_picking_a_free_item_makes_a_code_for_that_variant_worth_its_price(proxy, ben, emulator):
    """Ben picks the briefs in M: a code for variant 6012 only, worth 35.00 once per order (one unit free,
    the rest of the cart unchanged), no minimum basket; 200 points spent."""
    html = redeem(proxy, "article", variant="6012").get_data(as_text=True)
    [code] = emulator.discount_codes(proxy.shop)
    assert code["variant_ids"] == [6012] and code["collection_ids"] == [] and Decimal(code["amount"]) == 35
    assert code["minimum_subtotal"] is None and "Your free item" in html
    voucher = proxy.get(BEN, json=True).get_json()["customer"]["vouchers"][0]
    assert voucher["variant_id"] == 6012 and voucher["amount"] == "35.00"
    assert available(proxy, BEN) == 50


@pytest.mark.parametrize("variant, reason", [("6031", "not part of the selection"),
                                             ("6021", "costs more than this reward covers"),
                                             ("999999", "no such item"), ("", "choose the item")])
def test_an_item_outside_the_selection_or_above_the_cap_is_refused(proxy, ben, emulator, variant, reason):
    """Socks (not in the selection), the jumper (above the cap), an unknown variant, none: refused, nothing
    spent, no code."""
    answer = proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)),
                                    "reward": "article", "variant": variant}, BEN, json=True)
    assert answer.status_code == 422 and reason in answer.get_json()["result"]["error"]
    assert emulator.discount_codes(proxy.shop) == [] and available(proxy, BEN) == 250


def test_store_b_vouchers_use_the_apps_full_price_collection_when_asked(proxy, ctx, shop, send, process,
                                                                        catalogue):
    """full_price.automatic: the first conversion makes the smart collection (products with a variant at
    full price: briefs, jumper, socks; not the jacket on sale) and limits the code to it; the merchant
    deletes it, the next conversion makes it again."""
    apply_template(ctx, shop, "store-b", full_price=FullPrice(automatic=True))
    earn(send, process, ctx, BEN, "ben@example.com", 300, "2025-05-01T10:00:00+00:00")
    proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "100"}, BEN)
    [smart] = [c for c in catalogue.collections(shop.domain) if c["smart"]]
    assert smart["product_ids"] == [601, 602, 603] and smart["title"] == "Full price (loyalty vouchers)"
    [code] = catalogue.discount_codes(shop.domain)
    assert code["collection_ids"] == [smart["id"]] and code["minimum_subtotal"] == "100.0"

    catalogue.delete_collection(shop.domain, smart["id"])
    proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "100"}, BEN)
    [again] = [c for c in catalogue.collections(shop.domain) if c["smart"]]
    assert again["id"] != smart["id"]
    assert catalogue.discount_codes(shop.domain)[-1]["collection_ids"] == [again["id"]]


def test_store_b_keeps_its_placeholder_collection_unless_the_merchant_opts_in(proxy, ben, emulator):
    """The template unchanged: a conversion is limited to collection 2001, no collection is made."""
    proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "100"}, BEN)
    [code] = emulator.discount_codes(proxy.shop)
    assert code["collection_ids"] == [2001] and not any(c["smart"] for c in emulator.collections(proxy.shop))


def test_an_order_using_the_free_shipping_code_marks_it_used(proxy, ben, emulator, send, process, ctx):
    """orders/paid (signed webhook) naming the code: the voucher is used."""
    redeem(proxy, "livraison")
    [code] = emulator.discount_codes(proxy.shop)
    earn(send, process, ctx, BEN, "ben@example.com", 60, "2025-05-20T10:00:00+00:00",
         discount_codes=[{"code": code["code"], "amount": "6.00", "type": "shipping"}])
    [voucher] = proxy.get(BEN, json=True).get_json()["customer"]["vouchers"]
    assert voucher["status"] == "used"
