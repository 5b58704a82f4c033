"""Customers are known by Shopify id and by normalised email; two records of one person merge."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from db.tables import bonus_awards, customer_sync, customers, ledger_entries, notifications, orders, vouchers
from loyalty.services.ledger import mark_for_sync
from loyalty.services.ledger_rollup import move_customer_totals
from loyalty.domain.numbers import MAX_SHOPIFY_ID, parse_int
from loyalty.domain.errors import BirthdayRefused
from loyalty.domain.commands import CustomerProfile
from loyalty.domain.customer_search import name_keys


def normalise_email(email: str | None) -> str | None:
    """Trimmed, lower-case email; None for blank."""
    email = (email or "").strip().lower()
    return email or None


def resolve_customer(conn: Connection, shop_id: int, shopify_id: int | None, email: str | None,
                     now: datetime) -> int | None:
    """The customer record for this id and/or email, creating or merging records as needed.

    An order placed with an email before the customer had an account created a record with only the
    email; when the id and that email meet, the two records become one and keep all their points.
    """
    email = normalise_email(email)
    if shopify_id is None and email is None:
        return None
    by_id = _find(conn, shop_id, customers.c.shopify_customer_id, shopify_id) if shopify_id else None
    by_email = _find(conn, shop_id, customers.c.email, email) if email else None
    if by_id is None and by_email is None:
        return conn.execute(_INSERT_CUSTOMER, dict(
            shop_id=shop_id, shopify_customer_id=shopify_id, email=email, created_at=now,
        )).inserted_primary_key[0]
    if by_id is None:
        if shopify_id is not None:
            current = conn.execute(select(customers.c.shopify_customer_id).where(
                customers.c.id == by_email)).scalar()
            if current is None:
                conn.execute(update(customers).where(customers.c.id == by_email).values(
                    shopify_customer_id=shopify_id))
                mark_for_sync(conn, shop_id, by_email, now)  # its points can now be shown to the account
            elif current != shopify_id:
                # The email now belongs to another account: the older record keeps its history.
                conn.execute(update(customers).where(customers.c.id == by_email).values(email=None))
                return conn.execute(insert(customers).values(
                    shop_id=shop_id, shopify_customer_id=shopify_id, email=email, created_at=now,
                )).inserted_primary_key[0]
        return by_email
    if by_email is not None and by_email != by_id:
        email_owner_id = conn.execute(select(customers.c.shopify_customer_id).where(
            customers.c.id == by_email)).scalar()
        if email_owner_id is None:
            _merge(conn, keep=by_id, drop=by_email)
            mark_for_sync(conn, shop_id, by_id, now)
        else:
            conn.execute(update(customers).where(customers.c.id == by_email).values(email=None))
    if email is not None:
        conn.execute(_SET_EMAIL, {"customer_id": by_id, "new_email": email})
    return by_id


def is_stale_profile(conn: Connection, shop_id: int, shopify_id: int, updated_at: datetime | None) -> bool:
    """True when a customers/create|update older than the last one applied arrives (Shopify does not
    deliver in order): applying it would put back an old email."""
    if updated_at is None:
        return False
    applied = conn.execute(select(customers.c.profile_updated_at).where(
        customers.c.shop_id == shop_id, customers.c.shopify_customer_id == shopify_id)).scalar()
    if applied is not None and applied.tzinfo is None:
        applied = applied.replace(tzinfo=updated_at.tzinfo)
    return applied is not None and updated_at < applied


def mark_profile_updated(conn: Connection, customer_id: int | None, updated_at: datetime | None) -> None:
    """Remember the newest customer update applied."""
    if customer_id is not None and updated_at is not None:
        conn.execute(update(customers).where(customers.c.id == customer_id).values(profile_updated_at=updated_at))


def profile_values(profile: CustomerProfile) -> dict:
    """The customers columns a profile sets: names, tags (comma-separated, as Shopify writes them) and the
    search keys folded from the names (loyalty.domain.customer_search)."""
    name_key, surname_key = name_keys(profile.first_name, profile.last_name)
    return {"first_name": profile.first_name, "last_name": profile.last_name,
            "tags": ", ".join(profile.tags) or None, "name_key": name_key, "surname_key": surname_key}


def set_profile(conn: Connection, customer_id: int, profile: CustomerProfile | None) -> None:
    """customers/create|update: the names and tags as Shopify has them now (the caller refused a stale update)."""
    if profile is not None:
        conn.execute(update(customers).where(customers.c.id == customer_id).values(**profile_values(profile)))


_PROFILE_COLUMNS = ("first_name", "last_name", "tags", "name_key", "surname_key")
_ORDER_PROFILE = (update(customers).where(
    customers.c.id == bindparam("customer_id"), customers.c.profile_updated_at.is_(None),
    # Nothing written when nothing changed (a returning customer's every order): no row rewritten.
    or_(*(customers.c[c].is_distinct_from(bindparam(c)) for c in ("first_name", "last_name", "tags"))))
    .values({c: bindparam(c) for c in _PROFILE_COLUMNS}))


def record_order_profiles(conn: Connection, paid) -> None:
    """Names and tags from paid orders' customers, `paid` being (customer record id, OrderFacts) pairs, one
    statement. Only for customers no customers/create|update has reached (profile_updated_at NULL): those
    webhooks are the newer word; an order's copy is as old as the order."""
    latest = {customer_id: facts.profile for customer_id, facts in paid
              if customer_id is not None and facts.profile is not None}
    if latest:
        conn.execute(_ORDER_PROFILE, [{"customer_id": i, **profile_values(p)} for i, p in sorted(latest.items())])


_FIND = {column.name: select(customers.c.id).where(customers.c.shop_id == bindparam("shop_id"),
                                                   column == bindparam("value"))
         for column in (customers.c.shopify_customer_id, customers.c.email)}
"""Lookups by Shopify id and by email, built once: they run for every order."""
_INSERT_CUSTOMER = insert(customers)
_SET_EMAIL = update(customers).where(customers.c.id == bindparam("customer_id")).values(email=bindparam("new_email"))


def _find(conn: Connection, shop_id: int, column, value) -> int | None:
    return conn.execute(_FIND[column.name], {"shop_id": shop_id, "value": value}).scalar()


def _merge(conn: Connection, *, keep: int, drop: int) -> None:
    """Move an email-only record's orders, entries, vouchers, bonus awards and emails onto the account record, then drop it
    (its perk grants and write-back rows are deleted with it)."""
    conn.execute(update(orders).where(orders.c.customer_id == drop).values(customer_id=keep))
    conn.execute(update(vouchers).where(vouchers.c.customer_id == drop).values(customer_id=keep))
    conn.execute(update(ledger_entries).where(ledger_entries.c.customer_id == drop).values(customer_id=keep))
    conn.execute(update(notifications).where(notifications.c.customer_id == drop).values(customer_id=keep))
    conn.execute(update(bonus_awards).where(bonus_awards.c.customer_id == drop).values(customer_id=keep))
    conn.execute(delete(customer_sync).where(customer_sync.c.customer_id == drop))
    shop_id = conn.execute(delete(customers).where(customers.c.id == drop).returning(customers.c.shop_id)).scalar()
    move_customer_totals(conn, shop_id, drop, keep)  # the ledger's roll-up follows its entries


def reference(email_or_id: str) -> tuple[int | None, str]:
    """What a search names: (Shopify id, "") for digits or a gid, else (None, the text stripped); digits
    that are no Shopify id (`²`, beyond 2**63 - 1) give (None, "") and so match no one."""
    text = email_or_id.strip()
    if text.startswith("gid://shopify/Customer/"):
        text = text.rsplit("/", 1)[1]
    if text.isdigit():
        return parse_int(text, 0, MAX_SHOPIFY_ID), ""
    return None, text


def find_customer(conn: Connection, shop_id: int, email_or_id: str):
    """Look a customer up by Shopify id (digits or gid) or by email; None when unknown."""
    shopify_id, text = reference(email_or_id)
    if shopify_id is None and not text:
        return None
    column, value = ((customers.c.shopify_customer_id, shopify_id) if shopify_id is not None
                     else (customers.c.email, normalise_email(text)))
    return conn.execute(select(customers).where(customers.c.shop_id == shop_id, column == value)).first()


def is_customer_of(conn: Connection, shop_id: int, customer_id: int) -> bool:
    """True when the record `customer_id` is one of the shop's customers."""
    return conn.execute(select(customers.c.id).where(customers.c.id == customer_id,
                                                     customers.c.shop_id == shop_id)).first() is not None


BIRTHDAY_YEAR = 2000
"""Birthdays are a day and a month; stored on this leap year so 29 February exists."""


def customer_in_shop(conn: Connection, shop_id: int, customer_id: int):
    """The customer row with that record id if it is the shop's, else None."""
    return conn.execute(select(customers).where(customers.c.id == customer_id, customers.c.shop_id == shop_id)).first()


def set_birthday(conn: Connection, shop_id: int, customer_id: int, birthday: date) -> date:
    """Record the customer's birthday (day and month; the year is not kept), once: a customer cannot move
    it to collect the birthday present twice. Returns the stored date."""
    stored = date(BIRTHDAY_YEAR, birthday.month, birthday.day)
    changed = conn.execute(update(customers).where(
        customers.c.id == customer_id, customers.c.shop_id == shop_id, customers.c.birthday.is_(None),
    ).values(birthday=stored)).rowcount
    if not changed:
        current = conn.execute(select(customers.c.birthday).where(
            customers.c.id == customer_id, customers.c.shop_id == shop_id)).first()
        if current is None:
            raise BirthdayRefused(f"no customer {customer_id} in this shop")
        raise BirthdayRefused("the birthday is already recorded")
    return stored


def correct_birthday(conn: Connection, shop_id: int, customer_id: int, birthday: date | None) -> date | None:
    """Staff's correction: set (or clear) the birthday whatever was recorded (the shopper's once-only rule is
    `set_birthday`'s). Returns the stored date. A present already given this year stays the year's only one:
    perk grants, bonus points and gift codes are keyed by customer and year (loyalty.services.birthdays)."""
    stored = None if birthday is None else date(BIRTHDAY_YEAR, birthday.month, birthday.day)
    conn.execute(update(customers).where(customers.c.id == customer_id, customers.c.shop_id == shop_id)
                 .values(birthday=stored))
    return stored
