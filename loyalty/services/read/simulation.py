"""`simulate_programme`: the shop's recorded orders replayed under a draft programme, beside the programme
in force, month by month (loyalty.domain.simulation does the replay). Nothing is written: the query runs
in a transaction that refuses writes (db.engine.writes_refused).

What is read: the orders paid from `since` to now (merchandise, non-earning share, payment time, channel,
the reason an order was excluded, cancellation) with their refunds, in order of payment, streamed; each
customer's recorded points before `since`; and the recorded entries the replay does not make itself
(redemptions, adjustments, bonuses, expiries, entries of orders paid before `since`), kept as they are;
with VIP tiers by amount spent or orders, what the orders paid before `since` count in the figure.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from db.engine import writes_refused
from db.tables import customers, ledger_entries as le, orders, refunds
from loyalty.defaults import SIMULATION_MAX_MONTHS, SIMULATION_LISTED_CUSTOMERS
from loyalty.domain.errors import ReportRangeError
from loyalty.domain.points import add_months
from loyalty.domain.programme import Programme
from loyalty.domain.simulation import DRAFT, IN_FORCE, Replay, month_of
from loyalty.services.balances import NOT_LIFETIME
from loyalty.services.read.shops import shop_of
from loyalty.services.shops import ShopRef, programme
from loyalty.services.unit_of_work import UnitOfWork

STREAM_ROWS = 20_000
"""Orders fetched at a time (a server-side cursor on PostgreSQL): memory stays flat whatever the count."""

_LIFETIME = case((le.c.kind.in_(NOT_LIFETIME), 0), else_=le.c.pending + le.c.available)


def simulate_programme(shop: ShopRef | str, draft: Programme, since: datetime, uow: UnitOfWork) -> dict:
    """The simulation report (JSON-ready) of `draft` against the programme in force, from `since` to
    `uow.now`; ReportRangeError for a start in the future or too far back."""
    since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
    until = uow.now
    if since >= until:
        raise ReportRangeError(f"since ({since:%Y-%m-%d}) must be before now")
    if month_of(until) - month_of(since) + 1 > SIMULATION_MAX_MONTHS:
        raise ReportRangeError(f"at most {SIMULATION_MAX_MONTHS} months per simulation")
    with uow, writes_refused(uow.conn) as conn:
        ref = shop_of(uow, shop)
        in_force = programme(conn, ref.id, ref.settings_version)
        replay = replay_orders(conn, ref.id, in_force, draft, since, until)
        months = replay.finish()
        changes = replay.standing_changes()
        named = _customer_names(conn, [c[0] for c in changes[:SIMULATION_LISTED_CUSTOMERS]])
    sides = {IN_FORCE: (in_force, ref.settings_version), DRAFT: (draft, None)}
    return {
        "shop": ref.domain, "since": since.isoformat(), "until": until.isoformat(),
        "orders_replayed": replay.orders,
        **{name: _side_summary(prog, version, replay.sides[i], months, name)
           for i, (name, (prog, version)) in enumerate(sides.items())},
        "months": [m.to_dict() for m in months],
        "standing_changes": {
            "count": len(changes),
            "customers": [{"customer": named.get(c), "in_force": f, "draft": d, "points_in_force": pf,
                           "points_draft": pd} for c, f, d, pf, pd in changes[:SIMULATION_LISTED_CUSTOMERS]],
        },
        "notes": notes(in_force, draft),
    }


def replay_orders(conn: Connection, shop_id: int, in_force: Programme, draft: Programme, since: datetime,
                  until: datetime) -> Replay:
    """The Replay fed with the shop's records (see module); `finish()` it for the months."""
    stored = (lambda m: m.astimezone(timezone.utc).replace(tzinfo=None)) if conn.dialect.name == "sqlite" \
        else (lambda m: m)  # SQLite gives back UTC wall times without a zone: compare like with like
    replay = Replay(in_force, draft, stored(since), stored(until))
    replayed = and_(orders.c.paid_at >= since, orders.c.paid_at <= until)
    not_replayed = or_(le.c.order_id.is_(None), orders.c.paid_at.is_(None), ~replayed)
    from_entries = le.outerjoin(orders, orders.c.id == le.c.order_id)
    for customer, available, pending, lifetime in conn.execute(
        select(le.c.customer_id, func.sum(le.c.available), func.sum(le.c.pending), func.sum(_LIFETIME))
        .select_from(from_entries)
        .where(le.c.shop_id == shop_id, le.c.customer_id.is_not(None), le.c.effective_at < since, not_replayed)
        .group_by(le.c.customer_id)
    ):
        replay.opening(customer, int(available), int(pending), int(lifetime))
    for customer, moment, available, pending, lifetime in conn.execute(
        select(le.c.customer_id, le.c.effective_at, le.c.available, le.c.pending, _LIFETIME)
        .select_from(from_entries)
        .where(le.c.shop_id == shop_id, le.c.customer_id.is_not(None), le.c.effective_at >= since,
               le.c.effective_at <= until, not_replayed)
    ):
        replay.recorded(moment, customer, available, pending, lifetime)
    _opening_figures(conn, shop_id, replay, since)
    refunded: dict[int, list] = {}
    for order_id, created_at, amount in conn.execute(
        select(refunds.c.shopify_order_id, refunds.c.created_at, refunds.c.merchandise)
        .join(orders, and_(orders.c.shop_id == refunds.c.shop_id,
                           orders.c.shopify_order_id == refunds.c.shopify_order_id))
        .where(refunds.c.shop_id == shop_id, replayed)
        .order_by(refunds.c.shopify_order_id, refunds.c.created_at, refunds.c.shopify_refund_id)
    ):
        refunded.setdefault(order_id, []).append((created_at, amount))
    rows = conn.execution_options(yield_per=STREAM_ROWS).execute(
        select(orders.c.shopify_order_id, orders.c.customer_id, orders.c.paid_at, orders.c.merchandise,
               orders.c.non_earning_paid, orders.c.source_name, orders.c.excluded_reason, orders.c.cancelled_at)
        .where(orders.c.shop_id == shop_id, replayed)
        .order_by(orders.c.paid_at, orders.c.shopify_order_id))
    order, no_refunds = replay.order, ()
    for order_id, customer, paid_at, merchandise, non_earning, source, reason, cancelled_at in rows:
        order(customer, paid_at, merchandise, non_earning, source, reason, cancelled_at,
              refunded.get(order_id, no_refunds))
    return replay


def _opening_figures(conn: Connection, shop_id: int, replay: Replay, since: datetime) -> None:
    """What orders paid before `since` count in a `spent` or `orders` VIP figure (as
    loyalty.services.tiers.figures counts them: not cancelled, not excluded, merchandise less refunds): one
    sum per customer when every window is lifetime, else each order (of the 12 months before `since` when
    no window is lifetime: none reaches further back)."""
    tiers = [side.prog.tiers for side in replay.sides if side.vip is not None and side.vip.tiers.basis != "points"]
    if not tiers:
        return
    refunded = (select(func.coalesce(func.sum(refunds.c.merchandise), 0))
                .where(refunds.c.shop_id == orders.c.shop_id, refunds.c.shopify_order_id == orders.c.shopify_order_id)
                .scalar_subquery())
    kept = orders.c.merchandise - refunded
    spent, counted = case((kept > 0, kept), else_=0), case((kept > 0, 1), else_=0)
    counts = and_(orders.c.shop_id == shop_id, orders.c.paid_at.is_not(None), orders.c.paid_at < since,
                  orders.c.customer_id.is_not(None), orders.c.cancelled_at.is_(None),
                  orders.c.excluded_reason.is_(None), orders.c.merchandise.is_not(None))
    if all(t.window == "lifetime" for t in tiers):
        for customer, total, number in conn.execute(
                select(orders.c.customer_id, func.sum(spent), func.sum(counted)).where(counts)
                .group_by(orders.c.customer_id)):
            replay.opening_figure(customer, Decimal(str(total or 0)), int(number or 0))
    else:
        for customer, paid_at, total, number in conn.execute(
                select(orders.c.customer_id, orders.c.paid_at, spent, counted)
                .where(counts, orders.c.paid_at >= (datetime.min.replace(tzinfo=timezone.utc)
                                                     if any(t.window == "lifetime" for t in tiers)
                                                     else add_months(since, -12)))):
            replay.opening_figure(customer, Decimal(str(total)), int(number), counted_at=paid_at)


def _side_summary(prog: Programme, version: int | None, side, months, name: str) -> dict:
    """One programme's totals over the months and its standing at the end."""
    last = months[-1].sides[name] if months else None
    return {
        "version": version,
        "point_value": side.value.to_dict(),
        "reward_price": side.price,
        "issued": sum(m.sides[name].issued for m in months),
        "taken_back": sum(m.sides[name].taken_back for m in months),
        "outstanding": last.outstanding if last else 0,
        "liability": str(last.liability) if last else "0.00",
        "rewards_redeemable": last.rewards_redeemable if last else 0,
        "tiers": dict(last.tiers) if last else {},
    }


def _customer_names(conn: Connection, ids: list[int]) -> dict[int, str]:
    """How the report names customers: their Shopify id, else their email."""
    if not ids:
        return {}
    return {row.id: str(row.shopify_customer_id or row.email) for row in conn.execute(
        select(customers.c.id, customers.c.shopify_customer_id, customers.c.email).where(customers.c.id.in_(ids)))}


def notes(in_force: Programme, draft: Programme) -> list[str]:
    """How the replay works, and what it cannot know from the records, said where it matters."""
    said = [
        "orders paid since the start are replayed under both programmes with the live rules (award, pending "
        "period, refunds in proportion, cancellations); points earned before the start, redemptions, "
        "adjustments, bonuses and expiries are taken as recorded",
    ]
    for name, prog in (("in force", in_force), ("draft", draft)):
        if prog.tiers.enabled:
            said.append(f"tiers ({name}): the VIP tiers by {prog.tiers.basis} over {prog.tiers.window.replace('_', ' ')}, "
                        "decided as the app decides them (entry at once, retention and downgrade at the period's end) "
                        "from the replayed orders, each replay starting with no tier at the start; the tier's multiplier "
                        "applies to the customer's orders")
        else:
            said.append(f"tiers ({name}): the perk ladder's thresholds reached by confirmed lifetime points "
                        "(pending points do not count)")
    if any(c.collection_id for p in (in_force, draft) for c in p.campaigns):
        said.append("orders keep no lines: campaigns limited to a collection cannot be replayed and apply to no "
                    "order (the other campaigns apply by paid time)")
    if any(p.earning.earning_cap is not None for p in (in_force, draft)):
        said.append("earning caps are not replayed: every order earns its whole award")
    if any(p.earn_on_shipping or not p.earn_on_taxes for p in (in_force, draft)):
        said.append("orders record their merchandise only: earning on shipping, or not on taxes included in "
                    "prices, cannot be replayed (points are computed on the merchandise)")
    if (set(map(str.lower, draft.excluded_customer_tags)) - set(map(str.lower, in_force.excluded_customer_tags))
            or (draft.exclude_b2b and not in_force.exclude_b2b)):
        said.append("customer tags and B2B are known only for orders excluded for them when recorded: a newly "
                    "excluded tag or B2B does not exclude orders that earned")
    if (draft.expiry, draft.expiry_months) != (in_force.expiry, in_force.expiry_months):
        said.append("expiry differs: expiries are taken as recorded under the programme in force")
    if "floor" in (in_force.negative_balance, draft.negative_balance):
        said.append("refunds take back their full share (a `floor` balance may have taken less)")
    return said
