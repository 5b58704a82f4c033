"""The UI extensions' API over real HTTP (the app served on a loopback port), with session tokens made as
Shopify makes them (HS256 with the app secret): store B's customer converts points from the account page and
at checkout, store A's sees perks and the next threshold, the thank-you page reads an order's points, the
POS reads a customer; another shop, an expired or foreign token, a preflight; a checkout code unused is
given back once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from db.tables import ledger_entries
from jobs.checkout_codes import give_back_checkout_codes
from tests.extensions_support import AT, app_url, ben, shopper, staff  # noqa: F401 - fixtures
from tests.storefront_support import BEN, NOW, VERA, apply_template, earn, proxy  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def served(app_url):  # noqa: F811
    """The extension API's base URL on the served app."""
    return f"{app_url}/extensions"


def test_store_b_customer_converts_points_from_the_account_page(served, shop, ben, emulator):
    page = requests.get(f"{served}/customer", headers=shopper(shop.domain, BEN))
    assert page.status_code == 200 and page.json()["customer"]["available"] == 250
    body = {"points": 150, "token": page.json()["token"]}
    answers = [requests.post(f"{served}/customer/redeem", json=body, headers=shopper(shop.domain, BEN))
               for _ in range(2)]  # the same form token twice: one voucher
    assert [a.status_code for a in answers] == [200, 200]
    voucher = answers[0].json()["result"]["voucher"]
    assert voucher["code"].startswith("LOY-") and voucher["amount"] == "15.00"
    assert answers[1].json()["result"]["voucher"]["code"] == voucher["code"]
    assert answers[1].json()["customer"]["available"] == 100 and answers[1].json()["token"] != body["token"]
    assert [c["code"] for c in emulator.discount_codes(shop.domain)] == [voucher["code"]]


def test_store_a_customer_sees_perks_and_the_next_threshold(served, shop, send, process, ctx):
    apply_template(ctx, shop, "store-a")
    earn(send, process, ctx, VERA, "vera@example.com", 120, "2025-04-01T10:00:00+00:00")
    answer = requests.get(f"{served}/customer", headers=shopper(shop.domain, VERA)).json()
    customer = answer["customer"]
    assert customer["perks"] and customer["standing"]["next_threshold"] > customer["ladder_points"]
    assert customer["standing"]["points_to_next"] == customer["standing"]["next_threshold"] - customer["ladder_points"]


def test_refusals_name_their_reason_in_the_shops_language(served, shop, ben):
    token = requests.get(f"{served}/customer", headers=shopper(shop.domain, BEN)).json()["token"]
    short = requests.post(f"{served}/customer/redeem", json={"points": 900, "token": token},
                          headers=shopper(shop.domain, BEN))
    assert short.status_code == 422 and short.json()["error"] == "not_enough_points"
    assert short.json()["message"] == "You do not have enough points for this yet."
    bad = requests.post(f"{served}/customer/redeem", json={"points": "lots"}, headers=shopper(shop.domain, BEN))
    assert bad.status_code == 400 and bad.json()["error"] == "bad_body"


@pytest.mark.parametrize("case", ["expired", "wrong audience", "wrong secret", "no bearer", "not logged in"])
def test_a_bad_token_or_nobody_logged_in_is_401(served, shop, ben, case):
    headers = {"expired": shopper(shop.domain, BEN, exp=AT - 60, nbf=AT - 400),
               "wrong audience": shopper(shop.domain, BEN, aud="another-app"),
               "wrong secret": shopper(shop.domain, BEN, secret="shpss_" + "f" * 32),
               "no bearer": {}, "not logged in": shopper(shop.domain, None)}[case]
    answer = requests.get(f"{served}/customer", headers=headers)
    assert answer.status_code == 401 and answer.json()["error"] in ("unauthorized", "sign_in")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_another_shops_token_is_404(served, ben):
    answer = requests.get(f"{served}/customer", headers=shopper("stranger.myshopify.com", BEN))
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


def test_cors_preflight_is_204_without_a_token(served):
    answer = requests.options(f"{served}/checkout/redeem", headers={
        "Origin": "https://extensions.shopifycdn.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert answer.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


def test_thank_you_page_reads_only_the_customers_own_order(served, shop, send, process, ctx, ben):
    body = earn(send, process, ctx, BEN, "ben@example.com", 80, "2025-05-30T10:00:00+00:00")
    mine = requests.get(f"{served}/orders/{body['id']}", headers=shopper(shop.domain, BEN)).json()
    assert mine["status"] == "pending" and mine["points"] > 0 and mine["pending_until"]
    assert mine["balance"]["available"] == 250
    assert requests.get(f"{served}/orders/{body['id']}", headers=shopper(shop.domain, VERA)).status_code == 404
    unknown = requests.get(f"{served}/orders/999999", headers=shopper(shop.domain, BEN)).json()
    assert unknown["status"] == "processing" and unknown["order"] is None


def test_pos_reads_a_known_customer_of_its_own_shop_only(served, shop, ben):
    answer = requests.get(f"{served}/pos/customers/{BEN}", headers=staff(shop.domain))
    assert answer.status_code == 200 and answer.json()["customer"]["available"] == 250
    assert requests.get(f"{served}/pos/customers/{VERA}", headers=staff(shop.domain)).status_code == 404
    assert requests.get(f"{served}/pos/customers/{BEN}",
                        headers=staff("stranger.myshopify.com")).status_code == 404
    assert requests.get(f"{served}/pos/customers/{BEN}", headers=shopper(shop.domain, BEN)).status_code == 401


def test_a_checkout_code_unused_is_given_back_once(served, shop, ctx, ben, emulator, factory):
    token = requests.get(f"{served}/customer", headers=shopper(shop.domain, BEN)).json()["token"]
    answer = requests.post(f"{served}/checkout/redeem", json={"points": 100, "token": token},
                           headers=shopper(shop.domain, BEN))
    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert result["checkout"] is True and result["expires_at"] == (NOW + timedelta(hours=3)).isoformat()
    assert give_back_checkout_codes(NOW + timedelta(hours=3, minutes=30), ctx, factory) == 0  # grace not over
    later = NOW + timedelta(hours=5)
    assert give_back_checkout_codes(later, ctx, factory) == 1
    assert give_back_checkout_codes(later, ctx, factory) == 0
    page = requests.get(f"{served}/customer", headers=shopper(shop.domain, BEN)).json()
    assert page["customer"]["available"] == 250
    [code] = emulator.discount_codes(shop.domain)
    assert code["code"] == result["voucher"]["code"] and code["status"] != "ACTIVE"
    with ctx.engine.connect() as conn:
        kinds = conn.execute(select(ledger_entries.c.kind).order_by(ledger_entries.c.id)).scalars().all()
    assert kinds.count("recredit") == 1


def test_a_checkout_code_used_by_an_order_is_never_given_back(served, shop, ctx, send, process, ben, factory):
    """orders/paid with the checkout code marks it used: past its end, nothing comes back."""
    token = requests.get(f"{served}/customer", headers=shopper(shop.domain, BEN)).json()["token"]
    code = requests.post(f"{served}/checkout/redeem", json={"points": 100, "token": token},
                         headers=shopper(shop.domain, BEN)).json()["result"]["voucher"]["code"]
    earn(send, process, ctx, BEN, "ben@example.com", 120, "2025-06-01T13:00:00+00:00",
         discount_codes=[{"code": code, "amount": "10.00", "type": "fixed_amount"}])
    assert give_back_checkout_codes(NOW + timedelta(hours=6), ctx, factory) == 0
    with ctx.engine.connect() as conn:
        kinds = conn.execute(select(ledger_entries.c.kind)).scalars().all()
    assert "recredit" not in kinds
    page = requests.get(f"{served}/customer", headers=shopper(shop.domain, BEN)).json()
    assert [v["status"] for v in page["customer"]["vouchers"]] == ["used"]
