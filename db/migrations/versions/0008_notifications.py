"""notifications: the outbox of customer emails; customers' opt-out of loyalty emails

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

An email is recorded in the same transaction as the event that causes it (points available, a perk
granted, a voucher created, points about to expire, a birthday present), under a UNIQUE business key, so
it is neither lost nor queued twice; the sender claims rows with a lease, so two workers never send one.
(0007 is the history import's; the chain is put in order when both are merged.)
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('accepts_loyalty_emails', sa.Boolean(), server_default=sa.text('true'),
                                   nullable=False))
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('dedup_key', sa.String(length=255), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=True),
        sa.Column('subject', sa.Text(), nullable=True),
        sa.Column('body_text', sa.Text(), nullable=True),
        sa.Column('body_html', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column('transport', sa.String(length=16), nullable=True),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('points_available', 'threshold_reached', 'voucher_created', 'points_expiring', 'birthday')",
            name=op.f('ck_notifications_kind_known')),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')",
                           name=op.f('ck_notifications_status_known')),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_notifications_sent_has_time')),
        sa.CheckConstraint("status = 'skipped' OR (to_address IS NOT NULL AND subject IS NOT NULL)",
                           name=op.f('ck_notifications_sendable')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_notifications_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_notifications_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('dedup_key', name=op.f('uq_notifications_dedup_key')),
    )
    op.create_index('ix_notifications_due', 'notifications', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_notifications_customer', 'notifications', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notifications_customer', table_name='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications')
    op.drop_table('notifications')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('accepts_loyalty_emails')
