"""Referrals end to end: the referrer's code on the loyalty page, the friend's page and form through the
signed app proxy (a first-order code made in the emulator, emailed once), the friend's order through
signed webhooks, `loyalty mature` crediting the referrer once; the fraud rules' refusals listed for the
merchant (CLI and admin API)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from jobs.scheduled import mature_points
from tests.e2e.test_cli import cli_env, run  # noqa: F401 - `loyalty` run as a process
from tests.factories import order, refund
from tests.storefront_support import NOW, VERA, apply_template, earn, proxy  # noqa: F401

HOME = {"address1": "12 rue des Lilas", "address2": "", "zip": "75011", "city": "Paris", "country_code": "FR",
        "phone": "+33 6 12 34 56 78"}
ELSEWHERE = {"address1": "3 avenue Foch", "zip": "69006", "city": "Lyon", "country_code": "FR"}
AFTER_RETURNS = NOW + timedelta(days=20)


@pytest.fixture
def vera(send, process, ctx, shop, emulator):
    """Store A with referrals on (10 EUR off a first order from 30 EUR; 100 points to the referrer, at most 2
    a month); Vera has ordered once, shipped home."""
    apply_template(ctx, shop, "store-a", referrals={"enabled": True, "friend_value": "10",
                                                    "friend_minimum_subtotal": "30", "referrer_points": 100,
                                                    "cap_per_period": 2})
    earn(send, process, ctx, VERA, "vera@example.com", 80, "2025-05-01T10:00:00+00:00", shipping_address=HOME)
    return VERA


def code_of(proxy, customer) -> str:
    return proxy.get(customer, json=True).get_json()["customer"]["referral"]["code"]


def claim(proxy, code: str, email: str) -> dict:
    answer = proxy.post("/referral", {"ref": code, "email": email}, json=True)
    return answer.get_json()["result"]


def friend_order(send, process, email, customer_id, code, address, **changes):
    body = order(lines=((60, 1),), email=email, customer_id=customer_id, processed_at="2025-06-02T10:00:00+00:00")
    body.update(shipping_address=address, discount_codes=[{"code": code, "amount": "10.00", "type": "fixed_amount"}],
                **changes)
    send("orders/paid", body)
    process()
    return body


@pytest.fixture
def referrals_listed(run, shop):
    """`loyalty referrals list SHOP`, run as a process, its JSON lines read."""
    return lambda: [json.loads(line) for line in run("referrals", "list", shop.domain).stdout.splitlines()]


def emails(ctx, kind):
    from sqlalchemy import select

    from db.tables import notifications
    with ctx.engine.connect() as conn:
        return conn.execute(select(notifications.c.to_address, notifications.c.subject, notifications.c.body_text)
                            .where(notifications.c.kind == kind)).all()


def test_a_friend_referred_through_the_app_proxy_earns_the_referrer_once(proxy, vera, send, process, ctx, shop,
                                                                          emulator, summary, referrals_listed):
    code = code_of(proxy, VERA)
    page = proxy.client.get(proxy.url("/referral", extra=(("ref", code), ("format", "html")))).get_data(as_text=True)
    assert f'name="ref" value="{code}"' in page and 'name="email"' in page

    assert claim(proxy, code, "Fran@example.com") == {"sent": True}
    assert claim(proxy, code, "fran@example.com ") == {"sent": True}  # a replay makes nothing twice
    [made] = emulator.discount_codes(proxy.shop)
    assert made["customer_ids"] == [] and made["usage_limit"] == 1 and made["amount"] == "10.0"
    [(to, subject, text)] = emails(ctx, "referral_friend")
    assert to == "fran@example.com" and made["code"] in text and "30,00" in text

    friend_order(send, process, "fran@example.com", 401, made["code"], ELSEWHERE)
    [row] = referrals_listed()
    assert row["status"] == "attributed" and row["code"] == made["code"]

    before = summary("vera@example.com")["available"]
    mature_points(NOW + timedelta(days=10), ctx)  # within the friend's return window: nothing yet
    assert summary("vera@example.com")["available"] == before
    mature_points(AFTER_RETURNS, ctx)
    mature_points(AFTER_RETURNS, ctx)
    assert summary("vera@example.com")["available"] == before + 100
    assert [e for e in summary("vera@example.com")["entries"] if e["kind"] == "bonus"][0]["available"] == 100
    [row] = referrals_listed()
    assert row["status"] == "rewarded" and row["points"] == 100
    [(to, subject, _)] = emails(ctx, "referral_reward")
    assert to == "vera@example.com" and "100 points" in subject
    page = proxy.get(VERA, extra=(("format", "html"),)).get_data(as_text=True)
    assert "Points offerts" in page and f"/apps/loyalty/referral?ref={code}" in page


def test_the_friends_refunds_before_maturity_reduce_the_reward(proxy, vera, send, process, ctx, shop, emulator,
                                                              summary):
    assert claim(proxy, code_of(proxy, VERA), "fran@example.com") == {"sent": True}
    [made] = emulator.discount_codes(proxy.shop)
    body = friend_order(send, process, "fran@example.com", 401, made["code"], ELSEWHERE)
    send("refunds/create", refund(body, lines={0: (1, 30)}, created_at="2025-06-05T10:00:00+00:00"))
    process()
    before = summary("vera@example.com")["available"]
    mature_points(AFTER_RETURNS, ctx)
    assert summary("vera@example.com")["available"] == before + 50


@pytest.mark.parametrize("address, phone, rule", [
    (HOME, None, "same_shipping_address"), (ELSEWHERE, "06 12 34 56 78", "same_phone")])
def test_a_friend_shipping_to_the_referrer_is_refused_and_listed(proxy, vera, send, process, ctx, shop, emulator,
                                                                 summary, admin, referrals_listed, address, phone,
                                                                 rule):
    assert claim(proxy, code_of(proxy, VERA), "fran@example.com") == {"sent": True}
    [made] = emulator.discount_codes(proxy.shop)
    friend_order(send, process, "fran@example.com", 401, made["code"], address, phone=phone)
    before = summary("vera@example.com")["available"]
    mature_points(AFTER_RETURNS, ctx)
    assert summary("vera@example.com")["available"] == before
    [row] = referrals_listed()
    assert row["status"] == "refused" and row["rule"] == rule and row["reason"]
    listed = admin.get("/referrals?status=refused").get_json()["referrals"]
    assert [r["rule"] for r in listed] == [rule]


def test_self_referral_is_refused_on_the_page_and_listed(proxy, vera, ctx, shop, emulator, referrals_listed):
    code = code_of(proxy, VERA)
    assert claim(proxy, code, "Vera+friend@Example.com") == {"refused": True}
    assert claim(proxy, code, "vera@example.com") == {"refused": True}
    assert emulator.discount_codes(proxy.shop) == []
    assert {r["rule"] for r in referrals_listed()} == {"self_referral_email"}
    assert proxy.post("/referral", {"ref": "R1-0000", "email": "x@example.com"}, json=True).status_code == 422
