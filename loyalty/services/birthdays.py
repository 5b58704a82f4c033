"""The birthday present, given once a year by a daily job to customers who have unlocked a `birthday` perk
and whose birthday it is (recorded by loyalty.services.customers.set_birthday from the storefront form or the
customer metafield)."""
from __future__ import annotations

import calendar
from datetime import date, datetime

from sqlalchemy import extract, or_, select
from sqlalchemy.engine import Connection

from db.tables import customers, perk_grants, shops
from loyalty.domain.birthdays import celebrates_on
from loyalty.domain import keys
from loyalty.domain.standing import confirmed_lifetime
from loyalty.services import ledger
from loyalty.services.notifications import enqueue
from loyalty.services.shops import programme

def give_birthday_perks(conn: Connection, today: date, now: datetime) -> int:
    """Give each birthday perk to the customers celebrating `today` who have unlocked it (confirmed lifetime
    points at least its threshold: pending points do not count): a perk grant for the year (UNIQUE customer, perk, year: once a year however often
    the job runs) and a birthday email. Returns how many presents were given."""
    given = 0
    for shop in conn.execute(select(shops.c.id, shops.c.settings_version).where(shops.c.uninstalled_at.is_(None))):
        prog = programme(conn, shop.id, shop.settings_version)
        perks = [r for r in prog.perks if r.birthday]
        if not perks:
            continue
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
