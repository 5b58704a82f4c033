"""Status perks held in the database: each unlock is a `perk_grants` row, UNIQUE per customer and perk,
written in the transaction that changed the customer's ledger (loyalty.services.ledger decides them after
its entries), so the email and the tag that follow happen once, whether or not Shopify can be reached. If
refunds take lifetime points back below the threshold, the grant is revoked and its tag removed. The rules
(standing, confirmed lifetime points, which perks to grant or revoke) are loyalty.domain.standing's; the
tags are written to Shopify by jobs.sync from the grants' unsynced changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from db.tables import perk_grants, shops
from loyalty.domain.programme import Programme, Reward
from loyalty.domain.standing import GRANT, REVOKE, confirmed_lifetime, perk_moves
from loyalty.services import flow, notifications, tiers
from loyalty.services.balances import balances
from loyalty.services.shops import ShopRef, programme


@dataclass
class PerkChanges:
    """What refresh_perks changed."""

    granted: list[Reward] = field(default_factory=list)
    revoked: list[Reward] = field(default_factory=list)


_SHOP = select(shops.c.domain, shops.c.settings_version, shops.c.uninstalled_at).where(
    shops.c.id == bindparam("shop_id"))


def decide(conn: Connection, shop_id: int, changed: dict[int, datetime]) -> None:
    """The ledger of these customers (id -> the moment it changed) just changed: grant the status perks
    their confirmed lifetime points reach and revoke those they fell below, in one pass for them all (the
    shop, their balances, their grants: three queries, and writes only where something changes), and their
    VIP tiers (loyalty.services.tiers) when the shop has tiers. Nothing for an uninstalled shop, or a
    programme without status perks or tiers."""
    shop = conn.execute(_SHOP, {"shop_id": shop_id}).first()
    if shop is None or shop.uninstalled_at is not None:
        return
    prog = programme(conn, shop_id, shop.settings_version)
    ref = ShopRef(shop_id, shop.domain, shop.settings_version)
    if prog.tiers.enabled and changed:
        tiers.decide_for(conn, ref, prog, changed, max(changed.values()))
    if not prog.perks or not changed:
        return
    ids = sorted(changed)
    found, held = balances(conn, ids), status_grants(conn, ids)
    for customer_id in ids:
        refresh_perks(conn, ref, prog, customer_id, confirmed_lifetime(found[customer_id]), changed[customer_id],
                      held=held.get(customer_id, {}))


def refresh_perks(conn: Connection, shop: ShopRef, prog: Programme, customer_id: int, lifetime: int,
                  now: datetime, held: dict | None = None) -> PerkChanges:
    """Grant the status perks `lifetime` (confirmed_lifetime) reaches and revoke those it fell below, and
    record the email telling the customer about new ones (loyalty.services.notifications); returns what changed.
    `held`: the customer's status grants by reward key, when already read (`status_grants`)."""
    changes = PerkChanges()
    if held is None:
        held = status_grants(conn, [customer_id]).get(customer_id, {})
    for perk, move in perk_moves(prog, lifetime, {key: row.revoked_at is not None for key, row in held.items()}):
        row = held.get(perk.key)
        if move == GRANT:
            conn.execute(insert(perk_grants).values(
                shop_id=shop.id, customer_id=customer_id, reward_key=perk.key, period="",
                tag=perk.tag or None, granted_at=now, tag_synced=not perk.tag))
        elif move == REVOKE:
            conn.execute(update(perk_grants).where(perk_grants.c.id == row.id).values(
                revoked_at=now, tag_synced=row.tag is None))
        else:  # REGRANT
            conn.execute(update(perk_grants).where(perk_grants.c.id == row.id).values(
                revoked_at=None, tag_synced=row.tag is None))
        (changes.revoked if move == REVOKE else changes.granted).append(perk)
    if changes.granted:
        notifications.notify_perks_granted(conn, shop, prog, customer_id, changes.granted, now)
        flow.perks_unlocked(conn, shop.id, prog, customer_id, changes.granted, lifetime, now)
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
