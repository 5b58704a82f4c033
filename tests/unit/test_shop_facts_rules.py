"""The rules of the shop's facts: shop/update's body as a command and at the door, the shop's calendar for
birthdays and the days emails name, and amounts in ledger reasons to the cent."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.shopify import webhook_bodies
from integrations.shopify.errors import BadPayload
from integrations.shopify.translate import to_command
from loyalty.domain import money
from loyalty.domain.commands import ShopClaim, UpdateShopFacts
from loyalty.domain.times import last_day, local_date
from loyalty.domain.shops import ShopFacts
from tests.samples import sample

SHOP = "store-a.myshopify.com"


def shop_body(**changes) -> dict:
    body = {"id": 548380009, "name": "Maison A", "myshopify_domain": SHOP, "domain": "maison-a.fr",
            "iana_timezone": "Europe/Paris", "currency": "EUR", "primary_locale": "fr",
            "updated_at": "2026-05-01T10:00:00+02:00"}
    return {**body, **changes}


def test_shop_update_becomes_the_shops_facts():
    """name, iana_timezone, currency, primary_locale and updated_at; the Shop resource names its shop."""
    assert to_command("shop/update", shop_body()) == UpdateShopFacts(
        shop=ShopClaim(SHOP, 548380009), name="Maison A", timezone="Europe/Paris", currency="EUR", locale="fr",
        updated_at=datetime(2026, 5, 1, 8, tzinfo=timezone.utc))


def test_shop_update_of_shopifys_sample_shop_resource():
    """Shopify's documented Shop resource (../shared/shopify/samples/shop_single.json) translates."""
    body = sample("shop_single.json", shop=SHOP)
    cmd = to_command("shop/update", body)
    assert (cmd.name, cmd.timezone, cmd.currency, cmd.locale) == (body["name"], body["iana_timezone"],
                                                                  body["currency"], body["primary_locale"])
    assert webhook_bodies.shape_problem("shop/update", body) is None


def test_shop_update_refuses_a_currency_that_is_no_iso_code():
    with pytest.raises(BadPayload, match="currency"):
        to_command("shop/update", shop_body(currency="E1"))


def test_shop_update_missing_facts_leave_them_unchanged():
    """Absent or empty fields are None: set_shop_facts keeps what it had."""
    cmd = to_command("shop/update", {"id": 1, "myshopify_domain": SHOP, "name": ""})
    assert (cmd.name, cmd.timezone, cmd.currency, cmd.locale, cmd.updated_at) == (None, None, None, None, None)


def test_shop_update_shape_is_the_shop_resource():
    """Its id and myshopify_domain are required; an order's or a compliance body's fields mark another topic."""
    assert webhook_bodies.shape_problem("shop/update", shop_body()) is None
    assert webhook_bodies.shape_problem("shop/update", {"id": 1}) == "myshopify_domain: missing or not a string"
    assert "another topic" in webhook_bodies.shape_problem("shop/update", shop_body(line_items=[]))
    assert "another topic" in webhook_bodies.shape_problem("shop/update", shop_body(shop_id=1))


def test_shop_update_naming_another_shop_or_id_is_foreign():
    body = shop_body()
    assert webhook_bodies.foreign_shop("shop/update", body, SHOP, 548380009) is None
    assert webhook_bodies.foreign_shop("shop/update", body, "other.myshopify.com", None).field == "myshopify_domain"
    assert webhook_bodies.foreign_shop("shop/update", body, SHOP, 1).shop_id == 548380009


def test_birthday_day_is_the_shops_calendar_day():
    """22:00 UTC on 16 May is 17 May in Paris (UTC+2), 10:00 on 17 May in Auckland (UTC+12)."""
    moment = datetime(2026, 5, 16, 22, tzinfo=timezone.utc)
    def today(zone, at=moment):  # as loyalty.services.birthdays.shop_today reads the shop's row
        return ShopFacts(SHOP, timezone=zone or "UTC").local_day(at)
    assert today("Europe/Paris") == date(2026, 5, 17)
    assert today("Pacific/Auckland") == date(2026, 5, 17)
    assert today(None) == date(2026, 5, 16)
    assert today("Pacific/Auckland", datetime(2026, 5, 16, 11, 59, tzinfo=timezone.utc)) == date(2026, 5, 16)


def test_valid_until_day_is_the_last_whole_day_in_the_shops_calendar():
    """A code ending at 01:00 on 11 January in Auckland (UTC+13: 12:00 UTC on the 10th) still works on the
    11th there, the day the email names; UTC's calendar would name the 10th. Ending at the shop's midnight,
    the day before is named."""
    ends = datetime(2027, 1, 10, 12, tzinfo=timezone.utc)
    assert last_day(ends, ZoneInfo("Pacific/Auckland")) == date(2027, 1, 11)
    assert last_day(ends) == date(2027, 1, 10)
    assert last_day(datetime(2027, 1, 10, 11, tzinfo=timezone.utc), ZoneInfo("Pacific/Auckland")) == date(2027, 1, 10)
    assert last_day(datetime(2027, 1, 10, 23, tzinfo=timezone.utc), ZoneInfo("Europe/Paris")) == date(2027, 1, 10)
    assert local_date(datetime(2027, 1, 10, 23, 30), ZoneInfo("Europe/Paris")) == date(2027, 1, 11)


def test_reason_amount_has_the_currencys_two_decimals():
    """`refund of 45.0000 EUR` is written `refund of 45.00 EUR` from now on; halves round up as shown."""
    assert money.label(Decimal("45.0000"), "EUR") == "45.00 EUR"
    assert money.label(Decimal("12.345"), "EUR") == "12.35 EUR"
    assert money.label(Decimal("5")) == "5.00"
    assert money.label(Decimal("5.0000"), None) == "5.00"
