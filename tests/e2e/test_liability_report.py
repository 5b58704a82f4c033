"""The points-liability report: per UTC day, points earned, matured, clawed back, redeemed, expired,
re-credited and adjusted, and the points outstanding at the end of each day with their value; as JSON
and as CSV. Built from real webhooks on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from jobs.scheduled import mature_points
from loyalty.services.read import reports
from loyalty.services import vouchers
from loyalty.services.adjustments import Adjustment, adjust
from loyalty.services.customers import find_customer
from loyalty.services.ledger import balance
from tests.factories import order, refund

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def history(send, process, ctx, shop):
    """March 2025: ada earns 100 (1st), matured on the 15th; 30 refunded and bob earns 50 (16th); ada
    redeems 20 and gets them back, bob is adjusted by -10 (17th)."""
    first = order(lines=((100, 1),), email="ada@example.com", customer_id=801, processed_at="2025-03-01T10:00:00+00:00")
    send("orders/paid", first)
    process()
    mature_points(at(20), ctx)
    send("refunds/create", refund(first, lines={0: (1, 30)}, created_at="2025-03-16T09:00:00+00:00"))
    send("orders/paid", order(lines=((50, 1),), email="bob@example.com", customer_id=802,
                              processed_at="2025-03-16T11:00:00+00:00"))
    process()
    with ctx.engine.begin() as conn:
        ada, bob = (find_customer(conn, shop.id, e).id for e in ("ada@example.com", "bob@example.com"))
        voucher = vouchers.reserve(conn, shop, ada, 20, "r-1", at(17))
        vouchers.give_back(conn, shop, voucher, "cancelled", "test", at(17, 13))
        adjust(conn, shop, Adjustment(bob, -10, "correction", "42", "form-report-1"), at(17, 14))
    return ada, bob


def test_each_day_shows_its_flows_and_what_is_outstanding(ctx, shop, history):
    with ctx.engine.connect() as conn:
        days = {d.day.day: d for d in reports.liability(conn, shop, date(2025, 3, 1), date(2025, 3, 17))}
    assert (days[1].earned, days[1].pending, days[1].available) == (100, 100, 0)
    assert days[2].earned == 0 and days[14].pending == 100  # quiet days carry the balance
    assert (days[15].matured, days[15].pending, days[15].available) == (100, 0, 100)
    assert (days[16].clawed_back, days[16].earned, days[16].pending, days[16].available) == (30, 50, 50, 70)
    d = days[17]
    assert (d.redeemed, d.recredited, d.adjusted, d.outstanding) == (20, 20, -10, 110)
    assert str(d.outstanding_value) == "11.00"  # 110 points x 0.1 (voucher_value_per_point)


def test_outstanding_equals_the_customers_balances_and_flows_add_up(ctx, shop, history):
    """The running total matches the ledger's balances; each day's flows explain its change."""
    with ctx.engine.connect() as conn:
        days = reports.liability(conn, shop, date(2025, 2, 27), date(2025, 3, 18))
        owed = sum(balance(conn, c).available + balance(conn, c).pending for c in history)
    assert days[-1].outstanding == owed == 110
    previous = 0
    for d in days:
        change = d.earned - d.clawed_back - d.redeemed - d.expired + d.recredited + d.adjusted
        assert d.outstanding - previous == change, d.day
        previous = d.outstanding


def test_a_later_range_opens_with_the_balance_before_it(ctx, shop, history):
    with ctx.engine.connect() as conn:
        [day] = reports.liability(conn, shop, date(2025, 3, 10), date(2025, 3, 10))
    assert (day.earned, day.pending, day.outstanding) == (0, 100, 100)


def test_ranges_are_checked(ctx, shop):
    with ctx.engine.connect() as conn, pytest.raises(reports.ReportRangeError):
        reports.liability(conn, shop, date(2025, 3, 2), date(2025, 3, 1))
    with pytest.raises(reports.ReportRangeError):
        reports.check_range(date(2020, 1, 1), date(2025, 1, 1))


def test_api_and_csv_give_the_same_figures(admin, history):
    """The JSON report (checked against the OpenAPI document) and the CSV export agree row by row."""
    report = admin.get("/reports/liability?from=2025-03-01&to=2025-03-17").get_json()
    assert report["totals"]["earned"] == 150 and report["value_per_point"] == "0.1"
    answer = admin.get("/reports/liability.csv?from=2025-03-01&to=2025-03-17")
    assert answer.mimetype == "text/csv"
    assert 'filename="points-liability-store-a-2025-03-01-2025-03-17.csv"' in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 17 == len(report["days"])
    for row, day in zip(rows, report["days"]):
        assert row == {k: str(v) for k, v in day.items()}


def test_api_refuses_a_bad_range(admin):
    assert admin.get("/reports/liability?from=2025-13-01").status_code == 422
    assert admin.get("/reports/liability.csv?from=2025-03-02&to=2025-03-01").status_code == 422


def test_api_default_range_is_the_last_30_days(admin):
    days = admin.get("/reports/liability").get_json()["days"]
    assert len(days) == 30 and days[-1]["day"] == datetime.now(timezone.utc).date().isoformat()
