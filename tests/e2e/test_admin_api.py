"""The merchant admin's JSON API: programme editor, customer search and record, manual adjustments
(required reason, staff recorded, once per submission, floor policy), vouchers with cancel-and-re-credit,
failed jobs with retry. Every answer is checked against admin/openapi.json by the `admin` fixture."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import responses
from sqlalchemy import select

from db.inbox import insert_webhooks
from db.tables import ledger_entries, webhook_inbox
from tests import redemptions as voucher_jobs
from jobs.scheduled import mature_points
from loyalty.services.customers import resolve_customer
from tests.factories import order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the suite's short secret
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def shoppers(send, process, ctx):
    """Three customers of store A with points: ada (pending), bob (matured), and a guest with an email."""
    send("orders/paid", order(lines=((120, 1),), email="ada@example.com", customer_id=701,
                              processed_at="2025-05-30T10:00:00+00:00"))
    send("orders/paid", order(lines=((80, 1),), email="bob@example.com", customer_id=702,
                              processed_at="2025-04-01T10:00:00+00:00"))
    send("orders/paid", order(lines=((30, 1),), email="guest@example.com", processed_at="2025-04-02T10:00:00+00:00"))
    process()
    mature_points(NOW, ctx)
    return {"ada": 701, "bob": 702}


def customer_id(admin, query: str) -> int:
    [found] = admin.get(f"/customers?q={query}").get_json()["customers"]
    return found["id"]


# -- programme ---------------------------------------------------------------------------------------

def test_programme_is_read_and_replaced_as_a_new_version(admin):
    """PUT stores the whole programme as a new version; GET shows it."""
    current = admin.get("/programme").get_json()
    assert current["version"] == 1 and set(current["templates"]) == {"store-a", "store-b", "vip-tiers"}
    changed = {**current["programme"], "pending_days": 7, "earn_rate": "2"}
    saved = admin.put("/programme", changed).get_json()
    assert saved["version"] == 2
    again = admin.get("/programme").get_json()
    assert again["programme"]["pending_days"] == 7 and again["programme"]["earn_rate"] == "2"


def test_an_invalid_reward_is_refused_naming_the_field_and_nothing_is_saved(admin):
    """A voucher reward without an amount: 422 naming rewards[1].amount; the version does not move."""
    programme = admin.get("/programme").get_json()["programme"]
    programme["pending_days"] = 3
    programme["rewards"] = [{"key": "ok", "kind": "perk", "points": 100, "title": "Fine"},
                            {"key": "bad", "kind": "voucher", "points": 200, "title": "No amount"}]
    answer = admin.put("/programme", programme)
    assert answer.status_code == 422
    assert answer.get_json()["field"] == "rewards[1].amount"
    after = admin.get("/programme").get_json()
    assert after["version"] == 1 and after["programme"]["pending_days"] == 14


def test_a_wrong_setting_type_names_the_setting(admin):
    """Text where a number belongs is refused with the setting's name."""
    programme = {**admin.get("/programme").get_json()["programme"], "pending_days": "two weeks"}
    answer = admin.put("/programme", programme)
    assert (answer.status_code, answer.get_json()["field"]) == (422, "pending_days")


def test_programme_settings_change_by_dotted_path(admin):
    """PATCH changes a reward by its key, adds one and removes one: a new version, the rest untouched."""
    admin.post("/programme/template", {"template": "store-a"})
    changed = admin.patch("/programme", {"changes": {
        "rewards.carte-cadeau-10.points": 350, "rewards.ambassadrice": None,
        "rewards.bon-5": {"kind": "voucher", "points": 60, "title": "5 EUR", "amount": "5"}}, "version": 2})
    assert changed.status_code == 200 and changed.get_json()["version"] == 3
    rewards = {r["key"]: r for r in changed.get_json()["programme"]["rewards"]}
    assert rewards["carte-cadeau-10"]["points"] == 350 and "ambassadrice" not in rewards
    assert rewards["bon-5"]["amount"] == "5" and rewards["accessoire-upcycle"]["points"] == 500


def test_a_dotted_change_from_an_old_version_is_refused_and_a_bad_one_names_the_path(admin):
    """409 when another version was saved since the change was made from; 422 naming the path; 400 without
    changes. Nothing is saved by any of them."""
    admin.post("/programme/template", {"template": "store-a"})
    stale = admin.patch("/programme", {"changes": {"pending_days": 3}, "version": 1})
    assert (stale.status_code, stale.get_json()["field"]) == (409, "version")
    bad = admin.patch("/programme", {"changes": {"rewards.carte-cadeau-10.amount": "-1"}})
    assert (bad.status_code, bad.get_json()["field"]) == (422, "rewards[2].amount")
    unknown = admin.patch("/programme", {"changes": {"rewards.nope.points": 3}})
    assert (unknown.status_code, unknown.get_json()["field"]) == (422, "rewards.nope")
    assert admin.patch("/programme", {"changes": {}}).status_code == 400
    assert admin.get("/programme").get_json()["version"] == 2


def test_applying_a_template_replaces_the_programme(admin):
    """store-a brings its seven rewards and French messages; an unknown template is refused."""
    applied = admin.post("/programme/template", {"template": "store-a"}).get_json()
    assert applied["version"] == 2 and applied["programme"]["language"] == "fr"
    assert len(applied["programme"]["rewards"]) == 7
    refused = admin.post("/programme/template", {"template": "store-z"})
    assert (refused.status_code, refused.get_json()["field"]) == (422, "template")


# -- customers -----------------------------------------------------------------------------------------

def test_customers_are_found_by_email_prefix_and_shopify_id_with_balances(admin, shoppers):
    """'ad' finds ada (pending points), 702 finds bob (available), a gid works, '%' matches nothing."""
    [ada] = admin.get("/customers?q=ad").get_json()["customers"]
    assert (ada["email"], ada["pending"], ada["available"]) == ("ada@example.com", 120, 0)
    [bob] = admin.get("/customers?q=702").get_json()["customers"]
    assert (bob["email"], bob["available"]) == ("bob@example.com", 80)
    assert admin.get("/customers?q=gid://shopify/Customer/702").get_json()["customers"][0]["id"] == bob["id"]
    assert admin.get("/customers?q=%25").get_json()["customers"] == []
    assert len(admin.get("/customers").get_json()["customers"]) == 3


def test_customer_search_is_paginated(admin, ctx, shop):
    """27 customers: a page of 25 that says there is more, then the last 2."""
    with ctx.engine.begin() as conn:
        for n in range(27):
            resolve_customer(conn, shop.id, None, f"c{n:02d}@example.com", NOW)
    first = admin.get("/customers?q=c").get_json()
    assert len(first["customers"]) == 25 and first["has_more"]
    second = admin.get("/customers?q=c&page=2").get_json()
    assert [c["email"] for c in second["customers"]] == ["c25@example.com", "c26@example.com"]
    assert not second["has_more"]


def test_customer_record_has_pending_dates_and_full_history(admin, shoppers):
    """ada's points are pending until 14 days after her order; the history says why."""
    detail = admin.get(f"/customers/{customer_id(admin, 'ada')}").get_json()
    assert (detail["pending"], detail["available"]) == (120, 0)
    [lot] = detail["pending_lots"]
    assert lot["points"] == 120 and lot["pending_until"].startswith("2025-06-13")
    [earn] = detail["entries"]
    assert earn["kind"] == "earn" and earn["pending_until"].startswith("2025-06-13") and earn["reason"]


def test_an_unknown_customer_is_404(admin):
    assert admin.get("/customers/999999").status_code == 404


# -- adjustments ---------------------------------------------------------------------------------------

def test_adjustment_books_once_with_reason_and_staff(admin, shoppers, ctx):
    """+50 'goodwill' twice with one client token: one entry, kind adjust, actor = the token's sub."""
    bob = customer_id(admin, "bob")
    body = {"points": 50, "reason": "goodwill: late parcel", "client_token": "form-0001"}
    first = admin.post(f"/customers/{bob}/adjustments", body).get_json()
    second = admin.post(f"/customers/{bob}/adjustments", body).get_json()
    assert first["adjustment"]["id"] == second["adjustment"]["id"]
    assert first["available"] == second["available"] == 130
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(ledger_entries).where(ledger_entries.c.kind == "adjust")).all()
    assert [(r.available, r.reason, r.actor) for r in rows] == [(50, "goodwill: late parcel", "42")]
    [audit] = admin.get("/adjustments").get_json()["adjustments"]
    assert (audit["actor"], audit["points"], audit["email"]) == ("42", 50, "bob@example.com")
    assert audit["created_at"]
    history = admin.get(f"/customers/{bob}").get_json()["entries"]
    assert history[0]["kind"] == "adjust" and history[0]["actor"] == "42"  # newest first


def test_a_client_token_reused_for_another_adjustment_is_refused(admin, shoppers):
    bob = customer_id(admin, "bob")
    admin.post(f"/customers/{bob}/adjustments", {"points": 5, "reason": "r", "client_token": "form-0002"})
    answer = admin.post(f"/customers/{bob}/adjustments", {"points": 6, "reason": "r", "client_token": "form-0002"})
    assert (answer.status_code, answer.get_json()["field"]) == (422, "client_token")


@pytest.mark.parametrize("body, field", [
    ({"points": 10, "reason": "  ", "client_token": "form-0003"}, "reason"),
    ({"points": 10, "client_token": "form-0003"}, "reason"),
    ({"points": 0, "reason": "r", "client_token": "form-0003"}, "points"),
    ({"points": 1.5, "reason": "r", "client_token": "form-0003"}, "points"),
    ({"points": 10, "reason": "r"}, "client_token"),
])
def test_an_adjustment_needs_points_a_reason_and_a_client_token(admin, shoppers, body, field):
    bob = customer_id(admin, "bob")
    answer = admin.post(f"/customers/{bob}/adjustments", body)
    assert (answer.status_code, answer.get_json()["field"]) == (422, field)


def test_floor_policy_refuses_an_adjustment_below_zero(admin, shoppers):
    """Under negative_balance=floor, taking 81 of bob's 80 is refused with a clear message; 80 is fine."""
    programme = {**admin.get("/programme").get_json()["programme"], "negative_balance": "floor"}
    admin.put("/programme", programme)
    bob = customer_id(admin, "bob")
    refused = admin.post(f"/customers/{bob}/adjustments", {"points": -81, "reason": "typo", "client_token": "form-0004"})
    assert refused.status_code == 422 and "negative" in refused.get_json()["error"]
    taken = admin.post(f"/customers/{bob}/adjustments", {"points": -80, "reason": "fraud", "client_token": "form-0005"})
    assert taken.get_json()["available"] == 0


def test_allow_policy_lets_an_adjustment_go_below_zero(admin, shoppers):
    bob = customer_id(admin, "bob")
    answer = admin.post(f"/customers/{bob}/adjustments", {"points": -100, "reason": "r", "client_token": "form-0006"})
    assert answer.get_json()["available"] == -20


# -- vouchers ------------------------------------------------------------------------------------------

@pytest.fixture
def shopify_http(emulator, factory, shop):
    """The app's own HTTP calls to store A's Admin API answered by the shared emulator (bob is a customer
    there); `factory` builds clients for the same emulator."""
    emulator.add_customer(shop.domain, 702, "bob@example.com")

    def forward(request):
        answer = factory(None, shop, None)._session.post(
            f"http://shopify.test/{shop.domain}" + request.path_url, data=request.body, headers=dict(request.headers))
        return answer.status_code, dict(answer.headers), answer.content

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, f"https://{shop.domain}/admin/api/2025-10/graphql.json", callback=forward)
        yield emulator


def test_vouchers_are_listed_and_cancelled_with_a_recredit(admin, shoppers, ctx, shop, shopify_http, factory):
    """bob redeems 50; the list shows the code; cancel deactivates it in Shopify and gives the 50 back once."""
    voucher = voucher_jobs.redeem(ctx, shop.domain, "bob@example.com", 50, "req-1", client_factory=factory)
    listed = admin.get("/vouchers").get_json()["vouchers"]
    assert [(v["code"], v["status"], v["cancellable"], v["email"]) for v in listed] == [
        (voucher.code, "active", True, "bob@example.com")]
    cancelled = admin.post(f"/vouchers/{voucher.code}/cancel", {"reason": "customer asked"}).get_json()["voucher"]
    assert cancelled["status"] == "cancelled" and "staff 42" in cancelled["reason"]
    assert admin.post(f"/vouchers/{voucher.code}/cancel").get_json()["voucher"]["status"] == "cancelled"
    [code] = shopify_http.discount_codes(shop.domain)
    assert code["status"] != "ACTIVE"
    bob = customer_id(admin, "bob")
    assert admin.get(f"/customers/{bob}").get_json()["available"] == 80
    assert admin.get("/vouchers?status=active").get_json()["vouchers"] == []


def test_cancelling_an_unknown_voucher_is_404(admin):
    assert admin.post("/vouchers/LOY-NOPE/cancel").status_code == 404


# -- failed jobs ---------------------------------------------------------------------------------------

def failed_row(ctx, shop_domain: str, webhook_id: str) -> int:
    with ctx.engine.begin() as conn:
        return insert_webhooks(conn, [dict(
            webhook_id=webhook_id, shop_domain=shop_domain, topic="orders/paid", body=b"{}", received_at=NOW,
            failed_at=NOW, attempts=8, last_error="ShopifyHTTPError: 503")])[0]


def test_failed_jobs_are_listed_and_retried(admin, ctx, shop):
    """The shop's failed webhooks with their reason; retry one, then all; a retried row waits again."""
    first, second = failed_row(ctx, shop.domain, "w-1"), failed_row(ctx, shop.domain, "w-2")
    listed = admin.get("/failed-jobs").get_json()["failed_jobs"]
    assert {j["id"] for j in listed} == {first, second} and listed[0]["last_error"] == "ShopifyHTTPError: 503"
    assert admin.post(f"/failed-jobs/{first}/retry").get_json() == {"retried": 1}
    assert admin.post(f"/failed-jobs/{first}/retry").status_code == 404
    assert admin.post("/failed-jobs/retry").get_json() == {"retried": 1}
    assert admin.get("/failed-jobs").get_json()["failed_jobs"] == []
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(webhook_inbox.c.failed_at, webhook_inbox.c.attempts)).all()
    assert rows == [(None, 0), (None, 0)]


def test_openapi_document_is_served_and_valid(client):
    from openapi_spec_validator import validate

    document = client.get("/admin/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_admin_api_route_is_in_the_openapi_document(app):
    """Each Flask route under /admin/api, with each of its methods, is described."""
    from tests.admin_client import OPENAPI

    documented = {(path, method) for path, item in OPENAPI["paths"].items() for method in item if method != "parameters"}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/api"):
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_json_bodies_must_be_objects(admin, shoppers):
    bob = customer_id(admin, "bob")
    assert admin.call("PUT", "/programme", json_body=[1, 2]).status_code == 400
    assert admin.post(f"/customers/{bob}/adjustments", json_body=["x"]).status_code == 400
    assert json.loads(admin.get("/programme").data)["version"] == 1


def test_the_shop_facts_fall_back_until_shopify_gives_them(admin, ctx, shop):
    from datetime import datetime, timezone

    from loyalty.services.shops import set_shop_facts

    first = admin.get("/shop").get_json()
    assert first["shop"]["timezone"] == "UTC" and first["shop"]["language"] == "en" and first["staff"] == "42"
    with ctx.engine.begin() as conn:
        set_shop_facts(conn, shop.domain, datetime(2026, 12, 6, tzinfo=timezone.utc), name="Maison A",
                       timezone="Europe/Paris", currency="EUR", locale="fr")
    assert admin.get("/shop").get_json()["shop"] == {
        "domain": shop.domain, "name": "Maison A", "timezone": "Europe/Paris", "currency": "EUR", "locale": "fr",
        "language": "fr"}
