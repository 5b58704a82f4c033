"""flow_triggers: the Shopify Flow outbox

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06

A trigger for Shopify Flow (points earned, points available, perk unlocked, reward redeemed, points expiring,
tier changed) is recorded in the transaction of the event it announces, under a UNIQUE key per event, and
sent by a background job (flowTriggerReceive) with retries: nothing is sent for a change that rolled back,
nothing is lost when Shopify is unreachable, nothing is sent twice. Only shops whose programme turns
`flow.triggers` on write rows here.
"""
from alembic import op
import sqlalchemy as sa

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'flow_triggers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('handle', sa.String(length=30), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('dedup_key', sa.String(length=400), nullable=False),
        sa.Column('status', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_owner', sa.String(length=64), nullable=True),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')",
                           name=op.f('ck_flow_triggers_status_known')),
        sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_flow_triggers_sent_has_time')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_flow_triggers_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_flow_triggers_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flow_triggers')),
        sa.UniqueConstraint('dedup_key', name=op.f('uq_flow_triggers_dedup_key')),
    )
    op.create_index('ix_flow_triggers_due', 'flow_triggers', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_flow_triggers_due', table_name='flow_triggers')
    op.drop_table('flow_triggers')
