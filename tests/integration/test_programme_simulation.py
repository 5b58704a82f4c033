"""The simulation against the live pipeline, on SQLite and PostgreSQL: orders sent as signed webhooks and
processed by the worker's code; then the same orders replayed under the programme in force must give what
the pipeline wrote (each customer's available, pending and lifetime points, each month's points earned and
taken back, the customers per tier), from any start date. And a simulation writes nothing."""
from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, text

from db.engine import writes_refused
from db.tables import customers, ledger_entries as le, metadata, orders
from jobs.scheduled import mature_points
from loyalty.domain.programme import template
from loyalty.domain.simulation import tier_rule
from loyalty.domain.standing import confirmed_lifetime
from loyalty.services.balances import balances
from loyalty.services.read.simulation import replay_orders, simulate_programme
from loyalty.services.shops import get_shop, programme, save_programme
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork
from tests.factories import cancelled, order, refund

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
NOW = datetime(2025, 7, 1, tzinfo=timezone.utc)
STORE_A = template("store-a")


@pytest.fixture
def recorded(ctx, shop, send, process):
    """Store A's programme; about 60 orders of 8 customers from January to May 2025 (seeded): some refunded
    in parts (inside and after the return window), some cancelled, some from the excluded reseller channel,
    a guest or two; all processed by the pipeline and matured."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, STORE_A, datetime(2024, 12, 1, tzinfo=timezone.utc))
    rng = random.Random(1414)
    for n in range(60):
        month, day = rng.randint(1, 5), rng.randint(1, 28)
        who = rng.randrange(8)
        lines = tuple((Decimal(rng.randint(500, 20000)) / 100, rng.randint(1, 2)) for _ in range(rng.randint(1, 3)))
        body = order(lines=lines, email=f"c{who}@example.com", customer_id=900 + who if who < 6 else None,
                     source_name="partner_reseller" if n % 13 == 5 else "web",
                     processed_at=f"2025-{month:02d}-{day:02d}T{rng.randint(8, 20):02d}:00:00+00:00")
        send("orders/paid", body)
        if n % 4 == 1:
            later = min(day + rng.choice((3, 20)), 28), month + (day + 20 > 28)
            send("refunds/create", refund(body, lines={0: (1, lines[0][0])},
                                          created_at=f"2025-{later[1]:02d}-{later[0]:02d}T09:00:00+00:00"))
        if n % 9 == 2:
            send("orders/cancelled", cancelled(body, at=f"2025-{month:02d}-{day:02d}T23:00:00+00:00"))
    process()
    mature_points(NOW, ctx)
    return shop


def ledger_months(conn, shop_id):
    """month -> (points earned, points taken back) as the pipeline wrote them."""
    flows = defaultdict(lambda: [0, 0])
    for kind, moment, pending, available in conn.execute(
            select(le.c.kind, le.c.effective_at, le.c.pending, le.c.available).where(le.c.shop_id == shop_id)):
        month = f"{moment:%Y-%m}"
        if kind == "earn":
            flows[month][0] += pending
        elif kind in ("claw_back", "void"):
            flows[month][1] -= pending + available
    return {m: tuple(v) for m, v in flows.items()}


@pytest.mark.parametrize("since", [datetime(2025, 1, 1, tzinfo=timezone.utc),
                                   datetime(2025, 3, 10, tzinfo=timezone.utc)])
def test_replaying_under_the_programme_in_force_gives_what_the_pipeline_wrote(ctx, recorded, since):
    with ctx.engine.connect() as conn:
        ref = get_shop(conn, recorded.domain)
        in_force = programme(conn, ref.id, ref.settings_version)
        replay = replay_orders(conn, ref.id, in_force, in_force, since, NOW)
        months = replay.finish()
        ids = [row[0] for row in conn.execute(select(customers.c.id).where(customers.c.shop_id == ref.id))]
        written = balances(conn, ids)
        flows = ledger_months(conn, ref.id)
    assert replay.orders > 0 and sum(flows.get(m.month, (0, 0))[0] for m in months) > 0
    for customer in ids:
        state = replay.customers.get(customer, [0, 0, 0])
        truth = written[customer]
        assert tuple(state[0:3]) == (truth.available, truth.pending, truth.lifetime), customer
        assert state[0:3] == state[4:7]  # the draft is the programme in force: the same
    tiers = Counter(tier_rule(in_force)(confirmed_lifetime(b)) for c, b in written.items() if c in replay.customers)
    last = months[-1].sides["in_force"]
    assert {k: v for k, v in last.tiers.items() if v} == dict(tiers)
    assert last.outstanding == sum(b.available + b.pending for b in written.values())
    for month in months:
        if month.month >= f"{since:%Y-%m}" and month.month != f"{since:%Y-%m}":
            earned, taken = flows.get(month.month, (0, 0))
            assert (month.sides["in_force"].issued, month.sides["in_force"].taken_back) == (earned, taken), month.month
    assert replay.standing_changes() == [] and all(m.standing_changed == 0 for m in months)


def test_a_draft_changes_what_is_issued_and_lists_who_changes_tier(ctx, recorded):
    """Twice the earn rate: twice the points issued (exactly, each order floored alone), tiers move up."""
    draft = STORE_A.with_changes(earn_rate="2")
    report = simulate_programme(recorded.domain, draft, datetime(2025, 1, 1, tzinfo=timezone.utc),
                                ReadOnlyUnitOfWork(ctx, clock=lambda: NOW))
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(orders.c.merchandise, orders.c.non_earning_paid, orders.c.award)
                            .where(orders.c.shop_id == recorded.id, orders.c.award > 0)).all()
    assert report["in_force"]["issued"] == sum(r.award for r in rows)
    assert report["draft"]["issued"] == sum(int((r.merchandise - r.non_earning_paid) * 2) for r in rows)
    assert report["standing_changes"]["count"] > 0
    assert report["in_force"]["point_value"]["rule"] == "cheapest_reward"
    assert [m["month"] for m in report["months"]][:2] == ["2025-01", "2025-02"] and len(report["months"]) == 7


def _snapshot(conn) -> dict:
    return {t.name: sorted(map(repr, conn.execute(select(t)).all())) for t in metadata.sorted_tables}


def test_a_simulation_writes_nothing(ctx, recorded):
    """Every row of every table is the same before and after; inside, the transaction refuses writes."""
    with ctx.engine.connect() as conn:
        before = _snapshot(conn)
    simulate_programme(recorded.domain, STORE_A.with_changes(earn_rate="3"), datetime(2025, 1, 1, tzinfo=timezone.utc),
                       ReadOnlyUnitOfWork(ctx, clock=lambda: NOW))
    with ctx.engine.connect() as conn:
        assert _snapshot(conn) == before
    uow = ReadOnlyUnitOfWork(ctx, clock=lambda: NOW)
    with pytest.raises(Exception, match="(?i)read.only|readonly|query_only|attempt to write"):
        with uow, writes_refused(uow.conn) as conn:
            conn.execute(insert(customers).values(shop_id=recorded.id, email="x@example.com", created_at=NOW))
    with ctx.engine.connect() as conn:  # the connection is writable again afterwards (SQLite's pragma undone)
        assert conn.execute(text("SELECT 1")).scalar() == 1
        assert conn.execute(select(func.count()).select_from(customers).where(
            customers.c.email == "x@example.com")).scalar() == 0


TIERED = STORE_A.from_dict({**STORE_A.to_dict(), "campaigns": [
    {"key": "march", "title": "Double March", "kind": "multiplier", "factor": "2",
     "starts_at": "2025-03-01T00:00:00+00:00", "ends_at": "2025-04-01T00:00:00+00:00"},
    {"key": "big", "title": "+25 over 150", "kind": "bonus", "bonus": 25, "minimum_amount": "150",
     "starts_at": "2025-01-01T00:00:00+00:00", "ends_at": "2025-12-01T00:00:00+00:00"}],
    "tiers": {"enabled": True, "basis": "spent", "window": "lifetime", "retention_months": 12, "levels": [
        {"key": "silver", "name": "Silver", "threshold": "150", "multiplier": "1.5"},
        {"key": "gold", "name": "Gold", "threshold": "400", "multiplier": "2"}]}})


def test_replaying_campaigns_and_vip_tiers_gives_the_points_the_pipeline_wrote(ctx, shop, send, process):
    """A programme with campaigns (not limited to a collection) and VIP tiers by amount spent: about 40
    orders of 5 customers, with refunds and cancellations, sent and processed one event at a time in the
    order they happened (the tier multiplying an order is the one held when it is paid). The replay under
    the programme in force gives each customer's points exactly, and the customers per VIP tier."""
    from db.tables import tier_members
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, TIERED, datetime(2024, 12, 1, tzinfo=timezone.utc))
    rng, events = random.Random(1415), []
    for n in range(40):
        month, day, hour = rng.randint(1, 5), rng.randint(1, 26), rng.randint(8, 20)
        who = rng.randrange(5)
        lines = tuple((Decimal(rng.randint(500, 12000)) / 100, 1) for _ in range(rng.randint(1, 2)))
        paid = datetime(2025, month, day, hour, tzinfo=timezone.utc)
        body = order(lines=lines, email=f"t{who}@example.com", customer_id=950 + who, processed_at=paid.isoformat())
        events.append((paid, "orders/paid", body))
        if n % 4 == 1:
            later = paid.replace(day=day + 2)
            events.append((later, "refunds/create", refund(body, lines={0: (1, lines[0][0])},
                                                           created_at=later.isoformat())))
        if n % 9 == 2:
            events.append((paid.replace(hour=23), "orders/cancelled", cancelled(body, at=paid.replace(hour=23).isoformat())))
    for _, topic, body in sorted(events, key=lambda e: e[0]):
        send(topic, body)
        process()
    mature_points(NOW, ctx)
    with ctx.engine.connect() as conn:
        ref = get_shop(conn, shop.domain)
        in_force = programme(conn, ref.id, ref.settings_version)
        replay = replay_orders(conn, ref.id, in_force, in_force, datetime(2025, 1, 1, tzinfo=timezone.utc), NOW)
        months = replay.finish()
        ids = [row[0] for row in conn.execute(select(customers.c.id).where(customers.c.shop_id == ref.id))]
        written = balances(conn, ids)
        held = Counter(conn.execute(select(tier_members.c.tier).where(tier_members.c.shop_id == ref.id)).scalars())
        boosted = conn.execute(select(func.count()).select_from(orders).where(
            orders.c.shop_id == ref.id, orders.c.campaigns.is_not(None))).scalar()
    assert boosted > 0 and held  # campaigns and tiers did take part
    for customer in ids:
        state = replay.customers.get(customer, [0, 0, 0])
        truth = written[customer]
        assert tuple(state[0:3]) == (truth.available, truth.pending, truth.lifetime), customer
    last = months[-1].sides["in_force"]
    assert {k: v for k, v in last.tiers.items() if v and k != "none"} == dict(held)
