"""The storefront benchmark's shop, made set-based in the database (one INSERT ... SELECT per kind of row over
a counter, as tools/bench/simulate.py makes its orders), on SQLite or PostgreSQL.

`Shape(customers=1_000_000, entries=10_000_000, measured=8, per_customer=1_000)`: the shop's customers; the
measured ones (the first `measured` rows) have exactly `per_customer` ledger entries each, spread over the
whole ledger (every S-th order and voucher is theirs, so their rows are far apart in the tables, as a real
customer's are); the others share the rest at random. Per ten entries there are four orders (an `earn`
each, and a `mature` 14 days later unless still pending), one `redeem` with its voucher, and the rest
`bonus` entries. Three years of orders end at `now`: the last 14 days' orders are still pending. Customers
have a first and a last name (FIRST_NAMES, LAST_NAMES) with their search keys, as support searches them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, text

SPAN_SECONDS = 3 * 365 * 86400
"""The orders' three years, ending at `now`."""
PENDING_DAYS = 14
FIRST_SHOPIFY_CUSTOMER = 7_000_000_000
FIRST_SHOPIFY_ORDER = 9_000_000_000_000


FIRST_NAMES = ("Élodie", "Marie", "Jean", "Chloé", "Lucas", "Léa", "Hugo", "Manon", "Louis", "Inès", "Gabriel",
               "Camille", "Raphaël", "Zoé", "Arthur", "Jade", "Noé", "Anaïs", "Jules", "Océane", "Adam", "Maëlle",
               "Théo", "Sarah", "Mathis", "Emma", "Nathan", "Clara", "Tom", "Alice", "Paul", "Lucie", "Ethan", "Rose",
               "Sacha", "Anna", "Victor", "Lina", "Enzo", "Juliette", "Maxime", "Margaux", "Noah", "Eva", "Aaron",
               "Agathe", "Benoît", "Cécile", "Denis", "Estelle", "François", "Gaëlle", "Hélène", "Irène", "Jérôme")
"""First names of the shop's customers (customer i: i modulo their count)."""
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
              "Simon", "Laurent", "Lefèvre", "Michel", "García", "David", "Bertrand", "Roux", "Vincent", "Fournier",
              "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
              "Martínez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Müller", "Henry", "Roussel",
              "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine",
              "Chevalier", "Robin", "Masson", "Sánchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval",
              "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez",
              "Marchand", "Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux")
"""Last names (customer i: (i / len(FIRST_NAMES)) modulo their count): 55 x 79 = 4,345 full names, each
shared by about 230 of 1,000,000 customers; search keys folded as the app folds them."""


def _names_table(name: str, names: tuple[str, ...]) -> str:
    """`name(k, name, folded)` as a VALUES list (a CTE), folded by loyalty.domain.customer_search.fold."""
    from loyalty.domain.customer_search import fold

    rows = ", ".join(f"({k}, '{n}', '{fold(n)}')" for k, n in enumerate(names))
    return f", {name}(k, name, folded) AS (VALUES {rows}) "


_NAMES = _names_table("f", FIRST_NAMES) + _names_table("l", LAST_NAMES)
"""The CTEs the customers' INSERT joins for their names (after the counter's WITH)."""


@dataclass(frozen=True)
class Shape:
    """How big the shop is."""

    customers: int = 1_000_000
    entries: int = 10_000_000
    measured: int = 8
    per_customer: int = 1_000

    @property
    def orders_each(self) -> int:
        """Orders of each measured customer (four in ten entries)."""
        return self.per_customer * 2 // 5

    @property
    def redeems_each(self) -> int:
        """Redemptions (with a voucher each) of each measured customer (one in ten entries)."""
        return self.per_customer // 10

    @property
    def order_stride(self) -> int:
        """Every order_stride-th order belongs to the measured customers (its first `measured` in each stride)."""
        return self.entries * 2 // 5 // self.orders_each

    @property
    def redeem_stride(self) -> int:
        """Likewise for redemptions."""
        return self.entries // 10 // self.redeems_each

    def check(self) -> None:
        """Refuse a shape that cannot hold the measured customers' entries beside everyone else's."""
        if self.customers <= self.measured or min(self.order_stride, self.redeem_stride) <= self.measured:
            raise ValueError(f"{self}: too few entries or customers for {self.measured} measured customers")
        if self.entries < self.customers:
            raise ValueError(f"{self}: fewer entries than customers")


@dataclass(frozen=True)
class Made:
    """What populate made: the measured customers' Shopify ids, and the clock the data ends at."""

    measured: tuple[int, ...]
    now: datetime


class Dialect:
    """The few SQL fragments that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str, start: datetime):
        self.postgres = name == "postgresql"
        self.start = start.strftime("%Y-%m-%d %H:%M:%S") + ("+00" if self.postgres else "")

    def counter(self) -> str:
        """`n(i)` for i in 0..:last (bigint on PostgreSQL)."""
        if self.postgres:
            return "WITH n(i) AS (SELECT generate_series(0, CAST(:last AS bigint))) "
        return "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "

    def at(self, seconds: str) -> str:
        """The timestamp `seconds` (an SQL expression) after the start, as the column type stores it."""
        if self.postgres:
            return f"(CAST(:start AS timestamptz) + ({seconds}) * interval '1 second')"
        return f"(datetime(:start, '+' || ({seconds}) || ' seconds') || '.000000')"

    def later(self, column: str, days: int) -> str:
        """`column` plus `days` days."""
        if self.postgres:
            return f"({column} + interval '{days} days')"
        return f"(datetime({column}, '+{days} days') || '.000000')"

    def pad(self, number: str) -> str:
        """A number as a 16-digit string: keys that sort in insertion order, so unique indexes are appended to."""
        if self.postgres:
            return f"lpad(CAST({number} AS text), 16, '0')"
        return f"printf('%016d', {number})"


def populate(database_url: str, shop_id: int, shape: Shape, now: datetime | None = None) -> Made:
    """Write the shop's customers, orders, ledger entries and vouchers (the database is migrated and the shop
    installed); the measured customers' Shopify ids."""
    shape.check()
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = now - timedelta(seconds=SPAN_SECONDS)
    engine = create_engine(database_url)
    dialect = Dialect(engine.dialect.name, start)
    try:
        with engine.connect() as conn:
            _fast_load(conn, dialect)
            with conn.begin():
                _write(conn, dialect, shop_id, shape, now)
            _settle(conn, dialect)
    finally:
        engine.dispose()
    return Made(tuple(FIRST_SHOPIFY_CUSTOMER + m for m in range(shape.measured)), now)


def _fast_load(conn, dialect: Dialect) -> None:
    """A bulk load's settings for this connection only: the data is thrown away with the benchmark, so
    no journal or disk flush on SQLite, no per-row trigger (foreign key checks) on PostgreSQL; the rows
    are consistent by construction."""
    if dialect.postgres:
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
    else:
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("PRAGMA cache_size=-1000000")
    conn.commit()


def _settle(conn, dialect: Dialect) -> None:
    """Back to the production settings; PostgreSQL's statistics as autovacuum would have them."""
    if dialect.postgres:
        conn.exec_driver_sql("SET session_replication_role = origin")
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.commit()


def _secondary_indexes(names: tuple[str, ...]):
    """The non-unique indexes of these tables (db/tables.py): dropped during the load, made again after
    (one sort instead of ten million random insertions)."""
    from db.tables import metadata

    return [index for name in names for index in metadata.tables[name].indexes if not index.unique]


def _write(conn, d: Dialect, shop_id: int, shape: Shape, now: datetime) -> None:
    """Every row, set-based."""
    indexes = _secondary_indexes(("customers", "orders", "ledger_entries", "vouchers"))
    for index in indexes:
        index.drop(conn)
    k, bulk = shape.measured, shape.customers - shape.measured
    first = (conn.execute(text("SELECT coalesce(max(id), 0) FROM customers")).scalar() or 0) + 1
    params = dict(shop=shop_id, start=d.start, k=k, bulk=bulk, first=first)
    conn.execute(text(d.counter() + _NAMES + f"""
        INSERT INTO customers (id, shop_id, shopify_customer_id, email, created_at, accepts_loyalty_emails,
                               first_name, last_name, name_key, surname_key)
        SELECT :first + i, :shop, {FIRST_SHOPIFY_CUSTOMER} + i, 'shopper' || i || '@example.com', {d.at('0')},
               :yes, f.name, l.name, f.folded || ' ' || l.folded, l.folded || ' ' || f.folded
        FROM n JOIN f ON f.k = i % {len(FIRST_NAMES)} JOIN l ON l.k = (i / {len(FIRST_NAMES)}) % {len(LAST_NAMES)}"""),
        dict(params, last=shape.customers - 1, yes=True))
    # Order i is a measured customer's when i % stride < k; else a customer of the rest, scattered.
    owner = "CASE WHEN i % :stride < :k THEN :first + i % :stride ELSE :first + :k + (i * 7919) % :bulk END"
    orders_total = shape.order_stride * shape.orders_each
    step = SPAN_SECONDS / orders_total
    conn.execute(text(d.counter() + f"""
        INSERT INTO orders (shop_id, shopify_order_id, name, customer_id, source_name, currency, merchandise,
                            non_earning_paid, paid_at, award, pending_until, settings_version)
        SELECT :shop, {FIRST_SHOPIFY_ORDER} + i, '#' || (1000 + i), {owner}, 'web', 'EUR', 10 + (i % 12) * 10, 0,
               paid, 10 + (i % 12) * 10, {d.later('paid', PENDING_DAYS)}, 1
        FROM (SELECT i, {d.at(f'CAST(i * {step!r} AS INTEGER)')} AS paid FROM n) AS o"""),
        dict(params, last=orders_total - 1, stride=shape.order_stride))
    if d.postgres:  # the replica role skipped the triggers that log orders for their roll-up (migration 0032):
        # what they would have written, set-based (these orders are members' paid orders, none refunded; the customers)
        conn.execute(text("""
            INSERT INTO order_changes (shop_id, paid_at, buyer, orders, revenue)
            SELECT shop_id, paid_at, 'member', 1, merchandise FROM orders WHERE shop_id = :shop ORDER BY id"""),
            params)
        conn.execute(text("""
            INSERT INTO order_changes (shop_id, paid_at, buyer, orders, revenue)
            SELECT shop_id, created_at, 'joined', 1, 0 FROM customers WHERE shop_id = :shop"""), params)
    conn.execute(text(f"""
        INSERT INTO ledger_entries (shop_id, customer_id, order_id, kind, pending, available, reason,
                                    idempotency_key, effective_at, created_at, settings_version)
        SELECT shop_id, customer_id, id, 'earn', award, 0, 'order', 'bench-e-' || {d.pad('shopify_order_id')},
               paid_at, paid_at, 1
        FROM orders WHERE shop_id = :shop ORDER BY id"""), params)
    conn.execute(text(f"""
        INSERT INTO ledger_entries (shop_id, customer_id, order_id, kind, pending, available, reason,
                                    idempotency_key, effective_at, created_at, settings_version)
        SELECT shop_id, customer_id, id, 'mature', -award, award, 'matured',
               'bench-m-' || {d.pad('shopify_order_id')}, pending_until, pending_until, 1
        FROM orders WHERE shop_id = :shop AND pending_until <= :now ORDER BY id"""), dict(params, now=now))
    _redeems(conn, d, shape, params, owner)
    _bonuses(conn, d, shape, params)
    if d.postgres:  # likewise the vouchers' log (migration 0032)
        conn.execute(text("""
            INSERT INTO voucher_changes (shop_id, created_at, kind, reward_key, vouchers, points)
            SELECT shop_id, created_at, kind, COALESCE(reward_key, ''), 1, points FROM vouchers
            WHERE shop_id = :shop AND status <> 'cancelled'"""), params)
    for index in indexes:
        index.create(conn)
    if d.postgres:  # the ids were given: the sequence goes on after them
        conn.execute(text("SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))"))


def _redeems(conn, d: Dialect, shape: Shape, params: dict, owner: str) -> None:
    """One redemption in ten entries: a `redeem` entry and its voucher (a used 10 EUR code)."""
    total = shape.redeem_stride * shape.redeems_each
    step = SPAN_SECONDS / total
    made = f"{d.at(f'CAST(i * {step!r} AS INTEGER)')}"
    conn.execute(text(d.counter() + f"""
        INSERT INTO vouchers (shop_id, customer_id, request_key, code, points, amount, ends_at, status, created_at,
                              kind)
        SELECT :shop, {owner}, 'bench-r-' || {d.pad('i')}, 'BENCH-' || {d.pad('i')}, 100, 10,
               {d.later(made, 30)}, 'used', {made}, 'discount' FROM n"""),
        dict(params, last=total - 1, stride=shape.redeem_stride))
    conn.execute(text(f"""
        INSERT INTO ledger_entries (shop_id, customer_id, kind, pending, available, reason, idempotency_key,
                                    effective_at, created_at, settings_version)
        SELECT shop_id, customer_id, 'redeem', 0, -points, 'voucher ' || code, request_key, created_at,
               created_at, 1
        FROM vouchers WHERE shop_id = :shop ORDER BY id"""), params)


def _bonuses(conn, d: Dialect, shape: Shape, params: dict) -> None:
    """`bonus` entries: each measured customer's up to exactly `per_customer` entries, then the rest of the
    ledger's `entries` among the other customers."""
    counts = dict(conn.execute(text("""
        SELECT customer_id, count(*) FROM ledger_entries WHERE customer_id BETWEEN :first AND :first + :k - 1
        GROUP BY customer_id"""), params).all())
    for m in range(shape.measured):
        customer = params["first"] + m
        missing = shape.per_customer - counts.get(customer, 0)
        if missing <= 0:
            raise ValueError(f"{shape}: the measured customers have too many orders and redemptions")
        conn.execute(text(d.counter() + f"""
            INSERT INTO ledger_entries (shop_id, customer_id, kind, pending, available, reason, idempotency_key,
                                        effective_at, created_at, settings_version)
            SELECT :shop, :customer, 'bonus', 0, 10, 'bench bonus', 'bench-bm-{m}-' || {d.pad('i')}, at, at, 1
            FROM (SELECT i, {d.at(f'i * {SPAN_SECONDS // missing}')} AS at FROM n) AS b"""),
            dict(params, last=missing - 1, customer=customer))
    rest = shape.entries - conn.execute(text("SELECT count(*) FROM ledger_entries WHERE shop_id = :shop"),
                                        params).scalar()
    if rest > 0:
        conn.execute(text(d.counter() + f"""
            INSERT INTO ledger_entries (shop_id, customer_id, kind, pending, available, reason, idempotency_key,
                                        effective_at, created_at, settings_version)
            SELECT :shop, :first + :k + (i * 7919) % :bulk, 'bonus', 0, 10, 'bench bonus',
                   'bench-b-' || {d.pad('i')}, at, at, 1
            FROM (SELECT i, {d.at(f'CAST(i * {SPAN_SECONDS / rest!r} AS INTEGER)')} AS at FROM n) AS b"""),
            dict(params, last=rest - 1))
