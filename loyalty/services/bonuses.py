"""Bonus points: sign-up, birthday and action awards, each once under its idempotency key, within its
rule's cap and the programme's earning cap.

An award is a `bonus_awards` row (written even when a cap took all of it, so a replay finds the first
answer and the merchant sees what the caps took) and, when it gives points, a `bonus` ledger entry under
the same key (available at once, counted in lifetime points). The customer's row is locked first, so two
awards of one customer judge their caps one after the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from db.tables import bonus_awards, customers
from loyalty.domain import keys
from loyalty.domain.caps import rule_cap, period_bounds, with_note
from loyalty.domain.errors import ActionRefused
from loyalty.domain.programme import Programme
from loyalty.domain.settings.earning import Cap
from loyalty.services import ledger, notifications
from loyalty.services.earning_caps import EarningTally
from loyalty.services.shops import ShopRef


@dataclass(frozen=True)
class Bonus:
    """One award asked of a rule."""

    rule: str
    """signup, birthday, or action:KEY (caps count a rule's awards)."""
    reference: str
    key: str
    points: int
    title: str
    cap: Cap | None = None
    actor: str | None = None
    note: str = ""
    """Kept in the ledger's reason, not in the customer's email (the merchant's reason)."""


def award(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, bonus: Bonus, moment: datetime,
          now: datetime, email: bool = True):
    """Give the bonus once (its key): returns its `bonus_awards` row, the first one on a replay. `moment`
    places it in its caps' periods. `email`: tell the customer (`points_awarded`) when it gives points."""
    return award_once(conn, shop, prog, customer_id, bonus, moment, now, email)[0]


def award_once(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, bonus: Bonus,
               moment: datetime, now: datetime, email: bool = True):
    """As award, and whether this call made the award (False on a replay, or when a racing one won): what
    the audit log records once."""
    existing = find(conn, bonus.key)
    if existing is not None:
        return existing, False
    conn.execute(select(customers.c.id).where(customers.c.id == customer_id).with_for_update())
    capped = rule_cap(bonus.cap, bonus.points, *_so_far(conn, customer_id, bonus.rule, bonus.cap, moment))
    capped = EarningTally(conn, prog).apply(customer_id, moment, capped.given) if capped.given else capped
    reason = with_note(f"{bonus.title}: {bonus.points} points" + (f" - {bonus.note}" if bonus.note else ""), capped)
    savepoint = conn.begin_nested()
    try:
        conn.execute(insert(bonus_awards).values(
            shop_id=shop.id, customer_id=customer_id, rule=bonus.rule, reference=bonus.reference[:255],
            idempotency_key=bonus.key, asked=bonus.points, points=capped.given, reason=reason,
            actor=bonus.actor, awarded_at=moment))
        if capped.given:
            ledger.write_entry(conn, shop_id=shop.id, customer_id=customer_id, kind="bonus", key=bonus.key,
                               available=capped.given, reason=reason, effective_at=moment, now=now,
                               settings_version=shop.settings_version, actor=bonus.actor)
        savepoint.commit()
    except IntegrityError:  # the same award, racing this one, was recorded first
        savepoint.rollback()
        return find(conn, bonus.key), False
    row = find(conn, bonus.key)
    if email and capped.given:
        notifications.enqueue(conn, shop_id=shop.id, prog=prog, customer_id=customer_id, kind="points_awarded",
                              key=keys.awarded_event(bonus.key), now=now, facts={
                                  "title": bonus.title, "points": capped.given,
                                  "available": ledger.balance(conn, customer_id).available})
    return row, True


def action_of(prog: Programme, action_key: str):
    """The programme's action of that key, or ActionRefused naming the actions it has."""
    action = prog.earning.action(action_key)
    if action is None:
        known = ", ".join(a.key for a in prog.earning.actions) or "none"
        raise ActionRefused(f"no action {action_key!r} in this programme (actions: {known})", "action")
    return action


def award_action(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, action_key: str,
                 reference: str, actor: str | None, note: str, now: datetime):
    """The programme action's points for the customer, once per (action, reference), within the action's cap;
    returns (the award row - the first one on a replay -, whether this call made it). ActionRefused: no such
    action in the programme, or the reference was awarded to another customer."""
    action = action_of(prog, action_key)
    row, made = award_once(conn, shop, prog, customer_id, Bonus(
        rule=f"action:{action.key}", reference=reference, key=keys.action(shop.id, action.key, reference),
        points=action.points, title=action.title, cap=action.cap, actor=actor, note=note), now, now)
    if row.customer_id != customer_id:
        raise ActionRefused(f"reference {reference!r} of {action.key} was awarded to another customer", "reference")
    return row, made


def find(conn: Connection, key: str):
    """The award recorded under that key, or None."""
    return conn.execute(select(bonus_awards).where(bonus_awards.c.idempotency_key == key)).first()


def signup(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, shopify_customer_id: int,
           now: datetime):
    """customers/create: the sign-up points, once per Shopify account (None when the programme gives none)."""
    points = prog.earning.signup_points
    if not points or customer_id is None:
        return None
    return award(conn, shop, prog, customer_id, Bonus(
        rule="signup", reference=str(shopify_customer_id), key=keys.signup(shop.id, shopify_customer_id),
        points=points, title="Sign-up" if prog.language == "en" else "Création du compte"), now, now)


def awards_of(conn: Connection, shop_id: int, customer_id: int | None = None, limit: int = 50) -> list:
    """The shop's bonus awards (of one customer), newest first: what each rule asked and gave, and why."""
    query = select(bonus_awards).where(bonus_awards.c.shop_id == shop_id)
    if customer_id is not None:
        query = query.where(bonus_awards.c.customer_id == customer_id)
    return conn.execute(query.order_by(bonus_awards.c.awarded_at.desc(), bonus_awards.c.id.desc()).limit(limit)).all()


def _so_far(conn: Connection, customer_id: int, rule: str, cap: Cap | None, moment: datetime) -> tuple[int, int]:
    """(awards that gave points, points given) of the customer's `rule` in the cap's period."""
    if cap is None:
        return 0, 0
    start, end = period_bounds(cap.period, moment)
    query = select(func.count(), func.coalesce(func.sum(bonus_awards.c.points), 0)).where(
        bonus_awards.c.customer_id == customer_id, bonus_awards.c.rule == rule, bonus_awards.c.points > 0)
    if start is not None:
        query = query.where(and_(bonus_awards.c.awarded_at >= start, bonus_awards.c.awarded_at < end))
    count, points = conn.execute(query).one()
    return int(count), int(points)
