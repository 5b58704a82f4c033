"""VIP tiers in the database: each customer's tier (`tier_members`), every change with its reason
(`tier_changes`), the tier's tag (a `perk_grants` row of period "tier", written to Shopify by jobs.sync like
perk tags) and the email telling the customer (`tier_changed`). The rules are loyalty.domain.tiers'.

Tiers are decided for the customers whose ledger changed, in that transaction (loyalty.services.perks.decide,
after an order is paid, refunded or cancelled), for the customers whose retention ended (the scheduled job)
and for every customer of a shop when its tier settings change (jobs.tiers). Each pass is set-based: one
aggregate query for the figures of all its customers, one for their memberships, one statement per table
written. On PostgreSQL a pass holds the shop's tier lock (a transaction advisory lock) so that the
shop-wide recalculation and the inbox never decide the same customer from stale memberships.

A tier's free shipping codes are not given here (a code is a voucher, and vouchers depend on the ledger,
which decides tiers): loyalty.services.tier_gifts finds the members due one after the change is committed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection

from db.rows import upsert_rows
from db.tables import (
    customer_sync, customers, ledger_entries as le, orders, perk_grants, refunds, shops, tier_changes, tier_members,
    tier_recalculations,
)
from loyalty.domain import keys
from loyalty.domain.programme import Programme
from loyalty.domain.settings.tiers import Tiers
from loyalty.domain.errors import VoucherRefused
from loyalty.domain.tiers import (
    DOWN, UP, Membership, decide, kept_until, may_redeem, multiplier, required_tier, window_start,
)
from loyalty.domain.times import iso
from loyalty.services import flow, notifications
from loyalty.services.balances import NOT_LIFETIME
from loyalty.services.shops import ShopRef, programme

TIER_PERIOD = "tier"
"""perk_grants.period of a tier's tag (status perks use "", birthday presents the year)."""
_LOCK_CLASS = 7419
"""First key of the PostgreSQL advisory lock on a shop's tiers (the second is the shop id)."""


@dataclass(frozen=True)
class Customers:
    """Which customers a pass covers: a list of ids, or the id range [low, high) of one shop."""

    ids: tuple[int, ...] = ()
    low: int | None = None
    high: int | None = None

    def where(self, column):
        if self.low is not None:
            return and_(column >= self.low, column < self.high)
        return column.in_(bindparam("ids", expanding=True))

    def params(self) -> dict:
        return {} if self.low is not None else {"ids": list(self.ids)}


def lock_shop(conn: Connection, shop_id: int) -> None:
    """Hold the shop's tier lock until the transaction ends (PostgreSQL; SQLite has one writer anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK_CLASS, "b": shop_id})


def figures(conn: Connection, shop_id: int, tiers: Tiers, who: Customers, now: datetime) -> dict[int, Decimal]:
    """Each customer's qualifying figure over the window, in one aggregate query (customers with nothing
    counted are absent: their figure is 0). Points: confirmed points (as perks count them) by the time they
    became available; spent: paid orders' merchandise less refunds, by payment time; orders: paid orders
    not cancelled nor wholly refunded. Cancelled and excluded orders (tests, B2B, resellers) count nothing."""
    start = window_start(tiers, now)
    if tiers.basis == "points":
        query = (select(le.c.customer_id, func.sum(le.c.available))
                 .where(le.c.shop_id == shop_id, le.c.kind.not_in(NOT_LIFETIME), who.where(le.c.customer_id))
                 .group_by(le.c.customer_id))
        if start is not None:
            query = query.where(le.c.effective_at >= start)
    else:
        refunded = (select(func.coalesce(func.sum(refunds.c.merchandise), 0))
                    .where(refunds.c.shop_id == orders.c.shop_id,
                           refunds.c.shopify_order_id == orders.c.shopify_order_id).scalar_subquery())
        kept = orders.c.merchandise - refunded
        value = (case((kept > 0, kept), else_=0) if tiers.basis == "spent" else case((kept > 0, 1), else_=0))
        query = (select(orders.c.customer_id, func.sum(value))
                 .where(orders.c.shop_id == shop_id, orders.c.paid_at.is_not(None), orders.c.cancelled_at.is_(None),
                        orders.c.excluded_reason.is_(None), orders.c.merchandise.is_not(None),
                        who.where(orders.c.customer_id))
                 .group_by(orders.c.customer_id))
        if start is not None:
            query = query.where(orders.c.paid_at >= start)
    return {row[0]: Decimal(str(row[1] or 0)) for row in conn.execute(query, who.params())}


def memberships(conn: Connection, shop_id: int, who: Customers) -> dict[int, Membership]:
    """The tiers these customers hold (customers without one are absent)."""
    rows = conn.execute(select(tier_members).where(tier_members.c.shop_id == shop_id,
                                                   who.where(tier_members.c.customer_id)), who.params())
    return {r.customer_id: Membership(r.tier, _aware(r.since), _aware(r.until)) for r in rows}


def decide_for(conn: Connection, shop: ShopRef, prog: Programme, customer_ids, now: datetime) -> int:
    """Decide the tiers of these customers (their ledger changed); returns how many changed tier."""
    who = Customers(ids=tuple(sorted(customer_ids)))
    if not who.ids:
        return 0
    lock_shop(conn, shop.id)
    return apply(conn, shop, prog, who.ids, figures(conn, shop.id, prog.tiers, who, now),
                 memberships(conn, shop.id, who), now)


def apply(conn: Connection, shop: ShopRef, prog: Programme, customer_ids, found: dict[int, Decimal],
          held: dict[int, Membership], now: datetime) -> int:
    """Decide each customer's tier from their figure and membership and write what changed: memberships
    (one upsert, one delete), history, tags and emails. Returns how many customers changed tier."""
    tiers, upserts, leaving, history, tags = prog.tiers, [], [], [], []
    for customer_id in customer_ids:
        current = held.get(customer_id, Membership())
        decision = decide(tiers, current, found.get(customer_id, Decimal(0)), now)
        if decision.change is None:
            continue
        new = decision.membership
        if new.tier is None:
            leaving.append(customer_id)
        else:
            upserts.append((customer_id, shop.id, new.tier, new.since, new.until))
        if decision.change in (UP, DOWN):
            history.append(dict(shop_id=shop.id, customer_id=customer_id, from_tier=current.tier, to_tier=new.tier,
                                reason=decision.reason, changed_at=now, settings_version=shop.settings_version))
            tags.append((customer_id, current.tier, new.tier))
    upsert_rows(conn, tier_members, ("customer_id", "shop_id", "tier", "since", "until"), upserts,
                key="customer_id", update=("tier", "since", "until"))
    if leaving:
        conn.execute(delete(tier_members).where(tier_members.c.customer_id.in_(bindparam("ids", expanding=True))),
                     {"ids": leaving})
    if history:
        _record_changes(conn, shop, prog, history, tags, now)
    return len(history)


def _record_changes(conn: Connection, shop: ShopRef, prog: Programme, history: list[dict], tags, now: datetime):
    """Write the changes' history, move their tags (queued for write-back: jobs.sync reads unsynced grants
    with the customer's next write-back), and announce each (the email, the Flow trigger)."""
    conn.execute(insert(tier_changes), history)
    marks = _move_tags(conn, shop.id, prog, tags, now)
    if marks:
        upsert_rows(conn, customer_sync, ("customer_id", "shop_id", "changed_at"),
                    [(c, shop.id, now) for c in sorted(set(marks))], key="customer_id", update=("changed_at",))
    for change in history:
        _email(conn, shop, prog, change, now)
        flow.tier_changed(conn, shop_id=shop.id, customer_id=change["customer_id"], previous_tier=change["from_tier"],
                          new_tier=change["to_tier"], reason=change["reason"], now=now,
                          event=keys.tier_event(change["customer_id"], change["to_tier"], now))


def assign(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, tier_key: str, reason: str,
           now: datetime) -> bool:
    """Put the customer in this tier by decision (a Shopify Flow action, support): kept like a tier qualified
    for now (retention, then the period's end), after which the customer's figure decides again; a figure
    reaching a higher tier moves them up as usual. Recorded, tagged, emailed and announced like any change.
    Returns False when the customer already holds that tier (nothing written)."""
    lock_shop(conn, shop.id)
    current = memberships(conn, shop.id, Customers(ids=(customer_id,))).get(customer_id, Membership())
    if current.tier == tier_key:
        return False
    upsert_rows(conn, tier_members, ("customer_id", "shop_id", "tier", "since", "until"),
                [(customer_id, shop.id, tier_key, now, kept_until(prog.tiers, now))],
                key="customer_id", update=("tier", "since", "until"))
    history = [dict(shop_id=shop.id, customer_id=customer_id, from_tier=current.tier, to_tier=tier_key,
                    reason=reason, changed_at=now, settings_version=shop.settings_version)]
    _record_changes(conn, shop, prog, history, [(customer_id, current.tier, tier_key)], now)
    return True


def _move_tags(conn: Connection, shop_id: int, prog: Programme, moves, now: datetime) -> list[int]:
    """Revoke the old tier's tag and grant the new one's (perk_grants rows of period "tier"); returns the
    customers whose tags changed."""
    changed = []
    for customer_id, old, new in moves:
        new_tier = prog.tiers.tier(new)
        if old is not None:
            revoked = conn.execute(update(perk_grants).where(
                perk_grants.c.customer_id == customer_id, perk_grants.c.period == TIER_PERIOD,
                perk_grants.c.reward_key == old, perk_grants.c.revoked_at.is_(None)).values(
                revoked_at=now, tag_synced=perk_grants.c.tag.is_(None))).rowcount
            changed += [customer_id] if revoked else []
        if new_tier is not None and new_tier.tag:
            upsert_rows(conn, perk_grants, ("shop_id", "customer_id", "reward_key", "period", "tag", "granted_at",
                                            "revoked_at", "tag_synced"),
                        [(shop_id, customer_id, new_tier.key, TIER_PERIOD, new_tier.tag, now, None, False)],
                        key="customer_id, reward_key, period", update=("tag", "granted_at", "revoked_at", "tag_synced"))
            changed.append(customer_id)
    return changed


def _email(conn: Connection, shop: ShopRef, prog: Programme, change: dict, now: datetime) -> None:
    tiers = prog.tiers
    new, old = tiers.tier(change["to_tier"]), tiers.tier(change["from_tier"])
    notifications.enqueue(
        conn, shop_id=shop.id, prog=prog, customer_id=change["customer_id"], kind="tier_changed",
        key=keys.tier_event(change["customer_id"], change["to_tier"], now), now=now, facts={
            "tier": new.name if new else None, "previous": old.name if old else change["from_tier"],
            "up": change["to_tier"] is not None and (old is None or (new and new.threshold > old.threshold)),
            "multiplier": new.multiplier if new else Decimal(1), "reason": change["reason"],
            "exclusive": [r.title for key in (new.exclusive_rewards if new else ()) if (r := prog.reward(key))],
            "free_shipping": new.free_shipping.every if new else ""})  # its code comes in an email of its own


def tier_multipliers(conn: Connection, shop_id: int, customer_ids) -> dict[int, Decimal]:
    """The earn multiplier of each customer's tier under the programme in force (1 without a tier, or when
    the shop's tiers are off), for every id asked; one query."""
    tiers = notifications.current_programme(conn, shop_id).tiers
    ids = sorted(set(customer_ids))
    result = dict.fromkeys(ids, Decimal(1))
    if tiers.enabled and ids:
        for customer_id, membership in memberships(conn, shop_id, Customers(ids=tuple(ids))).items():
            result[customer_id] = multiplier(tiers, membership.tier)
    return result


def tier_of(conn: Connection, shop_id: int, tiers: Tiers, customer_id: int,
            now: datetime) -> tuple[Membership, Decimal]:
    """One customer's membership (an empty one without a tier) and qualifying figure now (the loyalty page)."""
    who = Customers(ids=(customer_id,))
    return (memberships(conn, shop_id, who).get(customer_id, Membership()),
            figures(conn, shop_id, tiers, who, now).get(customer_id, Decimal(0)))


def check_exclusive(conn: Connection, shop_id: int, customer_id: int, prog: Programme, offer) -> None:
    """Refuse (VoucherRefused `tier_required`) a catalogue reward exclusive to a tier the customer is below."""
    key = getattr(offer, "reward_key", None)
    if not key or not prog.tiers.enabled:
        return
    held = memberships(conn, shop_id, Customers(ids=(customer_id,))).get(customer_id, Membership())
    if not may_redeem(prog.tiers, key, held.tier):
        name = required_tier(prog.tiers, key).name
        raise VoucherRefused(f"{key!r} is for {name} members and above", "tier_required", tier=name)


def history_of(conn: Connection, customer_id: int) -> dict:
    """The customer's tier now (key, since, until) and every change with its reason, oldest first."""
    member = conn.execute(select(tier_members).where(tier_members.c.customer_id == customer_id)).first()
    rows = conn.execute(select(tier_changes).where(tier_changes.c.customer_id == customer_id)
                        .order_by(tier_changes.c.changed_at, tier_changes.c.id)).all()
    return {"current": ({"tier": member.tier, "since": iso(member.since), "until": iso(member.until)}
                        if member else None),
            "history": [{"from": r.from_tier, "to": r.to_tier, "reason": r.reason, "changed_at": iso(r.changed_at),
                         "settings_version": r.settings_version} for r in rows]}


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back naive UTC datetimes: make them aware so they compare with `now`."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


# -- passes over many customers: the scheduled period-end pass and the shop-wide recalculation -----------

def retention_ended(conn: Connection, shop: ShopRef, prog: Programme, now: datetime, limit: int = 5000) -> int:
    """Decide again the customers whose tier is kept no longer (`until` passed): they are renewed, or
    placed at the tier their figure reaches. Returns how many were looked at (call again while it is
    `limit`: each pass moves their `until` forward or removes their row)."""
    ids = conn.execute(select(tier_members.c.customer_id).where(
        tier_members.c.shop_id == shop.id, tier_members.c.until <= now)
        .order_by(tier_members.c.customer_id).limit(limit)).scalars().all()
    decide_for(conn, shop, prog, ids, now)
    return len(ids)


def request_recalculation(conn: Connection, shop_id: int, version: int, now: datetime) -> None:
    """New tier settings (programme `version`): every customer of the shop is to be decided again, from the
    first (jobs.tiers.recalculate_tiers does it; a newer request restarts it)."""
    upsert_rows(conn, tier_recalculations, ("shop_id", "settings_version", "next_customer_id", "requested_at",
                                            "finished_at"),
                [(shop_id, version, 0, now, None)], key="shop_id",
                update=("settings_version", "next_customer_id", "requested_at", "finished_at"))


def unfinished_recalculations(conn: Connection) -> list[int]:
    """Shops whose recalculation is under way."""
    return conn.execute(select(tier_recalculations.c.shop_id).where(tier_recalculations.c.finished_at.is_(None))
                        .order_by(tier_recalculations.c.shop_id)).scalars().all()


def recalculation_step(conn: Connection, shop_id: int, now: datetime, limit: int = 5000) -> bool:
    """Decide the next `limit` customers of the shop's recalculation under the programme in force, in one
    pass (two aggregate queries for the id range); returns True when the recalculation is finished."""
    state = conn.execute(select(tier_recalculations).where(tier_recalculations.c.shop_id == shop_id)
                         .with_for_update()).first()
    if state is None or state.finished_at is not None:
        return True
    shop = conn.execute(select(shops.c.id, shops.c.domain, shops.c.settings_version, shops.c.uninstalled_at)
                        .where(shops.c.id == shop_id)).one()
    ids = conn.execute(select(customers.c.id).where(customers.c.shop_id == shop_id,
                                                    customers.c.id >= state.next_customer_id)
                       .order_by(customers.c.id).limit(limit)).scalars().all()
    done = len(ids) < limit
    if ids and shop.uninstalled_at is None:
        ref = ShopRef(shop.id, shop.domain, shop.settings_version)
        prog = programme(conn, shop_id, shop.settings_version)
        who = Customers(low=ids[0], high=ids[-1] + 1)
        lock_shop(conn, shop_id)
        apply(conn, ref, prog, ids, figures(conn, shop_id, prog.tiers, who, now), memberships(conn, shop_id, who), now)
    conn.execute(update(tier_recalculations).where(tier_recalculations.c.shop_id == shop_id).values(
        next_customer_id=(ids[-1] + 1) if ids else state.next_customer_id, finished_at=now if done else None))
    return done
