"""the loyalty page's reads: vouchers by customer; a customer's ledger entries from an index alone

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06

The loyalty page (app proxy, customer-account extension) reads on every request the customer's vouchers,
balance, pending points by order and newest entries. Measured in the storefront benchmark
(tools/bench/storefront.py: a customer with 1,000 entries in a shop of 1,000,000 customers, 10,000,000
entries and 1,000,000 vouchers):
- without an index on vouchers.customer_id both databases read every voucher of the shop;
- with the ledger's index on customer_id alone, each of the three ledger reads fetched the customer's 1,000
  rows scattered over the table; `ix_ledger_entries_customer_activity` (customer_id, effective_at, order_id,
  kind, pending, available) answers them from the index (the newest entries from its end) and replaces
  `ix_ledger_entries_customer`, of which it is an extension (same number of indexes to keep up per entry).
"""
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_vouchers_customer', 'vouchers', ['customer_id'])
    op.create_index('ix_ledger_entries_customer_activity', 'ledger_entries',
                    ['customer_id', 'effective_at', 'order_id', 'kind', 'pending', 'available'])
    op.drop_index('ix_ledger_entries_customer', table_name='ledger_entries')


def downgrade() -> None:
    op.create_index('ix_ledger_entries_customer', 'ledger_entries', ['customer_id'])
    op.drop_index('ix_ledger_entries_customer_activity', table_name='ledger_entries')
    op.drop_index('ix_vouchers_customer', table_name='vouchers')
