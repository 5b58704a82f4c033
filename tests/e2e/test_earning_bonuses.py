"""Ways to earn beyond a purchase, through signed webhooks, the admin API and the daily job: sign-up points
once per account (never again for a guest record merged later), points for an action once per reference
within its cap, birthday points once a year, and the programme-wide earning cap on orders and bonuses."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from db.tables import bonus_awards, ledger_entries, notifications
from jobs.scheduled import give_birthday_perks
from loyalty.domain.programme import template
from loyalty.services.customers import find_customer, set_birthday
from loyalty.services.shops import save_programme
from tests.admin_client import admin  # noqa: F401 - the fixture
from tests.factories import customer, order

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the suite's short secret


def programme_with(ctx, shop, **paths):
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-b").with_paths(paths), datetime(2024, 1, 1, tzinfo=timezone.utc))
    return shop


def bonus_entries(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(ledger_entries.c.customer_id, ledger_entries.c.available, ledger_entries.c.reason)
                            .where(ledger_entries.c.kind == "bonus").order_by(ledger_entries.c.id)).all()


def emails(ctx, kind):
    with ctx.engine.connect() as conn:
        return conn.execute(select(notifications).where(notifications.c.kind == kind)).all()


def test_signup_points_are_given_once_per_account_on_customers_create(send, process, summary, ctx, shop):
    """customers/create gives the sign-up points (a replay, an update, another create do not), with an email."""
    programme_with(ctx, shop, **{"earning.signup_points": "100"})
    send("customers/create", customer(501, "claire@example.com"))
    send("customers/create", customer(501, "claire@example.com"))  # Shopify delivers again: another id
    send("customers/update", customer(501, "claire@example.com"))
    process()
    assert summary("501")["available"] == 100
    assert [e.available for e in bonus_entries(ctx)] == [100]
    [email] = emails(ctx, "points_awarded")
    assert email.subject.startswith("100 points added")


def test_signup_points_are_not_given_twice_for_a_guest_record_merged_later(send, process, summary, ctx, shop):
    """A guest record made from an order's email, then the account: one sign-up award, the guest's order
    and the bonus on the one record."""
    programme_with(ctx, shop, **{"earning.signup_points": "50"})
    send("orders/paid", order(lines=((30, 1),), email="guest@example.com"))
    process()
    send("customers/create", customer(777, "guest@example.com"))
    process()
    send("customers/update", customer(777, "guest@example.com"))
    process()
    record = summary("777")
    assert record["lifetime"] == 80 and record["available"] == 50
    assert len(bonus_entries(ctx)) == 1


def test_no_signup_points_when_the_programme_gives_none(send, process, summary, ctx, shop):
    programme_with(ctx, shop)
    send("customers/create", customer(9, "x@example.com"))
    process()
    assert summary("9")["available"] == 0 and bonus_entries(ctx) == []


def test_an_action_is_awarded_once_per_reference_within_its_cap(send, process, ctx, shop, admin):  # noqa: F811
    """POST /customers/<id>/actions: once per reference; the monthly count cap refuses the third review,
    recorded with its reason; an unknown action is a 422."""
    programme_with(ctx, shop, **{"earning.actions.review": '{"points": 40, "title": "Product review", '
                                                           '"cap": {"period": "month", "count": 2}}'})
    send("customers/create", customer(601, "rev@example.com"))
    process()
    with ctx.engine.connect() as conn:
        record = find_customer(conn, shop.id, "601").id
    first = admin.post(f"/customers/{record}/actions", {"action": "review", "reference": "r-1"}).get_json()
    again = admin.post(f"/customers/{record}/actions", {"action": "review", "reference": "r-1"}).get_json()
    assert first["award"] == again["award"] and first["available"] == 40
    assert admin.post(f"/customers/{record}/actions", {"action": "review", "reference": "r-2"}).get_json()["available"] == 80
    third = admin.post(f"/customers/{record}/actions", {"action": "review", "reference": "r-3"}).get_json()
    assert (third["award"]["asked"], third["award"]["points"], third["available"]) == (40, 0, 80)
    assert "cap reached: 2 award(s) per month" in third["award"]["reason"]
    refused = admin.post(f"/customers/{record}/actions", {"action": "nope", "reference": "x"})
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "action"
    assert len(emails(ctx, "points_awarded")) == 2


def test_birthday_points_are_given_once_a_year(send, process, ctx, shop):
    """The daily job gives earning.birthday.points to customers celebrating today, once a year."""
    programme_with(ctx, shop, **{"earning.birthday.points": "25"})
    send("customers/create", customer(701, "bday@example.com"))
    process()
    with ctx.engine.begin() as conn:
        record = find_customer(conn, shop.id, "701").id
        set_birthday(conn, shop.id, record, date(1990, 5, 17))
    at = lambda day: datetime.fromisoformat(day).replace(hour=6, tzinfo=timezone.utc)  # noqa: E731
    for day in ("2026-05-16", "2026-05-17", "2026-05-17", "2027-05-17"):
        give_birthday_perks(at(day), ctx)
    assert [(e.customer_id, e.available) for e in bonus_entries(ctx)] == [(record, 25), (record, 25)]
    with ctx.engine.connect() as conn:
        assert conn.execute(select(bonus_awards.c.reference).order_by(bonus_awards.c.id)).scalars().all() == ["2026", "2027"]


def test_the_earning_cap_limits_order_awards_and_says_what_it_took(send, process, summary, ctx, shop):
    """A 100-point monthly earning cap: the second order of the month earns what is left, its entry says
    how much the cap took; next month earns again."""
    programme_with(ctx, shop, **{"earning.earning_cap": '{"points": 100, "period": "month"}'})
    send("orders/paid", order(lines=((70, 1),), customer_id=5, email="cap@example.com",
                              processed_at="2025-05-02T10:00:00+00:00"))
    send("orders/paid", order(lines=((70, 1),), customer_id=5, email="cap@example.com",
                              processed_at="2025-05-03T10:00:00+00:00"))
    process()
    send("orders/paid", order(lines=((70, 1),), customer_id=5, email="cap@example.com",
                              processed_at="2025-06-03T10:00:00+00:00"))
    process()
    assert summary("5")["lifetime"] == 170
    with ctx.engine.connect() as conn:
        reasons = conn.execute(select(ledger_entries.c.reason).where(ledger_entries.c.kind == "earn")
                               .order_by(ledger_entries.c.effective_at)).scalars().all()
    assert "earning cap: 40 points over" in reasons[1] and "earning cap" not in reasons[0] + reasons[2]
