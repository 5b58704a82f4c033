"""vouchers of kind store_credit: the credit's attempt mark, what is left of it, when it was last read back

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

Store credit is made by Shopify's `storeCreditAccountCredit`, which takes no idempotency key. Before each
attempt the app commits `credit_sent_at`, so an attempt that finds it set knows an earlier one may have
credited the customer and looks for that credit before crediting again (loyalty.domain.store_credit). What
the customer spends of the credit (online or at the point of sale) is read back from the account's
transactions by a scheduled job into `remaining_amount` (`store_credit_checked_at`: when), which the
merchant's report and the liability read. The partial index finds the credits still open.
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

OPEN = "kind = 'store_credit' AND status IN ('creating', 'active')"


def upgrade() -> None:
    with op.batch_alter_table('vouchers') as batch:
        batch.add_column(sa.Column('credit_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('remaining_amount', sa.Numeric(18, 4, asdecimal=True), nullable=True))
        batch.add_column(sa.Column('store_credit_checked_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_vouchers_store_credit_open', 'vouchers', ['shop_id', 'customer_id'],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ix_vouchers_store_credit_open', table_name='vouchers')
    with op.batch_alter_table('vouchers') as batch:
        batch.drop_column('store_credit_checked_at')
        batch.drop_column('remaining_amount')
        batch.drop_column('credit_sent_at')
