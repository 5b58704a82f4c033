"""Status perks and the ladder of thresholds: where a customer stands, and which perks they hold.

A perk is unlocked by confirmed lifetime points (what the customer has earned once the return window has
passed, minus what refunds and cancellations took back: pending points do not count) and is never spent.
Each unlock is a `perk_grants` row, UNIQUE per customer and perk, written in the same transaction that
notices it, so the email and the tag that follow happen once. If refunds take
lifetime points back below the threshold, the grant is revoked and its tag removed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from db.tables import perk_grants
from loyalty.services import notifications
from loyalty.services.ledger import Balance
from loyalty.domain.programme import Programme, Reward
from loyalty.services.shops import ShopRef


@dataclass(frozen=True)
class Standing:
    """A customer's place on the ladder."""

    tier: int
    """The highest threshold reached by lifetime points (0: none yet)."""
    next_threshold: int | None
    points_to_next: int | None
    unlocked: tuple[Reward, ...]
    """Status perks held."""
    redeemable_now: tuple[Reward, ...]
    """Rewards the available points pay for."""


@dataclass
class PerkChanges:
    """What refresh_perks changed."""

    granted: list[Reward] = field(default_factory=list)
    revoked: list[Reward] = field(default_factory=list)


def confirmed_lifetime(balance: Balance) -> int:
    """Lifetime points without those still pending: what the ladder counts."""
    return balance.lifetime - balance.pending


def standing(prog: Programme, balance: Balance) -> Standing:
    """Tier, next threshold, perks held and rewards affordable, from the balance."""
    lifetime = confirmed_lifetime(balance)
    reached = [t for t in prog.thresholds if t <= lifetime]
    ahead = [t for t in prog.thresholds if t > lifetime]
    return Standing(
        tier=reached[-1] if reached else 0,
        next_threshold=ahead[0] if ahead else None,
        points_to_next=ahead[0] - lifetime if ahead else None,
        unlocked=tuple(p for p in prog.perks if p.points <= lifetime),
        redeemable_now=tuple(r for r in prog.redeemable if r.points <= balance.available),
    )


def refresh_perks(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, lifetime: int,
                  now: datetime, held: dict | None = None) -> PerkChanges:
    """Grant the status perks `lifetime` (confirmed_lifetime) reaches and revoke those it fell below, and
    record the email telling the customer about new ones (loyalty.services.notifications); returns what changed.
    `held`: the customer's status grants by reward key, when already read (`status_grants`)."""
    changes = PerkChanges()
    if held is None:
        held = status_grants(conn, [customer_id]).get(customer_id, {})
    for perk in prog.perks:
        row = held.get(perk.key)
        if perk.points <= lifetime:
            if row is None:
                conn.execute(insert(perk_grants).values(
                    shop_id=shop.id, customer_id=customer_id, reward_key=perk.key, period="",
                    tag=perk.tag or None, granted_at=now, tag_synced=not perk.tag))
                changes.granted.append(perk)
            elif row.revoked_at is not None:
                conn.execute(update(perk_grants).where(perk_grants.c.id == row.id).values(
                    revoked_at=None, tag_synced=row.tag is None))
                changes.granted.append(perk)
        elif row is not None and row.revoked_at is None:
            conn.execute(update(perk_grants).where(perk_grants.c.id == row.id).values(
                revoked_at=now, tag_synced=row.tag is None))
            changes.revoked.append(perk)
    if changes.granted:

        notifications.notify_perks_granted(conn, shop, prog, customer_id, changes.granted, now)
    return changes


@dataclass(frozen=True)
class TagChange:
    """A perk tag to add to (or remove from) one customer in Shopify."""

    grant_id: int
    customer_id: int
    tag: str
    add: bool


def status_grants(conn: Connection, customer_ids: list[int]) -> dict[int, dict]:
    """The status perk grants (period "") of these customers: customer id -> reward key -> row."""
    held: dict[int, dict] = {}
    if customer_ids:
        for row in conn.execute(_STATUS_GRANTS, {"ids": list(customer_ids)}):
            held.setdefault(row.customer_id, {})[row.reward_key] = row
    return held


_STATUS_GRANTS = select(perk_grants).where(perk_grants.c.customer_id.in_(bindparam("ids", expanding=True)),
                                           perk_grants.c.period == "")


def unsynced_tags(conn: Connection, customer_ids: list[int]) -> list[TagChange]:
    """Tags granted or revoked but not yet written to Shopify, for these customers."""
    if not customer_ids:
        return []
    rows = conn.execute(select(perk_grants.c.id, perk_grants.c.customer_id, perk_grants.c.tag,
                               perk_grants.c.revoked_at).where(
        perk_grants.c.customer_id.in_(customer_ids), perk_grants.c.tag_synced.is_(False),
        perk_grants.c.tag.is_not(None))).all()
    return [TagChange(r.id, r.customer_id, r.tag, r.revoked_at is None) for r in rows]


def mark_tags_synced(conn: Connection, changes: list[TagChange]) -> None:
    """The tags were written; a grant changed meanwhile (revoked, re-granted) stays to be written."""
    for change in changes:
        revoked = perk_grants.c.revoked_at.is_(None) if change.add else perk_grants.c.revoked_at.is_not(None)
        conn.execute(update(perk_grants).where(perk_grants.c.id == change.grant_id, revoked).values(
            tag_synced=True))


def grants_of(conn: Connection, customer_id: int) -> list:
    """Every perk grant of a customer (status perks and birthday presents), oldest first."""
    return conn.execute(select(perk_grants).where(perk_grants.c.customer_id == customer_id)
                        .order_by(perk_grants.c.granted_at, perk_grants.c.id)).all()
