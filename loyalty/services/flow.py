"""The Shopify Flow outbox: a trigger is recorded in the transaction of the event it announces.

So a change that rolls back announces nothing, and a committed one is sent even if Shopify is unreachable
now (jobs.flow_triggers sends the rows with flowTriggerReceive, retries with backoff, and shows what failed
among the failures). Each row has a UNIQUE key per event (loyalty.domain.keys.flow_trigger), so a replayed
webhook, a second maturity run or a retried batch records nothing more.

Only a shop whose current programme turns `flow.triggers` on records anything; the check costs one read of
the shop's row (its programme is cached) per call, and calls that write many entries make one call. A
trigger is for a customer Shopify knows (its `customer_reference`): a guest known only by email is left out.

The events and where they are recorded:

| trigger | recorded by |
|---|---|
| points earned | a ledger entry `earn` (an order's pending points), `bonus` or a positive `adjust` (loyalty.services.ledger, new_orders, known_orders) |
| points available | a ledger entry `mature` (the maturity run) |
| perk unlocked | loyalty.services.perks.refresh_perks, one per perk granted |
| reward redeemed | loyalty.services.vouchers: the code became usable (activate), a donation at once |
| points expiring | loyalty.services.schedule.points_expiring, with the expiry notices (30 then 7 days before) |
| tier changed | `tier_changed(...)`, called by whatever changes a tier |

The history import announces nothing: past orders are not news.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from db import rows as rows_db
from db.tables import customers, flow_triggers, shops
from loyalty.domain import flow as rules, keys
from loyalty.domain.programme import Programme
from loyalty.services.balances import balances
from loyalty.services.shops import programme

COLUMNS = ("shop_id", "customer_id", "handle", "payload", "dedup_key", "status", "attempts", "next_attempt_at",
           "created_at")

_SHOP = select(shops.c.settings_version, shops.c.uninstalled_at).where(shops.c.id == bindparam("shop_id"))


def triggers_on(conn: Connection, shop_id: int) -> Programme | None:
    """The shop's current programme when it sends Flow triggers (installed, `flow.triggers` on), else None."""
    shop = conn.execute(_SHOP, {"shop_id": shop_id}).first()
    if shop is None or shop.uninstalled_at is not None:
        return None
    prog = programme(conn, shop_id, shop.settings_version)
    return prog if prog.flow.triggers else None


def emit(conn: Connection, *, shop_id: int, customer_id: int, handle: str, event: str, fields: dict,
         now: datetime) -> bool:
    """Record one trigger `handle` for the customer, announcing `event` (a key unique to the event: the
    same event recorded again is a no-op), with the extension's `fields`. True when a row was written;
    False when the shop sends no triggers, the customer is not a Shopify customer of the shop, or the event
    was announced already. Call it inside the transaction that records the event."""
    if handle not in rules.TRIGGERS:
        raise ValueError(f"no Flow trigger {handle!r}")
    if triggers_on(conn, shop_id) is None:
        return False
    shopify_ids = _shopify_ids(conn, shop_id, [customer_id])
    if customer_id not in shopify_ids:
        return False
    return bool(_record(conn, shop_id, now, [(customer_id, handle, event,
                                              rules.trigger_payload(shopify_ids[customer_id], **fields))]))


def tier_changed(conn: Connection, *, shop_id: int, customer_id: int, previous_tier: str | None,
                 new_tier: str | None, reason: str, event: str, now: datetime) -> bool:
    """`tier changed`: the customer moved from one tier to another (None: no tier). `event`: the key of the
    record of this change (e.g. its history entry's), so announcing it again is a no-op."""
    return emit(conn, shop_id=shop_id, customer_id=customer_id, handle=rules.TIER_CHANGED, event=event,
                fields=_fields(rules.tier_payload(0, previous_tier, new_tier, reason)), now=now)


def entries_written(conn: Connection, shop_id: int, entries, now: datetime) -> int:
    """Ledger entries just written (customer id, kind, key, pending, available, reason): `points earned`
    for an earn, bonus or positive adjustment, `points available` for a maturity. One call for a batch's
    entries: one read of the shop, one of the customers, one insert. Returns how many were recorded."""
    wanted = [e for e in entries if e[0] is not None and (e[1] == "mature" or e[1] in rules.EARNING_KINDS)]
    if not wanted or triggers_on(conn, shop_id) is None:
        return 0
    ids = sorted({e[0] for e in wanted})
    shopify_ids = _shopify_ids(conn, shop_id, ids)
    matured = [e[0] for e in wanted if e[1] == "mature" and e[0] in shopify_ids]
    held = balances(conn, sorted(set(matured))) if matured else {}
    found = []
    for customer_id, kind, key, pending, available, reason in wanted:
        if customer_id not in shopify_ids:
            continue
        if kind == "mature":
            payload = rules.available_payload(shopify_ids[customer_id], available, held[customer_id].available,
                                              reason)
            found.append((customer_id, rules.POINTS_AVAILABLE, key, payload))
        else:
            payload = rules.earned_payload(shopify_ids[customer_id], kind, pending + available, reason)
            if payload is not None:
                found.append((customer_id, rules.POINTS_EARNED, key, payload))
    return _record(conn, shop_id, now, found)


def perks_unlocked(conn: Connection, shop_id: int, prog: Programme, customer_id: int, granted, lifetime: int,
                   now: datetime) -> int:
    """`perk unlocked`, one per status perk just granted (`prog`: the shop's current programme). The event
    is the grant: a perk revoked and granted again is announced again only on a later day's key."""
    if not prog.flow.triggers or not granted:
        return 0
    shopify_ids = _shopify_ids(conn, shop_id, [customer_id])
    if customer_id not in shopify_ids:
        return 0
    moment = now.strftime(keys.MOMENT)
    return _record(conn, shop_id, now, [
        (customer_id, rules.PERK_UNLOCKED, f"customer:{customer_id}:perk:{perk.key}:{moment}",
         rules.perk_payload(shopify_ids[customer_id], perk.key, perk.title, lifetime)) for perk in granted])


def reward_redeemed(conn: Connection, voucher, now: datetime) -> bool:
    """`reward redeemed`: the voucher's points were spent and its code (or gift card, donation) is made;
    with its reward's title when it is a catalogue reward."""
    prog = triggers_on(conn, voucher.shop_id)
    if voucher.customer_id is None or prog is None:
        return False
    reward = prog.reward(voucher.reward_key) if voucher.reward_key else None
    title = reward.title if reward else None
    return emit(conn, shop_id=voucher.shop_id, customer_id=voucher.customer_id, handle=rules.REWARD_REDEEMED,
                event=f"voucher:{voucher.id}", now=now, fields=_fields(rules.redeemed_payload(
                    0, reward_key=voucher.reward_key, reward_title=title, kind=voucher.kind,
                    points=voucher.points, code=voucher.code)))


def points_expiring(conn: Connection, shop_id: int, customer_id: int, *, points: int, expires_on: str,
                    days_left: int, event: str, now: datetime) -> bool:
    """`points expiring`: announced with each expiry notice (`event`: the notice's key)."""
    return emit(conn, shop_id=shop_id, customer_id=customer_id, handle=rules.POINTS_EXPIRING, event=event,
                now=now, fields=_fields(rules.expiring_payload(0, points, expires_on, days_left)))


def _fields(payload: dict) -> dict:
    """A built payload's own fields (emit adds the customer reference)."""
    return {k: v for k, v in payload.items() if k != "customer_id"}


def _shopify_ids(conn: Connection, shop_id: int, customer_ids: list[int]) -> dict[int, int]:
    """customer id -> Shopify customer id, for those of the shop that have one."""
    return {row.id: row.shopify_customer_id for row in conn.execute(
        select(customers.c.id, customers.c.shopify_customer_id).where(
            customers.c.shop_id == shop_id, customers.c.id.in_(customer_ids),
            customers.c.shopify_customer_id.is_not(None)))}


def _record(conn: Connection, shop_id: int, now: datetime, found: list[tuple]) -> int:
    """Insert (customer id, handle, event, payload) rows not recorded yet; returns how many were new."""
    rows = []
    for customer_id, handle, event, payload in found:
        if rules.payload_size(payload) > rules.MAX_TRIGGER_PAYLOAD_BYTES:
            raise ValueError(f"Flow trigger {handle} payload over {rules.MAX_TRIGGER_PAYLOAD_BYTES} bytes")
        rows.append((shop_id, customer_id, handle, json.dumps(payload, sort_keys=True, default=str),
                     keys.flow_trigger(shop_id, handle, event), "pending", 0, now, now))
    if not rows:
        return 0
    return len(rows_db.insert_new_rows(conn, flow_triggers, COLUMNS, rows, key=("dedup_key",), returning=("id",)))
