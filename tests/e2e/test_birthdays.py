"""Birthday presents: customers who unlocked a birthday perk get it on their birthday, once a year (29
February is celebrated on 28 February in other years), with a birthday email; the birthday comes from a
customer metafield or the storefront form."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from db.tables import notifications, perk_grants
from jobs.scheduled import give_birthday_perks
from jobs.scheduled import mature_points
from loyalty.services.customers import find_customer, set_birthday
from loyalty.domain.programme import template
from loyalty.services.shops import save_programme
from tests.factories import customer, order


@pytest.fixture
def store_a(ctx, shop):
    """Store A's programme: the birthday surprise is unlocked at 150 lifetime points."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a").with_changes(shop_name="Maison A"),
                       datetime(2024, 1, 1, tzinfo=timezone.utc))
    return shop


def customer_with(send, process, ctx, shop, shopify_id, points, birthday):
    """A customer with `points` confirmed lifetime points and a birthday set by the storefront; returns their id."""
    send("orders/paid", order(lines=((points, 1),), email=f"c{shopify_id}@example.com", customer_id=shopify_id))
    process()
    mature_points(datetime(2025, 6, 1, tzinfo=timezone.utc), ctx)
    with ctx.engine.begin() as conn:
        customer_id = find_customer(conn, shop.id, str(shopify_id)).id
        set_birthday(conn, shop.id, customer_id, birthday)
    return customer_id


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=6, tzinfo=timezone.utc)


def grants(ctx):
    """The birthday presents given (grants of a year; status perks, period "", are the maturity's)."""
    with ctx.engine.connect() as conn:
        return conn.execute(select(perk_grants.c.customer_id, perk_grants.c.reward_key, perk_grants.c.period)
                            .where(perk_grants.c.period != "").order_by(perk_grants.c.id)).all()


def birthday_emails(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(notifications).where(notifications.c.kind == "birthday")).all()


def test_the_birthday_present_is_given_once_a_year_with_an_email(send, process, ctx, store_a):
    """On the day: a grant for the year and a French birthday email; the job running again gives nothing;
    the next year, again."""
    lena = customer_with(send, process, ctx, store_a, 501, 200, date(1990, 5, 17))
    assert give_birthday_perks(at("2026-05-16"), ctx) == 0
    assert give_birthday_perks(at("2026-05-17"), ctx) == 1
    assert give_birthday_perks(at("2026-05-17"), ctx) == 0
    assert give_birthday_perks(at("2027-05-17"), ctx) == 1
    assert grants(ctx) == [(lena, "anniversaire", "2026"), (lena, "anniversaire", "2027")]
    first, _ = birthday_emails(ctx)
    assert first.subject == "Joyeux anniversaire ! Une surprise de Maison A"
    assert "Une surprise pour ton anniversaire (Dans ta boîte mail)" in first.body_text


def test_no_present_before_the_perk_is_unlocked(send, process, ctx, store_a):
    """100 confirmed lifetime points: the birthday perk (150) is not unlocked yet; 200 more points still
    pending (inside the return window) do not count either."""
    customer_with(send, process, ctx, store_a, 502, 100, date(1990, 5, 17))
    send("orders/paid", order(lines=((200, 1),), email="c502@example.com", customer_id=502,
                              processed_at="2026-05-10T00:00:00+00:00"))
    process()
    assert give_birthday_perks(at("2026-05-17"), ctx) == 0
    assert grants(ctx) == [] and birthday_emails(ctx) == []


def test_a_29_february_birthday_is_celebrated_on_28_february_in_other_years(send, process, ctx, store_a):
    """2027 is not a leap year: 28 February; 2028 is: 29 February, and not the 28th."""
    customer_with(send, process, ctx, store_a, 503, 300, date(2000, 2, 29))
    assert give_birthday_perks(at("2027-02-28"), ctx) == 1
    assert give_birthday_perks(at("2027-03-01"), ctx) == 0
    assert give_birthday_perks(at("2028-02-28"), ctx) == 0
    assert give_birthday_perks(at("2028-02-29"), ctx) == 1
    assert [g.period for g in grants(ctx)] == ["2027", "2028"]


def test_shops_without_a_birthday_perk_give_nothing(send, process, ctx, shop):
    """The default programme has no birthday perk."""
    customer_with(send, process, ctx, shop, 504, 500, date(1990, 5, 17))
    assert give_birthday_perks(at("2026-05-17"), ctx) == 0


def test_the_birthday_comes_from_the_customer_metafield(send, process, ctx, store_a):
    """customers/update carrying `facts.birth_date` (Shopify's standard definition) records the birthday
    (day and month); a later update without it, or with another date, changes nothing (recorded once, so
    the present cannot be collected twice); the present comes on that day."""
    metafield = {"namespace": "facts", "key": "birth_date", "value": "1988-11-03", "type": "date"}
    send("customers/update", {**customer(505, "m@example.com"), "metafields": [metafield]})
    send("customers/update", customer(505, "m@example.com"))
    send("customers/update", {**customer(505, "m@example.com"), "metafields": [{**metafield, "value": "1988-12-01"}]})
    send("orders/paid", order(lines=((150, 1),), email="m@example.com", customer_id=505))
    process()
    mature_points(datetime(2025, 6, 1, tzinfo=timezone.utc), ctx)
    with ctx.engine.connect() as conn:
        stored = find_customer(conn, store_a.id, "505").birthday
    assert (stored.month, stored.day) == (11, 3)
    assert give_birthday_perks(at("2026-12-01"), ctx) == 0
    assert give_birthday_perks(at("2026-11-03"), ctx) == 1
