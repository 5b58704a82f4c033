"""bonus_awards: every sign-up, birthday and action award with what its caps took; orders.capped

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

A bonus award (sign-up points, birthday points, points for an action) is one row here under its idempotency
key (the key of its `bonus` ledger entry), written even when a cap took all of it: a replay finds the first
answer, caps count a rule's awards per period from these rows, and the merchant sees what each cap took.
`orders.capped` is the points the programme-wide earning cap took from an order's award (NULL: none).
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bonus_awards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('rule', sa.String(length=48), nullable=False),
        sa.Column('reference', sa.String(length=255), nullable=False),
        sa.Column('idempotency_key', sa.String(length=255), nullable=False),
        sa.Column('asked', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=255), nullable=True),
        sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_bonus_awards_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_bonus_awards_customer_id_customers'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bonus_awards')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_bonus_awards_idempotency_key')),
        sa.CheckConstraint('points >= 0 AND points <= asked', name=op.f('ck_bonus_awards_points_within_asked')),
    )
    op.create_index('ix_bonus_awards_customer_rule', 'bonus_awards', ['customer_id', 'rule', 'awarded_at'],
                    unique=False)
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('capped', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('capped')
    op.drop_index('ix_bonus_awards_customer_rule', table_name='bonus_awards')
    op.drop_table('bonus_awards')
