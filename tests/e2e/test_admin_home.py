"""The home page's API (/admin/api/home and .csv, admin/openapi/home.json): members, active members, points per
bucket of the shop's days, redemption rate, members' and non-members' orders, rewards by popularity and the
liability in money; the same answer before and after the ledger's roll-up. Every answer is checked against
the OpenAPI document by the `admin` fixture. Built from real webhooks on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from db.tables import orders, shops
from jobs.rollup import roll_up_ledgers
from jobs.scheduled import mature_points
from loyalty.services import vouchers
from loyalty.services.customers import find_customer
from loyalty.services.shops import programme, save_programme
from tests.factories import cancelled, order, refund

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.fixture
def programme_month(send, process, ctx, shop):
    """Store A in Paris, March 2025: ada buys 100 on the 1st and 40 at 23:30 UTC on the 16th (the 17th in
    Paris) and redeems 20 on the 17th; bob buys 50 on the 10th; a guest order without customer or email."""
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.id == shop.id).values(iana_timezone="Europe/Paris"))
    send("orders/paid", order(lines=((100, 1),), email="ada@example.com", customer_id=801,
                              processed_at="2025-03-01T10:00:00+00:00"))
    send("orders/paid", order(lines=((50, 1),), email="bob@example.com", customer_id=802,
                              processed_at="2025-03-10T11:00:00+00:00"))
    send("orders/paid", order(lines=((40, 1),), email="ada@example.com", customer_id=801,
                              processed_at="2025-03-16T23:30:00+00:00"))
    send("orders/paid", order(lines=((70, 1),), email=None, customer_id=None,
                              processed_at="2025-03-12T09:00:00+00:00"))
    process()
    mature_points(datetime(2025, 3, 16, tzinfo=timezone.utc), ctx)  # ada's 100 available from the 15th
    with ctx.engine.begin() as conn:
        ada = find_customer(conn, shop.id, "ada@example.com").id
        vouchers.reserve(conn, shop, ada, 20, "r-home-1", datetime(2025, 3, 17, 12, tzinfo=timezone.utc))
    return shop


def guest_orders(ctx, shop):
    with ctx.engine.connect() as conn:
        return conn.execute(select(orders.c.id).where(orders.c.shop_id == shop.id,
                                                      orders.c.customer_id.is_(None))).all()


def test_home_gives_the_period_s_figures_by_the_shop_s_days(admin, ctx, programme_month):
    home = admin.get("/home?from=2025-03-01&to=2025-03-17&group=week").get_json()
    assert (home["members"], home["active_members"]) == (2, 2)
    assert home["points"] == {"earned": 190, "redeemed": 20, "expired": 0, "outstanding": 170,
                              "redemption_rate": "0.1053"}
    weeks = [(b["start"], b["end"], b["earned"]) for b in home["buckets"]]
    assert weeks == [("2025-03-01", "2025-03-02", 100), ("2025-03-03", "2025-03-09", 0),
                     ("2025-03-10", "2025-03-16", 50), ("2025-03-17", "2025-03-17", 40)]  # 23:30 UTC: Paris' 17th
    members = home["orders"]["members"]
    assert (members["orders"], members["customers"], members["revenue"], members["orders_per_customer"]) == \
        (3, 2, "190.00", "1.50")
    guests = len(guest_orders(ctx, programme_month))
    assert home["orders"]["non_members"] == {"orders": 1, "revenue": "70.00", "customers": 0,
                                             "orders_per_customer": None, "guest_orders": guests}
    assert home["rewards"] == [{"reward_key": None, "kind": "discount", "count": 1, "points": 20}]
    assert home["liability"]["outstanding"] == 170 and home["liability"]["value"] == "17.00"


def test_home_is_the_same_before_and_after_the_roll_up(admin, ctx, programme_month):
    before = admin.get("/home?from=2025-03-01&to=2025-03-20&group=day").get_json()
    roll_up_ledgers(ctx)
    assert admin.get("/home?from=2025-03-01&to=2025-03-20&group=day").get_json() == before
    month = admin.get("/home?from=2025-02-01&to=2025-03-20&group=month").get_json()
    assert [(b["start"], b["earned"], b["outstanding"]) for b in month["buckets"]] == \
        [("2025-02-01", 0, 0), ("2025-03-01", 190, 170)]


def test_orders_follow_a_cancellation_a_refund_and_an_excluded_customer_after_the_roll_up(
        admin, send, process, ctx, programme_month):
    roll_up_ledgers(ctx)
    with ctx.engine.begin() as conn:
        prog = programme(conn, programme_month.id, programme_month.settings_version).with_changes(
            excluded_source_names=["partner_reseller"])
        save_programme(conn, programme_month, prog, datetime(2025, 3, 18, tzinfo=timezone.utc))
    period = "/home?from=2025-03-01&to=2025-03-20"
    paid = order(lines=((80, 1), (20, 1)), email="cy@example.com", customer_id=803, source_name="partner_reseller",
                 processed_at="2025-03-18T10:00:00+00:00")
    send("orders/paid", paid)  # partner resellers excluded: cy's order is a non-member's
    send("orders/paid", order(lines=((500, 1),), email="cy@example.com", customer_id=803, test=True,
                              processed_at="2025-03-18T11:00:00+00:00"))  # a test order counts nowhere
    process()
    home = admin.get(period).get_json()
    assert home["orders"]["non_members"] == {"orders": 2, "revenue": "170.00", "customers": 1,
                                             "orders_per_customer": "1.00", "guest_orders": 1}
    roll_up_ledgers(ctx)
    assert admin.get(period).get_json() == home
    send("refunds/create", refund(paid, lines={1: (1, 20)}, created_at="2025-03-19T10:00:00+00:00"))
    later = order(lines=((30, 1),), email="bob@example.com", customer_id=802, processed_at="2025-03-19T09:00:00+00:00")
    send("orders/paid", later)
    process()
    send("orders/cancelled", cancelled(later, at="2025-03-19T12:00:00+00:00"))
    process()
    after = admin.get(period).get_json()
    roll_up_ledgers(ctx)
    assert admin.get(period).get_json() == after
    assert after["orders"]["members"]["orders"] == 3  # bob's cancelled order counts nowhere
    assert after["orders"]["non_members"]["revenue"] == "150.00"  # 70 (guest) + 80 (cy's 100 less 20 refunded)


def test_a_past_period_counts_only_its_active_members(admin, programme_month):
    home = admin.get("/home?from=2025-03-05&to=2025-03-12").get_json()
    assert (home["members"], home["active_members"]) == (2, 1)  # bob only; the tail of March is later


def test_csv_gives_the_same_figures(admin, programme_month):
    home = admin.get("/home?from=2025-03-01&to=2025-03-17&group=week").get_json()
    answer = admin.get("/home.csv?from=2025-03-01&to=2025-03-17&group=week")
    assert answer.mimetype == "text/csv"
    assert 'filename="loyalty-overview-store-a-2025-03-01-2025-03-17.csv"' in answer.headers["Content-Disposition"]
    blocks = answer.get_data(as_text=True).split("\r\n\r\n")
    rows = list(csv.DictReader(io.StringIO(blocks[0])))
    assert rows == [{k: str(v) for k, v in b.items()} for b in home["buckets"]]
    figures = dict(csv.reader(io.StringIO(blocks[1])))
    assert figures["members"] == "2" and figures["points_redemption_rate"] == "0.1053"
    assert figures["liability_value"] == home["liability"]["value"]


def test_home_refuses_a_bad_period_or_group(admin):
    assert admin.get("/home?from=2025-13-01").status_code == 422
    assert admin.get("/home?from=2025-03-02&to=2025-03-01").status_code == 422
    assert admin.get("/home.csv?group=year").status_code == 422


def test_liability_report_days_are_the_shop_s_days(admin, programme_month):
    days = {d["day"]: d for d in admin.get("/reports/liability?from=2025-03-16&to=2025-03-17").get_json()["days"]}
    assert days["2025-03-16"]["earned"] == 0 and days["2025-03-17"]["earned"] == 40
