"""the loyalty page's reads of a customer's orders by payment time, from the index

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06

The loyalty page reads a customer's orders twice per request: the last purchase (store B's expiry date,
loyalty.services.schedule.expiry_of: max(paid_at)) and the VIP tier's figure over its window
(loyalty.services.tiers.figures: paid_at >= the window's start). Measured on the storefront benchmark's
SQLite shop (a customer with 400 orders among 4,000,000; tools/bench/storefront.py), with the index on
customer_id alone each read fetched all the customer's orders from the table: 1.3 ms and 1.2 ms per page.
`ix_orders_customer_paid` (customer_id, paid_at) answers the last purchase from the index's end (0.01 ms)
and reads only the window's orders for the tier (0.24 ms). It replaces `ix_orders_customer`, of which it is
an extension (every read by customer uses it the same way; no more indexes to keep up per order).
"""
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_orders_customer_paid', 'orders', ['customer_id', 'paid_at'])
    op.drop_index('ix_orders_customer', table_name='orders')


def downgrade() -> None:
    op.create_index('ix_orders_customer', 'orders', ['customer_id'])
    op.drop_index('ix_orders_customer_paid', table_name='orders')
