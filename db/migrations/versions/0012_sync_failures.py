"""sync_failures: customers the balance write-back set aside (Shopify refused them), with the reason and the
next attempt; and the indexes that keep counting failures cheap for /healthz

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24

Shopify's metafieldsSet is atomic: one customer that no longer exists there (deleted, or never a Shopify
customer) fails the whole call. The write-back sets such a customer aside here, writes everyone else, and
tries the one again later (backoff, or at its next balance change). The row goes when a write succeeds.
The partial indexes let the failure read model count failed webhooks and vouchers waiting on Shopify
without reading the whole inbox or every voucher.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sync_failures',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_sync_failures_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_sync_failures_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_sync_failures')),
        sa.CheckConstraint('attempts >= 1', name=op.f('ck_sync_failures_attempts_positive')),
    )
    op.create_index('ix_sync_failures_shop', 'sync_failures', ['shop_id', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_inbox_failed', 'webhook_inbox', ['failed_at'], unique=False,
                    sqlite_where=sa.text('failed_at IS NOT NULL'), postgresql_where=sa.text('failed_at IS NOT NULL'))
    op.create_index('ix_vouchers_creating', 'vouchers', ['shop_id', 'created_at'], unique=False,
                    sqlite_where=sa.text("status = 'creating'"), postgresql_where=sa.text("status = 'creating'"))


def downgrade() -> None:
    op.drop_index('ix_vouchers_creating', table_name='vouchers')
    op.drop_index('ix_webhook_inbox_failed', table_name='webhook_inbox')
    op.drop_index('ix_sync_failures_shop', table_name='sync_failures')
    op.drop_table('sync_failures')
