"""customer_sync: the outbox of balance write-backs (customer metafields), one row per customer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

A balance change marks its customer in the same transaction as the ledger entry; a burst of changes
coalesces into one row, and the sync job writes 25 customers' metafields per call.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_sync',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_customer_sync_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_customer_sync_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_sync')),
    )
    op.create_index('ix_customer_sync_shop', 'customer_sync', ['shop_id', 'changed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_sync_shop', table_name='customer_sync')
    op.drop_table('customer_sync')
