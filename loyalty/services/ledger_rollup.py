"""The ledger rolled up: per shop, sums per shop calendar day and entry kind, per customer (points owed, day of
last activity) and per day of last activity, kept up incrementally over the append-only ledger.

**Watermark.** Ledger ids only grow and entries are never updated (except `customer_id` set to NULL by a
redaction: `forget_customer` moves that customer's totals in the same transaction). The roll-up adds the
entries with `watermark < id <= safe` to the totals and moves the watermark, in one transaction per batch, so
the totals always hold exactly the entries up to the watermark. A read adds the live tail (entries above the
watermark, a few minutes' worth) to the totals: the figures are exact, whatever the roll-up's delay.

**Late commits.** An id below the watermark must not become visible after the roll-up passed it.
- SQLite has one writer at a time: an id is drawn and committed under the database's write lock, so every id
  up to the highest visible one is committed (or rolled back, never to appear): `safe` is that highest id.
- PostgreSQL draws ids from a sequence in concurrent transactions. Each run records a horizon: the highest
  visible id and the snapshot's `xmax`. A later run rolls up to that id only once the oldest open
  transaction (`pg_snapshot_xmin`) is past that `xmax`: every transaction running at the earlier run
  (which alone may hold an unseen id up to it) has ended. The roll-up lags one run behind (a minute, cron).
  The one gap: a transaction that draws its id before the horizon is read and takes its transaction id
  after the snapshot, within one INSERT, and then stays open longer than a run's interval; the horizon is
  read before the snapshot to narrow it, and the daily rebuild (`rebuild`) would mend such a miss.

**Time zone.** Days are the shop's calendar days (ShopFacts), cut in SQL with the zone's offset spans
(loyalty.domain.shop_days), exact for half- and quarter-hour zones. A change of the shop's zone rebuilds the
shop's totals from the first entry (the rollup row names its zone; a read whose zone differs ignores the
totals and sums the ledger, still exact). UTC-hour totals bucketed at read time were the alternative: no
rebuild, but wrong for zones a half or quarter hour off UTC and 24 times the rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Date, and_, bindparam, case, cast, delete, func, literal, literal_column, null, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from db.tables import (ledger_activity_totals as activity, ledger_customer_totals as per_customer,
                       ledger_day_totals as day_totals, ledger_entries as le, ledger_rollups as rollups)
from loyalty.domain.shop_days import offset_spans
from loyalty.domain.shops import ShopFacts
from loyalty.services.shops import shop_facts

ACTIVITY = ("earn", "claw_back", "void", "redeem", "recredit", "adjust", "bonus")
"""Entry kinds a customer's own doings make (a purchase, a refund, a redemption...): maturing and expiring
happen to points without the customer, so they do not count as activity."""

NEVER = date(1, 1, 1)
"""The day of last activity of a customer with none (and of entries of no customer)."""

BATCH = 200_000
"""Ledger ids per roll-up transaction."""


# -- the shop day of an entry, in SQL -------------------------------------------------------------------------

def day_expression(conn: Connection, facts: ShopFacts, low: datetime, high: datetime, column=le.c.effective_at):
    """The shop calendar day of `column` for instants in [low, high], as a date (PostgreSQL) or 'YYYY-MM-DD'
    text (SQLite: how it stores a Date): one CASE over the zone's offset spans."""
    spans = offset_spans(facts.zone, aware(low), aware(high) + timedelta(seconds=1))

    def shifted(offset: int):
        if conn.dialect.name == "postgresql":
            # inline (an int): GROUP BY must repeat the very expression, bound parameters would differ
            return func.date(func.timezone("UTC", column) + literal_column(f"interval '{int(offset)} seconds'"))
        return func.strftime("%Y-%m-%d", column, literal_column(f"'{int(offset):+d} seconds'"))

    if len(spans) == 1:
        return shifted(spans[0].offset)
    whens = [(column < bindparam(f"span_{n}", span.end, type_=column.type), shifted(span.offset))
             for n, span in enumerate(spans[:-1])]
    return case(*whens, else_=shifted(spans[-1].offset))


def aware(moment: datetime | None) -> datetime | None:
    """An instant as an aware UTC datetime (SQLite gives back naive UTC wall times)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def as_date(value) -> date:
    """A day as either database returns it."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- the state -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Watermark:
    """How far the shop's totals go: entries with ids up to `id` (0: no totals usable) in zone `zone`."""

    id: int
    zone: str
    max_effective_at: datetime | None


def watermark(conn: Connection, shop_id: int, facts: ShopFacts) -> Watermark:
    """The usable watermark for a read: 0 when the shop has no totals or they were cut in another zone."""
    row = conn.execute(select(rollups.c.watermark, rollups.c.zone, rollups.c.max_effective_at)
                       .where(rollups.c.shop_id == shop_id)).first()
    if row is None or row.zone != facts.timezone:
        return Watermark(0, facts.timezone, None)
    return Watermark(row.watermark, row.zone, aware(row.max_effective_at))


def tail_range(conn: Connection, shop_id: int, above: int) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest effective_at of the shop's entries above id `above`."""
    return tuple(aware(m) for m in conn.execute(select(func.min(le.c.effective_at), func.max(le.c.effective_at))
                                                .where(le.c.id > above, le.c.shop_id == shop_id)).one())


# -- rolling up ------------------------------------------------------------------------------------------------

def safe_bound(conn: Connection, shop_id: int, state, now: datetime, log=le, states=rollups) -> int:
    """The highest id of the append-only `log` that may be rolled up now (see the module's "Late commits");
    records the next horizon in the shop's row of `states`."""
    highest = conn.execute(select(func.coalesce(func.max(log.c.id), 0)).where(log.c.shop_id == shop_id)).scalar()
    if conn.dialect.name != "postgresql":
        return highest
    oldest_open, next_xid = conn.execute(text(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
        " pg_snapshot_xmax(pg_current_snapshot())::text::bigint")).one()
    safe = state.watermark
    if state.horizon_id is not None and oldest_open >= state.horizon_xid:
        safe = max(safe, state.horizon_id)
    conn.execute(states.update().where(states.c.shop_id == shop_id)
                 .values(horizon_id=highest, horizon_xid=next_xid, rolled_at=now))
    return safe


def _shift_activity(conn: Connection, shop_id: int, customers, sign: int) -> None:
    """Add (sign 1) or take away (-1) these customers' current totals to/from the activity buckets."""
    grouped = (select(literal(shop_id), func.coalesce(per_customer.c.last_active, NEVER),
                      func.sum(per_customer.c.owed) * sign, func.count() * sign)
               .where(per_customer.c.shop_id == shop_id, per_customer.c.customer_id.in_(customers))
               .group_by(per_customer.c.last_active))
    upsert_add(conn, activity, ("shop_id", "last_active"), ("owed", "customers"), grouped)


def insert_for(conn: Connection, table):
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE on both databases."""
    return (postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def upsert_add(conn: Connection, table, keys: tuple[str, ...], sums: tuple[str, ...], rows_select,
                **other) -> None:
    """INSERT the selected rows, or add their sums to the row already there; `other`: further columns set on
    conflict, as functions of (table, excluded)."""
    statement = insert_for(conn, table).from_select(list(keys + sums + tuple(other)), rows_select)
    updates = {c: table.c[c] + statement.excluded[c] for c in sums}
    updates.update({c: make(table, statement.excluded) for c, make in other.items()})
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))


def _later(table, excluded):
    """The later of two days of last activity, either possibly NULL."""
    old, new = table.c.last_active, excluded.last_active
    return case((new.is_(None), old), (old.is_(None), new), (new > old, new), else_=old)


def _roll_batch(conn: Connection, shop_id: int, facts: ShopFacts, low: int, high: int) -> datetime | None:
    """Add the shop's entries with ids in (low, high] to the totals; their latest effective_at."""
    in_batch = and_(le.c.id > low, le.c.id <= high, le.c.shop_id == shop_id)
    first, last = conn.execute(select(func.min(le.c.effective_at), func.max(le.c.effective_at))
                               .where(in_batch)).one()
    if first is None:
        return None
    day = day_expression(conn, facts, first, last)
    upsert_add(conn, day_totals, ("shop_id", "day", "kind"), ("pending", "available", "entries"),
                select(literal(shop_id), day, le.c.kind, func.sum(le.c.pending), func.sum(le.c.available),
                       func.count()).where(in_batch).group_by(day, le.c.kind))
    who = func.coalesce(le.c.customer_id, 0)
    touched = select(who).where(in_batch).distinct()
    _shift_activity(conn, shop_id, touched, -1)
    last_active = case((who == 0, None), else_=func.max(case((le.c.kind.in_(ACTIVITY), day), else_=None)))
    upsert_add(conn, per_customer, ("shop_id", "customer_id"), ("owed",),
                select(literal(shop_id), who, func.sum(le.c.pending + le.c.available), last_active)
                .where(in_batch).group_by(who), last_active=_later)
    _shift_activity(conn, shop_id, touched, 1)
    conn.execute(delete(activity).where(activity.c.shop_id == shop_id, activity.c.customers == 0))
    return last


def _state(conn: Connection, shop_id: int, facts: ShopFacts, now: datetime):
    """The shop's rollup row, locked; made, or emptied with its totals when the zone changed."""
    query = select(rollups).where(rollups.c.shop_id == shop_id)
    state = conn.execute(query.with_for_update() if conn.dialect.name == "postgresql" else query).first()
    if state is not None and state.zone == facts.timezone:
        return state
    for table in (day_totals, per_customer, activity):
        conn.execute(delete(table).where(table.c.shop_id == shop_id))
    if state is None:
        conn.execute(rollups.insert().values(shop_id=shop_id, watermark=0, zone=facts.timezone, rolled_at=now))
    else:
        conn.execute(rollups.update().where(rollups.c.shop_id == shop_id)
                     .values(watermark=0, zone=facts.timezone, max_effective_at=None, horizon_id=None,
                             horizon_xid=None, rolled_at=now))
    return conn.execute(query).first()


def roll_log(engine: Engine, shop_id: int, now: datetime, batch: int, *, log, states, state_of, roll_batch) -> int:
    """Bring a shop's totals of an append-only `log` up to its safe bound, a batch of ids per transaction; the
    new watermark. `state_of(conn, shop_id, facts, now)` gives the shop's row of `states`, locked (made, or
    emptied when the zone changed); `roll_batch(conn, shop_id, facts, state, low, high)` adds the ids in
    (low, high] to the totals and gives further columns of `states` to set."""
    with engine.begin() as conn:
        facts = shop_facts(conn, shop_id)
        state = state_of(conn, shop_id, facts, now)
        safe, mark = safe_bound(conn, shop_id, state, now, log, states), state.watermark
    while mark < safe:
        high = min(mark + batch, safe)
        with engine.begin() as conn:
            state = state_of(conn, shop_id, facts, now)
            if state.watermark != mark:  # another roll-up ran meanwhile (or the zone changed): start again
                return roll_log(engine, shop_id, now, batch, log=log, states=states, state_of=state_of,
                                roll_batch=roll_batch)
            more = roll_batch(conn, shop_id, facts, state, mark, high)
            conn.execute(states.update().where(states.c.shop_id == shop_id)
                         .values(watermark=high, rolled_at=now, **more))
        mark = high
    return mark


def _roll_ledger_batch(conn: Connection, shop_id: int, facts: ShopFacts, state, low: int, high: int) -> dict:
    """A batch of the ledger rolled up; the latest effective_at rolled so far."""
    last = _roll_batch(conn, shop_id, facts, low, high)
    return {"max_effective_at": max(filter(None, (aware(last), aware(state.max_effective_at))), default=None)}


def roll_up(engine: Engine, shop_id: int, now: datetime | None = None, batch: int = BATCH) -> int:
    """Bring the shop's totals up to the safe bound, a batch of ids per transaction; the new watermark."""
    return roll_log(engine, shop_id, now or datetime.now(timezone.utc), batch, log=le, states=rollups,
                    state_of=_state, roll_batch=_roll_ledger_batch)


def rebuild(engine: Engine, shop_id: int, now: datetime | None = None) -> int:
    """Throw the shop's totals away and roll the whole ledger up again."""
    with engine.begin() as conn:
        conn.execute(rollups.update().where(rollups.c.shop_id == shop_id).values(zone=""))
    return roll_up(engine, shop_id, now)


def forget_customer(conn: Connection, shop_id: int, customer_id: int) -> None:
    """A customer redacted (their entries now belong to no customer): their totals join customer 0's, in the
    redaction's transaction."""
    move_customer_totals(conn, shop_id, customer_id, 0, keep_activity=False)


def move_customer_totals(conn: Connection, shop_id: int, source: int, target: int, *,
                         keep_activity: bool = True) -> None:
    """`source`'s entries now belong to `target` (a merge of two records of one person, or 0 for a redaction):
    its totals join `target`'s in the same transaction, so the members count and the activity buckets stay
    exact. `keep_activity`: its day of last activity comes along (a merge), or not (a redaction)."""
    row = conn.execute(select(per_customer.c.owed, per_customer.c.last_active).where(
        per_customer.c.shop_id == shop_id, per_customer.c.customer_id == source)).first()
    if row is None:
        return
    both = (source, target)
    _shift_activity(conn, shop_id, both, -1)
    conn.execute(delete(per_customer).where(per_customer.c.shop_id == shop_id,
                                            per_customer.c.customer_id == source))
    last_active = literal(row.last_active, Date) if keep_activity and row.last_active else cast(null(), Date)
    upsert_add(conn, per_customer, ("shop_id", "customer_id"), ("owed",),
               select(literal(shop_id), literal(target), literal(row.owed), last_active).where(literal(True)),
               last_active=_later)
    _shift_activity(conn, shop_id, both, 1)
    conn.execute(delete(activity).where(activity.c.shop_id == shop_id, activity.c.customers == 0))
