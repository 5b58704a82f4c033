"""The shop's facts (name, IANA time zone, currency, primary locale): read from Shopify at install and by the
daily reconciliation, kept current by the signed shop/update webhook (bound to its shop, a late delivery
ignored), and the shop's time zone deciding the day of a birthday (midnight in Paris and Auckland, not UTC)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select, update

from db.tables import perk_grants, shops
from jobs.scheduled import give_birthday_perks, mature_points
from loyalty.domain.programme import template
from loyalty.services.customers import find_customer, set_birthday
from loyalty.services.shop_identity import learn_shop_id, learn_shop_identity
from loyalty.services.shops import save_programme, set_shop_facts, shop_facts
from tests.factories import order


def facts(ctx, shop):
    with ctx.engine.connect() as conn:
        return shop_facts(conn, shop.id)


def test_install_reads_the_shops_name_time_zone_currency_and_locale(ctx, shop, emulator, factory):
    """learn_shop_id (install, `loyalty shops add`) stores the id and the facts `shop` and `shopLocales` say."""
    emulator.update_shop(shop.domain, name="Maison A", timezone="Europe/Paris", currency="EUR", locale="fr")
    assert learn_shop_id(ctx, shop.domain, client_factory=factory) == emulator.shop(shop.domain).id
    got = facts(ctx, shop)
    assert (got.name, got.timezone, got.currency, got.locale) == ("Maison A", "Europe/Paris", "EUR", "fr")


def test_the_daily_read_follows_a_change_made_in_shopify(ctx, shop, emulator, factory):
    """The reconciliation's read (learn_shop_identity) replaces facts read earlier (a missed shop/update)."""
    learn_shop_id(ctx, shop.domain, client_factory=factory)
    emulator.update_shop(shop.domain, timezone="Pacific/Auckland", currency="NZD")
    identity = learn_shop_identity(ctx, shop.domain, client_factory=factory)
    assert (identity.timezone, identity.currency) == ("Pacific/Auckland", "NZD")
    assert (facts(ctx, shop).timezone, facts(ctx, shop).currency) == ("Pacific/Auckland", "NZD")


def test_an_unreadable_shop_leaves_the_install_standing_with_fallback_facts(ctx, shop):
    """Best effort: no answer from Shopify stores nothing, and the shop runs on UTC and English."""
    assert learn_shop_id(ctx, shop.domain, client_factory=lambda *a: (_ for _ in ()).throw(OSError("down"))) is None
    got = facts(ctx, shop)
    assert (got.timezone, got.locale) == ("UTC", "en")


def test_shop_update_webhook_stores_the_new_facts(send, process, ctx, shop, emulator):
    """A signed shop/update (the body the emulator makes, as Shopify's) is recorded and applied."""
    body = emulator.update_shop(shop.domain, name="Maison A", timezone="Europe/Paris", currency="EUR", locale="fr")
    assert send("shop/update", body).status_code == 200
    process()
    got = facts(ctx, shop)
    assert (got.name, got.timezone, got.currency, got.locale) == ("Maison A", "Europe/Paris", "EUR", "fr")


def test_shop_update_older_than_the_stored_facts_changes_nothing(send, process, ctx, shop, emulator):
    """A delivery made before the facts were last read (Shopify retries, out of order) does not undo them."""
    body = emulator.update_shop(shop.domain, timezone="Europe/Paris")
    with ctx.engine.begin() as conn:
        set_shop_facts(conn, shop.domain, datetime(2100, 1, 1, tzinfo=timezone.utc), timezone="Pacific/Auckland")
    send("shop/update", body)
    process()
    assert facts(ctx, shop).timezone == "Pacific/Auckland"


def test_shop_update_naming_another_shop_is_refused_at_the_door(send, ctx, shop, emulator):
    """The body is the Shop resource: its `myshopify_domain` and `id` must be the header's shop."""
    emulator.add_shop("other.myshopify.com")
    body = emulator.update_shop("other.myshopify.com", timezone="Asia/Tokyo")
    assert send("shop/update", body).status_code == 403
    assert facts(ctx, shop).timezone == "UTC"


def test_shop_update_with_another_shop_id_is_refused_at_the_door(send, ctx, shop, emulator):
    """Once the shop's id is known, a body naming another id (its domain changed by hand) is refused."""
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.domain == shop.domain).values(shopify_shop_id=123))
    own = emulator.update_shop(shop.domain, timezone="Asia/Tokyo")
    assert send("shop/update", own).status_code == 403
    assert facts(ctx, shop).timezone == "UTC"


def test_shop_update_without_the_shop_resource_shape_is_refused(send, shop):
    """An order or a customer body replayed as shop/update is not of its shape."""
    assert send("shop/update", order(lines=((10, 1),))).status_code == 400
    assert send("shop/update", {"id": 1, "email": "c@example.com"}).status_code == 400


# -- birthdays in the shop's calendar ---------------------------------------------------------------------

@pytest.fixture
def store_a(ctx, shop):
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a").with_changes(shop_name="Maison A"),
                       datetime(2024, 1, 1, tzinfo=timezone.utc))
    return shop


def celebrating(send, process, ctx, shop, zone):
    """A customer with 200 confirmed points, born on 17 May, in a shop whose time zone is `zone`."""
    with ctx.engine.begin() as conn:
        set_shop_facts(conn, shop.domain, datetime(2024, 1, 1, tzinfo=timezone.utc), timezone=zone)
    send("orders/paid", order(lines=((200, 1),), email="lena@example.com", customer_id=501))
    process()
    mature_points(datetime(2025, 6, 1, tzinfo=timezone.utc), ctx)
    with ctx.engine.begin() as conn:
        set_birthday(conn, shop.id, find_customer(conn, shop.id, "501").id, date(1990, 5, 17))


def given(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(perk_grants.c.period).where(perk_grants.c.period != "")).scalars().all()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_birthday_starts_at_midnight_in_paris_not_utc(send, process, ctx, store_a):
    """Paris is UTC+2 in May: 17 May begins at 22:00 UTC on the 16th; a minute before, nothing."""
    celebrating(send, process, ctx, store_a, "Europe/Paris")
    assert give_birthday_perks(utc("2026-05-16T21:59:00"), ctx) == 0
    assert give_birthday_perks(utc("2026-05-16T22:00:00"), ctx) == 1
    assert given(ctx) == ["2026"]


def test_birthday_starts_at_midnight_in_auckland_and_ends_there_too(send, process, ctx, store_a):
    """Auckland is UTC+12 in May: 17 May runs from 12:00 UTC on the 16th to 12:00 UTC on the 17th, so at
    13:00 UTC on the 17th (still the 17th in UTC) the day is over where the shop is."""
    celebrating(send, process, ctx, store_a, "Pacific/Auckland")
    assert give_birthday_perks(utc("2026-05-16T11:59:00"), ctx) == 0
    assert give_birthday_perks(utc("2026-05-17T13:00:00"), ctx) == 0
    assert give_birthday_perks(utc("2026-05-16T12:00:00"), ctx) == 1


def test_birthday_in_a_shop_without_a_time_zone_is_a_utc_day(send, process, ctx, store_a):
    """Before the facts are read the shop's calendar is UTC's, as before."""
    celebrating(send, process, ctx, store_a, "UTC")
    assert give_birthday_perks(utc("2026-05-16T23:59:00"), ctx) == 0
    assert give_birthday_perks(utc("2026-05-17T00:00:00"), ctx) == 1
