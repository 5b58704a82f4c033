"""referrals (each friend invited, its first order, the referrer's reward or the rule that refused it) and
referral_orders (digests of paid orders' email, addresses and phones, for the fraud rules)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

One row per friend (normalised email) and shop: the claim on the referral page makes it, with the friend's
first-order code (a voucher that costs no points); the friend's first order attributes it; the maturity run
rewards the referrer (a `bonus` entry) or records why not. referral_orders keeps only SHA-256 digests.
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

STATUSES = "status IN ('invited', 'attributed', 'rewarded', 'refused', 'nothing')"


def upgrade() -> None:
    op.create_table(
        'referrals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('referrer_id', sa.Integer(), nullable=False),
        sa.Column('friend_email', sa.String(length=320), nullable=False),
        sa.Column('friend_key', sa.String(length=320), nullable=False),
        sa.Column('voucher_id', sa.Integer(), nullable=True),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('shopify_order_id', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('points', sa.Integer(), nullable=True),
        sa.Column('settings_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_referrals_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['referrer_id'], ['customers.id'], name=op.f('fk_referrals_referrer_id_customers'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_referrals_voucher_id_vouchers'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_referrals_order_id_orders'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
        sa.UniqueConstraint('shop_id', 'friend_key', name='uq_referrals_shop_friend'),
        sa.CheckConstraint(STATUSES, name=op.f('ck_referrals_status_known')),
        sa.CheckConstraint('points IS NULL OR points >= 0', name=op.f('ck_referrals_points_not_negative')),
    )
    op.create_index('ix_referrals_referrer', 'referrals', ['referrer_id'], unique=False)
    op.create_index('ix_referrals_open', 'referrals', ['shop_id', 'status'], unique=False)
    op.create_table(
        'referral_orders',
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('shopify_order_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('email', sa.String(length=32), nullable=True),
        sa.Column('addresses', sa.Text(), nullable=False),
        sa.Column('phones', sa.Text(), nullable=False),
        sa.Column('codes', sa.Text(), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_referral_orders_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', 'shopify_order_id', name=op.f('pk_referral_orders')),
    )
    op.create_index('ix_referral_orders_email', 'referral_orders', ['shop_id', 'email'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_referral_orders_email', table_name='referral_orders')
    op.drop_table('referral_orders')
    op.drop_index('ix_referrals_open', table_name='referrals')
    op.drop_index('ix_referrals_referrer', table_name='referrals')
    op.drop_table('referrals')
