"""the home page and the liability report at any size: the ledger rolled up per shop calendar day

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07

- ledger_rollups: per shop, the watermark (the highest ledger id rolled up), the time zone the days were
  cut in (a change rebuilds), the latest effective_at rolled, and the PostgreSQL horizon (an id and a
  transaction id) that makes a late-committing transaction safe (loyalty/services/ledger_rollup.py).
- ledger_day_totals: per shop, shop calendar day and entry kind: points pending and available, entries.
- ledger_customer_totals: per shop and customer (0: entries of no customer, redacted): points owed and the
  shop day of the last customer activity.
- ledger_activity_totals: per shop and day of last activity (0001-01-01: never): points owed and customers,
  so breakage's dormant points and the active members are a few hundred rows to sum.
- indexes: orders by (paid_at, shop) and vouchers by (created_at, shop), for a period's orders and rewards
  (time first: led by the shop, SQLite would use them for a shop's latest order and sort the whole shop).
"""
from alembic import op
import sqlalchemy as sa

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    shop = lambda: sa.Column('shop_id', sa.Integer(), sa.ForeignKey('shops.id', ondelete='CASCADE'),  # noqa: E731
                             primary_key=True)
    op.create_table(
        'ledger_rollups', shop(),
        sa.Column('watermark', sa.Integer(), nullable=False, server_default=sa.text('0')),
        sa.Column('zone', sa.String(length=64), nullable=False),
        sa.Column('max_effective_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('horizon_id', sa.Integer(), nullable=True),
        sa.Column('horizon_xid', sa.BigInteger(), nullable=True),
        sa.Column('rolled_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        'ledger_day_totals', shop(),
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('kind', sa.String(length=16), primary_key=True),
        sa.Column('pending', sa.BigInteger(), nullable=False),
        sa.Column('available', sa.BigInteger(), nullable=False),
        sa.Column('entries', sa.BigInteger(), nullable=False),
    )
    op.create_table(
        'ledger_customer_totals', shop(),
        sa.Column('customer_id', sa.Integer(), primary_key=True),
        sa.Column('owed', sa.BigInteger(), nullable=False),
        sa.Column('last_active', sa.Date(), nullable=True),
    )
    op.create_table(
        'ledger_activity_totals', shop(),
        sa.Column('last_active', sa.Date(), primary_key=True),
        sa.Column('owed', sa.BigInteger(), nullable=False),
        sa.Column('customers', sa.BigInteger(), nullable=False),
    )
    op.create_index('ix_orders_paid_shop', 'orders', ['paid_at', 'shop_id', 'customer_id', 'merchandise', 'cancelled_at'])
    op.create_index('ix_vouchers_created_shop', 'vouchers', ['created_at', 'shop_id'])


def downgrade() -> None:
    op.drop_index('ix_vouchers_created_shop', table_name='vouchers')
    op.drop_index('ix_orders_paid_shop', table_name='orders')
    for name in ('ledger_activity_totals', 'ledger_customer_totals', 'ledger_day_totals', 'ledger_rollups'):
        op.drop_table(name)
