"""vouchers by customer: an index for the loyalty page and the extensions' API

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-06

The loyalty page (app proxy, customer-account extension) lists the customer's vouchers on every request.
Without an index on vouchers.customer_id both databases read every voucher of the shop to find them: in the
storefront benchmark's shop (1,000,000 customers, 1,000,000 vouchers) that alone was most of the page's
time. Measured in tools/bench/storefront.py (docs/benchmarks.md).
"""
from alembic import op

revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_vouchers_customer', 'vouchers', ['customer_id'])


def downgrade() -> None:
    op.drop_index('ix_vouchers_customer', table_name='vouchers')
