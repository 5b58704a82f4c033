"""Redeeming from the loyalty page: the code shows at once, a double click or a replayed request never
spends twice, refusals are explained in the shop's language; the birthday is given once. Redemptions go
to the Admin API emulator through the app's real client."""
from __future__ import annotations

import re
import threading

import pytest

from tests.storefront_support import BEN, NOW, VERA, apply_template, earn, proxy  # noqa: F401


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def available(proxy, customer) -> int:
    return proxy.get(customer, json=True).get_json()["customer"]["available"]


@pytest.fixture
def ben(send, process, ctx, shop):
    """Store B (conversion into vouchers, 100 points minimum, 0.10 per point): 250 points available."""
    apply_template(ctx, shop, "store-b")
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    return BEN


def test_converting_points_shows_the_code_at_once(proxy, ben, emulator):
    """150 points -> a €15.00 code, shown in the answer, made in Shopify for Ben only; 100 points left."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    html = proxy.post("/redeem", {"token": token, "points": "150"}, BEN).get_data(as_text=True)
    [code] = emulator.discount_codes(proxy.shop)
    assert code["customer_ids"] == [BEN]
    assert f'data-code="{code["code"]}"' in html and "Your €15.00 voucher" in html
    assert "valid until July 1, 2025 · on orders from €100.00" in html
    assert available(proxy, BEN) == 100


def test_a_double_click_or_a_replayed_request_spends_once(proxy, ben, emulator):
    """The same form submitted three times (and the same signed URL replayed): one voucher, one code,
    150 points spent once; the JSON answer names the same code each time."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    url = proxy.url("/redeem", customer=BEN, extra=(("format", "json"),))
    answers = [proxy.client.post(url, data={"token": token, "points": "150"}).get_json() for _ in range(3)]
    codes = {a["result"]["voucher"]["code"] for a in answers}
    assert len(codes) == 1 and len(emulator.discount_codes(proxy.shop)) == 1
    assert answers[-1]["customer"]["available"] == 100


def test_two_simultaneous_clicks_make_one_voucher(proxy, ben, emulator):
    """Two requests with the same token at the same moment: the UNIQUE request key lets one spend."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    url, barrier, codes = proxy.url("/redeem", customer=BEN, extra=(("format", "json"),)), threading.Barrier(2), []

    def click():
        client = proxy.client.application.test_client()
        barrier.wait()
        answer = client.post(url, data={"token": token, "points": "200"})
        codes.append((answer.status_code, (answer.get_json().get("result") or {}).get("voucher", {}).get("code")))
    threads = [threading.Thread(target=click) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    made = {code for _, code in codes if code}
    assert len(made) == 1 and len(emulator.discount_codes(proxy.shop)) == 1, codes
    assert available(proxy, BEN) == 50


def test_a_new_page_gives_a_new_voucher(proxy, ben, emulator):
    """After a redemption the page carries a fresh token: a second, deliberate conversion is its own."""
    first = proxy.post("/redeem", {"token": token_of(proxy.get(BEN).get_data(as_text=True)), "points": "100"}, BEN)
    proxy.post("/redeem", {"token": token_of(first.get_data(as_text=True)), "points": "100"}, BEN)
    assert len(emulator.discount_codes(proxy.shop)) == 2 and available(proxy, BEN) == 50


def test_not_enough_points_is_explained_and_spends_nothing(proxy, ben, emulator):
    """Asking 300 of 250 points: a clear message (HTML) and 422 with the reason (JSON); no code."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    html = proxy.post("/redeem", {"token": token, "points": "300"}, BEN).get_data(as_text=True)
    assert "You do not have enough points for this yet." in html
    answer = proxy.post("/redeem", {"token": token, "points": "300"}, BEN, json=True)
    assert answer.status_code == 422 and answer.get_json()["result"]["error"] == "error.not_enough"
    assert emulator.discount_codes(proxy.shop) == [] and available(proxy, BEN) == 250


def test_below_the_conversion_minimum_is_refused(proxy, ben, emulator):
    """Store B converts from 100 points: 50 is refused, nothing spent."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    answer = proxy.post("/redeem", {"token": token, "points": "50"}, BEN, json=True)
    assert answer.status_code == 422 and emulator.discount_codes(proxy.shop) == []
    assert available(proxy, BEN) == 250


def test_a_token_from_another_customer_or_none_cannot_redeem(proxy, ben, send, process, ctx, emulator):
    """Vera's page token submitted under Ben's session, a made-up token, or no login at all: refused."""
    earn(send, process, ctx, VERA, "vera@example.com", 300, "2025-05-01T10:00:00+00:00")
    veras_token = token_of(proxy.get(VERA).get_data(as_text=True))
    for token in (veras_token, "abc.123.def"):
        answer = proxy.post("/redeem", {"token": token, "points": "100"}, BEN, json=True)
        assert answer.status_code == 400 and answer.get_json()["result"]["error"] == "error.token"
    anonymous = proxy.post("/redeem", {"token": veras_token, "points": "100"}, None, json=True)
    assert anonymous.status_code == 401
    assert emulator.discount_codes(proxy.shop) == [] and available(proxy, BEN) == 250


def test_refusal_messages_are_escaped(proxy, ctx, shop, send, process):
    """A reward key crafted with markup comes back in the refusal as text."""
    apply_template(ctx, shop, "store-a")
    earn(send, process, ctx, VERA, "vera@example.com", 50, "2025-05-01T10:00:00+00:00")
    token = token_of(proxy.get(VERA).get_data(as_text=True))
    html = proxy.post("/redeem", {"token": token, "reward": "<script>alert(1)</script>"}, VERA).get_data(
        as_text=True)
    assert "<script>alert(1)" not in html and 'id="loyalty-error"' in html


def test_the_birthday_is_given_once(proxy, ctx, shop, send, process):
    """Store A has a birthday perk: day and month are recorded once; a second attempt is refused."""
    from loyalty.services.customers import find_customer

    apply_template(ctx, shop, "store-a")
    page = proxy.get(VERA).get_data(as_text=True)
    assert 'action="/apps/loyalty/birthday"' in page
    saved = proxy.post("/birthday", {"token": token_of(page), "day": "29", "month": "2"}, VERA)
    html = saved.get_data(as_text=True)
    assert "Ton anniversaire est enregistré." in html and "Ton anniversaire : le 29 février." in html
    again = proxy.post("/birthday", {"token": token_of(page), "day": "1", "month": "3"}, VERA, json=True)
    assert again.status_code == 422 and "already recorded" in again.get_json()["result"]["error"]
    assert proxy.post("/birthday", {"token": token_of(page), "day": "31", "month": "4"}, VERA,
                      json=True).get_json()["result"]["error"] == "error.birthday"
    with ctx.engine.connect() as conn:
        assert find_customer(conn, shop.id, str(VERA)).birthday.strftime("%m-%d") == "02-29"


@pytest.fixture
def vera(send, process, ctx, shop):
    """Store A (French ladder 150/300/500/1000): 350 points available."""
    apply_template(ctx, shop, "store-a")
    earn(send, process, ctx, VERA, "vera@example.com", 350, "2025-05-01T10:00:00+00:00")
    return VERA


def test_a_gift_card_reward_shows_its_code_once_however_often_clicked(proxy, vera, emulator):
    """Store A, "10 € en carte cadeau" (300 points): the gift card's code is on the answer; the form sent
    twice makes one card and spends 300 points once."""
    token = token_of(proxy.get(VERA).get_data(as_text=True))
    pages = [proxy.post("/redeem", {"token": token, "reward": "carte-cadeau-10"}, VERA).get_data(as_text=True)
             for _ in range(2)]
    [card] = emulator.gift_cards(proxy.shop)
    for html in pages:
        assert "Ta carte cadeau de 10,00\u00a0€" in html and f'data-code="{card["code"]}"' in html
    assert available(proxy, VERA) == 50


def test_a_donation_thanks_the_customer_and_makes_no_code(proxy, vera, emulator):
    """"Ou un don de 10 € à une association": recorded for the merchant; nothing to use at checkout."""
    token = token_of(proxy.get(VERA).get_data(as_text=True))
    html = proxy.post("/redeem", {"token": token, "reward": "don-association"}, VERA).get_data(as_text=True)
    assert "Merci ! Ton don de 10,00\u00a0€ à Association partenaire est enregistré." in html
    assert emulator.discount_codes(proxy.shop) == [] and emulator.gift_cards(proxy.shop) == []
    vouchers = proxy.get(VERA, json=True).get_json()["customer"]["vouchers"]
    assert [(v["kind"], v["code"]) for v in vouchers] == [("donation", None)]
    assert available(proxy, VERA) == 50


def test_a_reward_beyond_the_balance_or_a_perk_is_refused_in_french(proxy, vera, emulator):
    """500-point free item with 350 points: explained in French; a perk is never bought; nothing spent."""
    token = token_of(proxy.get(VERA).get_data(as_text=True))
    html = proxy.post("/redeem", {"token": token, "reward": "accessoire-upcycle"}, VERA).get_data(as_text=True)
    assert "Tu n&#39;as pas encore assez de points pour cette récompense." in html  # ' escaped
    perk = proxy.post("/redeem", {"token": token, "reward": "anniversaire"}, VERA, json=True)
    assert perk.status_code == 422
    assert emulator.discount_codes(proxy.shop) == [] and available(proxy, VERA) == 350


def test_when_shopify_does_not_answer_the_same_token_finishes_the_voucher(proxy, app, ben, emulator):
    """Shopify unreachable during the request: the points are held, the page says the code is on its way
    and offers the same form again; sent once Shopify answers, it makes the one code, spent once."""
    import requests

    from integrations.shopify.client import AdminClient
    from tools.wsgi_adapter import wsgi_session

    session, down = wsgi_session(emulator.app), [True]
    reach = session.send

    def send(request, **kw):
        if down[0]:
            raise requests.ConnectionError("shopify unreachable")
        return reach(request, **kw)
    session.send = send
    app.config["LOYALTY_CLIENT_FACTORY"] = lambda ctx, shop_, conn: AdminClient(
        shop_.domain, "shpat_store_a", session=session, admin_url_template="http://shopify.test/{shop}",
        sleep=lambda s: None, max_attempts=2)
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    waiting = proxy.post("/redeem", {"token": token, "points": "150"}, BEN).get_data(as_text=True)
    assert "Your code is being created; try again in a moment." in waiting and "Try again" in waiting
    assert token_of(waiting) == token and emulator.discount_codes(proxy.shop) == []
    assert available(proxy, BEN) == 100
    down[0] = False
    done = proxy.post("/redeem", {"token": token_of(waiting), "points": "150"}, BEN).get_data(as_text=True)
    [code] = emulator.discount_codes(proxy.shop)
    assert f'data-code="{code["code"]}"' in done and available(proxy, BEN) == 100
