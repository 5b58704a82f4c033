"""vouchers: points redeemed into Shopify discount codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A voucher row and its `redeem` ledger entry are written in one transaction before Shopify is asked for
the code; the code is derived from the request key, so a retried job finds its code instead of making two.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'vouchers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('request_key', sa.String(length=255), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column('minimum_subtotal', sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('shopify_discount_id', sa.String(length=255), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('points > 0 AND amount > 0', name=op.f('ck_vouchers_positive')),
        sa.CheckConstraint("status IN ('creating', 'active', 'refused', 'cancelled', 'used', 'expired')",
                           name=op.f('ck_vouchers_status_known')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_vouchers_customer_id_customers')),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_vouchers_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
        sa.UniqueConstraint('request_key', name=op.f('uq_vouchers_request_key')),
        sa.UniqueConstraint('shop_id', 'code', name='uq_vouchers_shop_code'),
    )


def downgrade() -> None:
    op.drop_table('vouchers')
