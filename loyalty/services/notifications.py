"""The email outbox: a customer email is recorded in the same transaction as the event that causes it.

Nothing is lost (the email commits or rolls back with its event) and nothing is queued twice (a UNIQUE
business key per email: `SHOP:order:ID:available`, `SHOP:customer:ID:threshold:KEYS`, `SHOP:voucher:ID`,
`SHOP:customer:ID:expiring:LAST_PURCHASE:30`, `SHOP:customer:ID:birthday:KEY:YEAR`). The text is rendered
when the event happens, in the programme's language, so the email states the facts of that moment.

Who may receive them: a customer with an email address who has not opted out
(`customers.accepts_loyalty_emails`, see set_accepts_emails), of an installed shop whose programme sends
emails (`emails`). Otherwise the row is recorded as `skipped` with the reason, so support can see why
and a replay of the event does not reconsider it. A redacted customer has no record left: nothing is
recorded, and their earlier emails are deleted with them (foreign key ON DELETE CASCADE).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from db.tables import customers, email_texts, notifications, shops, tier_members, vouchers
from loyalty.domain import keys
from loyalty.domain.offers import conversion_facts
from loyalty.domain.email_texts import EmailText
from loyalty.domain.emails import render
from loyalty.domain.programme import Programme, Reward
from loyalty.domain.times import iso, last_day
from loyalty.services.balances import balance
from loyalty.services.shops import latest_order_currency, programme, shop_zone


def enqueue(conn: Connection, *, shop_id: int, prog: Programme, customer_id: int, kind: str, key: str,
            facts: dict, now: datetime) -> str | None:
    """Record one email (rendered now) unless its key is already there; returns its status (`pending` or
    `skipped`), or None when the customer does not exist (redacted) or the email was already recorded.
    `facts` may carry the shop's `currency` when the caller knows it (else it is looked up). The merchant's
    own text for the kind and language (email_texts), if any, replaces the built-in subject and body."""
    customer = conn.execute(_RECIPIENT, {"customer_id": customer_id, "shop_id": shop_id, "kind": kind,
                                         "language": prog.language}).first()
    if customer is None:
        return None
    reason = skip_reason(prog, customer, customer)
    values = dict(shop_id=shop_id, customer_id=customer_id, kind=kind, dedup_key=keys.email(shop_id, key),
                  language=prog.language, next_attempt_at=now, created_at=now)
    if reason:
        values.update(status="skipped", last_error=reason, to_address=customer.email)
    else:
        own = EmailText(customer.own_subject, customer.own_body) if customer.own_subject else None
        email = render(kind, prog.language, {
            "shop_name": shop_name(prog, customer.domain), "shop_url": shop_url(customer.domain),
            "to_address": customer.email, **facts,
            "currency": facts.get("currency") or shop_currency(conn, shop_id)}, own)
        values.update(status="pending", to_address=customer.email, subject=email.subject, body_text=email.text,
                      body_html=email.html)
    inserted = conn.execute(_insert_once(conn), values).first()
    return values["status"] if inserted is not None else None


def skip_reason(prog: Programme, customer, shop) -> str | None:
    """Why this customer may not receive a loyalty email, or None when they may."""
    if shop.uninstalled_at is not None:
        return "the shop uninstalled the app"
    if not prog.emails:
        return "the shop's programme sends no emails"
    if not customer.email:
        return "no email address"
    if not customer.accepts_loyalty_emails:
        return "the customer opted out of loyalty emails"
    return None


def set_accepts_emails(conn: Connection, shop_id: int, customer_id: int, accepts: bool) -> bool:
    """Opt the customer in or out of loyalty emails; True when the customer exists in the shop."""
    return bool(conn.execute(update(customers).where(customers.c.id == customer_id, customers.c.shop_id == shop_id)
                             .values(accepts_loyalty_emails=accepts)).rowcount)


def accepts_emails(conn: Connection, shop_id: int, customer_id: int) -> bool | None:
    """Whether the shop's customer receives loyalty emails; None when the shop has no such customer."""
    return conn.execute(select(customers.c.accepts_loyalty_emails).where(
        customers.c.id == customer_id, customers.c.shop_id == shop_id)).scalar()


"""Shopify's `email_marketing_consent.state` -> loyalty emails. Never having subscribed to marketing
(`not_subscribed`, `pending`) changes nothing: loyalty emails are about the customer's own account."""


def shop_name(prog: Programme, domain: str) -> str:
    """The name emails show: the programme's `shop_name`, else the shop's domain name."""
    return prog.shop_name or domain.removesuffix(".myshopify.com")


def shop_url(domain: str) -> str:
    """The shop's address in emails: its myshopify.com domain, which Shopify redirects to the primary one."""
    return f"https://{domain}"


def shop_currency(conn: Connection, shop_id: int) -> str:
    """The shop's currency, as its latest order states it (EUR before any order)."""
    return latest_order_currency(conn, shop_id) or "EUR"


def counts(conn: Connection) -> dict:
    """How many emails are pending, sent, failed and skipped."""
    found = dict(conn.execute(select(notifications.c.status, func.count()).group_by(notifications.c.status)).all())
    return {status: found.get(status, 0) for status in ("pending", "sent", "failed", "skipped")}


def listing(conn: Connection, shop_id: int | None = None, status: str | None = None, limit: int = 50) -> list[dict]:
    """The latest emails (of one shop, of one status), newest first, JSON-ready, without their bodies."""
    query = select(notifications, shops.c.domain).join(shops, shops.c.id == notifications.c.shop_id)
    if shop_id is not None:
        query = query.where(notifications.c.shop_id == shop_id)
    if status is not None:
        query = query.where(notifications.c.status == status)
    rows = conn.execute(query.order_by(notifications.c.id.desc()).limit(limit)).all()
    return [{"id": r.id, "shop": r.domain, "kind": r.kind, "to": r.to_address, "subject": r.subject,
             "language": r.language, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
             "transport": r.transport, "created_at": iso(r.created_at), "sent_at": iso(r.sent_at)}
            for r in rows]


def emails_of(conn: Connection, customer_id: int) -> list[dict]:
    """The customer's recorded emails, oldest first (for their data export): what, to where, when, status."""
    rows = conn.execute(select(notifications).where(notifications.c.customer_id == customer_id)
                        .order_by(notifications.c.id)).all()
    return [{"kind": r.kind, "to": r.to_address, "subject": r.subject, "status": r.status,
             "reason": r.last_error if r.status == "skipped" else None,
             "recorded_at": iso(r.created_at), "sent_at": iso(r.sent_at)} for r in rows]


def find(conn: Connection, notification_id: int, shop_id: int | None = None):
    """One email with its bodies (within the shop when given), or None."""
    query = select(notifications).where(notifications.c.id == notification_id)
    if shop_id is not None:
        query = query.where(notifications.c.shop_id == shop_id)
    return conn.execute(query).first()


# Statements built once (building them costs more than running them on SQLite: an email per matured order).
_RECIPIENT = (select(customers.c.email, customers.c.accepts_loyalty_emails, shops.c.domain, shops.c.uninstalled_at,
                     email_texts.c.subject.label("own_subject"), email_texts.c.body.label("own_body"))
              .join(shops, shops.c.id == customers.c.shop_id)
              .outerjoin(email_texts, (email_texts.c.shop_id == shops.c.id) & (email_texts.c.kind == bindparam("kind"))
                         & (email_texts.c.language == bindparam("language")))
              .where(customers.c.id == bindparam("customer_id"), customers.c.shop_id == bindparam("shop_id")))
_INSERTS: dict = {}


def _insert_once(conn: Connection):
    """INSERT ... ON CONFLICT (dedup_key) DO NOTHING RETURNING id, for the connection's dialect."""
    name = conn.dialect.name
    if name not in _INSERTS:
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        _INSERTS[name] = insert(notifications).on_conflict_do_nothing(
            index_elements=[notifications.c.dedup_key]).returning(notifications.c.id)
    return _INSERTS[name]


# -- the events customers are told about (each recorded in the event's own transaction) -------------------

EXPIRY_NOTICE_DAYS = (30, 7)
"""Customers are told this many days before their points expire (store B: a month, then a week)."""


def points_available(conn, shop_id: int, customer_id: int, matured: list, now: datetime,
                     prog: Programme | None = None, currency: str | None = None) -> str | None:
    """Orders' points just became available (`matured`: rows with shopify_order_id, name, pending): one
    email with the new balance and what it can buy now. `prog` and `currency`: the shop's, if known (a
    maturity run looks them up once per shop)."""
    prog = prog or current_programme(conn, shop_id)
    available = balance(conn, customer_id).available
    first = min(matured, key=lambda row: row.shopify_order_id)
    return enqueue(conn, shop_id=shop_id, prog=prog, customer_id=customer_id, kind="points_available",
                   key=keys.points_available_event(first.shopify_order_id), now=now, facts={
                       "points": sum(int(row.pending) for row in matured),
                       "orders": [row.name or str(row.shopify_order_id) for row in matured],
                       "available": available,
                       "redeemable": [_reward(r) for r in prog.redeemable if r.points <= available],
                       "conversion": conversion_facts(prog, available), "currency": currency})


def notify_perks_granted(conn, shop, prog: Programme, customer_id: int, granted, now: datetime) -> str | None:
    """Status perks were just unlocked (loyalty.services.perks.refresh_perks' `granted`): one email naming each perk
    and how to enjoy it (the seed: "Tu seras prévenu·e par mail")."""
    perks = sorted(granted, key=lambda r: (r.points, r.key))
    if not perks:
        return None
    return enqueue(conn, shop_id=shop.id, prog=prog, customer_id=customer_id, kind="threshold_reached",
                   key=keys.threshold_event(customer_id, [r.key for r in perks]), now=now, facts={
                       "perks": [_reward(r) for r in perks],
                       "lifetime": balance(conn, customer_id).lifetime})


def voucher_created(conn, voucher_id: int, now: datetime) -> str | None:
    """A voucher became usable: its code, amount, minimum basket and end date."""
    voucher = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).first()
    if voucher is None or voucher.customer_id is None:
        return None
    prog = current_programme(conn, voucher.shop_id)
    if voucher.reward_key == BIRTHDAY_GIFT:
        return _birthday_gift(conn, prog, voucher, now)
    reward = prog.reward(voucher.reward_key) if voucher.reward_key else None
    tier_gift = _tier_name(conn, prog, voucher.customer_id) if voucher.reward_key == TIER_GIFT else None
    ends_at = voucher.ends_at
    return enqueue(conn, shop_id=voucher.shop_id, prog=prog, customer_id=voucher.customer_id,
                   kind="voucher_created", key=keys.voucher_event(voucher.id), now=now, facts={
                       "kind": voucher.kind, "code": voucher.code, "points": voucher.points,
                       "amount": voucher.amount, "minimum_subtotal": voucher.minimum_subtotal,
                       "title": reward.title if reward else None,
                       "percentage": f"{voucher.percentage.normalize():f}" if voucher.percentage else None,
                       "tier_gift": tier_gift,  # a VIP tier's free shipping code (given, not bought)
                       # the code works until ends_at: the last whole day it can be used
                       "ends_on": last_day(ends_at, shop_zone(conn, voucher.shop_id))})


def voucher_cancelled(conn, voucher_id: int, now: datetime) -> str | None:
    """Customer service cancelled a voucher: its code no longer works, and the points it cost are back
    (loyalty.services.vouchers.give_back re-credits them; a gift had none)."""
    voucher = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).first()
    if voucher is None or voucher.customer_id is None:
        return None
    prog = current_programme(conn, voucher.shop_id)
    reward = prog.reward(voucher.reward_key) if voucher.reward_key else None
    return enqueue(conn, shop_id=voucher.shop_id, prog=prog, customer_id=voucher.customer_id,
                   kind="voucher_cancelled", key=keys.voucher_cancelled_event(voucher.id), now=now, facts={
                       "kind": voucher.kind, "code": voucher.code, "title": reward.title if reward else None,
                       "points": voucher.points, "available": balance(conn, voucher.customer_id).available})


BIRTHDAY_GIFT = "@birthday"
"""The reward_key of a birthday gift code (no catalogue key can start with @)."""
TIER_GIFT = "@tier"
"""The reward_key of a VIP tier's free shipping code (loyalty.services.tier_gifts)."""


def _tier_name(conn, prog: Programme, customer_id: int) -> str:
    """The name of the customer's tier, for the email of its free shipping code ("VIP" if they left it)."""
    key = conn.execute(select(tier_members.c.tier).where(tier_members.c.customer_id == customer_id)).scalar()
    tier = prog.tiers.tier(key) if key else None
    return tier.name if tier else "VIP"


def _birthday_gift(conn, prog: Programme, voucher, now: datetime) -> str | None:
    """A birthday gift code became usable: the `birthday_gift` email with the code (and the birthday points,
    when the programme gives some)."""
    return enqueue(conn, shop_id=voucher.shop_id, prog=prog, customer_id=voucher.customer_id, kind="birthday_gift",
                   key=keys.birthday_gift_event(voucher.id), now=now, facts={
                       "kind": voucher.kind, "code": voucher.code, "amount": voucher.amount,
                       "points": prog.earning.birthday.points,
                       "ends_on": last_day(voucher.ends_at, shop_zone(conn, voucher.shop_id))})


def current_programme(conn, shop_id: int) -> Programme:
    """The programme the shop runs now."""
    version = conn.execute(select(shops.c.settings_version).where(shops.c.id == shop_id)).scalar_one()
    return programme(conn, shop_id, version)


def _reward(reward: Reward) -> dict:
    return {"key": reward.key, "title": reward.title, "description": reward.description, "points": reward.points,
            "birthday": reward.birthday}


