"""The support desk (GET /admin/api/customers/{id} and admin/support_api.py), through signed webhooks: every
order with its points or why none, bounded lists with their further pages, vouchers' real terms, the
birthday correction (reason required, audited, no second present the same year), another shop's customer
unknown. Every answer is checked against the OpenAPI document by the `admin` fixture."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import responses
from sqlalchemy import insert, select

from db.tables import audit_events, bonus_awards, ledger_entries, vouchers
from jobs.scheduled import give_birthday_perks
from loyalty.services.customers import find_customer, resolve_customer
from tests.e2e.test_admin_security import store_b  # noqa: F401 - the fixture
from tests.e2e.test_earning import GRAPHQL, transactions_response
from tests.factories import order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
CLAIRE = 801


def record_id(ctx, shop, shopify_id: int) -> int:
    with ctx.engine.connect() as conn:
        return find_customer(conn, shop.id, str(shopify_id)).id


@pytest.fixture
def claire(admin, send, process, ctx, shop):
    """Store A's programme; Claire has a web order that earns, a reseller order, a test order and an order
    paid wholly by gift card, each sent as a signed orders/paid webhook."""
    admin.post("/programme/template", {"template": "store-a"})
    paid = "2025-05-2{}T10:00:00+00:00"
    orders = {
        "web": order(lines=((60, 1),), email="claire@example.com", customer_id=CLAIRE, processed_at=paid.format(1)),
        "reseller": order(lines=((90, 1),), email="claire@example.com", customer_id=CLAIRE,
                          source_name="partner_reseller", processed_at=paid.format(2)),
        "test": order(lines=((40, 1),), email="claire@example.com", customer_id=CLAIRE, test=True,
                      processed_at=paid.format(3)),
        "gift": order(lines=((50, 1),), email="claire@example.com", customer_id=CLAIRE, gateways=("gift_card",),
                      processed_at=paid.format(4), shipping=0),
    }
    with responses.RequestsMock() as mocked:
        mocked.post(GRAPHQL, json=transactions_response(orders["gift"]["id"], ("gift_card", "SALE", "SUCCESS", "50.00")))
        for body in orders.values():
            assert send("orders/paid", body).status_code == 200
        process()
    return {"id": record_id(ctx, shop, CLAIRE), **{k: v["id"] for k, v in orders.items()}}


def test_the_desk_says_why_each_order_earned_nothing(admin, claire):
    """Reseller, test and gift-card orders earn nothing, each with its rule's code; the web order is pending."""
    detail = admin.get(f"/customers/{claire['id']}").get_json()
    by_order = {o["shopify_order_id"]: o for o in detail["orders"]}
    assert by_order[claire["reseller"]]["outcome"] == {"code": "excluded_channel", "params": {"channel": "partner_reseller"}}
    assert by_order[claire["reseller"]]["excluded_reason"] == "sales channel partner_reseller is excluded"
    assert by_order[claire["test"]]["outcome"] == {"code": "test_order", "params": {}}
    assert by_order[claire["gift"]]["outcome"] == {"code": "gift_card", "params": {"amount": "50.00"}}
    web = by_order[claire["web"]]
    assert (web["points"], web["outcome"]["code"]) == (60, "pending") and web["outcome"]["params"]["until"]
    assert [o["shopify_order_id"] for o in detail["orders"]] == [claire[k] for k in ("gift", "test", "reseller", "web")]
    assert web["merchandise"] == "60.00" and detail["orders_has_more"] is False


def test_the_desk_shows_the_customer_and_bounds_every_list(admin, claire, ctx, shop):
    """Names and tags as recorded, opt-out, 50 newest entries first with has_more and a second page."""
    with ctx.engine.begin() as conn:
        conn.execute(insert(ledger_entries), [dict(
            shop_id=shop.id, customer_id=claire["id"], kind="adjust", available=1, reason=f"goodwill {n}",
            idempotency_key=f"desk-{n}", effective_at=NOW + timedelta(minutes=n), created_at=NOW, actor="7")
            for n in range(60)])
    detail = admin.get(f"/customers/{claire['id']}").get_json()
    assert detail["customer"]["email"] == "claire@example.com" and detail["customer"]["accepts_loyalty_emails"]
    assert isinstance(detail["customer"]["tags"], list)
    assert len(detail["entries"]) == 50 and detail["entries_has_more"]
    assert detail["entries"][0]["reason"] == "goodwill 59" and detail["entries"][0]["actor"] == "7"
    second = admin.get(f"/customers/{claire['id']}/entries?page=2").get_json()
    assert second["page"] == 2 and not second["has_more"]
    assert len(second["entries"]) == 61 - 50  # 60 adjustments and the web order's earn
    seen = [e["id"] for e in detail["entries"] + second["entries"]]
    assert len(set(seen)) == 61
    orders = admin.get(f"/customers/{claire['id']}/orders?page=1").get_json()
    assert len(orders["orders"]) == 4 and not orders["has_more"]


def test_vouchers_show_their_real_terms_and_gift_cards_no_end_date(admin, claire, ctx, shop):
    """A discount's minimum basket and collection, amounts at two places; a gift card has no end date."""
    with ctx.engine.begin() as conn:
        conn.execute(insert(vouchers), [
            dict(shop_id=shop.id, customer_id=claire["id"], request_key="d", code="LOY-DISC", points=100,
                 amount="5.0000", minimum_subtotal="30.0000", collection_id=444, ends_at=NOW, status="active",
                 created_at=NOW, kind="discount"),
            dict(shop_id=shop.id, customer_id=claire["id"], request_key="g", code="GIFT-1", points=200,
                 amount="10.0000", minimum_subtotal=None, collection_id=None, ends_at=NOW, status="active",
                 created_at=NOW + timedelta(seconds=1),
                 kind="gift_card")])
    listed = {v["code"]: v for v in admin.get(f"/customers/{claire['id']}").get_json()["vouchers"]}
    assert (listed["LOY-DISC"]["amount"], listed["LOY-DISC"]["minimum_subtotal"]) == ("5.00", "30.00")
    assert listed["LOY-DISC"]["collection_id"] == 444 and listed["LOY-DISC"]["ends_at"]
    assert (listed["GIFT-1"]["amount"], listed["GIFT-1"]["ends_at"]) == ("10.00", None)


def test_another_shops_customer_is_unknown_on_every_desk_route(claire, store_b):  # noqa: F811
    """Store B's staff asking for store A's customer: 404 on the page, its pages and the correction."""
    for method, path, body in (("GET", f"/customers/{claire['id']}", None),
                               ("GET", f"/customers/{claire['id']}/orders", None),
                               ("GET", f"/customers/{claire['id']}/entries?page=2", None),
                               ("PUT", f"/customers/{claire['id']}/birthday", {"birthday": "1990-01-02", "reason": "x"})):
        answer = store_b.call(method, path, json_body=body)
        assert answer.status_code == 404 and "claire" not in answer.get_data(as_text=True)


def test_staff_correct_a_recorded_birthday_with_a_reason_audited(admin, claire, client, ctx, shop):
    """The shopper may give a birthday once; staff correct it with a required reason, audited before/after."""
    with ctx.engine.begin() as conn:
        from loyalty.services.customers import set_birthday
        set_birthday(conn, shop.id, claire["id"], date(1990, 3, 4))
    refused = admin.put(f"/customers/{claire['id']}/birthday", {"birthday": "1990-04-03", "reason": " "})
    assert (refused.status_code, refused.get_json()["field"]) == (422, "reason")
    bad = admin.put(f"/customers/{claire['id']}/birthday", {"birthday": "03/04", "reason": "typo"})
    assert (bad.status_code, bad.get_json()["field"]) == (422, "birthday")
    done = admin.put(f"/customers/{claire['id']}/birthday", {"birthday": "1985-04-03", "reason": "customer called"})
    assert done.status_code == 200
    assert (done.get_json()["before"], done.get_json()["birthday"]) == ("2000-03-04", "2000-04-03")
    assert admin.get(f"/customers/{claire['id']}").get_json()["customer"]["birthday"] == "2000-04-03"
    with ctx.engine.connect() as conn:
        [event] = conn.execute(select(audit_events).where(audit_events.c.action == "birthday_corrected")).all()
    assert (event.action, event.actor, event.customer_id) == ("birthday_corrected", "42", claire["id"])
    assert json.loads(event.details) == {"before": "2000-03-04", "after": "2000-04-03", "reason": "customer called"}
    cleared = admin.put(f"/customers/{claire['id']}/birthday", {"birthday": None, "reason": "asked to forget it"})
    assert cleared.get_json()["birthday"] is None


def test_a_corrected_birthday_brings_no_second_present_the_same_year(admin, ctx, shop, send, process):
    """Birthday points already given this year: moving the birthday to another day of the year gives nothing
    more that year (the bonus is keyed by customer and year); the answer says the present was given."""
    from tests.e2e.test_earning_bonuses import programme_with
    from tests.factories import customer
    programme_with(ctx, shop, **{"earning.birthday.points": "25"})
    send("customers/create", customer(901, "bday@example.com"))
    process()
    today = datetime.now(timezone.utc).date()
    other = today.replace(day=1) if today.day != 1 else today.replace(day=2)
    with ctx.engine.begin() as conn:
        from loyalty.services.customers import set_birthday
        record = find_customer(conn, shop.id, "901").id
        set_birthday(conn, shop.id, record, today)
    at = lambda day: datetime.combine(day, datetime.min.time(), timezone.utc).replace(hour=6)  # noqa: E731
    give_birthday_perks(at(today), ctx)
    answer = admin.put(f"/customers/{record}/birthday", {"birthday": other.isoformat(), "reason": "wrong day"})
    assert answer.get_json()["present_given_this_year"] is True
    give_birthday_perks(at(other), ctx)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(bonus_awards.c.reference)).scalars().all() == [str(today.year)]


def test_a_birthday_correction_before_any_present_says_none_was_given(admin, ctx, shop):
    with ctx.engine.begin() as conn:
        record = resolve_customer(conn, shop.id, 902, "new@example.com", NOW)
    answer = admin.put(f"/customers/{record}/birthday", {"birthday": "2000-12-24", "reason": "first given by phone"})
    assert answer.get_json()["present_given_this_year"] is False
