"""The orders rolled up for the home page's members vs non-members: per shop calendar day of paid_at and buyer
class (db.tables.ORDER_BUYERS), the orders counted and their revenue; and the vouchers for its rewards by
popularity: per shop day of issue, kind and reward, the vouchers counted and their points. Kept up
incrementally by the ledger's roll-up job.

**Watermark.** Orders are not append-only: a row is written empty (a refund before its order), paid,
cancelled, and refunded later. Rolling them up by id or by a time would miss those updates; recomputing "days
touched" would need a marker on every write path. Database triggers (migration 0032) append instead, in the
writing transaction, what each write changes to the counted figures (`order_changes`: the order's counted
contribution before the write taken away, the one after added, at the order's paid_at). That log is
append-only, so it is rolled up exactly as the ledger is (loyalty/services/ledger_rollup.py: ids up to a safe
bound, the PostgreSQL horizon for late commits) and a read adds the tail above the watermark: exact at any
moment. Every write path (webhooks, the history import, tests' and the bench's set-based INSERTs) is covered
because the database, not the code, writes the log. Vouchers change status (cancelled) after they are issued:
they are logged the same way (`voucher_changes`).

**Time zone.** As the ledger's: the row names the zone its days were cut in; another zone rebuilds the shop's
totals from the first change, and a read meanwhile ignores the totals and sums the whole log (still exact).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import and_, delete, func, literal, select
from sqlalchemy.engine import Connection, Engine

from db.tables import (order_changes as oc, order_day_totals as totals, order_rollups as rollups,
                       voucher_changes as vc, voucher_day_totals as voucher_totals, voucher_rollups)
from loyalty.domain.shops import ShopFacts
from loyalty.services.ledger_rollup import BATCH, day_expression, roll_log, upsert_add


def order_watermark(conn: Connection, shop_id: int, facts: ShopFacts, states=rollups) -> int:
    """The highest change id in the shop's totals for a read (of `states`: order_rollups or voucher_rollups);
    0 when none or cut in another zone."""
    row = conn.execute(select(states.c.watermark, states.c.zone).where(states.c.shop_id == shop_id)).first()
    return row.watermark if row is not None and row.zone == facts.timezone else 0


def _state_of(states, day_totals):
    """The state reader for roll_log: the shop's row of `states`, locked; made, or emptied with its
    `day_totals` when the zone changed."""
    def state(conn: Connection, shop_id: int, facts: ShopFacts, now: datetime):
        query = select(states).where(states.c.shop_id == shop_id)
        row = conn.execute(query.with_for_update() if conn.dialect.name == "postgresql" else query).first()
        if row is not None and row.zone == facts.timezone:
            return row
        conn.execute(delete(day_totals).where(day_totals.c.shop_id == shop_id))
        if row is None:
            conn.execute(states.insert().values(shop_id=shop_id, watermark=0, zone=facts.timezone, rolled_at=now))
        else:
            conn.execute(states.update().where(states.c.shop_id == shop_id)
                         .values(watermark=0, zone=facts.timezone, horizon_id=None, horizon_xid=None, rolled_at=now))
        return conn.execute(query).first()
    return state


def _roll_batch(conn: Connection, shop_id: int, facts: ShopFacts, state, low: int, high: int) -> dict:
    """Add the shop's changes with ids in (low, high] to the day totals."""
    in_batch = and_(oc.c.id > low, oc.c.id <= high, oc.c.shop_id == shop_id)
    first, last = conn.execute(select(func.min(oc.c.paid_at), func.max(oc.c.paid_at)).where(in_batch)).one()
    if first is not None:
        day = day_expression(conn, facts, first, last, column=oc.c.paid_at)
        upsert_add(conn, totals, ("shop_id", "day", "buyer"), ("orders", "revenue"),
                   select(literal(shop_id), day, oc.c.buyer, func.sum(oc.c.orders), func.sum(oc.c.revenue))
                   .where(in_batch).group_by(day, oc.c.buyer))
    return {}


def roll_up_orders(engine: Engine, shop_id: int, now: datetime | None = None, batch: int = BATCH) -> int:
    """Bring the shop's order totals up to the safe bound, a batch of ids per transaction; the new watermark."""
    return roll_log(engine, shop_id, now or datetime.now(timezone.utc), batch, log=oc, states=rollups,
                    state_of=_state_of(rollups, totals), roll_batch=_roll_batch)


def _roll_voucher_batch(conn: Connection, shop_id: int, facts: ShopFacts, state, low: int, high: int) -> dict:
    """Add the shop's voucher changes with ids in (low, high] to the day totals."""
    in_batch = and_(vc.c.id > low, vc.c.id <= high, vc.c.shop_id == shop_id)
    first, last = conn.execute(select(func.min(vc.c.created_at), func.max(vc.c.created_at)).where(in_batch)).one()
    if first is not None:
        day = day_expression(conn, facts, first, last, column=vc.c.created_at)
        upsert_add(conn, voucher_totals, ("shop_id", "day", "kind", "reward_key"), ("vouchers", "points"),
                   select(literal(shop_id), day, vc.c.kind, vc.c.reward_key, func.sum(vc.c.vouchers),
                          func.sum(vc.c.points)).where(in_batch).group_by(day, vc.c.kind, vc.c.reward_key))
    return {}


def roll_up_vouchers(engine: Engine, shop_id: int, now: datetime | None = None, batch: int = BATCH) -> int:
    """Bring the shop's voucher totals up to the safe bound; the new watermark."""
    return roll_log(engine, shop_id, now or datetime.now(timezone.utc), batch, log=vc, states=voucher_rollups,
                    state_of=_state_of(voucher_rollups, voucher_totals), roll_batch=_roll_voucher_batch)


def rebuild_orders(engine: Engine, shop_id: int, now: datetime | None = None) -> int:
    """Throw the shop's order and voucher totals away and roll both logs up again; the orders' watermark."""
    with engine.begin() as conn:
        for states in (rollups, voucher_rollups):
            conn.execute(states.update().where(states.c.shop_id == shop_id).values(zone=""))
    roll_up_vouchers(engine, shop_id, now)
    return roll_up_orders(engine, shop_id, now)
