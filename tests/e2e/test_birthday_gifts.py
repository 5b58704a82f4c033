"""The birthday gift code (earning.birthday.gift), end to end: the daily job reserves it at no cost, makes it in
Shopify (the emulator) and records the `birthday_gift` email carrying the code; a second run the same year gives
nothing, the next year gives again."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from db.tables import ledger_entries, notifications, vouchers
from jobs.scheduled import give_birthday_perks
from loyalty.services.customers import find_customer, set_birthday
from tests.e2e.test_earning_bonuses import programme_with
from tests.factories import customer

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the suite's short secret


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=6, tzinfo=timezone.utc)


def celebrating(send, process, ctx, shop, emulator, shopify_id: int, email: str) -> int:
    """A customer with a Shopify account (also in the emulator) born on 17 May; returns their id."""
    emulator.add_customer(shop.domain, shopify_id, email)
    send("customers/create", customer(shopify_id, email))
    process()
    with ctx.engine.begin() as conn:
        record = find_customer(conn, shop.id, str(shopify_id)).id
        set_birthday(conn, shop.id, record, date(1990, 5, 17))
    return record


def gift_vouchers(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(vouchers).order_by(vouchers.c.id)).all()


def gift_emails(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(notifications).where(notifications.c.kind == "birthday_gift")
                            .order_by(notifications.c.id)).all()


def spent_entries(ctx):
    """Ledger entries that move points (a gift costs none: no redeem entry, nothing else either)."""
    with ctx.engine.connect() as conn:
        return conn.execute(select(ledger_entries.c.kind).where(ledger_entries.c.kind.in_(("redeem", "recredit"))
                                                                )).scalars().all()


GIFT = {"earning.birthday.gift": "free_shipping", "earning.birthday.validity_days": "14"}


@pytest.mark.parametrize("gift, paths", [
    ("voucher", {"earning.birthday.gift": "voucher", "earning.birthday.amount": "10",
                 "earning.birthday.validity_days": "30"}),
    ("free_shipping", GIFT),
])
def test_the_birthday_gift_code_is_made_in_shopify_emailed_and_given_once_a_year(
        send, process, ctx, shop, emulator, factory, gift, paths):
    programme_with(ctx, shop, **paths)
    record = celebrating(send, process, ctx, shop, emulator, 801, "gift@example.com")
    give_birthday_perks(at("2026-05-16"), ctx, client_factory=factory)
    assert gift_vouchers(ctx) == [] and emulator.discount_codes(shop.domain) == []

    give_birthday_perks(at("2026-05-17"), ctx, client_factory=factory)
    [voucher] = gift_vouchers(ctx)
    assert (voucher.customer_id, voucher.status, voucher.points) == (record, "active", 0)
    assert voucher.kind == ("discount" if gift == "voucher" else "free_shipping")
    [made] = emulator.discount_codes(shop.domain)
    assert made["code"] == voucher.code and made["status"] == "ACTIVE"
    assert made["customer_ids"] == [801] and made["usage_limit"] == 1
    assert (made["kind"], made["amount"]) == (("basic", "10.0") if gift == "voucher" else ("free_shipping", None))
    days = (datetime.fromisoformat(made["ends_at"]) - datetime.fromisoformat(made["starts_at"])).days
    assert days == int(paths["earning.birthday.validity_days"])
    assert spent_entries(ctx) == []
    [email] = gift_emails(ctx)
    assert email.subject.startswith("Happy birthday!")
    assert email.to_address == "gift@example.com" and voucher.code in email.body_text

    give_birthday_perks(at("2026-05-17"), ctx, client_factory=factory)
    assert len(gift_vouchers(ctx)) == 1 and len(emulator.discount_codes(shop.domain)) == 1
    assert len(gift_emails(ctx)) == 1

    give_birthday_perks(at("2027-05-17"), ctx, client_factory=factory)
    assert len(gift_vouchers(ctx)) == 2 and len(emulator.discount_codes(shop.domain)) == 2
    assert len(gift_emails(ctx)) == 2 and spent_entries(ctx) == []


def test_a_gift_code_shopify_could_not_make_is_made_by_the_next_run(send, process, ctx, shop, emulator, factory):
    """Shopify unreachable on the first run: the code waits (reserved, `creating`, no email); the next hourly
    run makes that same code, once, and emails it."""
    programme_with(ctx, shop, **GIFT)
    celebrating(send, process, ctx, shop, emulator, 802, "later@example.com")

    def unreachable(*_args):
        raise ConnectionError("Shopify unreachable")

    give_birthday_perks(at("2026-05-17"), ctx, client_factory=unreachable)
    [waiting] = gift_vouchers(ctx)
    assert waiting.status == "creating" and emulator.discount_codes(shop.domain) == [] and gift_emails(ctx) == []
    give_birthday_perks(at("2026-05-17"), ctx, client_factory=factory)
    [made] = gift_vouchers(ctx)
    assert (made.id, made.status) == (waiting.id, "active")
    assert [c["code"] for c in emulator.discount_codes(shop.domain)] == [made.code]
    assert [made.code in e.body_text for e in gift_emails(ctx)] == [True]
