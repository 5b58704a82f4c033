"""rewards: perk grants, redemption kinds (gift card, donation), customers' birthdays

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

Status perks are granted once per customer (UNIQUE customer, reward, period; a birthday present once a
year) and carry their tag outbox state; a redemption is a discount code, a gift card or a donation.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('creating', 'active', 'refused', 'cancelled', 'used', 'expired')"
NEW_STATUSES = "status IN ('creating', 'active', 'refused', 'cancelled', 'used', 'expired', 'donated')"


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('birthday', sa.Date(), nullable=True))
    with op.batch_alter_table('vouchers') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default=sa.text("'discount'"),
                                   nullable=False))
        batch.add_column(sa.Column('reward_key', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('collection_id', sa.BigInteger(), nullable=True))
        batch.drop_constraint(op.f('ck_vouchers_status_known'), type_='check')
        batch.create_check_constraint(op.f('ck_vouchers_status_known'), NEW_STATUSES)
        batch.create_check_constraint(op.f('ck_vouchers_kind_known'), "kind IN ('discount', 'gift_card', 'donation')")
        batch.create_check_constraint(op.f('ck_vouchers_donated_is_donation'),
                                      "status != 'donated' OR kind = 'donation'")
    op.create_table(
        'perk_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('reward_key', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=8), server_default=sa.text("''"), nullable=False),
        sa.Column('tag', sa.String(length=40), nullable=True),
        sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tag_synced', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_perk_grants_customer_id_customers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_perk_grants_shop_id_shops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_perk_grants')),
        sa.UniqueConstraint('customer_id', 'reward_key', 'period', name='uq_perk_grants_customer_reward_period'),
    )
    op.create_index('ix_perk_grants_unsynced', 'perk_grants', ['shop_id', 'tag_synced'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_perk_grants_unsynced', table_name='perk_grants')
    op.drop_table('perk_grants')
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_constraint(op.f('ck_vouchers_donated_is_donation'), type_='check')
        batch.drop_constraint(op.f('ck_vouchers_kind_known'), type_='check')
        batch.drop_constraint(op.f('ck_vouchers_status_known'), type_='check')
        batch.create_check_constraint(op.f('ck_vouchers_status_known'), OLD_STATUSES)
        batch.drop_column('collection_id')
        batch.drop_column('reward_key')
        batch.drop_column('kind')
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('birthday')
