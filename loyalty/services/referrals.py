"""Referrals: a friend's claim (the referral and its first-order code), the friend's first order
attributing it, and the maturity run rewarding the referrer. The rules are in loyalty.domain.referrals.

Idempotent everywhere: one referral per friend (normalised email) and shop, so a replayed claim finds it;
an order's contact digests are recorded once (referral_orders, ON CONFLICT DO NOTHING); a referral moves
`invited` -> `attributed` -> `rewarded` | `nothing` | `refused` by UPDATEs guarded by the status they leave,
and the reward is one `bonus` entry under keys.referral_reward. Order independence: the friend's first
order is whichever is earliest, refunds and cancellations are read when the order matures.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from db import rows as rows_db
from db.tables import customers, orders, referral_orders, referrals, refunds, vouchers as voucher_table
from loyalty.domain import keys, referrals as rules
from loyalty.domain.errors import ReferralRefused
from loyalty.domain.offers import Offer
from loyalty.domain.settings.referrals import ReferralSettings
from loyalty.services import ledger, notifications, vouchers
from loyalty.services.customers import normalise_email, resolve_customer
from loyalty.services.shops import ShopRef, programme, shop_zone
from loyalty.domain.times import last_day

ORDER_COLUMNS = ("shop_id", "shopify_order_id", "email", "addresses", "phones", "codes", "paid_at")


# -- the friend's claim --------------------------------------------------------------------------------------

def claim(conn: Connection, shop: ShopRef, code: str, email: str, now: datetime):
    """The referral of the friend `email` by the owner of `code`: found again for a replay, refused with its
    rule (recorded) when the friend is the referrer or not new, else made with the friend's first-order
    voucher reserved (status `creating`; loyalty.services.use_cases.referrals makes the code in Shopify).
    Raises ReferralRefused when the shop has no referrals, the code names no one, or the email is none."""
    prog = programme(conn, shop.id, shop.settings_version)
    settings = prog.referrals
    if not settings.enabled:
        raise ReferralRefused("this shop has no referral programme", "referrals_off")
    referrer_id = rules.customer_of(shop.id, code)
    referrer = conn.execute(select(customers).where(customers.c.id == referrer_id, customers.c.shop_id == shop.id)
                            ).first() if referrer_id is not None else None
    if referrer is None:
        raise ReferralRefused("this referral link names no customer of the shop", "unknown_code")
    friend_email, friend_key = normalise_email(email), rules.normalise_email(email)
    if friend_key is None or len(friend_email) > 320:
        raise ReferralRefused("an email address is needed", "bad_email")
    found = find(conn, shop.id, friend_key)
    if found is not None:
        return found
    refusal = rules.claim_refusal(_contact_of(conn, referrer), _known_orders(conn, shop.id, referrer.id),
                                  friend_email, _has_ordered(conn, shop.id, friend_email, friend_key))
    values = dict(shop_id=shop.id, referrer_id=referrer.id, friend_email=friend_email, friend_key=friend_key,
                  settings_version=shop.settings_version, created_at=now)
    if refusal is not None:
        conn.execute(referrals.insert().values(**values, status="refused", rule=refusal.rule,
                                               reason=refusal.reason, settled_at=now))
        return find(conn, shop.id, friend_key)
    friend_id = resolve_customer(conn, shop.id, None, friend_email, now)
    voucher = vouchers.reserve(conn, shop, friend_id, friend_offer(settings),
                               keys.referral_friend_request(friend_key), now)
    conn.execute(referrals.insert().values(**values, status="invited", voucher_id=voucher.id))
    return find(conn, shop.id, friend_key)


def friend_offer(settings: ReferralSettings) -> Offer:
    """The friend's first-order code as a voucher that costs no points (a percentage is worth 0 in money:
    its rate goes to Shopify, loyalty.services.use_cases.referrals)."""
    amount = settings.friend_value if settings.friend_discount == "amount" else 0
    return Offer(points=0, amount=amount, kind="discount", title="referral: first order",
                 validity_days=settings.friend_validity_days,
                 minimum_subtotal=settings.friend_minimum_subtotal or None)


def find(conn: Connection, shop_id: int, friend_key: str):
    """The shop's referral of this friend (normalised email), with its code, or None."""
    return conn.execute(select(referrals, voucher_table.c.code, voucher_table.c.status.label("voucher_status"))
                        .outerjoin(voucher_table, voucher_table.c.id == referrals.c.voucher_id)
                        .where(referrals.c.shop_id == shop_id, referrals.c.friend_key == friend_key)).first()


def friend_code_ready(conn: Connection, shop: ShopRef, referral, discount_id: str | None, now: datetime) -> None:
    """Shopify made the friend's code: the voucher is active, and the friend gets it by email (once)."""
    vouchers.activate(conn, referral.voucher_id, discount_id, now, notify=False)
    voucher = conn.execute(select(voucher_table).where(voucher_table.c.id == referral.voucher_id)).one()
    prog = programme(conn, shop.id, referral.settings_version)
    settings = prog.referrals
    notifications.enqueue(
        conn, shop_id=shop.id, prog=notifications.current_programme(conn, shop.id), customer_id=voucher.customer_id,
        kind="referral_friend", key=keys.referral_friend_event(referral.id), now=now, facts={
            "code": voucher.code, "amount": voucher.amount,
            "percentage": settings.friend_value if settings.friend_discount == "percentage" else None,
            "minimum_subtotal": voucher.minimum_subtotal,
            "ends_on": last_day(voucher.ends_at, shop_zone(conn, voucher.shop_id))})


# -- the friend's first order ------------------------------------------------------------------------------

def record_paid_orders(conn: Connection, shop: ShopRef, paid: list, now: datetime) -> int:
    """Paid orders (OrderFacts) applied in this transaction: while the shop's referrals are on, record what
    they tell of their buyer (digests) and attribute the invited referrals they are the first order of.
    Returns how many referrals changed."""
    if not paid or not programme(conn, shop.id, shop.settings_version).referrals.enabled:
        return 0
    rows_db.insert_new_rows(conn, referral_orders, ORDER_COLUMNS, [
        (shop.id, f.order_id, rules.digest("email", rules.normalise_email(f.email)),
         " ".join(sorted(rules.contact(None, None, (f.shipping_address, f.buyer_address)).addresses)),
         " ".join(sorted(rules.contact(None, None, (), f.phones).phones)),
         "".join(f" {c.strip().upper()} " for c in f.discount_codes if c.strip()), f.processed_at)
        for f in {f.order_id: f for f in paid}.values()], key=("shop_id", "shopify_order_id"), returning=("shop_id",))
    friend_keys = {k for k in (rules.normalise_email(f.email) for f in paid) if k}
    codes = {c.strip().upper() for f in paid for c in f.discount_codes if c.strip()}
    open_ones = conn.execute(
        select(referrals).outerjoin(voucher_table, voucher_table.c.id == referrals.c.voucher_id).where(
            referrals.c.shop_id == shop.id, referrals.c.status == "invited",
            or_(referrals.c.friend_key.in_(friend_keys), voucher_table.c.code.in_(codes)))
        .order_by(referrals.c.id)).all()
    return sum(attribute(conn, shop, referral, now) for referral in open_ones)


def attribute(conn: Connection, shop: ShopRef, referral, now: datetime) -> bool:
    """Attribute an invited referral to the friend's first order (the earliest paid order with their code or
    email), or refuse it by the fraud rules; False when the friend has no order yet."""
    code = conn.execute(select(voucher_table.c.code).where(voucher_table.c.id == referral.voucher_id)).scalar()
    matches = [referral_orders.c.email == rules.digest("email", referral.friend_key)]
    if code:
        matches.append(referral_orders.c.codes.contains(f" {code} "))
    first = conn.execute(
        select(referral_orders, orders.c.id.label("order_id"), orders.c.customer_id)
        .join(orders, and_(orders.c.shop_id == referral_orders.c.shop_id,
                           orders.c.shopify_order_id == referral_orders.c.shopify_order_id))
        .where(referral_orders.c.shop_id == shop.id, or_(*matches))
        .order_by(referral_orders.c.paid_at, referral_orders.c.shopify_order_id).limit(1)).first()
    if first is None:
        return False
    friend = rules.Contact(first.customer_id, first.email, frozenset(first.addresses.split()),
                           frozenset(first.phones.split()))
    referrer = conn.execute(select(customers).where(customers.c.id == referral.referrer_id)).one()
    refusal = rules.order_refusal(_contact_of(conn, referrer), _known_orders(conn, shop.id, referrer.id), friend,
                                  _aware(first.paid_at) < _aware(referral.created_at)
                                  or _earlier_order(conn, shop.id, first))
    values = dict(order_id=first.order_id, shopify_order_id=first.shopify_order_id)
    if refusal is not None:
        values.update(status="refused", rule=refusal.rule, reason=refusal.reason, settled_at=now)
    else:
        values.update(status="attributed")
    return bool(conn.execute(update(referrals).where(referrals.c.id == referral.id, referrals.c.status == "invited")
                             .values(**values)).rowcount)


# -- the referrer's reward ---------------------------------------------------------------------------------

@ledger.perks_once
def reward_matured(conn: Connection, as_of: datetime, now: datetime, limit: int = 1000) -> int:
    """Reward the referrers of attributed referrals whose friend's order is past its pending period by
    `as_of`: the programme's points less the order's refunds (nothing if cancelled or fully refunded), within
    the referrer's caps; each outcome recorded, the reward emailed. Returns how many referrals settled."""
    due = conn.execute(
        select(referrals, orders.c.pending_until, orders.c.merchandise, orders.c.cancelled_at, orders.c.name,
               orders.c.shopify_order_id.label("order_number"))
        .join(orders, orders.c.id == referrals.c.order_id)
        .where(referrals.c.status == "attributed", orders.c.pending_until <= as_of)
        .order_by(orders.c.pending_until, referrals.c.id).limit(limit)).all()
    for referral in due:
        conn.execute(select(customers.c.id).where(customers.c.id == referral.referrer_id).with_for_update())
        _settle(conn, referral, now)
    return len(due)


def _settle(conn: Connection, referral, now: datetime) -> None:
    settings = programme(conn, referral.shop_id, referral.settings_version).referrals
    refunded = conn.execute(select(func.coalesce(func.sum(refunds.c.merchandise), 0)).where(
        refunds.c.shop_id == referral.shop_id, refunds.c.shopify_order_id == referral.order_number)).scalar()
    points = rules.referrer_reward(settings.referrer_points, referral.merchandise, refunded,
                                   referral.cancelled_at is not None)
    when = _aware(referral.pending_until)
    start, end = rules.cap_period_of(settings, when)
    rewarded = (select(func.count()).select_from(referrals).join(orders, orders.c.id == referrals.c.order_id)
                .where(referrals.c.referrer_id == referral.referrer_id, referrals.c.status == "rewarded"))
    refusal = rules.cap_refusal(
        settings, conn.execute(rewarded.where(orders.c.pending_until >= start, orders.c.pending_until < end)).scalar(),
        conn.execute(rewarded).scalar()) if points else None
    if not points:
        values = dict(status="nothing", points=0, reason="the friend's first order was cancelled or fully refunded")
    elif refusal is not None:
        values = dict(status="refused", rule=refusal.rule, reason=refusal.reason)
    else:
        values = dict(status="rewarded", points=points)
    moved = conn.execute(update(referrals).where(referrals.c.id == referral.id, referrals.c.status == "attributed")
                         .values(**values, settled_at=now)).rowcount
    if not moved or values["status"] != "rewarded":
        return
    label = referral.name or f"#{referral.order_number}"
    ledger.write_entry(conn, shop_id=referral.shop_id, customer_id=referral.referrer_id, kind="bonus",
                       available=points, key=keys.referral_reward(referral.shop_id, referral.id),
                       effective_at=when, now=now, settings_version=referral.settings_version,
                       reason=f"referral: a friend's first order {label} is past its return window")
    notifications.enqueue(
        conn, shop_id=referral.shop_id, prog=notifications.current_programme(conn, referral.shop_id),
        customer_id=referral.referrer_id, kind="referral_reward", key=keys.referral_reward_event(referral.id),
        now=now, facts={"points": points, "available": ledger.balance(conn, referral.referrer_id).available})


# -- what the rules compare ----------------------------------------------------------------------------------

def _contact_of(conn: Connection, customer) -> rules.Contact:
    """The customer's own record as a contact (their email)."""
    return rules.contact(customer.id, customer.email)


def _known_orders(conn: Connection, shop_id: int, customer_id: int) -> list[rules.Contact]:
    """The contacts of the customer's recorded paid orders (their emails, addresses, profile, phones)."""
    rows = conn.execute(select(referral_orders).join(orders, and_(
        orders.c.shop_id == referral_orders.c.shop_id, orders.c.shopify_order_id == referral_orders.c.shopify_order_id))
        .where(referral_orders.c.shop_id == shop_id, orders.c.customer_id == customer_id)).all()
    return [rules.Contact(customer_id, r.email, frozenset(r.addresses.split()), frozenset(r.phones.split()))
            for r in rows]


def _has_ordered(conn: Connection, shop_id: int, friend_email: str, friend_key: str) -> bool:
    """Whether the friend has a paid order in the shop (by their account's email, or a recorded order's)."""
    by_account = exists().where(orders.c.customer_id == customers.c.id, orders.c.paid_at.is_not(None),
                                customers.c.shop_id == shop_id, customers.c.email == friend_email)
    by_order = exists().where(referral_orders.c.shop_id == shop_id,
                              referral_orders.c.email == rules.digest("email", friend_key))
    return bool(conn.execute(select(or_(by_account, by_order))).scalar())


def _earlier_order(conn: Connection, shop_id: int, first) -> bool:
    """Whether the buyer of the friend's first order had paid an earlier order in the shop."""
    if first.customer_id is None:
        return False
    return conn.execute(select(exists().where(
        orders.c.shop_id == shop_id, orders.c.customer_id == first.customer_id, orders.c.paid_at.is_not(None),
        orders.c.paid_at < first.paid_at))).scalar()


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive UTC datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
