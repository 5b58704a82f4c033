"""VIP tiers: each customer's current tier (tier_members), every change with its reason (tier_changes), and
the shop-wide recalculation a change of tier settings asks for (tier_recalculations)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

A customer without a tier has no tier_members row. `until` is the instant up to which the tier is kept
whatever the figure (retention, then the period's end): the scheduled job looks at rows past it, by
(shop_id, until). A tier_recalculations row is written in the transaction that saves new tier settings, so
the recalculation of every customer is never lost with a queued job; `next_customer_id` is its cursor.
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tier_members',
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('tier', sa.String(length=40), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('until', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_tier_members_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_tier_members_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_tier_members')),
    )
    op.create_index('ix_tier_members_shop_until', 'tier_members', ['shop_id', 'until'], unique=False)
    op.create_table(
        'tier_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('from_tier', sa.String(length=40), nullable=True),
        sa.Column('to_tier', sa.String(length=40), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('settings_version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_tier_changes_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_tier_changes_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_changes')),
        sa.CheckConstraint('from_tier IS NOT NULL OR to_tier IS NOT NULL', name=op.f('ck_tier_changes_a_change')),
    )
    op.create_index('ix_tier_changes_customer', 'tier_changes', ['customer_id'], unique=False)
    op.create_table(
        'tier_recalculations',
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('settings_version', sa.Integer(), nullable=False),
        sa.Column('next_customer_id', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_tier_recalculations_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_tier_recalculations')),
    )


def downgrade() -> None:
    op.drop_table('tier_recalculations')
    op.drop_index('ix_tier_changes_customer', table_name='tier_changes')
    op.drop_table('tier_changes')
    op.drop_index('ix_tier_members_shop_until', table_name='tier_members')
    op.drop_table('tier_members')
