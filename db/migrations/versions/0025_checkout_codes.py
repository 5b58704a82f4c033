"""vouchers.checkout: codes made at checkout, given back when unused

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-20

A code redeemed from the checkout UI extension (POST /extensions/checkout/redeem) lasts a few hours
(loyalty.defaults.CHECKOUT_CODE_LIFETIME); unused past its end, a scheduled job deactivates it in Shopify and
re-credits its points once (jobs/checkout_codes.py). `checkout` marks those codes; the partial index finds the
active ones by their end without reading the other vouchers.
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vouchers') as batch:
        batch.add_column(sa.Column('checkout', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_index('ix_vouchers_checkout_active', 'vouchers', ['ends_at'], unique=False,
                    sqlite_where=sa.text("checkout AND status = 'active'"),
                    postgresql_where=sa.text("checkout AND status = 'active'"))


def downgrade() -> None:
    op.drop_index('ix_vouchers_checkout_active', table_name='vouchers')
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_column('checkout')
