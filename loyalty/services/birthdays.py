"""The birthday present, given once a year by a daily job to customers who have unlocked a `birthday` perk
and whose birthday it is (recorded by loyalty.services.customers.set_birthday from the storefront form or the
customer metafield)."""
from __future__ import annotations

import calendar
from datetime import date, datetime

from sqlalchemy import extract, or_, select
from sqlalchemy.engine import Connection

from db.tables import bonus_awards, customers, perk_grants, shops, vouchers as voucher_rows
from loyalty.domain.birthdays import celebrates_on
from loyalty.domain import keys
from loyalty.domain.standing import confirmed_lifetime
from loyalty.domain.offers import Offer
from loyalty.domain.programme import Programme
from loyalty.domain.shops import ShopFacts
from loyalty.services import bonuses, ledger, vouchers
from loyalty.services.notifications import BIRTHDAY_GIFT, enqueue
from loyalty.services.shops import ShopRef, programme

def shop_today(shop, as_of: datetime) -> date:
    """The shop's calendar day at the instant `as_of` (a row with `domain` and `iana_timezone`): a birthday
    is the customer's day where the shop is, not in UTC (Auckland's 17 May starts at 12:00 UTC on the 16th)."""
    return ShopFacts(shop.domain, timezone=shop.iana_timezone or "UTC").local_day(as_of)


def _installed_shops(conn: Connection) -> list:
    return conn.execute(select(shops.c.id, shops.c.domain, shops.c.settings_version, shops.c.iana_timezone)
                        .where(shops.c.uninstalled_at.is_(None))).all()


def give_birthday_perks(conn: Connection, as_of: datetime, now: datetime) -> int:
    """Give each birthday perk to the customers celebrating their birthday on the shop's day at `as_of` who
    have unlocked it (confirmed lifetime points at least its threshold: pending points do not count): a perk
    grant for the year (UNIQUE customer, perk, year: once a year however often the job runs) and a birthday
    email. Returns how many presents were given."""
    given = 0
    for shop in _installed_shops(conn):
        prog = programme(conn, shop.id, shop.settings_version)
        perks = [r for r in prog.perks if r.birthday]
        if not perks:
            continue
        today = shop_today(shop, as_of)
        for customer_id, birthday in _celebrating(conn, shop.id, today):
            lifetime = confirmed_lifetime(ledger.balance(conn, customer_id))
            for perk in perks:
                if lifetime < perk.points or not _grant(conn, shop.id, customer_id, perk.key, today.year, now):
                    continue
                enqueue(conn, shop_id=shop.id, prog=prog, customer_id=customer_id, kind="birthday",
                        key=keys.birthday_event(customer_id, perk.key, today.year), now=now,
                        facts={"perk": {"key": perk.key, "title": perk.title, "description": perk.description}})
                given += 1
    return given


def _celebrating(conn: Connection, shop_id: int, today: date) -> list[tuple[int, date]]:
    same_day = (extract("month", customers.c.birthday) == today.month) & (extract("day", customers.c.birthday) == today.day)
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        same_day = or_(same_day, (extract("month", customers.c.birthday) == 2) & (extract("day", customers.c.birthday) == 29))
    rows = conn.execute(select(customers.c.id, customers.c.birthday).where(
        customers.c.shop_id == shop_id, customers.c.birthday.is_not(None), same_day)).all()
    return [(row.id, row.birthday) for row in rows if celebrates_on(row.birthday, today)]


def _grant(conn: Connection, shop_id: int, customer_id: int, reward_key: str, year: int, now: datetime) -> bool:
    """The year's grant, once: False when it was already given. No tag: the present is the email (the status
    perk of the same key carries the tag)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return conn.execute(insert(perk_grants).values(
        shop_id=shop_id, customer_id=customer_id, reward_key=reward_key, period=str(year), tag=None,
        granted_at=now, tag_synced=True,
    ).on_conflict_do_nothing(index_elements=[perk_grants.c.customer_id, perk_grants.c.reward_key,
                                             perk_grants.c.period]).returning(perk_grants.c.id)).first() is not None


GIFT_KINDS = {"voucher": "discount", "gift_card": "gift_card", "free_shipping": "free_shipping"}
"""The programme's birthday gift -> the voucher kind that makes it."""


@ledger.perks_once
def give_birthday_bonuses(conn: Connection, as_of: datetime, now: datetime) -> list[int]:
    """The programme's birthday content (earning.birthday) for customers celebrating their birthday on the
    shop's day at `as_of` whose confirmed lifetime points reach its minimum: the points (a bonus, once a year)
    and the gift code, reserved here at no cost (one per customer and year: its request key), to be made in
    Shopify after this transaction. Returns the ids of the gift codes still to make (this year's, including
    those an earlier run left)."""
    waiting = []
    for shop in _installed_shops(conn):
        prog = programme(conn, shop.id, shop.settings_version)
        rule = prog.earning.birthday
        if not rule.active:
            continue
        today = shop_today(shop, as_of)
        ref = ShopRef(shop.id, shop.domain, shop.settings_version)
        for customer_id, _ in _celebrating(conn, shop.id, today):
            if confirmed_lifetime(ledger.balance(conn, customer_id)) < rule.minimum_lifetime:
                continue
            if rule.points:
                bonuses.award(conn, ref, prog, customer_id, bonuses.Bonus(
                    rule="birthday", reference=str(today.year), key=keys.birthday_bonus(shop.id, customer_id, today.year),
                    points=rule.points, title="Birthday" if prog.language == "en" else "Anniversaire"),
                    now, now, email=not rule.gift)  # with a gift, its email tells of the points too
            if rule.gift and _has_account(conn, customer_id):
                vouchers.reserve(conn, ref, customer_id, _gift_offer(prog), keys.birthday_gift_request(customer_id, today.year), now)
        waiting += conn.execute(select(voucher_rows.c.id).where(
            voucher_rows.c.shop_id == shop.id, voucher_rows.c.reward_key == BIRTHDAY_GIFT,
            voucher_rows.c.status == "creating")).scalars().all()
    return waiting


def _gift_offer(prog: Programme) -> Offer:
    rule = prog.earning.birthday
    return Offer(points=0, amount=rule.amount, kind=GIFT_KINDS[rule.gift], title="Birthday gift",
                 validity_days=rule.validity_days, reward_key=BIRTHDAY_GIFT,
                 collection_id=rule.collection_id or None, combines=prog.voucher_combines_with_discounts)


def _has_account(conn: Connection, customer_id: int) -> bool:
    """Codes are bound to a Shopify account: a guest record gets the points only."""
    return conn.execute(select(customers.c.shopify_customer_id).where(customers.c.id == customer_id)).scalar() is not None


def present_given(conn: Connection, customer_id: int, year: int) -> bool:
    """Whether the customer already had a birthday present in `year` (the programme's birthday points, or a
    birthday perk's grant): a corrected birthday does not bring a second one that year, since each is keyed
    by customer and year."""
    bonus = conn.execute(select(bonus_awards.c.id).where(
        bonus_awards.c.customer_id == customer_id, bonus_awards.c.rule == "birthday",
        bonus_awards.c.reference == str(year)).limit(1)).first()
    return bonus is not None or conn.execute(select(perk_grants.c.id).where(
        perk_grants.c.customer_id == customer_id, perk_grants.c.period == str(year)).limit(1)).first() is not None
