"""the home page's members-vs-non-members orders at any size: the orders rolled up per shop calendar day

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07

Orders are updated (paid, cancelled) and refunded after they are written, so they cannot be rolled up by id
like the append-only ledger. Triggers keep an append-only log of what each write changes instead, which the
roll-up sums like the ledger (loyalty/services/order_rollup.py):
- order_changes: per write of an order (INSERT or UPDATE of paid_at, cancelled_at, excluded_reason,
  merchandise) or of a refund (INSERT), the change to the counted figures: the order's counted contribution
  before the write taken away, the one after it added. An order counts when paid, not cancelled and not a
  test order; it counts 1 order and its merchandise less its refunds, at its paid_at, for its buyer class:
  `member` (excluded_reason IS NULL: the programme counted it), `guest` (no customer), `customer` (a customer
  excluded by channel, tag or B2B).
  The same log counts the shop's customers: each customer row made logs `joined` +1 (at its created_at), each
  deleted (redaction, merge) -1, so the customers who are not members are a sum of day totals, not a count
  of a million rows.
- order_day_totals: per shop, shop calendar day of paid_at and buyer class: orders and revenue.
- voucher_changes, voucher_day_totals, voucher_rollups: the same for the rewards by popularity: triggers on
  vouchers (INSERT; UPDATE of status, points, created_at, kind, reward_key) log the change to the vouchers
  counted (not cancelled) and their points, at created_at, per kind and reward key ('' for a conversion).
- ix_vouchers_created_shop made covering (status, kind, reward_key, points): the period's rewards by
  popularity read from the index alone (a year of a large shop's vouchers, without a row look-up each).
- order_rollups: per shop, the watermark (highest order_changes id rolled up), the zone the days were cut in,
  the PostgreSQL horizon (as ledger_rollups).
"""
from alembic import op
import sqlalchemy as sa

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

# The stored exclusion texts (loyalty/domain/order_outcome.py: unchanged since the app's first version).
TEST, GUEST = "'test order'", "'no customer and no email'"


def _counted(row: str, pg: bool) -> str:
    """Paid, not cancelled, not a test order (NULL-safe: an order without exclusion counts)."""
    not_test = "IS DISTINCT FROM" if pg else "IS NOT"
    return f"{row}.paid_at IS NOT NULL AND {row}.cancelled_at IS NULL AND {row}.excluded_reason {not_test} {TEST}"


def _buyer(row: str) -> str:
    return (f"CASE WHEN {row}.excluded_reason IS NULL THEN 'member' WHEN {row}.excluded_reason = {GUEST}"
            f" THEN 'guest' ELSE 'customer' END")


def _refunded(row: str) -> str:
    return (f"(SELECT COALESCE(SUM(r.merchandise), 0) FROM refunds r WHERE r.shop_id = {row}.shop_id"
            f" AND r.shopify_order_id = {row}.shopify_order_id)")


def _change(row: str, sign: str, pg: bool, source: str = "") -> str:
    """INSERT ... SELECT of a row's counted contribution with a sign ('' or '-'), when it counts."""
    return (f"INSERT INTO order_changes (shop_id, paid_at, buyer, orders, revenue) SELECT {row}.shop_id,"
            f" {row}.paid_at, {_buyer(row)}, {sign}1, {sign}(COALESCE({row}.merchandise, 0) - {_refunded(row)})"
            f" {source} WHERE {_counted(row, pg)}")


_CHANGED = ("paid_at", "cancelled_at", "excluded_reason", "merchandise")


def _refund(pg: bool) -> str:
    """A refund of a counted order: its merchandise taken from the order's revenue, at the order's paid_at."""
    return ("INSERT INTO order_changes (shop_id, paid_at, buyer, orders, revenue) SELECT o.shop_id, o.paid_at,"
            f" {_buyer('o')}, 0, -NEW.merchandise FROM orders o WHERE o.shop_id = NEW.shop_id"
            f" AND o.shopify_order_id = NEW.shopify_order_id AND {_counted('o', pg)}")


def _joined(row: str, sign: str) -> str:
    """A customer row made (+) or deleted (-); nothing when its shop is being deleted (the log goes with it)."""
    return ("INSERT INTO order_changes (shop_id, paid_at, buyer, orders, revenue) SELECT"
            f" {row}.shop_id, {row}.created_at, 'joined', {sign}1, 0"
            f" WHERE EXISTS (SELECT 1 FROM shops s WHERE s.id = {row}.shop_id)")


_VOUCHER_CHANGED = ("status", "points", "created_at", "kind", "reward_key")


def _voucher(row: str, sign: str) -> str:
    """A voucher's counted contribution (not cancelled) with a sign."""
    return ("INSERT INTO voucher_changes (shop_id, created_at, kind, reward_key, vouchers, points) SELECT"
            f" {row}.shop_id, {row}.created_at, {row}.kind, COALESCE({row}.reward_key, ''), {sign}1, {sign}{row}.points"
            f" WHERE {row}.status <> 'cancelled'")


def _sqlite() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _CHANGED)
    return [
        f"CREATE TRIGGER order_changes_on_insert AFTER INSERT ON orders BEGIN {_change('NEW', '', False)}; END",
        f"CREATE TRIGGER order_changes_on_update AFTER UPDATE ON orders WHEN {changed} BEGIN"
        f" {_change('OLD', '-', False)}; {_change('NEW', '', False)}; END",
        f"CREATE TRIGGER order_changes_on_refund AFTER INSERT ON refunds BEGIN {_refund(False)}; END",
        f"CREATE TRIGGER order_changes_on_customer AFTER INSERT ON customers BEGIN {_joined('NEW', '')}; END",
        f"CREATE TRIGGER order_changes_on_customer_gone AFTER DELETE ON customers BEGIN {_joined('OLD', '-')}; END",
        f"CREATE TRIGGER voucher_changes_on_insert AFTER INSERT ON vouchers BEGIN {_voucher('NEW', '')}; END",
        "CREATE TRIGGER voucher_changes_on_update AFTER UPDATE ON vouchers WHEN "
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _VOUCHER_CHANGED)
        + f" BEGIN {_voucher('OLD', '-')}; {_voucher('NEW', '')}; END",
    ]


def _postgresql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _CHANGED)
    return [
        "CREATE FUNCTION order_changes_of_order() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF TG_OP = 'UPDATE' THEN IF NOT ({changed}) THEN RETURN NULL; END IF; {_change('OLD', '-', True)};"
        f" END IF; {_change('NEW', '', True)}; RETURN NULL; END $$",
        "CREATE TRIGGER order_changes_of_order AFTER INSERT OR UPDATE ON orders FOR EACH ROW"
        " EXECUTE FUNCTION order_changes_of_order()",
        f"CREATE FUNCTION order_changes_of_refund() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {_refund(True)};"
        " RETURN NULL; END $$",
        "CREATE TRIGGER order_changes_of_refund AFTER INSERT ON refunds FOR EACH ROW"
        " EXECUTE FUNCTION order_changes_of_refund()",
        "CREATE FUNCTION order_changes_of_customer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF TG_OP = 'INSERT' THEN {_joined('NEW', '')}; ELSE {_joined('OLD', '-')}; END IF; RETURN NULL; END $$",
        "CREATE TRIGGER order_changes_of_customer AFTER INSERT OR DELETE ON customers FOR EACH ROW"
        " EXECUTE FUNCTION order_changes_of_customer()",
        "CREATE FUNCTION voucher_changes_of_voucher() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF TG_OP = 'UPDATE' THEN IF NOT ("
        + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _VOUCHER_CHANGED)
        + f") THEN RETURN NULL; END IF; {_voucher('OLD', '-')}; END IF; {_voucher('NEW', '')}; RETURN NULL; END $$",
        "CREATE TRIGGER voucher_changes_of_voucher AFTER INSERT OR UPDATE ON vouchers FOR EACH ROW"
        " EXECUTE FUNCTION voucher_changes_of_voucher()",
    ]


def _rollup_state(name: str, shop) -> None:
    """A roll-up's state per shop (as ledger_rollups): watermark, zone, PostgreSQL horizon."""
    op.create_table(
        name, shop(primary_key=True),
        sa.Column('watermark', sa.Integer(), nullable=False, server_default=sa.text('0')),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('horizon_id', sa.Integer(), nullable=True),
        sa.Column('horizon_xid', sa.BigInteger(), nullable=True),
        sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=True),
    )


def upgrade() -> None:
    shop = lambda **kw: sa.Column('shop_id', sa.Integer(), sa.ForeignKey('shops.id', ondelete='CASCADE'), **kw)  # noqa: E731
    op.create_table(
        'order_changes',
        sa.Column('id', sa.Integer(), primary_key=True),
        shop(nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('buyer', sa.String(length=8), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('revenue', sa.Numeric(18, 4), nullable=False),
    )
    op.create_table(
        'order_day_totals', shop(primary_key=True),
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('buyer', sa.String(length=8), primary_key=True),
        sa.Column('orders', sa.BigInteger(), nullable=False),
        sa.Column('revenue', sa.Numeric(18, 4), nullable=False),
    )
    _rollup_state('order_rollups', shop)
    op.create_table(
        'voucher_changes',
        sa.Column('id', sa.Integer(), primary_key=True),
        shop(nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reward_key', sa.String(length=40), nullable=False),
        sa.Column('vouchers', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
    )
    op.create_table(
        'voucher_day_totals', shop(primary_key=True),
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('kind', sa.String(length=16), primary_key=True),
        sa.Column('reward_key', sa.String(length=40), primary_key=True),
        sa.Column('vouchers', sa.BigInteger(), nullable=False),
        sa.Column('points', sa.BigInteger(), nullable=False),
    )
    _rollup_state('voucher_rollups', shop)
    pg = op.get_bind().dialect.name == "postgresql"
    for statement in _postgresql() if pg else _sqlite():
        op.execute(statement)
    op.execute(_change("orders", "", pg, "FROM orders"))  # the orders already there, one change each
    op.drop_index('ix_vouchers_created_shop', table_name='vouchers')
    op.create_index('ix_vouchers_created_shop', 'vouchers',
                    ['created_at', 'shop_id', 'status', 'kind', 'reward_key', 'points'])
    op.execute("INSERT INTO order_changes (shop_id, paid_at, buyer, orders, revenue)"
               " SELECT shop_id, created_at, 'joined', 1, 0 FROM customers")  # and the customers
    op.execute(_voucher("vouchers", "").replace(" WHERE ", " FROM vouchers WHERE ", 1))  # and the vouchers


def downgrade() -> None:
    op.drop_index('ix_vouchers_created_shop', table_name='vouchers')
    op.create_index('ix_vouchers_created_shop', 'vouchers', ['created_at', 'shop_id'])
    if op.get_bind().dialect.name == "postgresql":
        for name, table in (("order_changes_of_order", "orders"), ("order_changes_of_refund", "refunds"),
                            ("order_changes_of_customer", "customers"), ("voucher_changes_of_voucher", "vouchers")):
            op.execute(f"DROP TRIGGER {name} ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for name in ("order_changes_on_insert", "order_changes_on_update", "order_changes_on_refund",
                     "order_changes_on_customer", "order_changes_on_customer_gone", "voucher_changes_on_insert",
                     "voucher_changes_on_update"):
            op.execute(f"DROP TRIGGER {name}")
    for name in ('voucher_rollups', 'voucher_day_totals', 'voucher_changes', 'order_rollups', 'order_day_totals',
                 'order_changes'):
        op.drop_table(name)
